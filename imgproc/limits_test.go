package imgproc_test

import (
	"errors"
	"testing"

	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/hostile"
)

// TestReadHeaderAndLimits reads the declared size of bombs without
// decoding them and checks it against each modality's capture limit.
func TestReadHeaderAndLimits(t *testing.T) {
	for _, tt := range []struct {
		name     string
		w, h     int
		modality string
		ppi      int
		ok       bool
	}{
		{"FingerAt500", 2000, 1500, "finger", 500, true},
		{"ErrFingerPast500", 2001, 1500, "finger", 500, false},
		{"ErrFingerUnknownPPI", 3200, 3000, "finger", 0, false},
		{"FingerAt1000", 3200, 3000, "finger", 1000, true},
		{"ErrFingerPast1000", 4001, 3000, "finger", 1000, false},
		{"Iris", 640, 480, "iris", 0, true},
		{"ErrIris", 2001, 480, "iris", 0, false},
		{"Face", 4032, 3024, "face", 0, true},
		{"ErrFace", 10000, 10000, "face", 0, false},
		{"ErrTattoo", 4097, 10, "smt", 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, err := imgproc.ReadHeader(hostile.BombPNG(tt.w, tt.h))
			if err != nil {
				t.Fatal(err)
			}
			if h.Format != "png" || h.Width != tt.w || h.Height != tt.h {
				t.Fatalf("header %+v, want png %dx%d", h, tt.w, tt.h)
			}
			err = imgproc.LimitFor(tt.modality, tt.ppi).Check(h.Width, h.Height)
			if tt.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tt.ok && !errors.Is(err, imgproc.ErrImageTooLarge) {
				t.Fatalf("got %v, want ErrImageTooLarge", err)
			}
		})
	}
	t.Run("PGM", func(t *testing.T) {
		h, err := imgproc.ReadHeader([]byte("P5\n# c\n30000 20000\n255\n"))
		if err != nil || h.Width != 30000 || h.Height != 20000 {
			t.Fatalf("header %+v, %v; want 30000x20000", h, err)
		}
	})
	t.Run("ErrPGMHuge", func(t *testing.T) {
		if _, err := imgproc.DecodeGray([]byte("P5 999999999999 999999999999 255\n")); err == nil {
			t.Fatal("a PGM declaring 10^24 pixels decoded")
		}
	})
}
