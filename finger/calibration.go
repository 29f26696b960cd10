package finger

import "math"

// fmrThresholds maps target false match rates to Compare score thresholds,
// measured on the all-pairs impostor comparisons of FVC2002 DB1–DB4 B
// (11,520 scores; the command and date are in BENCHMARKS.md): each
// threshold is their (1 − fmr) quantile, linearly interpolated. Rates below
// 1e-3 are extrapolated and need a larger impostor set to confirm.
var fmrThresholds = []struct{ fmr, score float64 }{
	{1e-1, 0.0428},
	{1e-2, 0.0560},
	{3e-3, 0.0611},
	{1e-3, 0.0653},
}

// ThresholdForFMR returns the Compare score above which a comparison is a
// match for the target false match rate, interpolating the measured table
// on a logarithmic scale (and extrapolating linearly in log FMR beyond it).
func ThresholdForFMR(fmr float64) float64 {
	t := fmrThresholds
	if fmr >= t[0].fmr {
		return t[0].score
	}
	lf := math.Log10(fmr)
	for i := 1; i < len(t); i++ {
		if fmr >= t[i].fmr || i == len(t)-1 {
			a, b := t[i-1], t[i]
			u := (lf - math.Log10(a.fmr)) / (math.Log10(b.fmr) - math.Log10(a.fmr))
			return a.score + u*(b.score-a.score)
		}
	}
	return t[len(t)-1].score
}
