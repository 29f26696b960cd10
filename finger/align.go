package finger

import "math"

// alignedScore tries the best local pairs as alignment hypotheses: the probe
// is rotated and translated onto the candidate so the pair coincides, and the
// minutiae that then agree in position and direction are paired one to one.
// The score is the squared count of paired minutiae over the product of the
// minutiae counts inside the common area.
func alignedScore(p, c *Candidate, pairs []pair, hypotheses int, s *scratch) float64 {
	best := 0.0
	tried := 0
	for _, h := range pairs {
		if tried == hypotheses {
			break
		}
		tried++
		rot := c.dir[h.b] - p.dir[h.a]
		sin, cos := math.Sincos(rot)
		matched := alignedMatchesRot(p, c, h, rot, cos, sin, s)
		// The area counts only lower the score, whose denominator is at
		// least alignMinCount²: a hypothesis that cannot beat the best even
		// so needs no counting.
		if matched*matched/(alignMinCount*alignMinCount) <= best {
			continue
		}
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

// alignedMatches rotates and translates the probe onto the candidate so that
// the hypothesis pair coincides and pairs each probe minutia, one to one, with
// the nearest candidate minutia that agrees in position and direction. It
// leaves the mapped probe minutiae in s.tx, s.ty, s.td and each probe
// minutia's match (or -1) in s.match, and returns the matches' weight.
func alignedMatches(p, c *Candidate, h pair, s *scratch) float64 {
	rot := c.dir[h.b] - p.dir[h.a]
	sin, cos := math.Sincos(rot)
	return alignedMatchesRot(p, c, h, rot, cos, sin, s)
}

// alignedMatchesRot is alignedMatches with the rotation's angle, cosine and
// sine given.
func alignedMatchesRot(p, c *Candidate, h pair, rot, cos, sin float64, s *scratch) float64 {
	tx := grow(&s.tx, p.n)
	ty := grow(&s.ty, p.n)
	td := grow(&s.td, p.n)
	// used is indexed by position in byX.
	used := growBool(&s.used, c.n)
	match := growInt(&s.match, p.n)
	dist := p.dist[h.a*p.n : (h.a+1)*p.n]
	ax, ay, bx, by := p.x[h.a], p.y[h.a], c.x[h.b], c.y[h.b]
	sx, sy, sd := c.sortedX, c.sortedY, c.sortedDir
	matched := 0.0
	minX, maxX := math.Inf(1), math.Inf(-1)
	if len(sx) > 0 {
		minX, maxX = sx[0], sx[len(sx)-1]
	}
	for i := 0; i < p.n; i++ {
		dx, dy := p.x[i]-ax, p.y[i]-ay
		x := bx + cos*dx - sin*dy
		y := by + sin*dx + cos*dy
		d := p.dir[i] + rot
		tx[i], ty[i], td[i] = x, y, d
		bestK, bestD2 := -1, math.Inf(1)
		// Distortion grows with the distance from the reference pair.
		tol := alignDistance + alignDistortion*float64(dist[i])
		// Candidates sorted by x: scan the window [x-tol, x+tol].
		if y < c.minY-tol || y > c.maxY+tol || x < minX-tol || x > maxX+tol {
			match[i] = -1 // no candidate minutia within tol in y or x
			continue
		}
		for k := c.firstAtLeast(x - tol); k < len(sx); k++ {
			dx := x - sx[k]
			if dx < -tol {
				break
			}
			dy := y - sy[k]
			if used[k] || dy > tol || dy < -tol {
				continue
			}
			d2 := dx*dx + dy*dy
			if d2 < tol*tol && d2 < bestD2 && angleDiff(d, sd[k]) < alignAngle {
				bestK, bestD2 = k, d2
			}
		}
		if bestK < 0 {
			match[i] = -1
			continue
		}
		match[i] = c.byX[bestK]
		used[bestK] = true
		matched += 1 - 0.5*math.Sqrt(bestD2)/tol
	}
	return matched
}

// xBucket is the width in pixels of the buckets of Candidate.xStart.
const xBucket = 8

// firstAtLeast returns the first position in byX whose minutia's x is at
// least v: the bucket of v gives a start, at most a bucket's minutiae from it.
func (c *Candidate) firstAtLeast(v float64) int {
	if c.n == 0 || v <= c.sortedX[0] {
		return 0
	}
	b := int((v - c.sortedX[0]) / xBucket)
	if b >= len(c.xStart) {
		return c.n
	}
	k := int(c.xStart[b])
	for k < c.n && c.sortedX[k] < v {
		k++
	}
	return k
}

// scratch holds the per-comparison buffers, reused through a pool so that a
// gallery scan does not allocate.
type scratch struct {
	pairs        []pair
	tx, ty, td   []float64
	lam, next    []float64
	eff          []float64
	rowLen       []int32
	cols         []int32
	vals         []float64
	visited      []bool
	used         []bool
	match        []int
	idx, counts  []int32
	order        []int
	usedA, usedB []bool
	// What the last comparison leaves for ComparePairs: the index in pairs
	// of the best alignment hypothesis (-1 for none), and the indices of
	// the pairs the relaxation took with their relaxed similarities.
	hypothesis int
	taken      []int
	relaxed    []float64
}

func grow(b *[]float64, n int) []float64 {
	if cap(*b) < n {
		*b = make([]float64, n)
	}
	*b = (*b)[:n]
	return *b
}

func growInt(b *[]int, n int) []int {
	if cap(*b) < n {
		*b = make([]int, n)
	}
	*b = (*b)[:n]
	return *b
}

func growBool(b *[]bool, n int) []bool {
	if cap(*b) < n {
		*b = make([]bool, n)
	}
	*b = (*b)[:n]
	clear(*b)
	return *b
}

func growInt32(b *[]int32, n int) []int32 {
	if cap(*b) < n {
		*b = make([]int32, n)
	}
	*b = (*b)[:n]
	return *b
}
