package finger

import (
	"math"
	"testing"
)

// TestBlockOrientationsSynthetic checks the orientation field on synthetic
// ridges (period 9 px) at known angles: every block away from the border
// within 3° of the true ridge direction, with high coherence.
func TestBlockOrientationsSynthetic(t *testing.T) {
	const w, h, period = 160, 160, 9.0
	for _, deg := range []float64{0, 17, 45, 72.5, 90, 121, 163} {
		a := deg * math.Pi / 180
		g := newFloatImage(w, h)
		// Ridges run along a: grey varies across it, along (−sin a, cos a).
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				d := -float64(x)*math.Sin(a) + float64(y)*math.Cos(a)
				g.v[y*w+x] = float32(128 + 100*math.Cos(2*math.Pi*d/period))
			}
		}
		o := blockOrientations(g)
		worst, minCoh := 0.0, 1.0
		for by := 3; by < o.bh-3; by++ {
			for bx := 3; bx < o.bw-3; bx++ {
				b := by*o.bw + bx
				d := math.Abs(o.angle[b] - a)
				d = math.Min(d, math.Pi-d)
				worst = math.Max(worst, d)
				minCoh = math.Min(minCoh, o.coherence[b])
			}
		}
		if worst > 3*math.Pi/180 {
			t.Errorf("%.1f°: worst block off by %.2f°, want <= 3°", deg, worst*180/math.Pi)
		}
		if minCoh < 0.8 {
			t.Errorf("%.1f°: coherence %.2f, want >= 0.8", deg, minCoh)
		}
	}
}
