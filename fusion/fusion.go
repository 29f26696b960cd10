// Package fusion turns each engine's raw comparison scores into calibrated
// log-likelihood ratios (LLR) and fuses them over the fingers, eyes and face
// that both sides of a comparison have.
//
// A calibration is fitted from genuine and impostor scores measured on dev
// data: a histogram of each distribution over common bins, smoothed, the
// log of their ratio made non-decreasing by pool-adjacent-violators, then
// interpolated linearly between bin centres. Where the data run out, the
// LLR is held at what the data can support: never above ln(impostors+1)
// for high scores, never below -ln(genuine+1) for low ones.
//
// Thresholds are set as false match rates. For a calibrated likelihood
// ratio, P(LR ≥ T | impostor) ≤ 1/T, so a fused LLR of ln(1/FMR) bounds the
// false match rate by FMR whatever the number of modalities fused; the
// measured FMR is reported beside it by the eval command.
package fusion

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
)

// Calibration maps one engine's raw similarity score to an LLR.
type Calibration struct {
	Name   string    `json:"name"`   // engine and version it was fitted for
	Scores []float64 `json:"scores"` // knots, ascending
	LLRs   []float64 `json:"llrs"`   // LLR at each knot, non-decreasing
}

// LLR returns the calibrated log-likelihood ratio of a raw score.
func (c *Calibration) LLR(score float64) float64 {
	n := len(c.Scores)
	switch {
	case n == 0:
		return 0
	case score <= c.Scores[0]:
		return c.LLRs[0]
	case score >= c.Scores[n-1]:
		return c.LLRs[n-1]
	}
	i := sort.SearchFloat64s(c.Scores, score) // c.Scores[i-1] < score <= c.Scores[i]
	x0, x1 := c.Scores[i-1], c.Scores[i]
	t := (score - x0) / (x1 - x0)
	return c.LLRs[i-1] + t*(c.LLRs[i]-c.LLRs[i-1])
}

// ErrTooFewScores is returned by Fit without enough data to calibrate.
var ErrTooFewScores = errors.New("fusion: too few scores to calibrate")

// Fit returns the calibration of a score distribution pair over bins bins.
func Fit(name string, genuine, impostor []float64, bins int) (*Calibration, error) {
	if len(genuine) < 10 || len(impostor) < 10 || bins < 4 {
		return nil, ErrTooFewScores
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range append(append([]float64(nil), genuine...), impostor...) {
		if math.IsInf(s, 0) || math.IsNaN(s) {
			continue // failed extractions carry no score to calibrate
		}
		lo, hi = math.Min(lo, s), math.Max(hi, s)
	}
	if !(hi > lo) {
		return nil, fmt.Errorf("fusion: %s: all scores equal", name)
	}
	width := (hi - lo) / float64(bins)
	gh := histogram(genuine, lo, width, bins)
	ih := histogram(impostor, lo, width, bins)
	smooth(gh)
	smooth(ih)
	// Densities with an add-half prior: a bin neither set reached says
	// nothing, one only genuines reached says at most ln(n_imp).
	ng, ni := float64(len(genuine)), float64(len(impostor))
	llr := make([]float64, bins)
	weight := make([]float64, bins)
	for i := range llr {
		pg := (gh[i] + 0.5) / (ng + 0.5*float64(bins))
		pi := (ih[i] + 0.5) / (ni + 0.5*float64(bins))
		llr[i] = math.Log(pg / pi)
		weight[i] = gh[i] + ih[i] + 1
	}
	llr = pav(llr, weight)
	maxLLR, minLLR := math.Log(ni+1), -math.Log(ng+1)
	c := &Calibration{Name: name}
	for i := range llr {
		c.Scores = append(c.Scores, lo+(float64(i)+0.5)*width)
		c.LLRs = append(c.LLRs, math.Max(minLLR, math.Min(maxLLR, llr[i])))
	}
	return c, nil
}

func histogram(scores []float64, lo, width float64, bins int) []float64 {
	h := make([]float64, bins)
	for _, s := range scores {
		if math.IsInf(s, 0) || math.IsNaN(s) {
			continue
		}
		i := int((s - lo) / width)
		h[max(0, min(bins-1, i))]++
	}
	return h
}

// smooth applies a [1 2 1]/4 kernel, keeping the total.
func smooth(h []float64) {
	if len(h) < 3 {
		return
	}
	prev := h[0]
	out := make([]float64, len(h))
	for i := range h {
		next := h[min(len(h)-1, i+1)]
		out[i] = (prev + 2*h[i] + next) / 4
		prev = h[i]
	}
	copy(h, out)
}

// pav returns the weighted non-decreasing least-squares fit of y
// (pool-adjacent-violators).
func pav(y, w []float64) []float64 {
	type block struct {
		sum, weight float64
		n           int
	}
	var blocks []block
	for i := range y {
		blocks = append(blocks, block{y[i] * w[i], w[i], 1})
		for len(blocks) > 1 {
			a, b := blocks[len(blocks)-2], blocks[len(blocks)-1]
			if a.sum/a.weight <= b.sum/b.weight {
				break
			}
			blocks = blocks[:len(blocks)-2]
			blocks = append(blocks, block{a.sum + b.sum, a.weight + b.weight, a.n + b.n})
		}
	}
	out := make([]float64, 0, len(y))
	for _, b := range blocks {
		for j := 0; j < b.n; j++ {
			out = append(out, b.sum/b.weight)
		}
	}
	return out
}

// LLRForFMR returns the fused LLR threshold whose false match rate is at
// most fmr for calibrated likelihood ratios: ln(1/fmr).
func LLRForFMR(fmr float64) float64 { return -math.Log(fmr) }

// FMRBound returns the bound on the false match rate of a fused LLR.
func FMRBound(llr float64) float64 { return math.Min(1, math.Exp(-llr)) }

// Set holds one calibration per engine, by name (for example "finger",
// "iris", "face").
type Set map[string]*Calibration

// ParseSet reads a calibration set from its JSON form.
func ParseSet(data []byte) (Set, error) {
	var s Set
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("fusion: parse calibrations: %w", err)
	}
	for name, c := range s {
		if len(c.Scores) != len(c.LLRs) || len(c.Scores) == 0 || !sort.Float64sAreSorted(c.Scores) {
			return nil, fmt.Errorf("fusion: calibration %q is malformed", name)
		}
	}
	return s, nil
}
