package finger

import (
	"math"
	"sort"
)

// neighbourhood offsets in the order P2..P9 of the thinning literature:
// N, NE, E, SE, S, SW, W, NW (image y pointing down).
var ring = [8][2]int{{0, -1}, {1, -1}, {1, 0}, {1, 1}, {0, 1}, {-1, 1}, {-1, 0}, {-1, -1}}

// ringBits packs the 8 neighbours of an interior pixel, P2 as bit 0.
func ringBits(b []uint8, w, i int) int {
	n := 0
	for k, d := range ring {
		if b[i+d[1]*w+d[0]] != 0 {
			n |= 1 << k
		}
	}
	return n
}

// crossings counts the 0→1 transitions around the ring of neighbours.
func crossings(bits int) int {
	c := 0
	for k := 0; k < 8; k++ {
		if bits&(1<<k) == 0 && bits&(1<<((k+1)%8)) != 0 {
			c++
		}
	}
	return c
}

var thinTables = func() [2][256]bool {
	var t [2][256]bool
	for bits := 0; bits < 256; bits++ {
		p := func(k int) bool { return bits&(1<<(k-2)) != 0 } // P2..P9
		n := 0
		for k := 0; k < 8; k++ {
			if bits&(1<<k) != 0 {
				n++
			}
		}
		if n < 2 || n > 6 || crossings(bits) != 1 {
			continue
		}
		t[0][bits] = !(p(2) && p(4) && p(6)) && !(p(4) && p(6) && p(8))
		t[1][bits] = !(p(2) && p(4) && p(8)) && !(p(2) && p(6) && p(8))
	}
	return t
}()

// thinnedSkeleton thins the ridges to one-pixel-wide lines (Zhang–Suen).
func thinnedSkeleton(binary []uint8, w, h int) []uint8 {
	s := make([]uint8, len(binary))
	copy(s, binary)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if x == 0 || y == 0 || x == w-1 || y == h-1 {
				s[y*w+x] = 0
			}
		}
	}
	var del []int
	for changed := true; changed; {
		changed = false
		for sub := 0; sub < 2; sub++ {
			del = del[:0]
			for y := 1; y < h-1; y++ {
				for x := 1; x < w-1; x++ {
					i := y*w + x
					if s[i] != 0 && thinTables[sub][ringBits(s, w, i)] {
						del = append(del, i)
					}
				}
			}
			for _, i := range del {
				s[i] = 0
			}
			if len(del) > 0 {
				changed = true
			}
		}
	}
	return s
}

// candidate is a minutia read from the skeleton graph, with its reliability.
type candidate struct {
	x, y      int
	kind      MinutiaType
	direction float64
	quality   float64
	removed   bool
}

// filteredMinutiae removes the false minutiae the skeleton graph's clean-up
// leaves: near the border of the foreground, facing endings of a broken
// ridge, clusters, and the least reliable. It caps their number by
// reliability.
func filteredMinutiae(cands []*candidate, w, h int, m *blockMask) []Minutia {
	for i, a := range cands {
		for j := i + 1; j < len(cands); j++ {
			b := cands[j]
			dx, dy := float64(b.x-a.x), float64(b.y-a.y)
			d := math.Hypot(dx, dy)
			if d < clusterDistance {
				a.removed, b.removed = true, true
				continue
			}
			if a.kind == Ending && b.kind == Ending && d < gapDistance &&
				angleDiff(a.direction, b.direction+math.Pi) < gapAngle &&
				angleDiff(math.Atan2(dy, dx), a.direction) < gapAngle {
				a.removed, b.removed = true, true
			}
		}
	}
	var out []Minutia
	for _, c := range cands {
		if c.removed || c.quality < minMinutiaReliability || !insideForeground(c.x, c.y, w, h, m) {
			continue
		}
		if c.kind == Ending {
			// An ending that faces the edge of the foreground is where the
			// ridges fade out, not where one stops.
			px := c.x + int(math.Round(borderFacing*math.Cos(c.direction)))
			py := c.y + int(math.Round(borderFacing*math.Sin(c.direction)))
			if !m.atPixel(px, py) {
				continue
			}
		}
		out = append(out, Minutia{X: c.x, Y: c.y, Direction: c.direction, Type: c.kind,
			Quality: uint8(min(100, max(1, math.Round(100*c.quality))))})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Quality > out[j].Quality })
	if len(out) > maxMinutiae {
		out = out[:maxMinutiae]
	}
	return out
}

// insideForeground reports whether the foreground extends borderDistance
// around the point in every direction.
func insideForeground(x, y, w, h int, m *blockMask) bool {
	for k := 0; k < 16; k++ {
		a := float64(k) * math.Pi / 8
		for _, r := range []float64{borderDistance / 2, borderDistance} {
			px := x + int(math.Round(r*math.Cos(a)))
			py := y + int(math.Round(r*math.Sin(a)))
			if px < 0 || py < 0 || px >= w || py >= h || !m.atPixel(px, py) {
				return false
			}
		}
	}
	return true
}

// angleDiff is the absolute difference of two angles, in [0, π].
func angleDiff(a, b float64) float64 {
	d := math.Abs(a - b)
	if d >= 2*math.Pi {
		d = math.Mod(d, 2*math.Pi)
	}
	if d > math.Pi {
		d = 2*math.Pi - d
	}
	return d
}

// normAngle maps an angle to [0, 2π).
func normAngle(a float64) float64 {
	a = math.Mod(a, 2*math.Pi)
	if a < 0 {
		a += 2 * math.Pi
	}
	return a
}

// localClarity is the mean ridge clarity of the 3×3 blocks around a pixel.
func localClarity(clarity *blockField, x, y int) float64 {
	bx, by := x/blockSize, y/blockSize
	var s float64
	n := 0
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			cx, cy := bx+dx, by+dy
			if cx < 0 || cy < 0 || cx >= clarity.bw || cy >= clarity.bh {
				continue
			}
			s += clarity.v[cy*clarity.bw+cx]
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return s / float64(n)
}
