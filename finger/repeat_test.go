package finger_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/finger"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/internal/datasets"
	"github.com/huella-abis/huella/internal/perturb"
)

// TestRotatedRepeatability extracts dev prints before and after a 5°
// rotation and checks that most minutiae are found again where the
// rotation puts them (within 10 px and 22.5°).
func TestRotatedRepeatability(t *testing.T) {
	dir := datasets.Path(t, "fingerprint/fvc2002/DB1_B")
	var found, total int
	for _, name := range []string{"101_1", "104_2", "108_3"} {
		data, err := os.ReadFile(filepath.Join(dir, name+".tif"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := imgproc.DecodeGray(data)
		if err != nil {
			t.Fatal(err)
		}
		before, err := finger.Extract(img, finger.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rotated, fwd := perturb.Rotate(img, 5)
		after, err := finger.Extract(rotated, finger.Options{})
		if err != nil {
			t.Fatalf("%s rotated: %v", name, err)
		}
		var want []finger.Minutia
		for _, m := range before.Minutiae {
			x, y := fwd.Apply(float64(m.X), float64(m.Y))
			m.X, m.Y = int(math.Round(x)), int(math.Round(y))
			m.Direction -= 5 * math.Pi / 180 // y down: counter-clockwise on screen lowers the angle
			want = append(want, m)
		}
		found += finger.PairedMinutiae(want, after.Minutiae, 10, math.Pi/8)
		total += len(want)
	}
	if got := float64(found) / float64(total); got < 0.7 {
		t.Errorf("repeatability after 5° = %.2f (%d of %d), want >= 0.70", got, found, total)
	}
}

// TestPairedMinutiae checks the one-to-one pairing and its tolerances.
func TestPairedMinutiae(t *testing.T) {
	want := []finger.Minutia{{X: 10, Y: 10, Direction: 0}, {X: 50, Y: 50, Direction: 1}, {X: 90, Y: 90, Direction: 3}}
	got := []finger.Minutia{
		{X: 12, Y: 11, Direction: 6.2}, // pairs with the first (angle wraps)
		{X: 13, Y: 10, Direction: 0.1}, // second candidate for the first: unused
		{X: 55, Y: 50, Direction: 2},   // too far in angle
		{X: 90, Y: 102, Direction: 3},  // too far away
	}
	if n := finger.PairedMinutiae(want, got, 10, math.Pi/8); n != 1 {
		t.Errorf("paired = %d, want 1", n)
	}
}
