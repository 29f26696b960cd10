package face_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/huella-abis/huella/face"
	"github.com/huella-abis/huella/internal/datasets"
)

func mustExtract(tb testing.TB, x *face.Extractor, path string) *face.Face {
	tb.Helper()
	f, err := x.Extract(mustDecode(tb, path))
	if err != nil {
		tb.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return f
}

// TestMatesAndNonMates checks fixed LFW View 1 DevTest pairs against the
// threshold at FMR 1e-3 measured on DevTrain (face.ThresholdFMR1e3).
func TestMatesAndNonMates(t *testing.T) {
	root := datasets.Path(t, "face/lfw-view1/images_deepfunneled")
	x := &face.Extractor{Models: mustModels(t)}
	cases := []struct {
		a, b  string
		mated bool
	}{
		{"Abdullah_Gul/Abdullah_Gul_0013.jpg", "Abdullah_Gul/Abdullah_Gul_0014.jpg", true},
		{"Zoran_Djindjic/Zoran_Djindjic_0003.jpg", "Zoran_Djindjic/Zoran_Djindjic_0004.jpg", true},
		{"Adam_Sandler/Adam_Sandler_0002.jpg", "Adam_Sandler/Adam_Sandler_0003.jpg", true},
		{"AJ_Lamas/AJ_Lamas_0001.jpg", "Zach_Safrin/Zach_Safrin_0001.jpg", false},
		{"Aaron_Guiel/Aaron_Guiel_0001.jpg", "Reese_Witherspoon/Reese_Witherspoon_0003.jpg", false},
		{"Abdullah_Gul/Abdullah_Gul_0013.jpg", "Zoran_Djindjic/Zoran_Djindjic_0003.jpg", false},
	}
	for _, c := range cases {
		name := strings.TrimSuffix(filepath.Base(c.a), ".jpg") + "-" + strings.TrimSuffix(filepath.Base(c.b), ".jpg")
		t.Run(name, func(t *testing.T) {
			a := mustExtract(t, x, filepath.Join(root, c.a))
			b := mustExtract(t, x, filepath.Join(root, c.b))
			s := face.Similarity(a.Descriptor, b.Descriptor)
			t.Logf("similarity %.3f (threshold %.3f)", s, face.ThresholdFMR1e3)
			if c.mated && s < face.ThresholdFMR1e3 {
				t.Errorf("mated similarity = %.3f, want ≥ %.3f", s, face.ThresholdFMR1e3)
			}
			if !c.mated && s >= face.ThresholdFMR1e3 {
				t.Errorf("non-mated similarity = %.3f, want < %.3f", s, face.ThresholdFMR1e3)
			}
		})
	}
}

// TestDetectUnaligned runs the pipeline on the original (unaligned) LFW
// photos: every one has its subject near the centre.
func TestDetectUnaligned(t *testing.T) {
	root := datasets.Path(t, "face/lfw10-unaligned/images")
	files, err := filepath.Glob(filepath.Join(root, "*", "*.jpg"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no images under %s: %v", root, err)
	}
	x := &face.Extractor{Models: mustModels(t), NoFlip: true}
	missed := 0
	for _, p := range files {
		img := mustDecode(t, p)
		f, err := x.Extract(img)
		if err != nil {
			missed++
			t.Logf("%s: %v", filepath.Base(p), err)
			continue
		}
		eyes := face.Point{X: (f.Landmarks.LeftEye().X + f.Landmarks.RightEye().X) / 2, Y: (f.Landmarks.LeftEye().Y + f.Landmarks.RightEye().Y) / 2}
		if math.Abs(eyes.X-float64(img.Width)/2) > 40 || math.Abs(eyes.Y-float64(img.Height)/2) > 50 {
			missed++
			t.Logf("%s: eyes at (%.0f, %.0f), far from the centre", filepath.Base(p), eyes.X, eyes.Y)
		}
	}
	if rate := float64(missed) / float64(len(files)); rate > 0.02 {
		t.Errorf("missed %d of %d faces (%.1f%%), want ≤ 2%%", missed, len(files), 100*rate)
	}
}

func TestExtract(t *testing.T) {
	x := &face.Extractor{Models: mustModels(t)}
	t.Run("OK", func(t *testing.T) {
		f := mustExtract(t, x, "testdata/Abdullah_Gul_0013.jpg")
		var n float64
		for _, v := range f.Descriptor {
			n += float64(v) * float64(v)
		}
		if len(f.Descriptor) != face.DescriptorSize || math.Abs(n-1) > 1e-4 {
			t.Errorf("descriptor has %d values and norm² %.5f, want %d and 1", len(f.Descriptor), n, face.DescriptorSize)
		}
		if !f.Quality.Acceptable() {
			t.Errorf("quality reasons %q, want none", f.Quality.Reasons)
		}
		if f.Quality.InterEye < 30 || f.Quality.InterEye > 80 {
			t.Errorf("inter-eye distance %.1f px, want 30–80 for a 250×250 LFW image", f.Quality.InterEye)
		}
	})
	t.Run("ErrNoFace", func(t *testing.T) {
		img := &face.RGB{Width: 200, Height: 200, Pix: bytes.Repeat([]byte{128}, 3*200*200)}
		if _, err := x.Extract(img); !errors.Is(err, face.ErrNoFace) {
			t.Errorf("err = %v, want ErrNoFace", err)
		}
	})
	t.Run("Blurred", func(t *testing.T) {
		img := boxBlur(mustDecode(t, "testdata/Abdullah_Gul_0013.jpg"), 4)
		f, err := x.Extract(img)
		if err != nil {
			t.Skipf("blurred face not detected: %v", err)
		}
		if !hasReason(f.Quality, "blurred") {
			t.Errorf("reasons %q, want one about blur (sharpness %.1f)", f.Quality.Reasons, f.Quality.Sharpness)
		}
	})
	t.Run("TwoFaces", func(t *testing.T) {
		a := mustDecode(t, "testdata/Abdullah_Gul_0013.jpg")
		b := mustDecode(t, "testdata/Reese_Witherspoon_0003.jpg")
		f, err := x.Extract(sideBySide(a, b))
		if err != nil {
			t.Fatal(err)
		}
		if f.Quality.Faces < 2 || !hasReason(f.Quality, "faces") {
			t.Errorf("faces = %d, reasons %q; want 2 and a reason", f.Quality.Faces, f.Quality.Reasons)
		}
	})
	t.Run("Trace", func(t *testing.T) {
		keys := map[string]image.Rectangle{}
		tx := &face.Extractor{Models: x.Models, Trace: func(key string, img image.Image) { keys[key] = img.Bounds() }}
		mustExtract(t, tx, "testdata/AJ_Lamas_0001.jpg")
		for _, k := range []string{face.TraceDetections, face.TraceLandmarks, face.TraceAlignedCrop} {
			if _, ok := keys[k]; !ok {
				t.Errorf("trace key %q missing (have %v)", k, keys)
			}
		}
		if got := keys[face.TraceAlignedCrop]; got.Dx() != face.RecognitionInputSize {
			t.Errorf("aligned crop is %v, want %d wide", got, face.RecognitionInputSize)
		}
	})
}

func hasReason(q face.Quality, word string) bool {
	for _, r := range q.Reasons {
		if strings.Contains(r, word) {
			return true
		}
	}
	return false
}

func boxBlur(img *face.RGB, r int) *face.RGB {
	out := &face.RGB{Width: img.Width, Height: img.Height, Pix: make([]uint8, len(img.Pix))}
	for y := 0; y < img.Height; y++ {
		for x := 0; x < img.Width; x++ {
			for c := 0; c < 3; c++ {
				sum, n := 0, 0
				for dy := -r; dy <= r; dy++ {
					for dx := -r; dx <= r; dx++ {
						xx, yy := x+dx, y+dy
						if xx >= 0 && yy >= 0 && xx < img.Width && yy < img.Height {
							sum += int(img.Pix[3*(yy*img.Width+xx)+c])
							n++
						}
					}
				}
				out.Pix[3*(y*img.Width+x)+c] = uint8(sum / n)
			}
		}
	}
	return out
}

func sideBySide(a, b *face.RGB) *face.RGB {
	out := &face.RGB{Width: a.Width + b.Width, Height: max(a.Height, b.Height)}
	out.Pix = make([]uint8, 3*out.Width*out.Height)
	for y := 0; y < out.Height; y++ {
		if y < a.Height {
			copy(out.Pix[3*y*out.Width:], a.Pix[3*y*a.Width:3*(y+1)*a.Width])
		}
		if y < b.Height {
			copy(out.Pix[3*(y*out.Width+a.Width):], b.Pix[3*y*b.Width:3*(y+1)*b.Width])
		}
	}
	return out
}

func TestGallery(t *testing.T) {
	x := &face.Extractor{Models: mustModels(t), NoFlip: true}
	files, _ := filepath.Glob("testdata/*.jpg")
	var g face.Gallery
	var descs [][]float32
	for _, p := range files {
		d := mustExtract(t, x, p).Descriptor
		descs = append(descs, d)
		if _, err := g.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	out := make([]float32, g.Len())
	for i, d := range descs {
		p, err := face.NewProbe(d)
		if err != nil {
			t.Fatal(err)
		}
		g.Scores(p, out, 0)
		for j, s := range out {
			if want := face.Similarity(d, descs[j]); math.Abs(float64(s-want)) > 0.01 {
				t.Errorf("probe %d entry %d: int8 score %.4f, float score %.4f", i, j, s, want)
			}
		}
	}
	t.Run("ErrSize", func(t *testing.T) {
		if _, err := g.Add(make([]float32, 5)); err == nil {
			t.Error("err = nil for a 5-value descriptor")
		}
	})
}

// BenchmarkSearch measures the 1:N scan on one core over 100,000 entries
// (reported as comparisons per second).
func BenchmarkSearch(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	var g face.Gallery
	v := make([]float32, face.DescriptorSize)
	for range 100_000 {
		for j := range v {
			v[j] = float32(rng.NormFloat64() / math.Sqrt(face.DescriptorSize))
		}
		if _, err := g.Add(v); err != nil {
			b.Fatal(err)
		}
	}
	p, err := face.NewProbe(v)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]float32, g.Len())
	for b.Loop() {
		g.Scores(p, out, 1)
	}
	b.ReportMetric(float64(g.Len())*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mcmp/s")
}

// FuzzDecodeRGB feeds arbitrary bytes to the image decoder.
func FuzzDecodeRGB(f *testing.F) {
	for _, p := range []string{"testdata/AJ_Lamas_0001.jpg"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var buf bytes.Buffer
	m := image.NewRGBA(image.Rect(0, 0, 3, 2))
	m.Set(1, 1, color.RGBA{200, 10, 10, 255})
	if err := png.Encode(&buf, m); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := face.DecodeRGB(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(img.Pix) != 3*img.Width*img.Height {
			t.Fatalf("%dx%d image with %d bytes", img.Width, img.Height, len(img.Pix))
		}
	})
}
