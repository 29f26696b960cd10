package finger

import (
	"math"
	"slices"
)

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
		// The candidate's area count only lowers the score, whose
		// denominator is at least max(inA, alignMinCount)·alignMinCount: a
		// hypothesis that cannot beat the best even so needs no counting.
		inA := s.inA
		if matched*matched/(float64(max(inA, alignMinCount))*alignMinCount) <= best {
			continue
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
// minutia's match (or -1) in s.match and the count of mapped probe minutiae
// inside the candidate's area in s.inA, and returns the matches' weight.
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
	sx := c.sortedX
	matched := 0.0
	inA := 0
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
		if c.area.contains(x, y) {
			inA++
		}
		bestK, bestD2 := -1, math.Inf(1)
		// Distortion grows with the distance from the reference pair.
		tol := alignDistance + alignDistortion*float64(dist[i])
		if y < c.minY-tol || y > c.maxY+tol || x < minX-tol || x > maxX+tol {
			match[i] = -1 // no candidate minutia within tol in y or x
			continue
		}
		// The grid cells the square of side 2·tol around (x, y) touches
		// hold every candidate minutia within tol; the nearest that agrees
		// in direction wins, the first in byX order on a tie, as a scan of
		// the minutiae sorted by x would choose.
		g := &c.grid
		tol2 := tol * tol
		c0 := max(floorInt((x-tol-g.x0)/gridCell-gridSlack), 0)
		c1 := min(floorInt((x+tol-g.x0)/gridCell+gridSlack), g.w-1)
		r0 := max(floorInt((y-tol-g.y0)/gridCell-gridSlack), 0)
		r1 := min(floorInt((y+tol-g.y0)/gridCell+gridSlack), g.h-1)
		for r := r0; r <= r1; r++ {
			lo, hi := g.start[r*g.w+c0], g.start[r*g.w+c1+1]
			for q := lo; q < hi; q++ {
				dx, dy := x-g.x[q], y-g.y[q]
				d2 := dx*dx + dy*dy
				if d2 >= tol2 {
					continue
				}
				k := int(g.k[q])
				if used[k] || d2 > bestD2 || (d2 == bestD2 && k > bestK) || angleDiff(d, g.dir[q]) >= alignAngle {
					continue
				}
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
	s.inA = inA
	return matched
}

// gridCell is the side in pixels of the cells of Candidate.grid, and
// gridSlack the fraction of a cell by which a search widens its range of
// cells, so that rounding never leaves out a minutia within the tolerance.
const (
	gridCell  = 16
	gridSlack = 1e-6
)

// minutiaGrid buckets a template's minutiae into square cells, row by row,
// for the alignment's nearest-mate search: the minutiae of the cells c0..c1
// of row r are the positions start[r·w+c0] to start[r·w+c1+1] of k (each
// minutia's position in byX) and of x, y and dir.
type minutiaGrid struct {
	x0, y0    float64
	w, h      int
	start     []int32
	k         []int32
	x, y, dir []float64
}

// newMinutiaGrid builds the grid of c's minutiae from byX order, so that
// each cell lists its minutiae by increasing position in byX.
func newMinutiaGrid(c *Candidate) minutiaGrid {
	g := minutiaGrid{}
	if c.n == 0 {
		g.w, g.h, g.start = 1, 1, make([]int32, 2)
		return g
	}
	g.x0, g.y0 = c.sortedX[0], c.minY
	g.w = floorInt((c.sortedX[c.n-1]-g.x0)/gridCell) + 1
	g.h = floorInt((c.maxY-g.y0)/gridCell) + 1
	cell := make([]int, c.n)
	count := make([]int32, g.w*g.h+1)
	for k := range c.n {
		cx := floorInt((c.sortedX[k] - g.x0) / gridCell)
		cy := floorInt((c.sortedY[k] - g.y0) / gridCell)
		cell[k] = cy*g.w + cx
		count[cell[k]+1]++
	}
	for i := 1; i < len(count); i++ {
		count[i] += count[i-1]
	}
	g.start = count
	next := slices.Clone(count[:len(count)-1])
	g.k = make([]int32, c.n)
	g.x, g.y, g.dir = make([]float64, c.n), make([]float64, c.n), make([]float64, c.n)
	for k := range c.n {
		q := next[cell[k]]
		next[cell[k]]++
		g.k[q] = int32(k)
		g.x[q], g.y[q], g.dir[q] = c.sortedX[k], c.sortedY[k], c.sortedDir[k]
	}
	return g
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
	// inA is the count of the last alignment's mapped probe minutiae
	// inside the candidate's area.
	inA     int
	taken   []int
	relaxed []float64
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
