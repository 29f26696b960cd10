package finger

import (
	"math/rand/v2"
	"slices"
)

// PenetrationPoint is the share of genuine mates a pre-selection misses when
// it keeps only the best-scoring Penetration share of the gallery.
type PenetrationPoint struct {
	Penetration float64
	Missed      float64
}

// Preselection is how well a similarity ranks the genuine mates of one
// evaluation set above the rest.
type Preselection struct {
	// Finger: every ordered pair of impressions of one finger (probe, mate)
	// against a gallery of the images of every other finger of the set.
	Finger []PenetrationPoint
	// Subject: chimeric ten-finger people, each position a different finger
	// of the set; a subject's score is the sum of its ten fingers'.
	Subject []PenetrationPoint
	// AnyFinger: the same people, found when the mate of at least one of
	// their fingers is in that finger's own shortlist (a gallery that
	// shortlists each finger position apart, then fills in the others).
	AnyFinger []PenetrationPoint
	// Pairs and Subjects count the genuine comparisons behind each curve.
	Pairs, Subjects int
}

// EvaluatePreselection measures the penetration-rate curve of a similarity
// given as a matrix over samples (sim[i][j], higher is more alike) whose
// fingers are named by finger[i]. subjects chimeric probe people are each
// ranked against impostors chimeric impostor people drawn with the seed.
func EvaluatePreselection(sim [][]float64, finger []string, rates []float64, subjects, impostors int, seed uint64) *Preselection {
	n := len(finger)
	byFinger := map[string][]int{}
	var names []string
	for i, f := range finger {
		if byFinger[f] == nil {
			names = append(names, f)
		}
		byFinger[f] = append(byFinger[f], i)
	}
	slices.Sort(names)
	// The share of impostor gallery entries scoring at least the mate.
	penetration := func(a, b int) float64 {
		above, total := 0, 0
		for j := 0; j < n; j++ {
			if finger[j] == finger[a] {
				continue
			}
			total++
			if sim[a][j] >= sim[a][b] {
				above++
			}
		}
		if total == 0 {
			return 0
		}
		return float64(above) / float64(total)
	}
	var fingerPen []float64
	for a := 0; a < n; a++ {
		for _, b := range byFinger[finger[a]] {
			if b != a {
				fingerPen = append(fingerPen, penetration(a, b))
			}
		}
	}
	r := &Preselection{Pairs: len(fingerPen), Finger: curve(fingerPen, rates)}
	if len(names) < 2 || subjects <= 0 || impostors <= 0 {
		return r
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	positions := min(10, len(names))
	var subjectPen, anyPen []float64
	for s := 0; s < subjects; s++ {
		perm := rng.Perm(len(names))[:positions]
		probe := make([]int, positions)
		genuine, best := 0.0, 1.0
		for p, f := range perm {
			imps := byFinger[names[f]]
			if len(imps) < 2 {
				continue
			}
			a := imps[rng.IntN(len(imps))]
			b := a
			for b == a {
				b = imps[rng.IntN(len(imps))]
			}
			probe[p] = a
			genuine += sim[a][b]
			best = min(best, penetration(a, b))
		}
		above := 0
		for k := 0; k < impostors; k++ {
			sum := 0.0
			for _, a := range probe {
				j := rng.IntN(n)
				for finger[j] == finger[a] {
					j = rng.IntN(n)
				}
				sum += sim[a][j]
			}
			if sum >= genuine {
				above++
			}
		}
		subjectPen = append(subjectPen, float64(above)/float64(impostors))
		anyPen = append(anyPen, best)
	}
	r.Subjects = subjects
	r.Subject = curve(subjectPen, rates)
	r.AnyFinger = curve(anyPen, rates)
	return r
}

// curve turns the penetration each genuine mate needs into the share missed
// at each rate.
func curve(needed []float64, rates []float64) []PenetrationPoint {
	out := make([]PenetrationPoint, len(rates))
	for i, p := range rates {
		missed := 0
		for _, v := range needed {
			if v > p {
				missed++
			}
		}
		out[i] = PenetrationPoint{Penetration: p}
		if len(needed) > 0 {
			out[i].Missed = float64(missed) / float64(len(needed))
		}
	}
	return out
}
