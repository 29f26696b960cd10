package hostile_test

import (
	"bytes"
	"image"
	_ "image/png"
	"testing"

	"github.com/huella-abis/huella/internal/hostile"
)

// TestBombPNG: the bomb is small and decodes to the size it declares.
func TestBombPNG(t *testing.T) {
	data := hostile.BombPNG(1500, 900)
	if len(data) > 10<<10 {
		t.Errorf("bomb of 1500x900 is %d bytes, want a few kilobytes", len(data))
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1500 || b.Dy() != 900 {
		t.Errorf("decoded %v, want 1500x900", b)
	}
}
