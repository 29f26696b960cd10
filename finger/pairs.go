package finger

import "math"

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
// the pairs the relaxation took that also agree with the best alignment
// (the probe rotated and translated onto the candidate, as the score's
// global consolidation does), most efficient first. Pairs taken by chance
// (impostors) rarely agree with one alignment, so they seldom show.
func ComparePairs(probe, cand *Candidate) (float64, []MinutiaPair) {
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	score := s.compare(probe, cand)
	if s.hypothesis < 0 || len(s.taken) == 0 {
		return score, nil
	}
	p, c := probe, cand
	h := s.pairs[s.hypothesis]
	rot := c.dir[h.b] - p.dir[h.a]
	cos, sin := math.Cos(rot), math.Sin(rot)
	var out []MinutiaPair
	for _, i := range s.taken {
		a, b := s.pairs[i].a, s.pairs[i].b
		dx, dy := p.x[a]-p.x[h.a], p.y[a]-p.y[h.a]
		x := c.x[h.b] + cos*dx - sin*dy
		y := c.y[h.b] + sin*dx + cos*dy
		tol := alignDistance + alignDistortion*float64(p.dist[h.a*p.n+a])
		if math.Hypot(x-c.x[b], y-c.y[b]) < tol && angleDiff(p.dir[a]+rot, c.dir[b]) < alignAngle {
			out = append(out, MinutiaPair{Probe: a, Candidate: b, Strength: s.relaxed[i]})
		}
	}
	return score, out
}
