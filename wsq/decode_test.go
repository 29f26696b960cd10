package wsq_test

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/wsq"
)

// mustRead reads a file or fails the test.
func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// mustPNG decodes a grey PNG or fails the test.
func mustPNG(tb testing.TB, path string) *image.Gray {
	tb.Helper()
	img, err := png.Decode(bytes.NewReader(mustRead(tb, path)))
	if err != nil {
		tb.Fatal(err)
	}
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			r, _, _, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			g.Pix[y*g.Stride+x] = uint8(r >> 8)
		}
	}
	return g
}

// compareGray returns the largest and the mean absolute pixel difference.
func compareGray(tb testing.TB, got, want *image.Gray) (maxDiff int, meanDiff float64) {
	tb.Helper()
	if got.Bounds() != want.Bounds() {
		tb.Fatalf("size: got %v, want %v", got.Bounds(), want.Bounds())
	}
	sum := 0
	for i := range got.Pix {
		d := int(got.Pix[i]) - int(want.Pix[i])
		if d < 0 {
			d = -d
		}
		sum += d
		maxDiff = max(maxDiff, d)
	}
	return maxDiff, float64(sum) / float64(len(got.Pix))
}

func TestDecodeMatchesReference(t *testing.T) {
	dir := datasets.Path(t, "ansinist/nist-reference/samples-wsq")
	f, err := wsq.DecodeFile(mustRead(t, filepath.Join(dir, "sample.wsq")))
	if err != nil {
		t.Fatal(err)
	}
	maxDiff, mean := compareGray(t, f.Image, mustPNG(t, filepath.Join(dir, "sample.png")))
	t.Logf("sample.wsq: max |diff| %d, mean %.4f", maxDiff, mean)
	if maxDiff > 2 || mean >= 0.5 {
		t.Errorf("against sample.png: max |diff| %d (want ≤ 2), mean %.3f (want < 0.5)", maxDiff, mean)
	}
	if f.PPI != 500 {
		t.Errorf("PPI: got %d, want 500", f.PPI)
	}
	if len(f.Comments) != 2 {
		t.Errorf("comments: got %d, want 2", len(f.Comments))
	}
}

func TestDecodeAllSamples(t *testing.T) {
	for _, rel := range []string{"fingerprint/wsq/go-sourceafis_sample.wsq", "fingerprint/wsq/libbiomeval_img.wsq", "fingerprint/libbiomeval/img.wsq"} {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			f, err := wsq.DecodeFile(mustRead(t, datasets.Path(t, rel)))
			if err != nil {
				t.Fatal(err)
			}
			if f.Image.Bounds().Dx() < 100 {
				t.Errorf("width: got %d", f.Image.Bounds().Dx())
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	data := mustRead(t, datasets.Path(t, "ansinist/nist-reference/samples-wsq/sample.wsq"))
	t.Run("ErrTruncated", func(t *testing.T) {
		for _, n := range []int{0, 1, 5, 100, 300, 1000, len(data) / 2, len(data) - 3} {
			if _, err := wsq.DecodeFile(data[:n]); err == nil {
				t.Errorf("%d bytes: got no error", n)
			}
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		_, err := wsq.Decoder{MaxPixels: 1000}.Decode(data)
		if !errors.Is(err, wsq.ErrTooLarge) {
			t.Errorf("got %v, want ErrTooLarge", err)
		}
	})
	t.Run("ErrFormat", func(t *testing.T) {
		if _, err := wsq.DecodeFile([]byte("not a wsq file")); !errors.Is(err, wsq.ErrFormat) {
			t.Errorf("got %v, want ErrFormat", err)
		}
	})
}

func TestTrace(t *testing.T) {
	data := mustRead(t, datasets.Path(t, "fingerprint/libbiomeval/img.wsq"))
	var keys []string
	f, err := wsq.Decoder{Trace: func(key string, img image.Image) {
		keys = append(keys, key)
		if img.Bounds().Dx() != 256 {
			t.Errorf("%s: width %d", key, img.Bounds().Dx())
		}
	}}.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != "wsq-subbands" || keys[1] != "wsq-reconstructed" {
		t.Errorf("decoder trace keys: got %v", keys)
	}
	keys = nil
	if _, err := wsq.EncodeGray(f.Image, &wsq.Options{Trace: func(key string, _ image.Image) { keys = append(keys, key) }}); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != "wsq-subbands" || keys[1] != "wsq-quantized" {
		t.Errorf("encoder trace keys: got %v", keys)
	}
}
