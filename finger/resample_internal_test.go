package finger

import (
	"image"
	"math"
	"testing"
)

// grating is a grey image of straight ridges of the given period (pixels)
// at angle deg, mean 128 and amplitude 100.
func grating(w, h int, period, deg float64) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	a := deg * math.Pi / 180
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			d := -float64(x)*math.Sin(a) + float64(y)*math.Cos(a)
			img.Pix[y*img.Stride+x] = uint8(math.Round(128 + 100*math.Cos(2*math.Pi*d/period)))
		}
	}
	return img
}

// TestResampledImage checks the resampling to 500 ppi: a flat image stays
// flat, and the finest ridges of a print (7 px apart at 500 ppi) keep at
// least 97% of their contrast when the capture was at 450 ppi (enlarged) or
// 550 ppi (reduced), at several angles (bilinear interpolation kept 92–95%).
func TestResampledImage(t *testing.T) {
	t.Run("Flat", func(t *testing.T) {
		img := image.NewGray(image.Rect(0, 0, 90, 70))
		for i := range img.Pix {
			img.Pix[i] = 77
		}
		for _, ppi := range []int{300, 450, 512, 550, 569, 1000} {
			g := resampledImage(img, ppi)
			for _, v := range g.v {
				if math.Abs(float64(v)-77) > 1e-3 {
					t.Fatalf("%d ppi: flat 77 became %.4f", ppi, v)
				}
			}
		}
	})
	const period500 = 7.0
	for _, ppi := range []int{450, 550} {
		for _, deg := range []float64{0, 30, 45} {
			period := period500 * float64(ppi) / StandardPPI
			g := resampledImage(grating(200, 200, period, deg), ppi)
			// Amplitude over the central part from the standard
			// deviation (a sampled cosine's is its amplitude / √2), in
			// units of the input's 100.
			var sum, sq, n float64
			for y := 40; y < g.h-40; y++ {
				for x := 40; x < g.w-40; x++ {
					v := float64(g.v[y*g.w+x])
					sum += v
					sq += v * v
					n++
				}
			}
			mean := sum / n
			got := math.Sqrt(2*(sq/n-mean*mean)) / 100
			if got < 0.97 {
				t.Errorf("%d ppi, %.0f°: ridges of period %.1f px keep %.0f%% of their contrast, want >= 97%%", ppi, deg, period500, 100*got)
			}
		}
	}
}
