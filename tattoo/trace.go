package tattoo

import (
	"image"
	"image/color"
	"image/draw"
	"math"
)

var (
	keypointColor = color.RGBA{0, 255, 0, 255}
	inlierColor   = color.RGBA{255, 64, 0, 255}
)

// drawKeypoints draws each keypoint on a colour copy of g as a circle sized
// by its level, with a tick for its orientation.
func drawKeypoints(g *image.Gray, kps []Keypoint) *image.RGBA {
	out := image.NewRGBA(g.Bounds())
	draw.Draw(out, out.Bounds(), g, g.Bounds().Min, draw.Src)
	for _, k := range kps {
		r := 3 * math.Pow(pyramidScale, float64(k.Level))
		drawCircle(out, float64(k.X), float64(k.Y), r, keypointColor)
		drawLine(out, float64(k.X), float64(k.Y),
			float64(k.X)+r*math.Cos(float64(k.Angle)), float64(k.Y)+r*math.Sin(float64(k.Angle)), keypointColor)
	}
	return out
}

// DrawMatches draws two normalised crops side by side (probe left,
// candidate right) with every keypoint and a line for each verified match
// of c. probe and candidate are the photographs the templates came from.
func DrawMatches(probeImg, candidateImg image.Image, probe, candidate *Template, c Comparison) *image.RGBA {
	pa := normalizedForDisplay(probeImg, probe)
	pb := normalizedForDisplay(candidateImg, candidate)
	w := pa.Bounds().Dx() + pb.Bounds().Dx()
	h := max(pa.Bounds().Dy(), pb.Bounds().Dy())
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, pa.Bounds(), pa, image.Point{}, draw.Src)
	off := float64(pa.Bounds().Dx())
	draw.Draw(out, pb.Bounds().Add(image.Pt(pa.Bounds().Dx(), 0)), pb, image.Point{}, draw.Src)
	for _, k := range probe.Keypoints {
		drawCircle(out, float64(k.X), float64(k.Y), 2, keypointColor)
	}
	for _, k := range candidate.Keypoints {
		drawCircle(out, float64(k.X)+off, float64(k.Y), 2, keypointColor)
	}
	for _, m := range c.Inliers {
		a, b := probe.Keypoints[m.Probe], candidate.Keypoints[m.Candidate]
		drawLine(out, float64(a.X), float64(a.Y), float64(b.X)+off, float64(b.Y), inlierColor)
	}
	return out
}

// normalizedForDisplay returns the colour crop of img resampled to the
// template's normalised size.
func normalizedForDisplay(img image.Image, t *Template) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, t.Width, t.Height))
	if img == nil {
		return out
	}
	b := img.Bounds()
	r := t.Region.Add(b.Min)
	for y := 0; y < t.Height; y++ {
		sy := r.Min.Y + int(float64(y)/t.Scale)
		for x := 0; x < t.Width; x++ {
			sx := r.Min.X + int(float64(x)/t.Scale)
			if image.Pt(sx, sy).In(b) {
				out.Set(x, y, img.At(sx, sy))
			}
		}
	}
	return out
}

func drawCircle(img *image.RGBA, cx, cy, r float64, c color.RGBA) {
	steps := max(8, int(2*math.Pi*r))
	for i := 0; i < steps; i++ {
		a := 2 * math.Pi * float64(i) / float64(steps)
		img.SetRGBA(int(math.Round(cx+r*math.Cos(a))), int(math.Round(cy+r*math.Sin(a))), c)
	}
}

func drawLine(img *image.RGBA, x0, y0, x1, y1 float64, c color.RGBA) {
	n := int(math.Max(math.Abs(x1-x0), math.Abs(y1-y0))) + 1
	for i := 0; i <= n; i++ {
		t := float64(i) / float64(n)
		img.SetRGBA(int(math.Round(x0+(x1-x0)*t)), int(math.Round(y0+(y1-y0)*t)), c)
	}
}
