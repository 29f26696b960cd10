package finger_test

import (
	"testing"

	"github.com/huella-abis/huella/finger"
)

// TestEvaluatePreselection checks the curves on similarity matrices whose
// answer is known: mates always best (nothing missed), mates always worst
// (everything missed at any rate below 1).
func TestEvaluatePreselection(t *testing.T) {
	// Ten fingers, two impressions each.
	var names []string
	for f := 0; f < 10; f++ {
		names = append(names, string(rune('a'+f)), string(rune('a'+f)))
	}
	matrix := func(mate, other float64) [][]float64 {
		sim := make([][]float64, len(names))
		for i := range sim {
			sim[i] = make([]float64, len(names))
			for j := range sim[i] {
				sim[i][j] = other + float64((i*7+j*3)%5)/10 // impostor noise in [other, other+0.4]
				if names[i] == names[j] {
					sim[i][j] = mate
				}
			}
		}
		return sim
	}
	rates := []float64{0.01, 0.5}
	for _, tc := range []struct {
		name       string
		mate       float64
		wantMissed float64
	}{
		{"MatesBest", 10, 0},
		{"MatesWorst", -10, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := finger.EvaluatePreselection(matrix(tc.mate, 0), names, rates, 50, 200, 1)
			if r.Pairs != 20 || r.Subjects != 50 {
				t.Fatalf("pairs %d, subjects %d: want 20 and 50", r.Pairs, r.Subjects)
			}
			for _, c := range [][]finger.PenetrationPoint{r.Finger, r.Subject, r.AnyFinger} {
				for _, p := range c {
					if p.Missed != tc.wantMissed {
						t.Errorf("missed %v at %v, want %v", p.Missed, p.Penetration, tc.wantMissed)
					}
				}
			}
		})
	}
}
