package fusion

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Part is one modality of a fused comparison: its calibration, held-out
// genuine and impostor scores, and how many independent comparisons of it
// a person contributes (ten fingers, two eyes, one face).
type Part struct {
	Calibration *Calibration
	Genuine     []float64
	Impostor    []float64
	Count       int
}

// ChimericResult is the accuracy of a fusion measured on chimeric pairs.
type ChimericResult struct {
	Threshold    float64 `json:"threshold_llr"`        // ln(1/target)
	FNMR         float64 `json:"fnmr"`                 // at the threshold
	FMR          float64 `json:"fmr"`                  // measured at the threshold
	FNMRMeasured float64 `json:"fnmr_at_measured_fmr"` // at the lowest threshold whose measured FMR ≤ target
	// Measurable says whether the parts' impostor pools hold enough
	// distinct combinations (at least 1/target) for FNMRMeasured to mean
	// anything; otherwise only the LLR threshold's figure does.
	Measurable bool `json:"measurable"`
	Genuine    int  `json:"genuine"`
	Impostor   int  `json:"impostor"`
}

// Chimeric measures a fusion on chimeric people: each genuine pair sums the
// LLRs of independently drawn genuine scores of every part, each impostor
// pair of impostor scores. Modalities of different datasets are independent,
// so this is the standard way to evaluate multimodal fusion without a
// multimodal dataset; fingers of one hand are less independent than this
// assumes, which makes the ten-finger figure optimistic.
func Chimeric(rng *rand.Rand, parts []Part, genuine, impostor int, target float64) ChimericResult {
	draw := func(pick func(p Part) []float64) float64 {
		sum := 0.0
		for _, p := range parts {
			scores := pick(p)
			for i := 0; i < p.Count; i++ {
				sum += p.Calibration.LLR(scores[rng.IntN(len(scores))])
			}
		}
		return sum
	}
	r := ChimericResult{Threshold: LLRForFMR(target), Genuine: genuine, Impostor: impostor}
	combinations := 1.0
	for _, p := range parts {
		combinations *= math.Pow(float64(len(p.Impostor)), float64(p.Count))
	}
	r.Measurable = combinations*target >= 1 && float64(impostor)*target >= 10
	gen := make([]float64, genuine)
	for i := range gen {
		gen[i] = draw(func(p Part) []float64 { return p.Genuine })
	}
	imp := make([]float64, impostor)
	for i := range imp {
		imp[i] = draw(func(p Part) []float64 { return p.Impostor })
	}
	sort.Float64s(gen)
	sort.Float64s(imp)
	below := sort.SearchFloat64s(gen, r.Threshold)
	r.FNMR = float64(below) / float64(len(gen))
	r.FMR = float64(len(imp)-sort.SearchFloat64s(imp, r.Threshold)) / float64(len(imp))
	// Empirical: the smallest threshold t with at most target·n impostors ≥ t.
	allowed := int(math.Floor(target * float64(len(imp))))
	t := math.Nextafter(imp[len(imp)-1-allowed], math.Inf(1))
	if allowed >= len(imp) {
		t = math.Inf(-1)
	}
	r.FNMRMeasured = float64(sort.SearchFloat64s(gen, t)) / float64(len(gen))
	return r
}

// Split divides scores into two halves by alternation, one to fit a
// calibration on and one to measure it on.
func Split(scores []float64) (fit, test []float64) {
	for i, s := range scores {
		if i%2 == 0 {
			fit = append(fit, s)
		} else {
			test = append(test, s)
		}
	}
	return fit, test
}
