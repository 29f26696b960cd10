package ansinist_test

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/ansinist"
	"github.com/huella-abis/huella/internal/datasets"
)

func TestImagesDecode(t *testing.T) {
	decoded, unsupported := 0, 0
	for _, path := range transactionFiles(t) {
		tx, err := ansinist.Read(mustRead(t, path))
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(path), err)
		}
		for i, r := range tx.Records {
			img, ok := r.Image()
			if !ok {
				continue
			}
			m, err := img.Decode()
			switch {
			case errors.Is(err, ansinist.ErrUnsupportedCompression):
				unsupported++
				t.Errorf("%s record %d: %v", filepath.Base(path), i+1, err)
			case err != nil:
				t.Errorf("%s record %d (type %d, %s): %v", filepath.Base(path), i+1, r.Type, img.Compression, err)
			default:
				decoded++
				if img.Width > 0 && (m.Bounds().Dx() != img.Width || m.Bounds().Dy() != img.Height) {
					t.Logf("%s record %d: decoded %v, declared %dx%d", filepath.Base(path), i+1, m.Bounds().Size(), img.Width, img.Height)
				}
			}
		}
	}
	t.Logf("%d images decoded, %d in unsupported compressions", decoded, unsupported)
	if decoded < 170 {
		t.Errorf("decoded %d images, want all 170", decoded)
	}
}

// TestWSQMatchesReference compares the WSQ fingerprints of sample.an2 with
// the PNG decodings shipped with it (another implementation's output).
func TestWSQMatchesReference(t *testing.T) {
	dir := datasets.Path(t, "ansinist/nist-reference/samples-nist")
	tx, err := ansinist.Read(mustRead(t, filepath.Join(dir, "sample.an2")))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range tx.RecordsOfType(4) {
		img, _ := r.Image()
		if img.Compression != ansinist.CompressionWSQ {
			t.Fatalf("record IDC %d: compression %s", r.IDC(), img.Compression)
		}
		got, err := img.Decode()
		if err != nil {
			t.Fatal(err)
		}
		want := mustPNGGray(t, filepath.Join(dir, fmt.Sprintf("fp-%d.png", r.FingerPositions()[0])))
		maxDiff, mean := grayDiff(t, got.(*image.Gray), want)
		t.Logf("fp-%d: max |diff| %d, mean %.4f", r.FingerPositions()[0], maxDiff, mean)
		if maxDiff > 2 || mean >= 0.5 {
			t.Errorf("fp-%d: max |diff| %d (want ≤ 2), mean %.3f (want < 0.5)", r.FingerPositions()[0], maxDiff, mean)
		}
		n++
	}
	if n != 14 {
		t.Errorf("compared %d images, want 14", n)
	}
}

func mustPNGGray(tb testing.TB, path string) *image.Gray {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		tb.Fatal(err)
	}
	b := m.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			r, _, _, _ := m.At(b.Min.X+x, b.Min.Y+y).RGBA()
			g.Pix[y*g.Stride+x] = uint8(r >> 8)
		}
	}
	return g
}

func grayDiff(tb testing.TB, got, want *image.Gray) (maxDiff int, mean float64) {
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
