package finger

import (
	"cmp"
	"math"
	"slices"
	"testing"
)

// compareReference is Compare as MCC defines it, without the shortcuts of
// the comparator: every local similarity by the masked formula, the dense
// relaxation, and every alignment hypothesis counted in full.
func compareReference(probe, cand *Candidate) float64 {
	s := new(scratch)
	na, nb := probe.n, cand.n
	if na == 0 || nb == 0 {
		return 0
	}
	var pairs []pair
	for a := 0; a < na; a++ {
		for b := 0; b < nb; b++ {
			if sim := localSimilarityMasked(probe, a, cand, b); sim > 0 {
				pairs = append(pairs, pair{a, b, sim})
			}
		}
	}
	minN := min(na, nb)
	nP := relaxMinPairs + int(math.Round(sigmoid(float64(minN), relaxPairsMu, relaxPairsTau)*(relaxMaxPairs-relaxMinPairs)))
	nR := min(minN, len(pairs))
	if nR == 0 {
		return 0
	}
	slices.SortFunc(pairs, byDecreasingSimilarity)
	pairs = pairs[:max(nR, min(alignHypotheses, len(pairs)))]
	aligned := alignedScoreReference(probe, cand, pairs, alignHypotheses, s)
	return math.Sqrt(aligned * relaxedScoreReference(probe, cand, pairs[:nR], nP, s))
}

func alignedScoreReference(p, c *Candidate, pairs []pair, hypotheses int, s *scratch) float64 {
	best := 0.0
	tried := 0
	for _, h := range pairs {
		if tried == hypotheses {
			break
		}
		tried++
		rot := c.dir[h.b] - p.dir[h.a]
		cos, sin := math.Cos(rot), math.Sin(rot)
		matched := alignedMatchesReference(p, c, h, s)
		tx, ty := s.tx, s.ty
		// Minutiae of each side inside the other's area.
		inA := 0
		for i := 0; i < p.n; i++ {
			if c.area.contains(tx[i], ty[i]) {
				inA++
			}
		}
		inB := 0
		// The candidate's minutiae mapped back into the probe's frame.
		for j := 0; j < c.n; j++ {
			dx, dy := c.x[j]-c.x[h.b], c.y[j]-c.y[h.b]
			x := p.x[h.a] + cos*dx + sin*dy
			y := p.y[h.a] - sin*dx + cos*dy
			if p.area.contains(x, y) {
				inB++
			}
		}
		den := float64(max(inA, alignMinCount)) * float64(max(inB, alignMinCount))
		if score := matched * matched / den; score > best {
			best, s.hypothesis = score, tried-1
		}
	}
	return best
}
func alignedMatchesReference(p, c *Candidate, h pair, s *scratch) float64 {
	tx := grow(&s.tx, p.n)
	ty := grow(&s.ty, p.n)
	td := grow(&s.td, p.n)
	used := growBool(&s.used, c.n)
	match := growInt(&s.match, p.n)
	rot := c.dir[h.b] - p.dir[h.a]
	cos, sin := math.Cos(rot), math.Sin(rot)
	for i := 0; i < p.n; i++ {
		dx, dy := p.x[i]-p.x[h.a], p.y[i]-p.y[h.a]
		tx[i] = c.x[h.b] + cos*dx - sin*dy
		ty[i] = c.y[h.b] + sin*dx + cos*dy
		td[i] = p.dir[i] + rot
	}
	matched := 0.0
	for i := 0; i < p.n; i++ {
		bestJ, bestD2 := -1, math.Inf(1)
		// Distortion grows with the distance from the reference pair.
		tol := alignDistance + alignDistortion*float64(p.dist[h.a*p.n+i])
		// Candidates sorted by x: scan the window [x-tol, x+tol].
		lo := c.n // no candidate minutia within tol in y: none to scan
		if ty[i] >= c.minY-tol && ty[i] <= c.maxY+tol {
			lo = c.firstAtLeast(tx[i] - tol)
		}
		for k := lo; k < c.n; k++ {
			j := c.byX[k]
			dx := tx[i] - c.sortedX[k]
			if dx < -tol {
				break
			}
			dy := ty[i] - c.y[j]
			if used[j] || dy > tol || dy < -tol {
				continue
			}
			d2 := dx*dx + dy*dy
			if d2 < tol*tol && d2 < bestD2 && angleDiff(td[i], c.dir[j]) < alignAngle {
				bestJ, bestD2 = j, d2
			}
		}
		match[i] = bestJ
		if bestJ >= 0 {
			used[bestJ] = true
			matched += 1 - 0.5*math.Sqrt(bestD2)/tol
		}
	}
	return matched
}

func relaxedScoreReference(p, c *Candidate, pairs []pair, nP int, s *scratch) float64 {
	n := len(pairs)
	rho := make([]float64, n*n)
	for i := 0; i < n; i++ {
		ai, bi := pairs[i].a, pairs[i].b
		for j := i + 1; j < n; j++ {
			aj, bj := pairs[j].a, pairs[j].b
			if ai == aj || bi == bj {
				continue
			}
			d1 := distanceGap(p.dist[ai*p.n+aj], c.dist[bi*c.n+bj])
			if d1 >= distanceSigmoid.limit {
				continue
			}
			d2 := angleDiff(p.dir[ai]-p.dir[aj], c.dir[bi]-c.dir[bj])
			ra := p.dir[ai] - float64(p.angle[ai*p.n+aj])
			rb := c.dir[bi] - float64(c.angle[bi*c.n+bj])
			d3 := angleDiff(ra, rb)
			r := distanceSigmoid.at(d1) * angleSigmoid.at(d2) * angleSigmoid.at(d3)
			rho[i*n+j], rho[j*n+i] = r, r
		}
	}
	lambda := grow(&s.lam, n)
	next := grow(&s.next, n)
	for i := range pairs {
		lambda[i] = pairs[i].sim
	}
	for it := 0; it < relaxIterations; it++ {
		for i := 0; i < n; i++ {
			var s float64
			row := rho[i*n : (i+1)*n]
			for j, r := range row {
				s += r * lambda[j]
			}
			den := float64(max(n-1, 1))
			next[i] = relaxWeight*lambda[i] + (1-relaxWeight)*s/den
		}
		lambda, next = next, lambda
	}
	if cap(s.order) < n {
		s.order = make([]int, n)
	}
	order := s.order[:n]
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int {
		return cmp.Or(cmp.Compare(lambda[y]/pairs[y].sim, lambda[x]/pairs[x].sim), cmp.Compare(x, y))
	})
	usedA, usedB := growBool(&s.usedA, p.n), growBool(&s.usedB, c.n)
	var sum float64
	taken := 0
	for _, i := range order {
		if taken == nP {
			break
		}
		if usedA[pairs[i].a] || usedB[pairs[i].b] {
			continue
		}
		usedA[pairs[i].a], usedB[pairs[i].b] = true, true
		sum += lambda[i]
		taken++
		s.taken = append(s.taken, i)
	}
	s.relaxed = lambda
	if taken == 0 {
		return 0
	}
	return sum / float64(nP)
}

// TestCompareReference checks that Compare, with every cylinder kernel this
// machine runs, gives compareReference's score bit for bit on every pair of
// real prints of FVC2002 DB1 and DB4 (mates and non-mates, both orders).
func TestCompareReference(t *testing.T) {
	cands := shortcutCandidates(t)
	saved := cylinderKernel
	defer func() { cylinderKernel = saved }()
	for k, ok := range cylinderRuns {
		if !ok {
			continue
		}
		cylinderKernel = k
		positive := 0
		for i, p := range cands {
			for j, c := range cands {
				got, want := Compare(p, c), compareReference(p, c)
				if got != want {
					t.Fatalf("%s: prints %d, %d: %v, reference %v", cylinderNames[k], i, j, got, want)
				}
				if got > 0 {
					positive++
				}
			}
		}
		if positive == 0 {
			t.Fatalf("%s: no positive score", cylinderNames[k])
		}
	}
}
