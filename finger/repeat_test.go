package finger_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/finger"
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
		img := datasets.Gray(t, filepath.Join(dir, name+".tif"))
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

// TestScaledRepeatability extracts dev prints before and after a capture
// at 450 ppi (the image reduced to 0.9, extracted with PPI 450 so that it
// is brought back to 500 ppi) and checks that most minutiae are found again
// where the scaling puts them (within 10 px and 22.5°).
func TestScaledRepeatability(t *testing.T) {
	var scale perturb.Perturbation
	for _, p := range perturb.Fingerprint() {
		if p.Name == "scale0.9" {
			scale = p
		}
	}
	var found, total int
	for _, id := range []string{"DB3_B/102_3", "DB3_B/107_5", "DB4_B/104_2", "DB4_B/109_6"} {
		db, name := filepath.Split(id)
		dir := datasets.Path(t, "fingerprint/fvc2002/"+filepath.Clean(db))
		img := datasets.Gray(t, filepath.Join(dir, name+".tif"))
		before, err := finger.Extract(img, finger.Options{})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		scaled, fwd := scale.Apply(img, 0)
		after, err := finger.Extract(scaled, finger.Options{PPI: 450})
		if err != nil {
			t.Fatalf("%s scaled: %v", id, err)
		}
		var want []finger.Minutia
		for _, m := range before.Minutiae {
			// Into the scaled image, then back to its 500 ppi frame.
			x, y := fwd.Apply(float64(m.X), float64(m.Y))
			m.X, m.Y = int(math.Round(x/0.9)), int(math.Round(y/0.9))
			want = append(want, m)
		}
		n := finger.PairedMinutiae(want, after.Minutiae, 10, math.Pi/8)
		t.Logf("%s: %d of %d", id, n, len(want))
		found += n
		total += len(want)
	}
	if got := float64(found) / float64(total); got < 0.8 {
		t.Errorf("repeatability at 450 ppi = %.2f (%d of %d), want >= 0.80", got, found, total)
	}
}
