package face

import (
	"image"
	"math"
)

// Landmarks68 holds the 68 iBUG landmarks of one face in image pixels.
type Landmarks68 []Point

func centre(pts []Point) Point {
	var c Point
	for _, p := range pts {
		c.X += p.X
		c.Y += p.Y
	}
	c.X /= float64(len(pts))
	c.Y /= float64(len(pts))
	return c
}

// LeftEye is the centre of landmarks 36–41 (the subject's right eye, on the
// image's left).
func (l Landmarks68) LeftEye() Point { return centre(l[36:42]) }

// RightEye is the centre of landmarks 42–47.
func (l Landmarks68) RightEye() Point { return centre(l[42:48]) }

// Mouth is the centre of landmarks 48–67.
func (l Landmarks68) Mouth() Point { return centre(l[48:68]) }

func dist(a, b Point) float64 { return math.Hypot(a.X-b.X, a.Y-b.Y) }

// alignedRegion is face-api's dlib-style crop (FaceLandmarks.alignDlib then
// Box.clipAtImageBorders): an axis-aligned square sized from the
// eye-to-mouth distance, clipped to the image.
func alignedRegion(l Landmarks68, width, height int) image.Rectangle {
	le, re, mouth := l.LeftEye(), l.RightEye(), l.Mouth()
	eyeToMouth := (dist(mouth, le) + dist(mouth, re)) / 2
	size := math.Floor(eyeToMouth / alignScale)
	ref := centre([]Point{le, re, mouth})
	x := math.Floor(math.Max(0, ref.X-alignRelX*size))
	y := math.Floor(math.Max(0, ref.Y-alignRelY*size))
	return clipBox(Box{X: x, Y: y, Width: size, Height: size}, width, height)
}

// clipBox is face-api's Box.clipAtImageBorders followed by floor.
func clipBox(b Box, width, height int) image.Rectangle {
	x := math.Max(b.X, 0)
	y := math.Max(b.Y, 0)
	w := math.Min(b.X+b.Width-x, float64(width)-x)
	h := math.Min(b.Y+b.Height-y, float64(height)-y)
	fx, fy := int(math.Floor(x)), int(math.Floor(y))
	return image.Rect(fx, fy, fx+int(math.Floor(w)), fy+int(math.Floor(h)))
}
