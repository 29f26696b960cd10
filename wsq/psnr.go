package wsq

import (
	"image"
	"math"
)

// PSNR returns the peak signal-to-noise ratio of b against a in decibels
// (+Inf when they are equal, NaN when their sizes differ): the figure the
// encoder's quality is reported in.
func PSNR(a, b *image.Gray) float64 {
	ab, bb := a.Bounds(), b.Bounds()
	if ab.Size() != bb.Size() {
		return math.NaN()
	}
	var se float64
	for y := 0; y < ab.Dy(); y++ {
		ra := a.Pix[(ab.Min.Y+y-a.Rect.Min.Y)*a.Stride+(ab.Min.X-a.Rect.Min.X):][:ab.Dx()]
		rb := b.Pix[(bb.Min.Y+y-b.Rect.Min.Y)*b.Stride+(bb.Min.X-b.Rect.Min.X):][:bb.Dx()]
		for x := range ra {
			d := float64(ra[x]) - float64(rb[x])
			se += d * d
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*float64(ab.Dx()*ab.Dy())/se)
}
