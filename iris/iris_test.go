package iris_test

import (
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/iris"
	"github.com/huella-abis/huella/iris/iriseval"
)

// fixedEyes are the eyes of the accuracy tests: three images each. They are
// a regression guard, not a sample: at FNMR 1% some eyes of the set fail (005/R,
// a strongly contracted pupil in S1005R03, was left out).
var fixedEyes = []string{"001/L", "001/R", "002/L", "003/R", "008/L", "011/R", "020/R", "033/L", "042/R", "047/L"}

// MustExtract extracts the template of one dataset image.
func MustExtract(tb testing.TB, path string) *iris.Template {
	tb.Helper()
	t, err := iris.Extract(datasets.Gray(tb, path), iris.Options{})
	if err != nil {
		tb.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return t
}

type eyeTemplate struct {
	eye, name string
	t         *iris.Template
}

var (
	fixedOnce sync.Once
	fixed     []eyeTemplate
)

// fixedTemplates extracts the first three images of each fixed eye once.
func fixedTemplates(tb testing.TB) []eyeTemplate {
	tb.Helper()
	dir := datasets.Path(tb, "iris/casia-interval")
	fixedOnce.Do(func() {
		for _, eye := range fixedEyes {
			paths, _ := filepath.Glob(filepath.Join(dir, eye, "*.jpg"))
			slices.Sort(paths)
			for _, p := range paths[:min(3, len(paths))] {
				fixed = append(fixed, eyeTemplate{eye, filepath.Base(p), MustExtract(tb, p)})
			}
		}
	})
	if len(fixed) == 0 {
		tb.Fatal("no fixed templates")
	}
	return fixed
}

func TestExtract(t *testing.T) {
	dir := datasets.Path(t, "iris/casia-interval")
	t.Run("OK", func(t *testing.T) {
		tp := MustExtract(t, filepath.Join(dir, "001/L/S1001L01.jpg"))
		if len(tp.Code) != iris.CodeWords || len(tp.Mask) != iris.CodeWords {
			t.Fatalf("code %d mask %d words, want %d", len(tp.Code), len(tp.Mask), iris.CodeWords)
		}
		if q := tp.Quality; q.UsableFraction < 0.5 || q.PupilRatio < 0.2 || q.PupilRatio > 0.7 {
			t.Errorf("quality %+v: usable area or pupil ratio out of the expected range", q)
		}
	})
	t.Run("TraceKeys", func(t *testing.T) {
		data, _ := os.ReadFile(filepath.Join(dir, "001/L/S1001L01.jpg"))
		img, _ := imgproc.DecodeGray(data)
		var keys []string
		_, err := iris.Extract(img, iris.Options{Trace: func(key string, im image.Image) {
			if im == nil || im.Bounds().Empty() {
				t.Errorf("trace %s: empty image", key)
			}
			keys = append(keys, key)
		}})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{iris.TraceSegmentation, iris.TraceUnwrapped, iris.TraceCode, iris.TraceCodeMask} {
			if !slices.Contains(keys, want) {
				t.Errorf("trace keys %v lack %q", keys, want)
			}
		}
	})
	t.Run("ErrBlurred", func(t *testing.T) {
		data, _ := os.ReadFile(filepath.Join(dir, "001/L/S1001L01.jpg"))
		img, _ := imgproc.DecodeGray(data)
		_, err := iris.Extract(boxBlurred(img, 10), iris.Options{})
		if !errors.Is(err, iris.ErrFailedToEnroll) {
			t.Errorf("defocused image: got %v, want a failure to enroll", err)
		}
	})
	t.Run("ErrFailedToEnroll", func(t *testing.T) {
		for name, img := range map[string]*image.Gray{
			"uniform": uniform(320, 280, 128),
			"noise":   noise(320, 280),
			"tiny":    uniform(20, 20, 0),
		} {
			_, err := iris.Extract(img, iris.Options{})
			var ee *iris.EnrollError
			if !errors.Is(err, iris.ErrFailedToEnroll) || !errors.As(err, &ee) || ee.Reason == "" {
				t.Errorf("%s: got %v, want a failure to enroll with a reason", name, err)
			}
		}
	})
}

// boxBlurred averages img over squares of radius r: a strongly defocused eye.
func boxBlurred(img *image.Gray, r int) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(b)
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			sum, n := 0, 0
			for yy := max(0, y-r); yy <= min(b.Dy()-1, y+r); yy++ {
				for xx := max(0, x-r); xx <= min(b.Dx()-1, x+r); xx++ {
					sum += int(img.Pix[yy*img.Stride+xx])
					n++
				}
			}
			out.Pix[y*out.Stride+x] = uint8(sum / n)
		}
	}
	return out
}

func uniform(w, h int, v uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	return img
}

func noise(w, h int) *image.Gray {
	r := rand.New(rand.NewPCG(7, 8))
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	return img
}

// TestMatesAndNonMates checks fixed real pairs against the distance at FMR
// 1e-3 measured on CASIA-Iris-Interval (params.go DistanceAtFMR1e3).
func TestMatesAndNonMates(t *testing.T) {
	ts := fixedTemplates(t)
	var mates, nonMates, mateErrs, nonMateErrs int
	for i := range ts {
		for j := i + 1; j < len(ts); j++ {
			d, _ := iris.Distance(ts[i].t, ts[j].t)
			if ts[i].eye == ts[j].eye {
				mates++
				if d >= iris.DistanceAtFMR1e3 {
					mateErrs++
					t.Errorf("mates %s/%s: distance %.3f, want < %.3f", ts[i].name, ts[j].name, d, iris.DistanceAtFMR1e3)
				}
			} else {
				nonMates++
				if d <= iris.DistanceAtFMR1e3 {
					nonMateErrs++
					t.Errorf("non-mates %s/%s: distance %.3f, want > %.3f", ts[i].name, ts[j].name, d, iris.DistanceAtFMR1e3)
				}
			}
		}
	}
	t.Logf("%d mate pairs (%d above threshold), %d non-mate pairs (%d below)", mates, mateErrs, nonMates, nonMateErrs)
}

// TestSearchEqualsExhaustiveReal searches real probes in a gallery of real
// templates padded with random ones.
func TestSearchEqualsExhaustiveReal(t *testing.T) {
	ts := fixedTemplates(t)
	r := rand.New(rand.NewPCG(9, 10))
	var g iris.Gallery
	for i := 0; i < 100*len(ts)+500; i++ {
		if i%100 == 0 && i/100 < len(ts) {
			g.Add(ts[i/100].t)
			continue
		}
		g.Add(randomTemplate(r))
	}
	for k, probe := range ts {
		p := iris.NewProbe(probe.t)
		got, want := g.Search(p, 5, 0), g.SearchExhaustive(p, 5)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: Search %v, exhaustive %v", probe.name, got, want)
		}
		if got[0].Index != 100*k || got[0].Shift != 0 {
			t.Errorf("%s: best candidate %+v, want itself (index %d, shift 0)", probe.name, got[0], 100*k)
		}
	}
}

func TestTemplateCodec(t *testing.T) {
	ts := fixedTemplates(t)
	t.Run("OK", func(t *testing.T) {
		b := iris.EncodeTemplate(ts[0].t)
		if len(b) != iris.TemplateSize {
			t.Fatalf("encoded %d bytes, want %d", len(b), iris.TemplateSize)
		}
		got, err := iris.DecodeTemplate(b)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Code, ts[0].t.Code) || !slices.Equal(got.Mask, ts[0].t.Mask) {
			t.Fatal("decoded code or mask differs")
		}
	})
	t.Run("ErrTruncated", func(t *testing.T) {
		b := iris.EncodeTemplate(ts[0].t)
		for _, n := range []int{0, 3, 20, len(b) - 1} {
			if _, err := iris.DecodeTemplate(b[:n]); !errors.Is(err, iris.ErrTemplateFormat) {
				t.Errorf("%d bytes: got %v, want ErrTemplateFormat", n, err)
			}
		}
	})
	t.Run("ErrVersion", func(t *testing.T) {
		b := iris.EncodeTemplate(ts[0].t)
		b[4] = 9
		if _, err := iris.DecodeTemplate(b); !errors.Is(err, iris.ErrTemplateFormat) {
			t.Errorf("got %v, want ErrTemplateFormat", err)
		}
	})
}

func FuzzDecodeTemplate(f *testing.F) {
	r := rand.New(rand.NewPCG(11, 12))
	f.Add(iris.EncodeTemplate(randomTemplate(r)))
	f.Add([]byte("HIRC"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tp, err := iris.DecodeTemplate(b)
		if err != nil {
			return
		}
		if got := iris.EncodeTemplate(tp); !slices.Equal(got, b) {
			t.Fatalf("re-encoding differs")
		}
		iris.Distance(tp, tp)
	})
}

func TestFusedDistance(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct{ left, right, want float64 }{
		{0.2, 0.3, 0.25}, {nan, 0.3, 0.3}, {0.2, nan, 0.2}, {nan, nan, 0.5},
	} {
		if got := iris.FusedDistance(c.left, c.right); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("FusedDistance(%v, %v) = %v, want %v", c.left, c.right, got, c.want)
		}
	}
	// Fusion keeps both eyes' mates apart from a swapped pair.
	ts := fixedTemplates(t)
	left, right := ts[0].t, ts[3].t // 001/L and 001/R
	mate := iris.FusedDistance(dist(ts[0].t, ts[1].t), dist(ts[3].t, ts[4].t))
	swapped := iris.FusedDistance(dist(left, ts[6].t), dist(right, ts[9].t))
	if mate >= iris.DistanceAtFMR1e3 || swapped <= iris.DistanceAtFMR1e3 {
		t.Errorf("fused mate %.3f, fused non-mate %.3f: want below and above %.3f", mate, swapped, iris.DistanceAtFMR1e3)
	}
}

func dist(a, b *iris.Template) float64 {
	d, _ := iris.Distance(a, b)
	return d
}

// TestExtractLargerImage checks that a camera with twice the resolution gives
// the same code: boundaries are searched at the tuned scale and scaled back.
func TestExtractLargerImage(t *testing.T) {
	dir := datasets.Path(t, "iris/casia-interval")
	data, err := os.ReadFile(filepath.Join(dir, "001/L/S1001L01.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := imgproc.DecodeGray(data)
	if err != nil {
		t.Fatal(err)
	}
	small, err := iris.Extract(img, iris.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	big := image.NewGray(image.Rect(0, 0, 2*b.Dx(), 2*b.Dy()))
	for y := 0; y < big.Rect.Dy(); y++ {
		for x := 0; x < big.Rect.Dx(); x++ {
			big.Pix[y*big.Stride+x] = img.Pix[(y/2)*img.Stride+x/2]
		}
	}
	large, err := iris.Extract(big, iris.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := dist(small, large); d > 0.2 {
		t.Errorf("distance between the image and its 2× enlargement %.3f, want <= 0.2", d)
	}
}

// TestExtractMMU2Pupil checks the pupil and the limbus on MMU2 eyes
// (another camera than the one the constants were first tuned on) where
// dark lashes, an eye corner or spectacle frames are as dark as the pupil,
// or the lids cross the limbus; the centres were checked by eye on the
// traced images. When the best pupil–limbus pair fails the quality gates
// the next pair is taken.
func TestExtractMMU2Pupil(t *testing.T) {
	dir := datasets.Path(t, "iris/mmu2")
	for _, c := range []struct {
		name string
		x, y float64
	}{
		{"49/490101.png", 129, 114}, // lashes in the eye corner
		{"35/350201.png", 140, 135}, // dark iris, heavy upper lashes
		{"27/270202.png", 168, 125}, // spectacle frames darker than the pupil
		{"72/720101.png", 163, 117}, // a dark eye corner at the frame edge
		{"83/830105.png", 100, 134}, // narrow eye: lids cross the limbus arcs
		{"72/720201.png", 243, 132}, // the best pair is a spectacle frame, rejected by the usable-area gate
		{"10/100104.png", 186, 118}, // light iris: the limbus was taken at the skin, 6.7 pupil radii out
		{"9/090201.png", 215, 126},  // the same at the eye corner, 5.7 pupil radii out
	} {
		tp := MustExtract(t, filepath.Join(dir, c.name))
		p, l := tp.Quality.Pupil, tp.Quality.Iris
		if d := math.Hypot(p.X-c.x, p.Y-c.y); d > 5 || p.R < 8 || p.R > 25 {
			t.Errorf("%s: pupil %+v, want centre within 5 px of (%.0f, %.0f) and radius 8–25", c.name, p, c.x, c.y)
		}
		if l.R < 40 || l.R > 75 || math.Hypot(l.X-p.X, l.Y-p.Y) > 0.3*l.R {
			t.Errorf("%s: iris %+v around pupil %+v, want radius 40–75 around the pupil", c.name, l, p)
		}
	}
}

// TestExtractOffCentre checks an eye moved to the edge of the frame, one
// side of its limbus outside the image: it still enrolls and matches itself.
func TestExtractOffCentre(t *testing.T) {
	dir := datasets.Path(t, "iris/casia-interval")
	path := filepath.Join(dir, "001/L/S1001L01.jpg")
	img := datasets.Gray(t, path)
	ref := MustExtract(t, path)
	b := img.Bounds()
	shifted := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			shifted.Pix[y*shifted.Stride+x] = img.Pix[y*img.Stride+min(x+70, b.Dx()-1)]
		}
	}
	got, err := iris.Extract(shifted, iris.Options{})
	if err != nil {
		t.Fatalf("eye shifted 70 px left: %v", err)
	}
	if d := dist(ref, got); d >= iris.DistanceAtFMR1e3 {
		t.Errorf("distance to the centred image %.3f, want < %.3f", d, iris.DistanceAtFMR1e3)
	}
}

// TestExtractCloseEye checks eyes brought closer to the camera (the image
// scaled by 1.3, pupil radius ~60 px): the blurred pupil edge must not be
// taken for both eyelids, which masked 60 % of these irises ("usable iris
// area 33–35 %"), and the enlarged specular spots in the pupil, each on the
// ring of its neighbours at 6 px, must still be masked (S1022L03: usable
// area 17 % with a ring of 6 px around each reflection candidate).
func TestExtractCloseEye(t *testing.T) {
	dir := datasets.Path(t, "iris/casia-interval")
	for _, name := range []string{"015/R/S1015R02.jpg", "019/L/S1019L14.jpg", "019/R/S1019R07.jpg", "022/L/S1022L03.jpg"} {
		path := filepath.Join(dir, name)
		img := datasets.Gray(t, path)
		ref := MustExtract(t, path)
		got, err := iris.Extract(iriseval.Transformed(img, 1.3, 0), iris.Options{})
		if err != nil {
			t.Errorf("%s scaled by 1.3: %v", name, err)
			continue
		}
		if q := got.Quality; q.UsableFraction < 0.6 {
			t.Errorf("%s scaled by 1.3: usable area %.2f, want >= 0.6", name, q.UsableFraction)
		}
		if d := dist(ref, got); d >= iris.DistanceAtFMR1e3 {
			t.Errorf("%s scaled by 1.3: distance to the original %.3f, want < %.3f", name, d, iris.DistanceAtFMR1e3)
		}
	}
}

// TestExtractContrastedIris checks irises whose texture is twice as
// contrasted as on CASIA's camera (issue 22: on an unseen camera the
// reflection and eyelash masks took iris texture for occlusions): the iris
// next to the pupil and its bright crypts must not be taken for specular
// reflections. With the neighbourhood-mean reflection rule alone both
// failed to enroll (usable area 31 % and 24 %): the bright iris beside the
// dark pupil was masked as a ring of reflections. (The absolute eyelash
// contrast still masks some of the doubled texture: S1007L05 keeps 59 %.)
func TestExtractContrastedIris(t *testing.T) {
	dir := datasets.Path(t, "iris/casia-interval")
	for _, name := range []string{"007/L/S1007L05.jpg", "011/R/S1011R07.jpg"} {
		path := filepath.Join(dir, name)
		img := datasets.Gray(t, path)
		ref := MustExtract(t, path)
		got, err := iris.Extract(iriseval.IrisContrasted(img, ref.Quality.Iris, 2), iris.Options{})
		if err != nil {
			t.Errorf("%s, iris contrast ×2: %v", name, err)
			continue
		}
		if q := got.Quality; q.UsableFraction < 0.5 {
			t.Errorf("%s, iris contrast ×2: usable area %.2f, want >= 0.5", name, q.UsableFraction)
		}
		if d := dist(ref, got); d >= iris.DistanceAtFMR1e3 {
			t.Errorf("%s, iris contrast ×2: distance to the original %.3f, want < %.3f", name, d, iris.DistanceAtFMR1e3)
		}
	}
}

// TestExtractLidOnPupil checks eyes whose upper lid is lowered onto the top
// of the pupil (the harness's lid_30: 30 % of the iris disc covered). Before
// issue 22's lid rule these coded at distance 0.35–0.41 from the original:
// the lid was rejected as "the pupil's own edge", a tilted parabola through
// one of its sagging ends was fitted instead (a lower "lid" through the
// other), and the pupil's radial edges were taken at the lid's margin.
func TestExtractLidOnPupil(t *testing.T) {
	checkCodesAsOriginal(t, "under a lid", []string{"006/R/S1006R05.jpg", "005/R/S1005R02.jpg", "007/R/S1007R02.jpg", "006/R/S1006R02.jpg"},
		func(img *image.Gray, ref *iris.Template) *image.Gray {
			return iriseval.LidOccluded(img, ref.Quality.Iris, 0.3, 0)
		})
}

// checkCodesAsOriginal extracts each named CASIA-Iris-Interval image
// perturbed and checks that it codes within 0.3 of the original image.
func checkCodesAsOriginal(t *testing.T, what string, names []string, perturb func(img *image.Gray, ref *iris.Template) *image.Gray) {
	t.Helper()
	dir := datasets.Path(t, "iris/casia-interval")
	for _, name := range names {
		path := filepath.Join(dir, name)
		ref := MustExtract(t, path)
		got, err := iris.Extract(perturb(datasets.Gray(t, path), ref), iris.Options{})
		if err != nil {
			t.Errorf("%s %s: %v", name, what, err)
			continue
		}
		if d := dist(ref, got); d >= 0.3 {
			t.Errorf("%s %s: distance to the original %.3f, want < 0.3", name, what, d)
		}
	}
}

// TestMMU2SmallIrisMates checks MMU2 mates whose irises (limbus ~55 px) were
// coded at a wavelength finer than the camera resolves: with the wavelength
// bounded in pixels (GaborMinWavelengthPixels) they match well below the
// FMR 1e-3 threshold (0.430 before), and stay apart from other eyes. A
// regression guard, not a sample.
func TestMMU2SmallIrisMates(t *testing.T) {
	dir := datasets.Path(t, "iris/mmu2")
	a := MustExtract(t, filepath.Join(dir, "53/530203.png"))
	b := MustExtract(t, filepath.Join(dir, "53/530205.png"))
	if d := dist(a, b); d >= iris.DistanceAtFMR1e3-0.05 {
		t.Errorf("mates 530203/530205: distance %.3f, want < %.3f", d, iris.DistanceAtFMR1e3-0.05)
	}
	for _, other := range []string{"53/530103.png", "52/520203.png", "6/060101.png"} {
		o := MustExtract(t, filepath.Join(dir, other))
		if d := dist(a, o); d <= iris.DistanceAtFMR1e3 {
			t.Errorf("non-mates 530203/%s: distance %.3f, want > %.3f", filepath.Base(other), d, iris.DistanceAtFMR1e3)
		}
	}
}

// TestExtractScaledLargePupil checks eyes with large pupils scaled by 1.3
// (radius ~70 px): the darkest disc sits at the pupil's edge beside the grey
// patch the inpainted ring of reflections leaves in its middle, and the pupil
// was found as a sliver beside it (distance to the original 0.45–0.46, the
// harness's scale_1.3 misses) until the dark region grown from the seed could
// reach across the pupil.
func TestExtractScaledLargePupil(t *testing.T) {
	checkCodesAsOriginal(t, "scaled by 1.3", []string{"001/L/S1001L07.jpg", "001/R/S1001R06.jpg", "007/L/S1007L05.jpg"},
		func(img *image.Gray, _ *iris.Template) *image.Gray { return iriseval.Transformed(img, 1.3, 0) })
}

// TestMatesHeadTilted checks mates whose second image is rotated by 10°
// (3.6 columns) on top of the pair's own roll of 2 columns: with a search of
// ±4 columns they scored 0.40–0.49; the roll prior's ±7 finds them.
func TestMatesHeadTilted(t *testing.T) {
	dir := datasets.Path(t, "iris/casia-interval")
	for _, pair := range [][2]string{
		{"011/R/S1011R01.jpg", "011/R/S1011R04.jpg"},
		{"004/R/S1004R04.jpg", "004/R/S1004R06.jpg"},
		{"022/L/S1022L02.jpg", "022/L/S1022L05.jpg"},
	} {
		a := MustExtract(t, filepath.Join(dir, pair[0]))
		img := datasets.Gray(t, filepath.Join(dir, pair[1]))
		b, err := iris.Extract(iriseval.Transformed(img, 1, 10), iris.Options{})
		if err != nil {
			t.Errorf("%s rotated by 10°: %v", pair[1], err)
			continue
		}
		if d := dist(a, b); d >= 0.3 {
			t.Errorf("%s and %s rotated by 10°: distance %.3f, want < 0.3", filepath.Base(pair[0]), filepath.Base(pair[1]), d)
		}
	}
}
