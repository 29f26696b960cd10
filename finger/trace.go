package finger

import (
	"image"
	"image/color"
	"math"
)

// toGray renders the image as grey, mapping v to offset + scale·v.
func (f *floatImage) toGray(offset, scale float32) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, f.w, f.h))
	if scale < 0 {
		// Auto-scale symmetric values around offset.
		var mx float32
		for _, v := range f.v {
			mx = max(mx, v, -v)
		}
		scale = 1
		if mx > 0 {
			scale = 127 / mx
		}
	}
	for i, v := range f.v {
		g.Pix[i] = uint8(min(max(offset+scale*v, 0), 255))
	}
	return g
}

func binaryImage(b []uint8, w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i, v := range b {
		if v != 0 {
			g.Pix[i] = 0
		} else {
			g.Pix[i] = 255
		}
	}
	return g
}

func (m *blockMask) image(g *floatImage) *image.Gray {
	out := g.toGray(0, 1)
	for y := 0; y < g.h; y++ {
		for x := 0; x < g.w; x++ {
			if !m.atPixel(x, y) {
				out.Pix[y*g.w+x] = out.Pix[y*g.w+x]/4 + 191
			}
		}
	}
	return out
}

func (o *orientationField) image(g *floatImage, m *blockMask) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, g.w, g.h))
	for i, v := range g.v {
		c := uint8(min(max(v, 0), 255))/2 + 127
		out.Pix[4*i], out.Pix[4*i+1], out.Pix[4*i+2], out.Pix[4*i+3] = c, c, c, 255
	}
	red := color.RGBA{200, 0, 0, 255}
	for by := 0; by < o.bh; by++ {
		for bx := 0; bx < o.bw; bx++ {
			b := by*o.bw + bx
			if !m.fg[b] || bx%2 != 0 || by%2 != 0 {
				continue
			}
			cx, cy := float64(bx*blockSize+blockSize/2), float64(by*blockSize+blockSize/2)
			a := o.angle[b]
			for t := -6.0; t <= 6; t += 0.5 {
				out.Set(int(cx+t*math.Cos(a)), int(cy+t*math.Sin(a)), red)
			}
		}
	}
	return out
}

func minutiaeImage(g *floatImage, ms []Minutia) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, g.w, g.h))
	for i, v := range g.v {
		c := uint8(min(max(v, 0), 255))
		out.Pix[4*i], out.Pix[4*i+1], out.Pix[4*i+2], out.Pix[4*i+3] = c, c, c, 255
	}
	for _, m := range ms {
		col := color.RGBA{220, 0, 0, 255}
		if m.Type == Bifurcation {
			col = color.RGBA{0, 0, 220, 255}
		}
		for k := 0; k < 16; k++ {
			a := float64(k) * math.Pi / 8
			out.Set(m.X+int(math.Round(3*math.Cos(a))), m.Y+int(math.Round(3*math.Sin(a))), col)
		}
		for t := 3.0; t <= 12; t += 0.5 {
			out.Set(m.X+int(math.Round(t*math.Cos(m.Direction))), m.Y+int(math.Round(t*math.Sin(m.Direction))), col)
		}
	}
	return out
}
