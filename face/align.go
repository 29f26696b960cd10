package face

import (
	"fmt"
	"image"
	"math"

	"github.com/huella-abis/huella/face/tfjs"
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

// Alignment selects how the face is cropped for the recognition network.
type Alignment int

const (
	// AlignChip is dlib's get_face_chip (the alignment FaceRecognitionNet's
	// dlib original was trained with): a similarity transform (rotation,
	// scale, shift) fitting 33 of the 68 landmarks (eyes, nose, outer mouth)
	// to dlib's mean face, sampled bilinearly into a 150×150 chip with the
	// padding chipPadding.
	AlignChip Alignment = iota
	// AlignFaceAPI is face-api's withFaceDescriptor crop (FaceLandmarks
	// alignDlib): an upright square from the eye and mouth centres, padded
	// and resized to 150×150. The reference tests use it.
	AlignFaceAPI
)

// dlibMeanFace holds dlib's mean positions of landmarks 17–67 in the unit
// square (dlib/image_transforms/interpolation.h, get_face_chip_details).
var dlibMeanFace = [2][51]float64{{
	0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124,
	0.904991, 0.98004, 0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036,
	0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918,
	0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149,
	0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721,
	0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874,
	0.553364, 0.490127, 0.42689,
}, {
	0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891,
	0.0187482, 0.038915, 0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326,
	0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733,
	0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099,
	0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805,
	0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746,
	0.784792, 0.824182, 0.831803, 0.824182,
}}

// Similarity2D is the transform image = [A −B; B A]·chip + (TX, TY) from
// chip pixel coordinates to image pixel coordinates.
type Similarity2D struct {
	A, B, TX, TY float64
}

// Apply maps a chip point into the image.
func (s Similarity2D) Apply(p Point) Point {
	return Point{X: s.A*p.X - s.B*p.Y + s.TX, Y: s.B*p.X + s.A*p.Y + s.TY}
}

// chipTransform fits, by least squares, the similarity taking dlib's mean
// face (scaled to a size×size chip with padding) onto the landmarks.
func chipTransform(l Landmarks68, size int, padding float64) Similarity2D {
	var from, to []Point
	for i := 17; i < 68; i++ {
		if (55 <= i && i <= 59) || (65 <= i && i <= 67) || i <= 26 {
			continue // lower lip and eyebrows, as dlib
		}
		from = append(from, Point{
			X: (padding + dlibMeanFace[0][i-17]) / (2*padding + 1) * float64(size),
			Y: (padding + dlibMeanFace[1][i-17]) / (2*padding + 1) * float64(size),
		})
		to = append(to, l[i])
	}
	return fitSimilarity(from, to)
}

// ChipTransform is AlignChip's transform for a size×size chip with the
// given padding, so that a second embedder can crop the face the same way.
func (l Landmarks68) ChipTransform(size int, padding float64) Similarity2D {
	return chipTransform(l, size, padding)
}

// Bilinear samples img at (x, y) bilinearly; outside the image is black.
func (img *RGB) Bilinear(x, y float64) (r, g, b float32) {
	return sampleBilinear(img, x, y)
}

// chipInput samples the size×size chip of img under transform t into a
// normalised network input (bilinear; outside the image is black).
func chipInput(img *RGB, t Similarity2D, size int, mean [3]float32) *tfjs.Tensor {
	out := tfjs.New(size, size, 3)
	for v := 0; v < size; v++ {
		for u := 0; u < size; u++ {
			p := t.Apply(Point{X: float64(u), Y: float64(v)})
			r, g, b := sampleBilinear(img, p.X, p.Y)
			o := 3 * (v*size + u)
			out.Data[o] = (r - mean[0]) / 255
			out.Data[o+1] = (g - mean[1]) / 255
			out.Data[o+2] = (b - mean[2]) / 255
		}
	}
	return out
}

func sampleBilinear(img *RGB, x, y float64) (float32, float32, float32) {
	x0, y0 := int(math.Floor(x)), int(math.Floor(y))
	fx, fy := float32(x-float64(x0)), float32(y-float64(y0))
	at := func(px, py int) (float32, float32, float32) {
		if px < 0 || py < 0 || px >= img.Width || py >= img.Height {
			return 0, 0, 0
		}
		o := 3 * (py*img.Width + px)
		return float32(img.Pix[o]), float32(img.Pix[o+1]), float32(img.Pix[o+2])
	}
	r00, g00, b00 := at(x0, y0)
	r01, g01, b01 := at(x0+1, y0)
	r10, g10, b10 := at(x0, y0+1)
	r11, g11, b11 := at(x0+1, y0+1)
	return lerp2(r00, r01, r10, r11, fx, fy), lerp2(g00, g01, g10, g11, fx, fy), lerp2(b00, b01, b10, b11, fx, fy)
}

// chipBounds is the image bounding box of a size×size chip under t.
func chipBounds(t Similarity2D, size int) image.Rectangle {
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, c := range []Point{{0, 0}, {float64(size), 0}, {0, float64(size)}, {float64(size), float64(size)}} {
		p := t.Apply(c)
		minX, minY = math.Min(minX, p.X), math.Min(minY, p.Y)
		maxX, maxY = math.Max(maxX, p.X), math.Max(maxY, p.Y)
	}
	return image.Rect(int(math.Floor(minX)), int(math.Floor(minY)), int(math.Ceil(maxX)), int(math.Ceil(maxY)))
}

// dlibMeanFace5 holds the unit-square positions dlib's get_face_chip_details
// gives the five points of shape_predictor_5_face_landmarks: the outer and
// inner corners of the eye on the image's right, then of the eye on its
// left, then the base of the nose.
var dlibMeanFace5 = [5]Point{
	{0.8595674595992, 0.2134981538014},
	{0.6460604764104, 0.2289674387677},
	{0.1205750620789, 0.2137274526848},
	{0.3340850613712, 0.2290642403242},
	{0.4901123135679, 0.6277975316475},
}

// chip5Transform is dlib's get_face_chip_details for five points followed by
// extract_image_chip's mapping: the least squares similarity taking the
// padded mean face onto the points defines a square of side size·scale − 1
// centred on the image of the chip centre (size/2, size/2); chip pixels
// 0 … size−1 span that square.
func chip5Transform(pts []Point, size int, padding float64) Similarity2D {
	from := make([]Point, len(dlibMeanFace5))
	for i, p := range dlibMeanFace5 {
		from[i] = Point{
			X: (padding + p.X) / (2*padding + 1) * float64(size),
			Y: (padding + p.Y) / (2*padding + 1) * float64(size),
		}
	}
	t := fitSimilarity(from, pts)
	half := float64(size) / 2
	c := t.Apply(Point{X: half, Y: half})
	scale := math.Hypot(t.A, t.B)
	k := (float64(size)*scale - 1) / float64(size-1) / scale
	s := Similarity2D{A: t.A * k, B: t.B * k}
	h := float64(size-1) / 2
	s.TX = c.X - s.A*h + s.B*h
	s.TY = c.Y - s.B*h - s.A*h
	return s
}

// fitSimilarity is the least squares similarity taking from onto to.
func fitSimilarity(from, to []Point) Similarity2D {
	fc, tc := centre(from), centre(to)
	var num1, num2, den float64
	for i := range from {
		fx, fy := from[i].X-fc.X, from[i].Y-fc.Y
		tx, ty := to[i].X-tc.X, to[i].Y-tc.Y
		num1 += fx*tx + fy*ty
		num2 += fx*ty - fy*tx
		den += fx*fx + fy*fy
	}
	s := Similarity2D{A: num1 / den, B: num2 / den}
	s.TX = tc.X - (s.A*fc.X - s.B*fc.Y)
	s.TY = tc.Y - (s.B*fc.X + s.A*fc.Y)
	return s
}

// Chip5 is dlib's get_face_chip for the five points of
// shape_predictor_5_face_landmarks (in dlib's order, as integer pixels as
// dlib returns them): a size×size RGB crop, interleaved, identical to
// dlib's to the grey level.
func Chip5(img *RGB, parts []Point, size int, padding float64) ([]byte, error) {
	if len(parts) != len(dlibMeanFace5) || size < 2 || padding < 0 {
		return nil, fmt.Errorf("%w: face chip needs 5 points, a size ≥ 2 and padding ≥ 0", ErrImage)
	}
	return chipPixels(img, chip5Transform(parts, size, padding), size), nil
}

// chipPixels samples the size×size chip of img under t as dlib's
// extract_image_chip does: bilinear, each channel truncated to an integer,
// black where any of the four neighbours lies outside the image. It returns
// the chip as interleaved RGB bytes.
func chipPixels(img *RGB, t Similarity2D, size int) []byte {
	out := make([]byte, 3*size*size)
	for v := 0; v < size; v++ {
		for u := 0; u < size; u++ {
			p := t.Apply(Point{X: float64(u), Y: float64(v)})
			x0, y0 := int(math.Floor(p.X)), int(math.Floor(p.Y))
			if x0 < 0 || y0 < 0 || x0+1 >= img.Width || y0+1 >= img.Height {
				continue
			}
			fx, fy := p.X-float64(x0), p.Y-float64(y0)
			o := 3 * (y0*img.Width + x0)
			row := 3 * img.Width
			for ch := 0; ch < 3; ch++ {
				tl, tr := float64(img.Pix[o+ch]), float64(img.Pix[o+3+ch])
				bl, br := float64(img.Pix[o+row+ch]), float64(img.Pix[o+row+3+ch])
				val := (1-fy)*((1-fx)*tl+fx*tr) + fy*((1-fx)*bl+fx*br)
				out[3*(v*size+u)+ch] = byte(min(255, max(0, val)))
			}
		}
	}
	return out
}
