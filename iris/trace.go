package iris

import (
	"image"
	"image/color"
	"math"
	"math/bits"
)

func popcount(x uint64) int { return bits.OnesCount64(x) }

// overlay draws the segmentation over the input: pupil in green, limbus in
// red, eyelids in yellow, reflections in blue.
func overlay(img *image.Gray, p, l circle, lids eyelids, refl *grid) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			v := img.Pix[y*img.Stride+x]
			c := color.RGBA{v, v, v, 255}
			if refl.v[y*refl.w+x] != 0 {
				c.B = 255
			}
			out.SetRGBA(x, y, c)
		}
	}
	for _, c := range []struct {
		c   circle
		col color.RGBA
	}{{p, color.RGBA{0, 255, 0, 255}}, {l, color.RGBA{255, 0, 0, 255}}} {
		for i := 0; i < 720; i++ {
			x, y := c.c.point(2 * math.Pi * float64(i) / 720)
			out.SetRGBA(int(x), int(y), c.col)
		}
	}
	for _, par := range []parabola{lids.Upper, lids.Lower} {
		if !par.Ok {
			continue
		}
		for x := 0; x < b.Dx(); x++ {
			out.SetRGBA(x, int(par.y(float64(x))), color.RGBA{255, 255, 0, 255})
		}
	}
	return out
}

// bitsImage renders a code or mask as Bands·2 rows by Columns columns, four
// pixels per bit.
func bitsImage(words []uint64) *image.Gray {
	const px = 4
	img := image.NewGray(image.Rect(0, 0, Columns*px, ColumnBits*px))
	for col := 0; col < Columns; col++ {
		for r := 0; r < ColumnBits; r++ {
			bit := col*ColumnBits + r
			v := uint8(0)
			if words[bit/64]>>(bit%64)&1 != 0 {
				v = 255
			}
			for dy := 0; dy < px; dy++ {
				for dx := 0; dx < px; dx++ {
					img.Pix[(r*px+dy)*img.Stride+col*px+dx] = v
				}
			}
		}
	}
	return img
}
