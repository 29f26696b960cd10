// Package evaluation computes the biometric error rates that every engine's
// eval command reports, with the definitions of ../shared/datasets/README.md:
// EER as in FVC (Maio et al.), FNMR at a fixed FMR, and DET curves.
//
// All scores are similarities: higher means more alike and a comparison is
// accepted when score >= threshold. Engines whose natural score is a distance
// (iris Hamming distance) negate it before calling this package. A failed
// extraction must be represented by a score lower than every real score
// (math.Inf(-1) is fine): it counts as a non-match.
package evaluation

import (
	"math"
	"sort"
)

// Scores holds the genuine (mated) and impostor (non-mated) comparison scores
// of an evaluation.
type Scores struct {
	Genuine  []float64
	Impostor []float64
}

// rates returns FNMR(t) and FMR(t) for acceptance at score >= t.
func rates(gen, imp []float64, t float64) (fnmr, fmr float64) {
	// gen and imp are sorted ascending.
	rejected := sort.SearchFloat64s(gen, t)            // genuine scores < t
	accepted := len(imp) - sort.SearchFloat64s(imp, t) // impostor scores >= t
	return float64(rejected) / float64(len(gen)), float64(accepted) / float64(len(imp))
}

// thresholds returns every distinct score plus one threshold above all of
// them, in ascending order: the only thresholds at which the rates change.
func thresholds(gen, imp []float64) []float64 {
	all := make([]float64, 0, len(gen)+len(imp)+1)
	all = append(all, gen...)
	all = append(all, imp...)
	sort.Float64s(all)
	out := all[:0]
	for i, v := range all {
		if i == 0 || v != all[i-1] {
			out = append(out, v)
		}
	}
	return append(out, math.Inf(1))
}

func sorted(s []float64) []float64 {
	c := append([]float64(nil), s...)
	sort.Float64s(c)
	return c
}

// EER returns the equal error rate as FVC defines it (Maio et al. 2002):
// t1 is the largest threshold with FNMR(t1) <= FMR(t1) and t2 the smallest
// with FNMR(t2) >= FMR(t2); the EER interval is [FNMR(t1), FMR(t1)] when
// FNMR(t1)+FMR(t1) <= FNMR(t2)+FMR(t2), else [FMR(t2), FNMR(t2)], and the
// EER is its midpoint. It returns NaN when either set is empty.
func (s Scores) EER() float64 {
	if len(s.Genuine) == 0 || len(s.Impostor) == 0 {
		return math.NaN()
	}
	gen, imp := sorted(s.Genuine), sorted(s.Impostor)
	// FNMR never falls and FMR never rises as t grows, so t1 is the last
	// threshold with FNMR <= FMR and t2 the first with FNMR >= FMR.
	var fnmr1, fmr1, fnmr2, fmr2 float64
	have2 := false
	for _, t := range thresholds(gen, imp) {
		fnmr, fmr := rates(gen, imp, t)
		if fnmr <= fmr {
			fnmr1, fmr1 = fnmr, fmr
		}
		if fnmr >= fmr && !have2 {
			fnmr2, fmr2, have2 = fnmr, fmr, true
		}
	}
	if fnmr1+fmr1 <= fnmr2+fmr2 {
		return (fnmr1 + fmr1) / 2
	}
	return (fmr2 + fnmr2) / 2
}

// FNMRAtFMR returns the smallest FNMR over the thresholds whose FMR is at
// most target.
func (s Scores) FNMRAtFMR(target float64) float64 {
	if len(s.Genuine) == 0 || len(s.Impostor) == 0 {
		return math.NaN()
	}
	gen, imp := sorted(s.Genuine), sorted(s.Impostor)
	best := 1.0
	for _, t := range thresholds(gen, imp) {
		fnmr, fmr := rates(gen, imp, t)
		if fmr <= target && fnmr < best {
			best = fnmr
		}
	}
	return best
}

// ThresholdAtFMR returns the lowest threshold whose FMR on the impostor scores
// is at most target: the operating point to configure for that target.
func (s Scores) ThresholdAtFMR(target float64) float64 {
	gen, imp := sorted(s.Genuine), sorted(s.Impostor)
	for _, t := range thresholds(gen, imp) {
		if _, fmr := rates(gen, imp, t); fmr <= target {
			return t
		}
	}
	return math.Inf(1)
}

// Point is one operating point of a DET curve.
type Point struct {
	Threshold, FMR, FNMR float64
}

// DET returns the operating points at every distinct threshold, from the most
// permissive to the strictest.
func (s Scores) DET() []Point {
	gen, imp := sorted(s.Genuine), sorted(s.Impostor)
	ts := thresholds(gen, imp)
	pts := make([]Point, 0, len(ts))
	for _, t := range ts {
		fnmr, fmr := rates(gen, imp, t)
		pts = append(pts, Point{Threshold: t, FMR: fmr, FNMR: fnmr})
	}
	return pts
}
