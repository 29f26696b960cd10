package face

import (
	"image"
	"image/color"
	"image/draw"

	"github.com/huella-abis/huella/face/tfjs"
)

// Trace keys, stable for tools that read them.
const (
	TraceDetections  = "detections"   // the photo with every detected box
	TraceLandmarks   = "landmarks"    // the photo with the chosen box and its 68 landmarks
	TraceAlignedCrop = "aligned-crop" // the 150×150 crop the recognition net sees
)

// toImage converts RGB to a drawable image.
func toImage(img *RGB) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, img.Width, img.Height))
	for i := 0; i < img.Width*img.Height; i++ {
		out.Pix[4*i], out.Pix[4*i+1], out.Pix[4*i+2], out.Pix[4*i+3] = img.Pix[3*i], img.Pix[3*i+1], img.Pix[3*i+2], 255
	}
	return out
}

func drawBox(m *image.RGBA, b Box, c color.RGBA) {
	x0, y0, x1, y1 := int(b.X), int(b.Y), int(b.X+b.Width), int(b.Y+b.Height)
	for x := x0; x <= x1; x++ {
		m.SetRGBA(x, y0, c)
		m.SetRGBA(x, y1, c)
	}
	for y := y0; y <= y1; y++ {
		m.SetRGBA(x0, y, c)
		m.SetRGBA(x1, y, c)
	}
}

func drawDetections(img *RGB, dets []Detection) image.Image {
	m := toImage(img)
	for _, d := range dets {
		drawBox(m, d.Box, color.RGBA{0, 255, 0, 255})
	}
	return m
}

func drawLandmarks(img *RGB, box Box, l Landmarks68) image.Image {
	m := toImage(img)
	drawBox(m, box, color.RGBA{0, 255, 0, 255})
	for _, p := range l {
		x, y := int(p.X+0.5), int(p.Y+0.5)
		draw.Draw(m, image.Rect(x-1, y-1, x+2, y+2), image.NewUniform(color.RGBA{255, 0, 0, 255}), image.Point{}, draw.Src)
	}
	return m
}

// tensorImage renders a normalised network input [s,s,3] as an image.
func tensorImage(t *tfjs.Tensor, mean [3]float32) image.Image {
	h, w, _ := t.Dims()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ {
		for c := 0; c < 3; c++ {
			m.Pix[4*i+c] = clamp8(float64(t.Data[3*i+c]*255 + mean[c]))
		}
		m.Pix[4*i+3] = 255
	}
	return m
}
