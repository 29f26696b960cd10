package tattoo_test

import (
	"image"
	"image/color"
	"math"
	"os"
	"testing"

	"github.com/huella-abis/huella/tattoo"
)

// warpAffine returns the w×h image whose pixel p is src at m⁻¹(p), where m
// maps src coordinates to output coordinates (bilinear; black outside).
func warpAffine(src *image.Gray, m [6]float64, w, h int) *image.Gray {
	det := m[0]*m[4] - m[1]*m[3]
	inv := [4]float64{m[4] / det, -m[1] / det, -m[3] / det, m[0] / det}
	out := image.NewGray(image.Rect(0, 0, w, h))
	b := src.Bounds()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := float64(x)-m[2], float64(y)-m[5]
			sx := inv[0]*dx + inv[1]*dy
			sy := inv[2]*dx + inv[3]*dy
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			if x0 < b.Min.X || y0 < b.Min.Y || x0+1 >= b.Max.X || y0+1 >= b.Max.Y {
				continue
			}
			fx, fy := sx-float64(x0), sy-float64(y0)
			v := (1-fx)*(1-fy)*float64(src.GrayAt(x0, y0).Y) + fx*(1-fy)*float64(src.GrayAt(x0+1, y0).Y) +
				(1-fx)*fy*float64(src.GrayAt(x0, y0+1).Y) + fx*fy*float64(src.GrayAt(x0+1, y0+1).Y)
			out.SetGray(x, y, color.Gray{Y: uint8(math.Round(v))})
		}
	}
	return out
}

// TestCompareViewpoint compares a tattoo with copies of itself seen under
// shears and foreshortenings (the matrices of an oblique view of a flat
// patch), which a similarity cannot fit across the whole tattoo.
func TestCompareViewpoint(t *testing.T) {
	images := bivtatt(t)
	im := images["11_2"]
	data, err := os.ReadFile(im.Path)
	if err != nil {
		t.Fatal(err)
	}
	src, err := tattoo.DecodeImage(data)
	if err != nil {
		t.Fatal(err)
	}
	crop := image.NewGray(image.Rect(0, 0, im.Box.Dx(), im.Box.Dy()))
	for y := 0; y < im.Box.Dy(); y++ {
		for x := 0; x < im.Box.Dx(); x++ {
			crop.Set(x, y, src.At(im.Box.Min.X+x, im.Box.Min.Y+y))
		}
	}
	original, err := tattoo.Extract(crop, image.Rectangle{})
	if err != nil {
		t.Fatal(err)
	}
	w, h := float64(crop.Bounds().Dx()), float64(crop.Bounds().Dy())
	cases := []struct {
		name string
		m    [4]float64 // linear part; the translation centres the result
	}{
		{"ShearX", [4]float64{1, 0.45, 0, 1}},
		{"ForeshortenX", [4]float64{0.5, 0, 0, 1}},
		{"ObliqueRotated", [4]float64{0.55 * math.Cos(0.6), -math.Sin(0.6), 0.55 * math.Sin(0.6), math.Cos(0.6)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Bounding box of the mapped crop.
			minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
			for _, p := range [][2]float64{{0, 0}, {w, 0}, {0, h}, {w, h}} {
				x, y := c.m[0]*p[0]+c.m[1]*p[1], c.m[2]*p[0]+c.m[3]*p[1]
				minX, minY, maxX, maxY = math.Min(minX, x), math.Min(minY, y), math.Max(maxX, x), math.Max(maxY, y)
			}
			m := [6]float64{c.m[0], c.m[1], -minX, c.m[2], c.m[3], -minY}
			warped := warpAffine(crop, m, int(math.Ceil(maxX-minX)), int(math.Ceil(maxY-minY)))
			probe, err := tattoo.Extract(warped, image.Rectangle{})
			if err != nil {
				t.Fatal(err)
			}
			cmp := tattoo.Compare(probe, original)
			t.Logf("score %.1f, %d inliers of %d tentative", cmp.Score, len(cmp.Inliers), cmp.Tentative)
			if cmp.Score < mateScore {
				t.Errorf("score %.1f, want >= %v", cmp.Score, mateScore)
			}
		})
	}
}
