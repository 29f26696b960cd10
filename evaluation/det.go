package evaluation

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Curve is one named set of scores drawn on a DET plot.
type Curve struct {
	Name   string
	Scores Scores
}

// DET plot geometry: both axes are logarithmic, FMR from 1e-6 to 1 and FNMR
// from 1e-4 to 1.
const (
	detWidth, detHeight = 720, 560
	detLeft, detRight   = 70, 20
	detTop, detBottom   = 30, 60
	detMinFMR           = 1e-6
	detMinFNMR          = 1e-4
)

var detPalette = []color.RGBA{
	{31, 119, 180, 255}, {214, 39, 40, 255}, {44, 160, 44, 255},
	{255, 127, 14, 255}, {148, 103, 189, 255}, {140, 86, 75, 255},
}

// WriteDETPNG draws the DET curves (FNMR against FMR, log-log) as a PNG.
func WriteDETPNG(w io.Writer, title string, curves ...Curve) error {
	img := image.NewRGBA(image.Rect(0, 0, detWidth, detHeight))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	plotW := float64(detWidth - detLeft - detRight)
	plotH := float64(detHeight - detTop - detBottom)
	x := func(fmr float64) float64 {
		fmr = math.Max(fmr, detMinFMR)
		return float64(detLeft) + plotW*(math.Log10(fmr)-math.Log10(detMinFMR))/-math.Log10(detMinFMR)
	}
	y := func(fnmr float64) float64 {
		fnmr = math.Max(fnmr, detMinFNMR)
		return float64(detTop) + plotH*(1-(math.Log10(fnmr)-math.Log10(detMinFNMR))/-math.Log10(detMinFNMR))
	}
	grid := color.RGBA{220, 220, 220, 255}
	black := color.RGBA{0, 0, 0, 255}
	for e := 0; e <= 6; e++ {
		v := math.Pow(10, -float64(e))
		line(img, x(v), float64(detTop), x(v), float64(detHeight-detBottom), grid)
		label(img, int(x(v))-12, detHeight-detBottom+16, fmt.Sprintf("1e-%d", e), black)
	}
	for e := 0; e <= 4; e++ {
		v := math.Pow(10, -float64(e))
		line(img, float64(detLeft), y(v), float64(detWidth-detRight), y(v), grid)
		label(img, 10, int(y(v))+4, fmt.Sprintf("1e-%d", e), black)
	}
	rect(img, detLeft, detTop, detWidth-detRight, detHeight-detBottom, black)
	label(img, detLeft+int(plotW)/2-10, detHeight-20, "FMR", black)
	label(img, 10, detTop-10, "FNMR", black)
	label(img, detLeft+int(plotW)/2-len(title)*3, 20, title, black)
	for i, c := range curves {
		col := detPalette[i%len(detPalette)]
		pts := c.Scores.DET()
		for j := 1; j < len(pts); j++ {
			line(img, x(pts[j-1].FMR), y(pts[j-1].FNMR), x(pts[j].FMR), y(pts[j].FNMR), col)
		}
		name := c.Name
		if eer := c.Scores.EER(); !math.IsNaN(eer) {
			name = fmt.Sprintf("%s (EER %.2f%%)", c.Name, 100*eer)
		}
		ly := detTop + 20 + 16*i
		line(img, float64(detWidth-detRight-220), float64(ly-4), float64(detWidth-detRight-200), float64(ly-4), col)
		label(img, detWidth-detRight-195, ly, name, black)
	}
	return png.Encode(w, img)
}

func line(img *image.RGBA, x0, y0, x1, y1 float64, c color.RGBA) {
	n := int(math.Max(math.Abs(x1-x0), math.Abs(y1-y0))) + 1
	for i := 0; i <= n; i++ {
		t := float64(i) / float64(n)
		img.SetRGBA(int(x0+t*(x1-x0)+0.5), int(y0+t*(y1-y0)+0.5), c)
	}
}

func rect(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA) {
	line(img, float64(x0), float64(y0), float64(x1), float64(y0), c)
	line(img, float64(x0), float64(y1), float64(x1), float64(y1), c)
	line(img, float64(x0), float64(y0), float64(x0), float64(y1), c)
	line(img, float64(x1), float64(y0), float64(x1), float64(y1), c)
}

func label(img *image.RGBA, x, y int, s string, c color.RGBA) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
