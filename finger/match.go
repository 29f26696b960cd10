package finger

import (
	"cmp"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sort"
	"sync"
)

// Cylinder geometry derived from the parameters.
const (
	cylinderCellCount = cylinderCells * cylinderCells
	maskWords         = (cylinderCellCount + 63) / 64
	valueWords        = maskWords * cylinderSections
	cellSize          = 2 * cylinderRadius / cylinderCells
	sectionSize       = 2 * math.Pi / cylinderSections
)

// cellRadius is the distance of each cell's centre from the cylinder's axis.
var cellRadius = func() (r [cylinderCellCount]float64) {
	for j := 0; j < cylinderCells; j++ {
		for k := 0; k < cylinderCells; k++ {
			lx := (float64(k) - (cylinderCells-1)/2.0) * cellSize
			ly := (float64(j) - (cylinderCells-1)/2.0) * cellSize
			r[j*cylinderCells+k] = math.Hypot(lx, ly)
		}
	}
	return r
}()

// circleCells is the count of cells whose centre lies inside the cylinder.
var circleCells = func() int {
	n := 0
	for j := 0; j < cylinderCells; j++ {
		for i := 0; i < cylinderCells; i++ {
			cx := (float64(i) - (cylinderCells-1)/2.0) * cellSize
			cy := (float64(j) - (cylinderCells-1)/2.0) * cellSize
			if math.Hypot(cx, cy) <= cylinderRadius {
				n++
			}
		}
	}
	return n
}()

// Candidate is the search-time form of a template, built once (Prepare) and
// compared many times: the bit-based minutia cylinder-code of every minutia.
type Candidate struct {
	n          int
	x, y, dir  []float64
	values     []uint64 // n × valueWords cylinder bits, section-major
	masks      []uint64 // n × maskWords valid cells
	validCells []int
	usable     []bool
	// full marks the cylinders whose every cell inside the circle is valid,
	// count holds each cylinder's set bits: localSimilarity's shortcuts.
	full  []bool
	count []int
	area  areaGrid
	byX   []int // minutiae indices sorted by x
	// sortedX is x in byX's order; xStart[k] is the first position in it
	// at or beyond sortedX[0] + k·xBucket.
	sortedX []float64
	xStart  []int32
	// sortedY and sortedDir are y and dir in byX's order.
	sortedY, sortedDir []float64
	// minY and maxY bound the minutiae's y.
	minY, maxY float64
	// byDir lists the usable minutiae by increasing direction, dirs holds
	// their directions: the pairs within cylinderMaxRotation of a probe
	// minutia's direction are one or two runs of it.
	byDir []int32
	dirs  []float64
	// grid buckets the minutiae for the alignment's nearest-mate search.
	grid minutiaGrid
	// dist and angle hold, for every ordered pair (i, j), the distance and
	// the direction atan2(yj−yi, xj−xi) from minutia i to j.
	dist, angle []float32
}

// Prepare builds the cylinders of a template for comparison.
func Prepare(t *Template) *Candidate {
	n := len(t.Minutiae)
	c := &Candidate{n: n, x: make([]float64, n), y: make([]float64, n), dir: make([]float64, n),
		values: make([]uint64, n*valueWords), masks: make([]uint64, n*maskWords),
		validCells: make([]int, n), usable: make([]bool, n), full: make([]bool, n), count: make([]int, n)}
	for i, m := range t.Minutiae {
		c.x[i], c.y[i], c.dir[i] = float64(m.X), float64(m.Y), normAngle(m.Direction)
	}
	hull := convexHull(c.x, c.y)
	c.area = newAreaGrid(hull, alignAreaMargin)
	c.byX = make([]int, n)
	for i := range c.byX {
		c.byX[i] = i
	}
	sort.Slice(c.byX, func(a, b int) bool { return c.x[c.byX[a]] < c.x[c.byX[b]] })
	c.sortedX, c.sortedY, c.sortedDir = make([]float64, n), make([]float64, n), make([]float64, n)
	for k, i := range c.byX {
		c.sortedX[k], c.sortedY[k], c.sortedDir[k] = c.x[i], c.y[i], c.dir[i]
	}
	c.minY, c.maxY = math.Inf(1), math.Inf(-1)
	for _, y := range c.y {
		c.minY, c.maxY = min(c.minY, y), max(c.maxY, y)
	}
	if n > 0 {
		c.xStart = make([]int32, int((c.sortedX[n-1]-c.sortedX[0])/xBucket)+1)
		k := 0
		for b := range c.xStart {
			for k < n && c.sortedX[k] < c.sortedX[0]+float64(b)*xBucket {
				k++
			}
			c.xStart[b] = int32(k)
		}
	}
	c.grid = newMinutiaGrid(c)
	prepareGeometry(c, hull)
	for i := range n {
		if c.usable[i] {
			c.byDir = append(c.byDir, int32(i))
		}
	}
	slices.SortStableFunc(c.byDir, func(i, j int32) int { return cmp.Compare(c.dir[i], c.dir[j]) })
	c.dirs = make([]float64, len(c.byDir))
	for k, i := range c.byDir {
		c.dirs[k] = c.dir[i]
	}
	return c
}

// withinRotation appends to idx the usable minutiae whose direction is
// within cylinderMaxRotation of dir (dirGap, the test localSimilarity
// makes), by increasing direction. The runs of dirs searched are a little
// wider than the gate, which each of their minutiae then passes or fails
// exactly as the full scan would.
func (c *Candidate) withinRotation(dir float64, idx []int32) []int32 {
	const margin = 1e-9
	lo, hi := dir-cylinderMaxRotation-margin, dir+cylinderMaxRotation+margin
	run := func(from, to float64) {
		k, _ := slices.BinarySearch(c.dirs, from)
		for ; k < len(c.dirs) && c.dirs[k] <= to; k++ {
			if dirGap(dir, c.dirs[k]) <= cylinderMaxRotation {
				idx = append(idx, c.byDir[k])
			}
		}
	}
	switch {
	case lo < 0:
		run(0, hi)
		run(lo+2*math.Pi, 2*math.Pi)
	case hi >= 2*math.Pi:
		run(0, hi-2*math.Pi)
		run(lo, 2*math.Pi)
	default:
		run(lo, hi)
	}
	return idx
}

// prepareGeometry fills the pairwise distances and directions and the
// cylinders of c.
func prepareGeometry(c *Candidate, hull hull) {
	n := c.n
	c.dist, c.angle = make([]float32, n*n), make([]float32, n*n)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			dx, dy := c.x[j]-c.x[i], c.y[j]-c.y[i]
			d := float32(math.Hypot(dx, dy))
			c.dist[i*n+j], c.dist[j*n+i] = d, d
			c.angle[i*n+j], c.angle[j*n+i] = atan2Pair(dy, dx)
		}
	}
	sigma2 := 2 * cylinderSigmaS * cylinderSigmaS
	gsNorm := 1 / (cylinderSigmaS * math.Sqrt(2*math.Pi))
	reach := 3 * cylinderSigmaS
	cellValue := make([]float64, cylinderCellCount*cylinderSections)
	var gd [cylinderSections]float64
	var gx, gy [cylinderCells]float64
	// A stored template's directions are whole 1/256 turns: each pair's
	// directional contributions are then looked up, not computed.
	table := directionalTable()
	for i := 0; i < n; i++ {
		cos, sin := math.Cos(c.dir[i]), math.Sin(c.dir[i])
		// Valid cells: inside the cylinder and near the minutiae's hull.
		mask := c.masks[i*maskWords : (i+1)*maskWords]
		valid := 0
		// A cell within depth + margin of a minutia that lies depth inside
		// the hull is near it without testing: the disc of radius depth
		// around the minutia is inside the (convex) hull.
		sure := hull.depth(c.x[i], c.y[i]) + cylinderHullMargin - 1e-6
		for j := 0; j < cylinderCells; j++ {
			for k := 0; k < cylinderCells; k++ {
				lx := (float64(k) - (cylinderCells-1)/2.0) * cellSize
				ly := (float64(j) - (cylinderCells-1)/2.0) * cellSize
				r := cellRadius[j*cylinderCells+k]
				if r > cylinderRadius {
					continue
				}
				px := c.x[i] + cos*lx - sin*ly
				py := c.y[i] + sin*lx + cos*ly
				if r >= sure && !hull.near(px, py, cylinderHullMargin) {
					continue
				}
				cell := j*cylinderCells + k
				mask[cell/64] |= 1 << (cell % 64)
				valid++
			}
		}
		c.validCells[i] = valid
		// Cell values: spatial and directional contributions of neighbours.
		clear(cellValue)
		neighbours := 0
		for t := 0; t < n; t++ {
			if t == i {
				continue
			}
			dx, dy := c.x[t]-c.x[i], c.y[t]-c.y[i]
			if float64(c.dist[i*n+t]) > cylinderRadius+reach+0.01 ||
				math.Hypot(dx, dy) > cylinderRadius+reach {
				continue
			}
			neighbours++
			// Neighbour position in the cylinder's frame.
			lx := cos*dx + sin*dy
			ly := -sin*dx + cos*dy
			dTheta := angleSigned(c.dir[i] - c.dir[t])
			if v, ok := lookupContributions(table, dTheta); ok {
				gd = *v
			} else {
				gd = directionalContributions(dTheta)
			}
			k0 := int(math.Floor((lx-reach)/cellSize + (cylinderCells-1)/2.0))
			k1 := int(math.Ceil((lx+reach)/cellSize + (cylinderCells-1)/2.0))
			j0 := int(math.Floor((ly-reach)/cellSize + (cylinderCells-1)/2.0))
			j1 := int(math.Ceil((ly+reach)/cellSize + (cylinderCells-1)/2.0))
			// The spatial Gaussian is separable: one exponential per
			// column and per row of the neighbour's reach.
			k0, k1 = max(k0, 0), min(k1, cylinderCells-1)
			j0, j1 = max(j0, 0), min(j1, cylinderCells-1)
			// A column (row) farther than reach from the neighbour has no
			// cell within reach: the cell test below, whose d2 is at least
			// that column's term, rejects all of them. Skip them, and
			// their exponentials, at either end.
			k0, k1 = withinReach(k0, k1, lx, reach)
			j0, j1 = withinReach(j0, j1, ly, reach)
			for k := k0; k <= k1; k++ {
				cx := (float64(k) - (cylinderCells-1)/2.0) * cellSize
				gx[k] = math.Exp(-(cx - lx) * (cx - lx) / sigma2)
			}
			for j := j0; j <= j1; j++ {
				cy := (float64(j) - (cylinderCells-1)/2.0) * cellSize
				gy[j] = gsNorm * math.Exp(-(cy-ly)*(cy-ly)/sigma2)
			}
			for j := j0; j <= j1; j++ {
				for k := k0; k <= k1; k++ {
					cx := (float64(k) - (cylinderCells-1)/2.0) * cellSize
					cy := (float64(j) - (cylinderCells-1)/2.0) * cellSize
					d2 := (cx-lx)*(cx-lx) + (cy-ly)*(cy-ly)
					if d2 > reach*reach {
						continue
					}
					gs := gy[j] * gx[k]
					cell := j*cylinderCells + k
					for s := 0; s < cylinderSections; s++ {
						cellValue[s*cylinderCellCount+cell] += gs * gd[s]
					}
				}
			}
		}
		vals := c.values[i*valueWords : (i+1)*valueWords]
		// Only the valid cells can hold a bit: visit the mask's set bits.
		for w, m := range mask {
			for ; m != 0; m &= m - 1 {
				cell := w*64 + bits.TrailingZeros64(m)
				for s := 0; s < cylinderSections; s++ {
					if cellValue[s*cylinderCellCount+cell] >= cylinderMuPsi {
						vals[s*maskWords+w] |= 1 << (cell % 64)
					}
				}
			}
		}
		c.usable[i] = neighbours >= cylinderMinNeighbours && float64(valid) >= cylinderMinValid*float64(circleCells)
		c.full[i] = valid == circleCells
		for _, v := range vals {
			c.count[i] += bits.OnesCount64(v)
		}
	}
}

// withinReach narrows the cell indices [i0, i1] of one axis to those whose
// centre lies within reach of the neighbour's coordinate l on that axis
// (i0 > i1 when none does).
func withinReach(i0, i1 int, l, reach float64) (int, int) {
	at := func(i int) bool {
		c := (float64(i) - (cylinderCells-1)/2.0) * cellSize
		return (c-l)*(c-l) <= reach*reach
	}
	for i0 <= i1 && !at(i0) {
		i0++
	}
	for i1 >= i0 && !at(i1) {
		i1--
	}
	return i0, i1
}

// directionalContributions is the share of each angular section of a
// cylinder that a neighbour whose direction differs from the cylinder's by
// dTheta (in [-π, π)) contributes to: MCC's Gaussian of the direction
// difference, integrated over the section.
func directionalContributions(dTheta float64) (gd [cylinderSections]float64) {
	for s := 0; s < cylinderSections; s++ {
		centre := -math.Pi + (float64(s)+0.5)*sectionSize
		a := angleSigned(centre - dTheta)
		gd[s] = 0.5 * (math.Erf((a+sectionSize/2)/(cylinderSigmaD*math.Sqrt2)) -
			math.Erf((a-sectionSize/2)/(cylinderSigmaD*math.Sqrt2)))
	}
	return gd
}

// storedDirection is the direction of k/256 turns as a decoded template
// holds it (Template.UnmarshalBinary), normalised as Prepare normalises it.
func storedDirection(k int) float64 { return normAngle(float64(k) / 256 * 2 * math.Pi) }

// directionalEntry is one difference of two stored directions, exactly as
// Prepare computes it, with its directional contributions.
type directionalEntry struct {
	dTheta float64
	gd     [cylinderSections]float64
}

// directionalTable lists every difference of two stored directions (1,333
// distinct values, 64 KiB) by its whole count of 1/256 turns (+128), so
// that a decoded template's contributions are looked up instead of
// computed (12 erf per neighbour). Built on first use, in about 16,000 erf.
var directionalTable = sync.OnceValue(func() *[257][]directionalEntry {
	t := new([257][]directionalEntry)
	for i := range 256 {
		for j := range 256 {
			d := angleSigned(storedDirection(i) - storedDirection(j))
			class := &t[directionalClass(d)]
			if !slices.ContainsFunc(*class, func(e directionalEntry) bool { return e.dTheta == d }) {
				*class = append(*class, directionalEntry{d, directionalContributions(d)})
			}
		}
	}
	return t
})

// directionalClass is the whole count of 1/256 turns nearest to dTheta, plus 128.
func directionalClass(dTheta float64) int { return int(dTheta*(256/(2*math.Pi)) + 128.5) }

// lookupContributions returns the tabulated contributions of dTheta, and
// false when dTheta is not the difference of two stored directions.
func lookupContributions(table *[257][]directionalEntry, dTheta float64) (*[cylinderSections]float64, bool) {
	if class := directionalClass(dTheta); class >= 0 && class < len(table) {
		for k := range table[class] {
			if e := &table[class][k]; e.dTheta == dTheta {
				return &e.gd, true
			}
		}
	}
	return nil, false
}

// atan2Pair returns, as float32, the directions math.Atan2 gives from a
// point to another dx, dy away and back (the offsets 0−dy, 0−dx: a zero
// stays +0), with one arc tangent when dx and dy are non-zero: Go's Atan2
// then takes Atan(y/x), the same both ways, and adds or subtracts π by the
// quadrant. Where Atan2 is the architecture's own (s390x), it is called.
func atan2Pair(dy, dx float64) (float32, float32) {
	if dx == 0 || dy == 0 || runtime.GOARCH == "s390x" {
		return float32(math.Atan2(dy, dx)), float32(math.Atan2(0-dy, 0-dx))
	}
	q := math.Atan(dy / dx)
	if dx < 0 {
		if q <= 0 {
			return float32(q + math.Pi), float32(q)
		}
		return float32(q - math.Pi), float32(q)
	}
	if q <= 0 {
		return float32(q), float32(q + math.Pi)
	}
	return float32(q), float32(q - math.Pi)
}

// dirGap is angleDiff (minutiae.go) for two directions in [0, 2π), whose
// difference needs no reduction of full turns: small enough to inline.
func dirGap(a, b float64) float64 {
	d := math.Abs(a - b)
	if d > math.Pi {
		d = 2*math.Pi - d
	}
	return d
}

// angleSigned maps an angle to [-π, π).
func angleSigned(a float64) float64 {
	if a >= -math.Pi && a < math.Pi {
		return a
	}
	a = math.Mod(a+math.Pi, 2*math.Pi)
	if a < 0 {
		a += 2 * math.Pi
	}
	return a - math.Pi
}

// hull is a convex polygon, counter-clockwise in image coordinates, with the
// vector (ex, ey) and the length of each edge (from vertex i to i+1).
type hull struct{ x, y, ex, ey, edge []float64 }

// convexHull returns the convex hull of the points (monotone chain).
func convexHull(xs, ys []float64) hull {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool {
		if xs[idx[a]] != xs[idx[b]] {
			return xs[idx[a]] < xs[idx[b]]
		}
		return ys[idx[a]] < ys[idx[b]]
	})
	cross := func(o, a, b int) float64 {
		return (xs[a]-xs[o])*(ys[b]-ys[o]) - (ys[a]-ys[o])*(xs[b]-xs[o])
	}
	var h []int
	for _, p := range idx {
		for len(h) >= 2 && cross(h[len(h)-2], h[len(h)-1], p) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, p)
	}
	lower := len(h) + 1
	for i := len(idx) - 2; i >= 0; i-- {
		p := idx[i]
		for len(h) >= lower && cross(h[len(h)-2], h[len(h)-1], p) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, p)
	}
	if len(h) > 1 {
		h = h[:len(h)-1]
	}
	out := hull{}
	for _, i := range h {
		out.x = append(out.x, xs[i])
		out.y = append(out.y, ys[i])
	}
	out.edge = make([]float64, len(out.x))
	out.ex, out.ey = make([]float64, len(out.x)), make([]float64, len(out.x))
	for i := range out.edge {
		j := (i + 1) % len(out.x)
		out.ex[i], out.ey[i] = out.x[j]-out.x[i], out.y[j]-out.y[i]
		out.edge[i] = math.Hypot(out.ex[i], out.ey[i])
	}
	return out
}

// depth is how far inside the hull (px, py) lies: its distance to the
// nearest edge's line, which for a convex polygon is its distance to the
// boundary. It is negative outside and for hulls of fewer than 3 vertices.
func (h hull) depth(px, py float64) float64 {
	n := len(h.x)
	if n < 3 {
		return -1
	}
	d := math.Inf(1)
	for i := 0; i < n; i++ {
		if h.edge[i] == 0 {
			continue
		}
		ax, ay := h.x[i], h.y[i]
		bx, by := h.x[(i+1)%n], h.y[(i+1)%n]
		d = min(d, ((bx-ax)*(py-ay)-(by-ay)*(px-ax))/h.edge[i])
	}
	return d
}

// near reports whether (px, py) is inside the hull or within margin of it.
// Inside is decided first, without distances: most cells of a print are.
func (h hull) near(px, py, margin float64) bool {
	n := len(h.x)
	if n == 0 {
		return false
	}
	if n >= 3 {
		// Outside an edge's line by more than the margin, the point is
		// farther than the margin from the whole (convex) polygon.
		inside := true
		for i := 0; i < n; i++ {
			if c := h.ex[i]*(py-h.y[i]) - h.ey[i]*(px-h.x[i]); c < 0 {
				inside = false
				if -c > margin*h.edge[i]*(1+1e-9) {
					return false
				}
			}
		}
		if inside {
			return true
		}
	}
	// The squared distance decides unless it lies within a relative 1e-9
	// of the margin's square, where the distance itself (math.Hypot) does.
	lo, hi := margin*margin*(1-1e-9), margin*margin*(1+1e-9)
	for i := 0; i < n; i++ {
		// Distance to the segment.
		ax, ay := h.x[i], h.y[i]
		ex, ey := h.ex[i], h.ey[i]
		l2 := ex*ex + ey*ey
		t := 0.0
		if l2 > 0 {
			t = min(max(((px-ax)*ex+(py-ay)*ey)/l2, 0), 1)
		}
		dx, dy := px-ax-t*ex, py-ay-t*ey
		if d2 := dx*dx + dy*dy; d2 <= lo || d2 < hi && math.Hypot(dx, dy) <= margin {
			return true
		}
	}
	return false
}

// localSimilarity compares cylinder a of p with cylinder b of c (0 to 1).
// A cylinder's bits lie inside its own valid cells, so a full cylinder (every
// cell of the circle valid) needs no masking of the other's bits and its
// count is precomputed: two full cylinders cost one XOR popcount.
func localSimilarity(p *Candidate, a int, c *Candidate, b int) float64 {
	if !p.usable[a] || !c.usable[b] || dirGap(p.dir[a], c.dir[b]) > cylinderMaxRotation {
		return 0
	}
	va := (*[valueWords]uint64)(p.values[a*valueWords : (a+1)*valueWords])
	vb := (*[valueWords]uint64)(c.values[b*valueWords : (b+1)*valueWords])
	var na, nb, nx int
	switch {
	case p.full[a] && c.full[b]:
		na, nb = p.count[a], c.count[b]
		for w := range va {
			nx += bits.OnesCount64(va[w] ^ vb[w])
		}
	case p.full[a]:
		// The common cells are b's valid cells (at least cylinderMinValid
		// of the circle for a usable cylinder, above cylinderMinMatchable).
		mb := (*[maskWords]uint64)(c.masks[b*maskWords : (b+1)*maskWords])
		nb = c.count[b]
		for w := range va {
			x := va[w] & mb[w%maskWords]
			na += bits.OnesCount64(x)
			nx += bits.OnesCount64(x ^ vb[w])
		}
	case c.full[b]:
		ma := (*[maskWords]uint64)(p.masks[a*maskWords : (a+1)*maskWords])
		na = p.count[a]
		for w := range va {
			y := vb[w] & ma[w%maskWords]
			nb += bits.OnesCount64(y)
			nx += bits.OnesCount64(va[w] ^ y)
		}
	default:
		ma := (*[maskWords]uint64)(p.masks[a*maskWords : (a+1)*maskWords])
		mb := (*[maskWords]uint64)(c.masks[b*maskWords : (b+1)*maskWords])
		var mask [maskWords]uint64
		common := 0
		for w := range mask {
			mask[w] = ma[w] & mb[w]
			common += bits.OnesCount64(mask[w])
		}
		if float64(common) < cylinderMinMatchable*float64(circleCells) {
			return 0
		}
		for w := range va {
			m := mask[w%maskWords]
			x, y := va[w]&m, vb[w]&m
			na += bits.OnesCount64(x)
			nb += bits.OnesCount64(y)
			nx += bits.OnesCount64(x ^ y)
		}
	}
	if na+nb == 0 {
		return 0
	}
	return 1 - sqrtCount[nx]/(sqrtCount[na]+sqrtCount[nb])
}

// sqrtCount tabulates the square roots of the bit counts of a cylinder.
var sqrtCount = func() (t [valueWords*64 + 1]float64) {
	for i := range t {
		t[i] = math.Sqrt(float64(i))
	}
	return t
}()

// sigmoid is MCC's Z function.
func sigmoid(v, mu, tau float64) float64 { return 1 / (1 + math.Exp(-tau*(v-mu))) }

// sigmoidTable tabulates a decreasing sigmoid over [0, limit), beyond which
// it is taken as zero.
type sigmoidTable struct {
	limit, scale float64
	v            []float64
}

func newSigmoidTable(mu, tau, limit float64, steps int) sigmoidTable {
	t := sigmoidTable{limit: limit, scale: float64(steps) / limit, v: make([]float64, steps+1)}
	for i := range t.v {
		t.v[i] = sigmoid(float64(i)/t.scale, mu, tau)
	}
	return t
}

func (t *sigmoidTable) at(v float64) float64 {
	if v >= t.limit {
		return 0
	}
	return t.v[int(v*t.scale+0.5)]
}

// The relaxation's compatibility functions, tabulated (below 1e-4 of their
// peak beyond the limits).
var (
	distanceSigmoid = newSigmoidTable(relaxDistanceMu, relaxDistanceTau, relaxDistanceMu+9.2/-relaxDistanceTau, 1024)
	angleSigmoid    = newSigmoidTable(relaxAngleMu, relaxAngleTau, math.Pi+0.01, 1024)
)

// distanceGap is how much two distances between paired minutiae differ,
// relative to their length (relaxDistortion): what the relaxation's distance
// compatibility judges.
func distanceGap(da, db float32) float64 {
	return math.Abs(float64(da-db)) / (1 + relaxDistortion*float64(da+db)/2)
}

type pair struct {
	a, b int
	sim  float64
}

// Compare scores probe against candidate, 0 (no evidence) to 1: the local
// similarities of their cylinders, consolidated by relaxation of the
// geometric compatibility of the best pairs (MCC LSS-R).
func Compare(probe, cand *Candidate) float64 {
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	return s.compare(probe, cand)
}

// compare is Compare with the scratch buffers given. Besides the score it
// leaves in s what ComparePairs explains it with: the selected pairs, the
// best alignment hypothesis and the pairs the relaxation took.
func (s *scratch) compare(probe, cand *Candidate) float64 {
	s.taken, s.hypothesis = s.taken[:0], -1
	na, nb := probe.n, cand.n
	if na == 0 || nb == 0 {
		return 0
	}
	pairs := s.pairs[:0]
	if cylinderKernel != cylinderGeneric {
		// The batch kernel counts probe cylinder a's bits against every
		// candidate cylinder past the gate at once.
		idx := s.idx[:0]
		for a := 0; a < na; a++ {
			if !probe.usable[a] {
				continue
			}
			idx = cand.withinRotation(probe.dir[a], idx[:0])
			counts := growInt32(&s.counts, 4*len(idx))
			cylinderCounts(probe, a, cand, idx, counts)
			for k, b := range idx {
				q := counts[4*k : 4*k+4 : 4*k+4]
				if sim := similarityFromCounts(q[0], q[1], q[2], q[3]); sim > 0 {
					pairs = append(pairs, pair{a, int(b), sim})
				}
			}
		}
		s.idx = idx
	} else {
		for a := 0; a < na; a++ {
			if !probe.usable[a] {
				continue
			}
			for b := 0; b < nb; b++ {
				// localSimilarity's own gate, tested here to save the call.
				if !cand.usable[b] || dirGap(probe.dir[a], cand.dir[b]) > cylinderMaxRotation {
					continue
				}
				if sim := localSimilarity(probe, a, cand, b); sim > 0 {
					pairs = append(pairs, pair{a, b, sim})
				}
			}
		}
	}
	s.pairs = pairs
	minN := min(na, nb)
	nP := relaxMinPairs + int(math.Round(sigmoid(float64(minN), relaxPairsMu, relaxPairsTau)*(relaxMaxPairs-relaxMinPairs)))
	nR := min(minN, len(pairs))
	if nR == 0 {
		return 0
	}
	pairs = topPairs(pairs, max(nR, alignHypotheses))
	s.pairs = pairs
	// Global consolidation: the geometric mean of the relaxation score
	// (local evidence) and the alignment score (global evidence).
	aligned := alignedScore(probe, cand, pairs, alignHypotheses, s)
	return math.Sqrt(aligned * relaxedScore(probe, cand, pairs[:nR], nP, s))
}

// topPairs returns the k most similar pairs, most similar first. A
// histogram of the similarities finds the cut so that only the pairs above
// it are sorted.
func topPairs(pairs []pair, k int) []pair {
	const bins = 256
	if len(pairs) > 4*k {
		var hist [bins]int
		for _, p := range pairs {
			hist[min(int(p.sim*bins), bins-1)]++
		}
		cut, n := bins-1, 0
		for ; cut > 0; cut-- {
			n += hist[cut]
			if n >= k {
				break
			}
		}
		kept := pairs[:0]
		for _, p := range pairs {
			if min(int(p.sim*bins), bins-1) >= cut {
				kept = append(kept, p)
			}
		}
		pairs = kept
	}
	slices.SortFunc(pairs, byDecreasingSimilarity)
	return pairs[:min(k, len(pairs))]
}

// byDecreasingSimilarity orders pairs by local similarity, most similar
// first, and equal similarities by minutia indices: a total order, so the
// pairs kept and their order are the same whatever the sort algorithm.
// Similarities are never NaN: plain comparisons order them.
func byDecreasingSimilarity(x, y pair) int {
	switch {
	case x.sim > y.sim:
		return -1
	case x.sim < y.sim:
		return 1
	case x.a != y.a:
		return x.a - y.a
	}
	return x.b - y.b
}

// relaxedScore runs the relaxation over the selected pairs and averages the
// relaxed similarity of the nP most efficient distinct pairs.
func relaxedScore(p, c *Candidate, pairs []pair, nP int, s *scratch) float64 {
	n := len(pairs)
	// Most pairs are incompatible: each row keeps only its non-zero
	// compatibilities, in column order, which sums the same terms in the
	// same order as the dense row (the zeros add nothing). Row i gets its
	// columns below i while the rows before it are computed, in increasing
	// order, then its own columns above i: the order holds without sorting.
	rowLen := growInt32(&s.rowLen, n)
	clear(rowLen)
	cols := growInt32(&s.cols, n*n)
	vals := grow(&s.vals, n*n)
	pa, pd, pn := p.angle, p.dist, p.n
	ca, cd, cn := c.angle, c.dist, c.n
	for i := 0; i < n; i++ {
		ai, bi := pairs[i].a, pairs[i].b
		pRow, cRow := pd[ai*pn:(ai+1)*pn], cd[bi*cn:(bi+1)*cn]
		for j := i + 1; j < n; j++ {
			aj, bj := pairs[j].a, pairs[j].b
			if ai == aj || bi == bj {
				continue
			}
			d1 := distanceGap(pRow[aj], cRow[bj])
			if d1 >= distanceSigmoid.limit {
				continue
			}
			d2 := angleDiff(p.dir[ai]-p.dir[aj], c.dir[bi]-c.dir[bj])
			ra := p.dir[ai] - float64(pa[ai*pn+aj])
			rb := c.dir[bi] - float64(ca[bi*cn+bj])
			d3 := angleDiff(ra, rb)
			r := distanceSigmoid.at(d1) * angleSigmoid.at(d2) * angleSigmoid.at(d3)
			if r == 0 {
				continue
			}
			k := i*n + int(rowLen[i])
			cols[k], vals[k] = int32(j), r
			rowLen[i]++
			k = j*n + int(rowLen[j])
			cols[k], vals[k] = int32(i), r
			rowLen[j]++
		}
	}
	lambda := grow(&s.lam, n)
	next := grow(&s.next, n)
	for i := range pairs {
		lambda[i] = pairs[i].sim
	}
	den := float64(max(n-1, 1))
	for it := 0; it < relaxIterations; it++ {
		for i := 0; i < n; i++ {
			var s float64
			row := cols[i*n : i*n+int(rowLen[i])]
			rv := vals[i*n : i*n+len(row)]
			for k, j := range row {
				s += rv[k] * lambda[j]
			}
			next[i] = relaxWeight*lambda[i] + (1-relaxWeight)*s/den
		}
		lambda, next = next, lambda
	}
	// Efficiency: the relaxed similarity over the local one. The pairs are
	// visited by decreasing efficiency, ties by pair index (a print against
	// itself has many), until nP distinct pairs are taken: a selection of
	// the best remaining pair at each step, as only a few are visited.
	eff := grow(&s.eff, n)
	for i := range eff {
		eff[i] = lambda[i] / pairs[i].sim
	}
	visited := growBool(&s.visited, n)
	usedA, usedB := growBool(&s.usedA, p.n), growBool(&s.usedB, c.n)
	var sum float64
	taken := 0
	for taken < nP {
		best := -1
		for i, e := range eff {
			if !visited[i] && (best < 0 || e > eff[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		visited[best] = true
		a, b := pairs[best].a, pairs[best].b
		if usedA[a] || usedB[b] {
			continue
		}
		usedA[a], usedB[b] = true, true
		sum += lambda[best]
		taken++
		s.taken = append(s.taken, best)
	}
	s.relaxed = lambda
	if taken == 0 {
		return 0
	}
	return sum / float64(nP)
}

// Search compares one prepared probe with every candidate of a gallery,
// spreading the work over all cores, and returns the scores in gallery order.
func Search(probe *Candidate, gallery []*Candidate) []float64 {
	scores := make([]float64, len(gallery))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(gallery)/64))
	var wg sync.WaitGroup
	chunk := (len(gallery) + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, len(gallery))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				scores[i] = Compare(probe, gallery[i])
			}
		}()
	}
	wg.Wait()
	return scores
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}
