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
		for cx := 0; cx < g.w; cx++ {
			px := (float64(g.x0+cx) + 0.5) * areaCell
			py := (float64(g.y0+cy) + 0.5) * areaCell
			if h.near(px, py, margin) {
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
