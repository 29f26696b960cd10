package finger

import "math"

// areaCell is the side in pixels of the cells of an areaGrid.
const areaCell = 8

// areaGrid is a bitmap of the cells near a template's minutiae hull, built
// once in Prepare so that the comparator tests "is this point in the other
// print's area" in constant time.
type areaGrid struct {
	x0, y0, w, h int
	bits         []uint64
}

// newAreaGrid marks the cells whose centre lies within margin of the hull.
func newAreaGrid(h hull, margin float64) areaGrid {
	if len(h.x) == 0 {
		return areaGrid{}
	}
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i := range h.x {
		minX, maxX = min(minX, h.x[i]), max(maxX, h.x[i])
		minY, maxY = min(minY, h.y[i]), max(maxY, h.y[i])
	}
	g := areaGrid{
		x0: int(math.Floor((minX - margin) / areaCell)),
		y0: int(math.Floor((minY - margin) / areaCell)),
	}
	g.w = int(math.Floor((maxX+margin)/areaCell)) - g.x0 + 1
	g.h = int(math.Floor((maxY+margin)/areaCell)) - g.y0 + 1
	g.bits = make([]uint64, (g.w*g.h+63)/64)
	for cy := 0; cy < g.h; cy++ {
		py := (float64(g.y0+cy) + 0.5) * areaCell
		lo, hi := h.span(py)
		for cx := 0; cx < g.w; cx++ {
			px := (float64(g.x0+cx) + 0.5) * areaCell
			if (px > lo+1e-6 && px < hi-1e-6) || h.near(px, py, margin) {
				i := cy*g.w + cx
				g.bits[i/64] |= 1 << (i % 64)
			}
		}
	}
	return g
}

// contains reports whether the point falls in a marked cell.
func (g *areaGrid) contains(x, y float64) bool {
	cx := floorInt(x/areaCell) - g.x0
	cy := floorInt(y/areaCell) - g.y0
	if cx < 0 || cy < 0 || cx >= g.w || cy >= g.h {
		return false
	}
	i := cy*g.w + cx
	return g.bits[i/64]&(1<<(i%64)) != 0
}

// floorInt is int(math.Floor(v)) for the values of image coordinates.
func floorInt(v float64) int {
	if v >= 0 && v < 1<<52 {
		return int(v)
	}
	return int(math.Floor(v))
}

// span returns the interval of x where the horizontal line at y crosses the
// inside of the hull (lo > hi when it misses it or the hull has fewer than
// 3 vertices): each edge's half-plane bounds x on one side.
func (h hull) span(y float64) (lo, hi float64) {
	n := len(h.x)
	if n < 3 {
		return 1, 0
	}
	lo, hi = math.Inf(-1), math.Inf(1)
	for i := 0; i < n; i++ {
		ax, ay := h.x[i], h.y[i]
		ex, ey := h.x[(i+1)%n]-ax, h.y[(i+1)%n]-ay
		// Inside: ex·(y−ay) − ey·(x−ax) ≥ 0.
		switch {
		case ey > 0:
			hi = min(hi, ax+ex*(y-ay)/ey)
		case ey < 0:
			lo = max(lo, ax+ex*(y-ay)/ey)
		case ex*(y-ay) < 0:
			return 1, 0
		}
	}
	return lo, hi
}
