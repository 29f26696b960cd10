package imgproc_test

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/datasets"
)

func TestDecodeGray(t *testing.T) {
	t.Run("TIFF", func(t *testing.T) {
		dir := datasets.Path(t, "fingerprint/fvc2002/DB1_B")
		data, err := os.ReadFile(filepath.Join(dir, "101_1.tif"))
		if err != nil {
			t.Fatal(err)
		}
		g, err := imgproc.DecodeGray(data)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.Bounds().Size(); got != (image.Point{388, 374}) {
			t.Fatalf("size = %v, want 388x374", got)
		}
	})
	t.Run("PGM", func(t *testing.T) {
		dir := datasets.Path(t, "fingerprint/nfiq2")
		data, err := os.ReadFile(filepath.Join(dir, "SFinGe_Test01.pgm"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := imgproc.DecodeGray(data); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("PNGColour", func(t *testing.T) {
		img := image.NewRGBA(image.Rect(0, 0, 4, 3))
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		g, err := imgproc.DecodeGray(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if g.Bounds().Dx() != 4 || g.Bounds().Dy() != 3 {
			t.Fatalf("size = %v", g.Bounds())
		}
	})
	t.Run("ErrGarbage", func(t *testing.T) {
		if _, err := imgproc.DecodeGray([]byte("not an image")); err == nil {
			t.Fatal("want error")
		}
	})
	t.Run("ErrHugePGM", func(t *testing.T) {
		if _, err := imgproc.DecodeGray([]byte("P5 100000 100000 255\n")); err == nil {
			t.Fatal("want error")
		}
	})
}

func FuzzDecodeGray(f *testing.F) {
	f.Add([]byte("P5 2 2 255\n\x00\x01\x02\x03"))
	var buf bytes.Buffer
	_ = png.Encode(&buf, image.NewGray(image.Rect(0, 0, 3, 3)))
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := imgproc.DecodeGray(data)
		if err == nil && g == nil {
			t.Fatal("nil image without error")
		}
	})
}
