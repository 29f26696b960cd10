package face_test

import (
	"errors"
	"image/png"
	"os"
	"testing"

	"github.com/huella-abis/huella/face"
)

// TestChip5MatchesDlib cuts dlib's 5-point face chip (150×150, padding
// 0.25) of a fixture from the five points dlib's shape predictor gave and
// compares it with the chip dlib 19.24 itself cut
// (tools/face-reference/dlib5.cpp).
func TestChip5MatchesDlib(t *testing.T) {
	img := mustDecode(t, "testdata/AJ_Lamas_0001.jpg")
	parts := []face.Point{{X: 154, Y: 116}, {X: 137, Y: 116}, {X: 89, Y: 115}, {X: 109, Y: 115}, {X: 127, Y: 144}}
	got, err := face.Chip5(img, parts, 150, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/dlib5_chip_AJ_Lamas_0001.png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if want.Bounds().Dx() != 150 || want.Bounds().Dy() != 150 || len(got) != 3*150*150 {
		t.Fatalf("chip sizes: got %d bytes, reference %v", len(got), want.Bounds())
	}
	worst := 0
	for y := 0; y < 150; y++ {
		for x := 0; x < 150; x++ {
			r, g, b, _ := want.At(x, y).RGBA()
			for c, w := range []uint32{r >> 8, g >> 8, b >> 8} {
				d := int(got[3*(y*150+x)+c]) - int(w)
				worst = max(worst, d, -d)
			}
		}
	}
	if worst > 1 {
		t.Errorf("chip differs from dlib's by up to %d grey levels, want ≤ 1", worst)
	}
	if _, err := face.Chip5(img, parts[:4], 150, 0.25); !errors.Is(err, face.ErrImage) {
		t.Errorf("four points: err = %v, want ErrImage", err)
	}
}
