package finger

import (
	"math"
	"math/bits"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/huella-abis/huella/internal/datasets"
)

// localSimilarityMasked is localSimilarity without its shortcuts: every
// cylinder masked by the common valid cells, as MCC defines it.
func localSimilarityMasked(p *Candidate, a int, c *Candidate, b int) float64 {
	if !p.usable[a] || !c.usable[b] || angleDiff(p.dir[a], c.dir[b]) > cylinderMaxRotation {
		return 0
	}
	var mask [maskWords]uint64
	common := 0
	for w := range mask {
		mask[w] = p.masks[a*maskWords+w] & c.masks[b*maskWords+w]
		common += bits.OnesCount64(mask[w])
	}
	if float64(common) < cylinderMinMatchable*float64(circleCells) {
		return 0
	}
	na, nb, nx := 0, 0, 0
	for w := 0; w < valueWords; w++ {
		m := mask[w%maskWords]
		x, y := p.values[a*valueWords+w]&m, c.values[b*valueWords+w]&m
		na += bits.OnesCount64(x)
		nb += bits.OnesCount64(y)
		nx += bits.OnesCount64(x ^ y)
	}
	if na+nb == 0 {
		return 0
	}
	return 1 - math.Sqrt(float64(nx))/(math.Sqrt(float64(na))+math.Sqrt(float64(nb)))
}

// TestLocalSimilarityShortcuts checks that the area grid is the hull's
// margin cell by cell, that the full-cylinder shortcuts of
// localSimilarity give exactly the masked formula on every cylinder pair
// of real prints (FVC2002 DB1 and DB4), and that the bucketed search of
// the minutiae by x finds the same position as a linear scan.
func TestLocalSimilarityShortcuts(t *testing.T) {
	cands := shortcutCandidates(t)
	for n, c := range cands {
		// The area grid's scanline shortcut marks the cells near()
		// marks, one by one.
		h := convexHull(c.x, c.y)
		for i := 0; i < c.area.w*c.area.h; i++ {
			px := (float64(c.area.x0+i%c.area.w) + 0.5) * areaCell
			py := (float64(c.area.y0+i/c.area.w) + 0.5) * areaCell
			if got, want := c.area.bits[i/64]&(1<<(i%64)) != 0, h.near(px, py, alignAreaMargin); got != want {
				t.Fatalf("%s: area cell (%v, %v) marked %v, want %v", shortcutNames[n], px, py, got, want)
			}
		}
	}
	var kinds [3]int
	for _, p := range cands {
		for _, c := range cands {
			for a := 0; a < p.n; a++ {
				for b := 0; b < c.n; b++ {
					got, want := localSimilarity(p, a, c, b), localSimilarityMasked(p, a, c, b)
					if got != want {
						t.Fatalf("cylinders %d, %d: got %v, want %v", a, b, got, want)
					}
					if want > 0 {
						kinds[btoi(p.full[a])+btoi(c.full[b])]++
					}
				}
			}
		}
		for v := -20.0; v < 600; v += 0.75 {
			want := 0
			for want < p.n && p.sortedX[want] < v {
				want++
			}
			if got := p.firstAtLeast(v); got != want {
				t.Fatalf("firstAtLeast(%v) = %d, want %d", v, got, want)
			}
		}
	}
	// Every case of the shortcut must have been exercised.
	for k, n := range kinds {
		if n == 0 {
			t.Errorf("no compared pair with %d full cylinders", k)
		}
	}
	t.Logf("compared pairs with 0, 1, 2 full cylinders: %v", kinds)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestHullSpan checks the scanline shortcut of newAreaGrid: a point strictly
// inside the span of its row is inside the hull.
func TestHullSpan(t *testing.T) {
	h := convexHull([]float64{10, 200, 220, 40, 120}, []float64{20, 30, 250, 260, 140})
	for y := 0.0; y < 300; y += 3.5 {
		lo, hi := h.span(y)
		for x := 0.0; x < 300; x += 2.5 {
			in := x > lo+1e-6 && x < hi-1e-6
			if in && h.depth(x, y) < 0 {
				t.Fatalf("(%v, %v) in the span [%v, %v] but outside the hull", x, y, lo, hi)
			}
			if !in && x > lo+0.01 && x < hi-0.01 {
				t.Fatalf("span miscomputed at (%v, %v)", x, y)
			}
			if h.depth(x, y) > 0.01 && !(x > lo && x < hi) {
				t.Fatalf("(%v, %v) inside the hull but not in the span [%v, %v]", x, y, lo, hi)
			}
		}
	}
}

// shortcutCandidates prepares 8 real prints of FVC2002 DB1 and DB4, once
// for the tests that share them.
func shortcutCandidates(t *testing.T) []*Candidate {
	t.Helper()
	if shortcutCands != nil {
		return shortcutCands
	}
	var cands []*Candidate
	for _, p := range shortcutNames {
		db, name, _ := strings.Cut(p, "/")
		img := datasets.Gray(t, filepath.Join(datasets.Path(t, "fingerprint/fvc2002/"+db), name+".tif"))
		tmpl, err := Extract(img, Options{PPI: 500})
		if err != nil {
			t.Fatal(err)
		}
		cands = append(cands, Prepare(tmpl))
	}
	shortcutCands = cands
	return cands
}

var shortcutCands []*Candidate

// shortcutNames are the prints of shortcutCandidates, in its order.
var shortcutNames = []string{"DB1_B/101_1", "DB1_B/101_2", "DB1_B/102_1", "DB1_B/103_5",
	"DB4_B/101_1", "DB4_B/101_2", "DB4_B/102_1", "DB4_B/103_5"}

// TestCylinderKernels checks that every cylinder-count kernel this machine
// runs gives localSimilarity's similarity, bit for bit, on every cylinder
// pair of real prints (FVC2002 DB1 and DB4; full, partial and unusable
// cylinders, pairs past and short of the common-cells minimum).
func TestCylinderKernels(t *testing.T) {
	cands := shortcutCandidates(t)
	saved := cylinderKernel
	defer func() { cylinderKernel = saved }()
	ran := 0
	for k, ok := range cylinderRuns {
		if !ok || k == cylinderGeneric {
			continue
		}
		ran++
		cylinderKernel = k
		var zero, positive int
		for _, p := range cands {
			for _, c := range cands {
				idx := make([]int32, c.n)
				for b := range idx {
					idx[b] = int32(b)
				}
				// One slot past the batch must stay untouched.
				out := make([]int32, 4*c.n+1)
				out[4*c.n] = -7
				for a := 0; a < p.n; a++ {
					cylinderCounts(p, a, c, idx, out)
					for b := 0; b < c.n; b++ {
						q := out[4*b : 4*b+4]
						// The counts of every pair, gated or not.
						var want [4]int32
						for w := 0; w < valueWords; w++ {
							m := p.masks[a*maskWords+w%maskWords] & c.masks[b*maskWords+w%maskWords]
							if w < maskWords {
								want[0] += int32(bits.OnesCount64(m))
							}
							x, y := p.values[a*valueWords+w]&m, c.values[b*valueWords+w]&m
							want[1] += int32(bits.OnesCount64(x))
							want[2] += int32(bits.OnesCount64(y))
							want[3] += int32(bits.OnesCount64(x ^ y))
						}
						if [4]int32(q) != want {
							t.Fatalf("%s: cylinders %d, %d: counts %v, want %v", cylinderNames[k], a, b, q, want)
						}
						// Past localSimilarity's gate (usability, direction) the
						// similarity is localSimilarity's and the masked formula's.
						if !p.usable[a] || !c.usable[b] || dirGap(p.dir[a], c.dir[b]) > cylinderMaxRotation {
							continue
						}
						got := similarityFromCounts(q[0], q[1], q[2], q[3])
						if ls, m := localSimilarity(p, a, c, b), localSimilarityMasked(p, a, c, b); ls != got || m != got {
							t.Fatalf("%s: cylinders %d, %d: %v, localSimilarity %v, masked formula %v", cylinderNames[k], a, b, got, ls, m)
						}
						if got > 0 {
							positive++
						} else {
							zero++
						}
					}
					if out[4*c.n] != -7 {
						t.Fatalf("%s: wrote past the batch", cylinderNames[k])
					}
				}
			}
		}
		if zero == 0 || positive == 0 {
			t.Errorf("%s: %d zero and %d positive similarities: both cases needed", cylinderNames[k], zero, positive)
		}
	}
	t.Logf("%d kernels checked (Compare uses %s)", ran, CylinderKernel())
}

// TestWithinRotation checks that the direction-sorted runs give exactly the
// usable candidate minutiae a full scan with dirGap passes, for probe
// directions at every minutia's own direction, at the gate's edges (a
// candidate direction ± cylinderMaxRotation), at 0 and just below 2π.
func TestWithinRotation(t *testing.T) {
	cands := shortcutCandidates(t)
	for ci, c := range cands {
		dirs := []float64{0, math.Nextafter(2*math.Pi, 0), math.Pi}
		for _, d := range c.dir {
			for _, e := range []float64{0, cylinderMaxRotation, -cylinderMaxRotation} {
				v := d + e
				for _, w := range []float64{v, math.Nextafter(v, 10), math.Nextafter(v, -10)} {
					if w >= 0 && w < 2*math.Pi {
						dirs = append(dirs, w)
					}
				}
			}
		}
		for _, dir := range dirs {
			var want []int32
			for b := range c.n {
				if c.usable[b] && dirGap(dir, c.dir[b]) <= cylinderMaxRotation {
					want = append(want, int32(b))
				}
			}
			got := c.withinRotation(dir, nil)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("print %d, direction %v: got %v, want %v", ci, dir, got, want)
			}
		}
	}
}
