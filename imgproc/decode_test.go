package imgproc_test

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/internal/hostile"
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

// TestDecode: the one checked decoder refuses a size bomb from its header,
// names bytes of no format, and reports a truncated image, each as its own
// error, keeping the header it read.
func TestDecode(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 40, 30))); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	img, h, err := imgproc.Decode(good, 40*30)
	if err != nil || h != (imgproc.Header{Format: "png", Width: 40, Height: 30}) || img.Bounds().Dx() != 40 {
		t.Fatalf("Decode(40x30 PNG, 1200 pixels) = %v, %+v, %v", img, h, err)
	}
	if _, h, err := imgproc.Decode(good, 40*30-1); !errors.Is(err, imgproc.ErrImageSize) || h.Width != 40 {
		t.Errorf("one pixel over the limit: %+v, %v; want ErrImageSize with the header", h, err)
	}
	if _, h, err := imgproc.Decode(hostile.BombPNG(4000, 3000), 1<<20); !errors.Is(err, imgproc.ErrImageSize) || h.Width != 4000 {
		t.Errorf("a 12-megapixel PNG against a 1-megapixel limit: %+v, %v; want ErrImageSize before any pixel is decoded", h, err)
	}
	if _, h, err := imgproc.Decode([]byte("not an image"), imgproc.MaxPixels); !errors.Is(err, imgproc.ErrUnsupportedFormat) || h.Format != "" {
		t.Errorf("garbage: %+v, %v; want ErrUnsupportedFormat and no header", h, err)
	}
	_, h, err = imgproc.Decode(good[:len(good)-20], imgproc.MaxPixels)
	if err == nil || errors.Is(err, imgproc.ErrImageSize) || errors.Is(err, imgproc.ErrUnsupportedFormat) || h.Format != "png" {
		t.Errorf("truncated PNG: %+v, %v; want a decode error with the header read", h, err)
	}
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
