package iris

import (
	"image"
	"math"
)

// grid is a float32 image, row-major.
type grid struct {
	w, h int
	v    []float32
}

func newGrid(w, h int) *grid { return &grid{w: w, h: h, v: make([]float32, w*h)} }

func grayToGrid(img *image.Gray) *grid {
	b := img.Bounds()
	g := newGrid(b.Dx(), b.Dy())
	for y := 0; y < g.h; y++ {
		row := img.Pix[(y)*img.Stride : (y)*img.Stride+g.w]
		for x, p := range row {
			g.v[y*g.w+x] = float32(p)
		}
	}
	return g
}

func (g *grid) clone() *grid {
	c := newGrid(g.w, g.h)
	copy(c.v, g.v)
	return c
}

// at samples g bilinearly at (x, y); ok is false outside the image.
func (g *grid) at(x, y float64) (float32, bool) {
	if x < 0 || y < 0 || x > float64(g.w-1) || y > float64(g.h-1) {
		return 0, false
	}
	x0, y0 := int(x), int(y)
	x1, y1 := x0+1, y0+1
	if x1 >= g.w {
		x1 = x0
	}
	if y1 >= g.h {
		y1 = y0
	}
	fx, fy := float32(x-float64(x0)), float32(y-float64(y0))
	a := g.v[y0*g.w+x0]*(1-fx) + g.v[y0*g.w+x1]*fx
	b := g.v[y1*g.w+x0]*(1-fx) + g.v[y1*g.w+x1]*fx
	return a*(1-fy) + b*fy, true
}

// nearest returns the value of the pixel nearest to (x, y), or def outside.
func (g *grid) nearest(x, y float64, def float32) float32 {
	ix, iy := int(math.Round(x)), int(math.Round(y))
	if ix < 0 || iy < 0 || ix >= g.w || iy >= g.h {
		return def
	}
	return g.v[iy*g.w+ix]
}

// blurred returns g convolved with a Gaussian of the given sigma (clamped edges).
func (g *grid) blurred(sigma float64) *grid {
	r := int(math.Ceil(3 * sigma))
	k := make([]float32, 2*r+1)
	var sum float32
	for i := range k {
		d := float64(i - r)
		k[i] = float32(math.Exp(-d * d / (2 * sigma * sigma)))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	tmp := newGrid(g.w, g.h)
	for y := 0; y < g.h; y++ {
		row := g.v[y*g.w : (y+1)*g.w]
		out := tmp.v[y*g.w : (y+1)*g.w]
		for x := range out {
			var s float32
			for i, kv := range k {
				xx := x + i - r
				if xx < 0 {
					xx = 0
				} else if xx >= g.w {
					xx = g.w - 1
				}
				s += kv * row[xx]
			}
			out[x] = s
		}
	}
	dst := newGrid(g.w, g.h)
	for y := 0; y < g.h; y++ {
		out := dst.v[y*g.w : (y+1)*g.w]
		for i, kv := range k {
			yy := y + i - r
			if yy < 0 {
				yy = 0
			} else if yy >= g.h {
				yy = g.h - 1
			}
			src := tmp.v[yy*g.w : (yy+1)*g.w]
			for x := range out {
				out[x] += kv * src[x]
			}
		}
	}
	return dst
}

// integral returns the summed-area table of g, (w+1)×(h+1), in float64.
func (g *grid) integral() []float64 {
	s := make([]float64, (g.w+1)*(g.h+1))
	for y := 0; y < g.h; y++ {
		var row float64
		for x := 0; x < g.w; x++ {
			row += float64(g.v[y*g.w+x])
			s[(y+1)*(g.w+1)+x+1] = s[y*(g.w+1)+x+1] + row
		}
	}
	return s
}

// boxMean returns the mean of g over the clamped box [x0,x1)×[y0,y1) using
// its summed-area table s.
func boxMean(s []float64, w, h, x0, y0, x1, y1 int) float64 {
	x0, y0 = max(x0, 0), max(y0, 0)
	x1, y1 = min(x1, w), min(y1, h)
	if x1 <= x0 || y1 <= y0 {
		return 0
	}
	W := w + 1
	sum := s[y1*W+x1] - s[y0*W+x1] - s[y1*W+x0] + s[y0*W+x0]
	return sum / float64((x1-x0)*(y1-y0))
}

// image renders g as 8-bit grey, scaled so that its range fills 0–255.
func (g *grid) image() *image.Gray {
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range g.v {
		lo, hi = min(lo, v), max(hi, v)
	}
	img := image.NewGray(image.Rect(0, 0, g.w, g.h))
	scale := float32(0)
	if hi > lo {
		scale = 255 / (hi - lo)
	}
	for i, v := range g.v {
		img.Pix[i] = uint8((v - lo) * scale)
	}
	return img
}

// shrunk returns g reduced by an integer factor, each pixel the mean of a
// factor×factor block (g itself when factor is 1).
func (g *grid) shrunk(factor int) *grid {
	if factor <= 1 {
		return g
	}
	out := newGrid(g.w/factor, g.h/factor)
	inv := 1 / float32(factor*factor)
	for y := 0; y < out.h; y++ {
		for x := 0; x < out.w; x++ {
			var sum float32
			for dy := 0; dy < factor; dy++ {
				row := g.v[(y*factor+dy)*g.w+x*factor:]
				for dx := 0; dx < factor; dx++ {
					sum += row[dx]
				}
			}
			out.v[y*out.w+x] = sum * inv
		}
	}
	return out
}
