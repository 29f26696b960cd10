package tattoo_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/tattoo"
)

// bivtatt returns the dataset's images by name ("13_1", "13_1_r1").
func bivtatt(tb testing.TB) map[string]tattoo.DatasetImage {
	tb.Helper()
	dir := datasets.Path(tb, "tattoo/bivtatt-dev")
	ims, err := tattoo.ReadBIVTatt(dir)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]tattoo.DatasetImage{}
	for _, im := range ims {
		name := filepath.Base(im.Path)
		out[strings.TrimSuffix(name, filepath.Ext(name))] = im
	}
	return out
}

// MustExtract extracts the template of a dataset image by name.
func MustExtract(tb testing.TB, images map[string]tattoo.DatasetImage, name string) *tattoo.Template {
	tb.Helper()
	im, ok := images[name]
	if !ok {
		tb.Fatalf("no image %s in the dataset", name)
	}
	data, err := os.ReadFile(im.Path)
	if err != nil {
		tb.Fatal(err)
	}
	t, err := tattoo.ExtractBytes(data, im.Box)
	if err != nil {
		tb.Fatalf("extract %s: %v", name, err)
	}
	return t
}

// Scores above mateScore are verified matches; different tattoos stay at
// or below impostorScore (chance inliers).
const (
	mateScore     = 25
	impostorScore = 9
)

func TestCompare(t *testing.T) {
	images := bivtatt(t)
	mates := [][2]string{
		{"11_2", "11_3"},    // two photos of one forearm tattoo
		{"9_3", "9_4"},      // two photos of one tattoo
		{"10_1", "10_1_r1"}, // a rotated copy
		{"1_1", "1_1_a1"},   // an affine copy
	}
	impostors := [][2]string{
		{"11_2", "9_3"}, {"13_1", "4_1"}, {"1_1", "12_1"}, {"10_1", "2_1"}, {"3_1", "6_1"},
	}
	for _, p := range mates {
		t.Run("Mate"+p[0]+"-"+p[1], func(t *testing.T) {
			c := tattoo.Compare(MustExtract(t, images, p[0]), MustExtract(t, images, p[1]))
			t.Logf("score %v", c.Score)
			if c.Score < mateScore {
				t.Errorf("score %v, want >= %v", c.Score, mateScore)
			}
			if len(c.Inliers) < int(c.Score) {
				t.Errorf("%d inliers for score %v", len(c.Inliers), c.Score)
			}
		})
	}
	for _, p := range impostors {
		t.Run("Impostor"+p[0]+"-"+p[1], func(t *testing.T) {
			c := tattoo.Compare(MustExtract(t, images, p[0]), MustExtract(t, images, p[1]))
			t.Logf("score %v", c.Score)
			if c.Score > impostorScore {
				t.Errorf("score %v, want <= %v", c.Score, impostorScore)
			}
		})
	}
}

func TestGallerySearch(t *testing.T) {
	images := bivtatt(t)
	gallery := tattoo.NewGallery(nil)
	names := []string{"100_1", "101_1", "102_1", "104_1", "105_1", "106_1", "107_1", "108_1",
		"109_1", "110_1", "111_1", "112_1", "113_1", "12_1", "13_1", "1_1", "2_1", "4_1", "9_1", "11_2"}
	for _, n := range names {
		if err := gallery.Add(n, images[n].Subject, MustExtract(t, images, n)); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("OK", func(t *testing.T) {
		probe := MustExtract(t, images, "11_3")
		got := gallery.Search(probe, tattoo.SearchOptions{Limit: 5})
		if len(got) == 0 || got[0].ID != "11_2" {
			t.Fatalf("got %v first, want 11_2", ids(got))
		}
		if len(got[0].Comparison.Inliers) == 0 {
			t.Error("the top candidate has no matched keypoints")
		}
		subjects := gallery.SearchSubjects(probe, tattoo.SearchOptions{Limit: 3})
		if len(subjects) == 0 || subjects[0].Subject != "11" {
			t.Errorf("got subjects %v, want 11 first", subjects)
		}
	})
	t.Run("Exclude", func(t *testing.T) {
		probe := MustExtract(t, images, "11_3")
		got := gallery.Search(probe, tattoo.SearchOptions{Limit: 5, Exclude: func(id string) bool { return id == "11_2" }})
		for _, c := range got {
			if c.ID == "11_2" {
				t.Fatal("excluded image returned")
			}
		}
	})
	t.Run("ErrDuplicateID", func(t *testing.T) {
		err := gallery.Add("11_2", "11", MustExtract(t, images, "11_2"))
		if !errors.Is(err, tattoo.ErrDuplicateID) {
			t.Errorf("got %v, want ErrDuplicateID", err)
		}
	})
}

func ids(cs []tattoo.Candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func encodePNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// hugePNGHeader returns a PNG signature and IHDR declaring w×h pixels.
func hugePNGHeader(tb testing.TB, w, h int) []byte {
	tb.Helper()
	data := encodePNG(tb, image.NewGray(image.Rect(0, 0, 1, 1)))
	// The IHDR chunk type starts at byte 12, width and height at 16 and 20,
	// and its CRC follows at 29.
	binary.BigEndian.PutUint32(data[16:], uint32(w))
	binary.BigEndian.PutUint32(data[20:], uint32(h))
	binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
	return data
}

func TestExtractBadInput(t *testing.T) {
	blank := image.NewGray(image.Rect(0, 0, 300, 300))
	for i := range blank.Pix {
		blank.Pix[i] = 200
	}
	images := bivtatt(t)
	real, err := os.ReadFile(images["13_1"].Path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		box  image.Rectangle
		want error
	}{
		{"ErrTiny", encodePNG(t, image.NewGray(image.Rect(0, 0, 8, 8))), image.Rectangle{}, tattoo.ErrImageTooSmall},
		{"ErrHuge", hugePNGHeader(t, 100000, 100000), image.Rectangle{}, tattoo.ErrImageTooLarge},
		{"ErrBlank", encodePNG(t, blank), image.Rectangle{}, tattoo.ErrNoFeatures},
		{"ErrCorrupt", real[:len(real)/3], image.Rectangle{}, nil},
		{"ErrEmpty", nil, image.Rectangle{}, nil},
		{"ErrBoxOutside", real, image.Rect(5000, 5000, 5100, 5100), tattoo.ErrBadBox},
		{"ErrBoxTiny", real, image.Rect(10, 10, 14, 14), tattoo.ErrImageTooSmall},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tp, err := tattoo.ExtractBytes(tc.data, tc.box)
			if err == nil {
				t.Fatalf("got a template with %d keypoints, want an error", len(tp.Keypoints))
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("OKGrey", func(t *testing.T) {
		img, err := tattoo.DecodeImage(real)
		if err != nil {
			t.Fatal(err)
		}
		grey := image.NewGray(img.Bounds())
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
			for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
				grey.Set(x, y, color.GrayModel.Convert(img.At(x, y)))
			}
		}
		if _, err := tattoo.ExtractBytes(encodePNG(t, grey), images["13_1"].Box); err != nil {
			t.Fatal(err)
		}
	})
}

func TestTrace(t *testing.T) {
	images := bivtatt(t)
	im := images["13_1"]
	data, err := os.ReadFile(im.Path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tattoo.DecodeImage(data)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	tp, err := tattoo.Extract(img, im.Box, tattoo.WithTrace(func(key string, stage image.Image) {
		if stage == nil || stage.Bounds().Empty() {
			t.Errorf("stage %s: empty image", key)
		}
		got[key] = true
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"crop", "normalized-crop", "keypoints"} {
		if !got[key] {
			t.Errorf("no %q stage traced", key)
		}
	}
	c := tattoo.Compare(tp, tp)
	m := tattoo.DrawMatches(img, img, tp, tp, c)
	if m.Bounds().Dx() != 2*tp.Width || m.Bounds().Dy() != tp.Height {
		t.Errorf("match image %v, want %dx%d", m.Bounds(), 2*tp.Width, tp.Height)
	}
}

func FuzzExtractBytes(f *testing.F) {
	images := bivtatt(f)
	for _, name := range []string{"13_1", "2_2"} {
		data, err := os.ReadFile(images[name].Path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(encodePNG(f, image.NewGray(image.Rect(0, 0, 40, 40))))
	f.Fuzz(func(t *testing.T, data []byte) {
		tp, err := tattoo.ExtractBytes(data, image.Rectangle{})
		if err != nil {
			return
		}
		if len(tp.Keypoints) != len(tp.Descriptors) {
			t.Fatalf("%d keypoints, %d descriptors", len(tp.Keypoints), len(tp.Descriptors))
		}
	})
}
