package finger_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/huella-abis/huella/finger"
	"github.com/huella-abis/huella/internal/datasets"
)

// rigidFit fits, by least squares, the rotation and translation that carry
// the probe's paired minutiae onto the candidate's, and returns the largest
// distance (pixels) and direction difference (radians) left after it.
func rigidFit(p, c *finger.Template, pairs []finger.MinutiaPair) (maxDist, maxAngle float64) {
	var pcx, pcy, ccx, ccy float64
	for _, pr := range pairs {
		a, b := p.Minutiae[pr.Probe], c.Minutiae[pr.Candidate]
		pcx, pcy, ccx, ccy = pcx+float64(a.X), pcy+float64(a.Y), ccx+float64(b.X), ccy+float64(b.Y)
	}
	n := float64(len(pairs))
	pcx, pcy, ccx, ccy = pcx/n, pcy/n, ccx/n, ccy/n
	var sxx, sxy float64
	for _, pr := range pairs {
		a, b := p.Minutiae[pr.Probe], c.Minutiae[pr.Candidate]
		px, py := float64(a.X)-pcx, float64(a.Y)-pcy
		qx, qy := float64(b.X)-ccx, float64(b.Y)-ccy
		sxx += px*qx + py*qy
		sxy += px*qy - py*qx
	}
	rot := math.Atan2(sxy, sxx)
	cos, sin := math.Cos(rot), math.Sin(rot)
	for _, pr := range pairs {
		a, b := p.Minutiae[pr.Probe], c.Minutiae[pr.Candidate]
		px, py := float64(a.X)-pcx, float64(a.Y)-pcy
		x, y := ccx+cos*px-sin*py, ccy+sin*px+cos*py
		maxDist = max(maxDist, math.Hypot(x-float64(b.X), y-float64(b.Y)))
		d := math.Mod(math.Abs(a.Direction+rot-b.Direction), 2*math.Pi)
		maxAngle = max(maxAngle, min(d, 2*math.Pi-d))
	}
	return maxDist, maxAngle
}

// TestComparePairs checks that the pairs explain the score on real prints:
// the same score as Compare, many pairs for mates that one rigid motion of
// the finger explains, few for non-mates.
func TestComparePairs(t *testing.T) {
	mates := [][2]string{
		{"DB1_B/103_1", "DB1_B/103_2"}, {"DB1_B/105_1", "DB1_B/105_2"}, {"DB2_B/104_1", "DB2_B/104_2"},
		{"DB2_B/110_1", "DB2_B/110_2"}, {"DB3_B/104_1", "DB3_B/104_2"}, {"DB4_B/102_1", "DB4_B/102_2"},
	}
	nonMates := [][2]string{
		{"DB1_B/101_1", "DB1_B/102_1"}, {"DB1_B/103_1", "DB1_B/104_1"},
		{"DB2_B/103_1", "DB2_B/105_1"}, {"DB3_B/104_1", "DB3_B/106_1"},
		{"DB4_B/105_1", "DB4_B/107_1"},
	}
	// Skip (or fail under CI) here, not inside a subtest, when the prints
	// are missing.
	datasets.Path(t, "fingerprint/fvc2002")
	cache := map[string]*finger.Template{}
	template := func(t *testing.T, id string) *finger.Template {
		if tm, ok := cache[id]; ok {
			return tm
		}
		db, name := filepath.Split(id)
		tm := MustExtract(t, filepath.Clean(db), name)
		cache[id] = tm
		return tm
	}
	// check compares a pair both ways and returns the pairs, after the
	// checks that hold for mates and non-mates alike.
	check := func(t *testing.T, ids [2]string) (*finger.Template, *finger.Template, []finger.MinutiaPair) {
		t.Helper()
		p, c := template(t, ids[0]), template(t, ids[1])
		pp, cc := finger.Prepare(p), finger.Prepare(c)
		score, pairs := finger.ComparePairs(pp, cc)
		if want := finger.Compare(pp, cc); score != want {
			t.Errorf("%s %s: ComparePairs score %v, want Compare's %v", ids[0], ids[1], score, want)
		}
		seenP, seenC := map[int]bool{}, map[int]bool{}
		for _, pr := range pairs {
			if pr.Probe < 0 || pr.Probe >= len(p.Minutiae) || pr.Candidate < 0 || pr.Candidate >= len(c.Minutiae) {
				t.Fatalf("%s %s: pair %+v out of range (%d, %d minutiae)", ids[0], ids[1], pr, len(p.Minutiae), len(c.Minutiae))
			}
			if seenP[pr.Probe] || seenC[pr.Candidate] {
				t.Errorf("%s %s: minutia paired twice in %+v", ids[0], ids[1], pairs)
			}
			seenP[pr.Probe], seenC[pr.Candidate] = true, true
			if pr.Strength <= 0 || pr.Strength > 1 {
				t.Errorf("%s %s: strength %v, want (0, 1]", ids[0], ids[1], pr.Strength)
			}
		}
		return p, c, pairs
	}
	t.Run("Mates", func(t *testing.T) {
		for _, ids := range mates {
			p, c, pairs := check(t, ids)
			if len(pairs) < 8 {
				t.Errorf("%s %s: %d pairs, want >= 8", ids[0], ids[1], len(pairs))
				continue
			}
			// Plain impressions stretch the skin: 20 px (1 mm) of play.
			if dist, angle := rigidFit(p, c, pairs); dist > 20 || angle > math.Pi/6 {
				t.Errorf("%s %s: after one rigid motion pairs are up to %.1f px and %.0f° apart, want <= 20 px and 30°",
					ids[0], ids[1], dist, angle*180/math.Pi)
			}
		}
	})
	t.Run("NonMates", func(t *testing.T) {
		total := 0
		for _, ids := range nonMates {
			_, _, pairs := check(t, ids)
			if len(pairs) > 5 {
				t.Errorf("%s %s: %d pairs, want <= 5", ids[0], ids[1], len(pairs))
			}
			total += len(pairs)
		}
		if mean := float64(total) / float64(len(nonMates)); mean > 3 {
			t.Errorf("non-mates: %.1f pairs on average, want <= 3", mean)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		empty := finger.Prepare(&finger.Template{Width: 300, Height: 300})
		score, pairs := finger.ComparePairs(empty, finger.Prepare(template(t, mates[0][0])))
		if score != 0 || len(pairs) != 0 {
			t.Errorf("empty probe: score %v and %d pairs, want 0 and none", score, len(pairs))
		}
	})
}

// BenchmarkComparePairs measures the explained comparison of a mated pair,
// for the examiner's side-by-side view.
func BenchmarkComparePairs(b *testing.B) {
	p := finger.Prepare(MustExtract(b, "DB1_B", "105_1"))
	c := finger.Prepare(MustExtract(b, "DB1_B", "105_2"))
	for b.Loop() {
		finger.ComparePairs(p, c)
	}
}
