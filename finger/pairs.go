package finger

// MinutiaPair is one correspondence behind a comparison score: a minutia of
// the probe's template, its mate in the candidate's (indices into each
// template's Minutiae), and the pair's relaxed similarity, 0 to 1: how well
// its neighbourhoods agree and how well it fits the other pairs.
type MinutiaPair struct {
	Probe, Candidate int
	Strength         float64
}

// ComparePairs scores probe against candidate exactly as Compare does and
// returns the paired minutiae the score rests on, for an examiner to see:
// the pairs the relaxation took that the best alignment (the probe rotated
// and translated onto the candidate, as the score's global consolidation
// does) paired too, one to one, most efficient first. Both consolidations
// must agree on a pair: within the alignment's tolerance a lattice of
// parallel ridge endings (a pored or broken stretch of ridges) lets a
// chance pair sit near the alignment while the alignment pairs its probe
// minutia with a nearer one, so tolerance alone shows chance pairs.
func ComparePairs(probe, cand *Candidate) (float64, []MinutiaPair) {
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	score := s.compare(probe, cand)
	if s.hypothesis < 0 || len(s.taken) == 0 {
		return score, nil
	}
	// The one-to-one pairing the alignment score counted: a pair is shown
	// only when the alignment paired the same two minutiae.
	alignedMatches(probe, cand, s.pairs[s.hypothesis], s)
	var out []MinutiaPair
	for _, i := range s.taken {
		a, b := s.pairs[i].a, s.pairs[i].b
		if s.match[a] == b {
			out = append(out, MinutiaPair{Probe: a, Candidate: b, Strength: s.relaxed[i]})
		}
	}
	return score, out
}
