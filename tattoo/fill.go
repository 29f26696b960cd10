package tattoo

import (
	"image"
	"math"
)

// fillMask marks the pixels of g that are padding rather than photograph:
// the near-black fill that rotating or shearing a photo leaves in its
// corners. It returns a summed-area table of the mask so that any box can
// be tested in constant time.
type fillMask struct {
	w, h int
	sum  []int32 // (w+1)×(h+1) summed-area table
	any  bool
}

func newFillMask(g *image.Gray) fillMask {
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	m := fillMask{w: w, h: h, sum: make([]int32, (w+1)*(h+1))}
	for y := 0; y < h; y++ {
		var row int32
		for x := 0; x < w; x++ {
			if g.Pix[y*w+x] <= fillLevel {
				row++
				m.any = true
			}
			m.sum[(y+1)*(w+1)+x+1] = m.sum[y*(w+1)+x+1] + row
		}
	}
	return m
}

// fraction returns the share of fill pixels in the square of half-side r
// around (x, y), clipped to the image.
func (m *fillMask) fraction(x, y, r float64) float64 {
	if !m.any {
		return 0
	}
	x0 := max(0, int(math.Floor(x-r)))
	y0 := max(0, int(math.Floor(y-r)))
	x1 := min(m.w, int(math.Ceil(x+r))+1)
	y1 := min(m.h, int(math.Ceil(y+r))+1)
	if x1 <= x0 || y1 <= y0 {
		return 0
	}
	w := m.w + 1
	n := m.sum[y1*w+x1] - m.sum[y0*w+x1] - m.sum[y1*w+x0] + m.sum[y0*w+x0]
	return float64(n) / float64((x1-x0)*(y1-y0))
}

// dropFillCorners removes the corners whose patch overlaps the fill.
func dropFillCorners(levels []level, cs []corner, m fillMask) []corner {
	if !m.any {
		return cs
	}
	out := cs[:0]
	for _, c := range cs {
		s := levels[c.level].scale
		x, y := (float64(c.x)+0.5)*s-0.5, (float64(c.y)+0.5)*s-0.5
		if m.fraction(x, y, patchRadius*s) <= maxFillFraction {
			out = append(out, c)
		}
	}
	return out
}
