package face

import (
	"fmt"
	"image"
	"math"
	"sort"

	"github.com/huella-abis/huella/face/tfjs"
)

// TinyFaceDetector is face-api's TinyFaceDetector: a Tiny-YOLOv2-style
// single-class detector built from depthwise-separable convolutions, with
// five anchor boxes per cell of a 13×13 (at input 416) grid.
type TinyFaceDetector struct {
	conv0  sepConv
	convs  [5]sepConv
	conv8  sepConv
	inSize int
}

// detectorAnchors are the anchor box sizes in grid cells.
var detectorAnchors = [5]Point{
	{1.603231, 2.094468}, {6.041143, 7.080126}, {2.882459, 3.518061},
	{4.266906, 5.178857}, {9.041765, 10.66308},
}

// detectorMean is the per-channel RGB mean the detector subtracts.
var detectorMean = [3]float32{117.001, 114.697, 97.404}

// NewTinyFaceDetector decodes the embedded TinyFaceDetector weights.
func NewTinyFaceDetector() (*TinyFaceDetector, error) {
	w, err := loadWeights("tiny_face_detector_model")
	if err != nil {
		return nil, err
	}
	d := &TinyFaceDetector{}
	if d.conv0, err = loadSepConv(w, "conv0", true); err != nil {
		return nil, fmt.Errorf("face: detector: %w", err)
	}
	for i := range d.convs {
		if d.convs[i], err = loadSepConv(w, fmt.Sprintf("conv%d", i+1), false); err != nil {
			return nil, fmt.Errorf("face: detector: %w", err)
		}
	}
	if d.conv8, err = loadSepConv(w, "conv8", true); err != nil {
		return nil, fmt.Errorf("face: detector: %w", err)
	}
	return d, nil
}

// Detection is a detected face: its box in image pixels and the detector's
// confidence in [0, 1].
type Detection struct {
	Score float64
	Box   Box
}

// Box is an axis-aligned rectangle in image pixels (floating point).
type Box struct {
	X, Y, Width, Height float64
}

// Area is the box's area in square pixels.
func (b Box) Area() float64 { return max(b.Width, 0) * max(b.Height, 0) }

// IoU is the intersection over union of two boxes.
func (b Box) IoU(o Box) float64 {
	w := math.Min(b.X+b.Width, o.X+o.Width) - math.Max(b.X, o.X)
	h := math.Min(b.Y+b.Height, o.Y+o.Height) - math.Max(b.Y, o.Y)
	if w <= 0 || h <= 0 {
		return 0
	}
	inter := w * h
	return inter / (b.Area() + o.Area() - inter)
}

// Forward runs the network on a normalised [s,s,3] input (s a multiple of
// 32) and returns the raw [s/32, s/32, 25] grid.
func (d *TinyFaceDetector) Forward(e tfjs.Exec, x *tfjs.Tensor) (*tfjs.Tensor, error) {
	out, err := d.conv0.apply(e, x, 1, tfjs.Valid)
	if err != nil {
		return nil, err
	}
	tfjs.LeakyReLU(out, 0.1)
	for _, c := range d.convs {
		out = tfjs.MaxPool(out, 2, 2, tfjs.Same)
		if out, err = c.apply(e, out, 1, tfjs.Same); err != nil {
			return nil, err
		}
		tfjs.LeakyReLU(out, 0.1)
	}
	out = tfjs.MaxPool(out, 2, 1, tfjs.Same)
	return d.conv8.apply(e, out, 1, tfjs.Valid)
}

// Detect finds faces in img with the network input size inputSize (a
// multiple of 32), keeping boxes scoring above minScore after non-maximum
// suppression at IoU iouThreshold, best first.
func (d *TinyFaceDetector) Detect(e tfjs.Exec, img *RGB, inputSize int, minScore, iouThreshold float64) ([]Detection, error) {
	if inputSize <= 0 || inputSize%32 != 0 {
		return nil, fmt.Errorf("face: detector input size %d is not a positive multiple of 32", inputSize)
	}
	x := netInput(img, image.Rect(0, 0, img.Width, img.Height), inputSize, false, detectorMean)
	grid, err := d.Forward(e, x)
	if err != nil {
		return nil, err
	}
	// The image was padded at the bottom or right to a square; boxes are
	// decoded relative to the resized image, as in TinyYolov2Base.extractBoxes.
	scale := float64(inputSize) / float64(max(img.Width, img.Height))
	rw := math.Round(float64(img.Width) * scale)
	rh := math.Round(float64(img.Height) * scale)
	corrX := float64(inputSize) / rw
	corrY := float64(inputSize) / rh
	cells := grid.Shape[0]
	var found []Detection
	for row := 0; row < cells; row++ {
		for col := 0; col < cells; col++ {
			for a, anchor := range detectorAnchors {
				v := grid.Data[((row*cells+col)*len(detectorAnchors)+a)*5:]
				score := sigmoid(float64(v[4]))
				if score <= minScore {
					continue
				}
				cx := (float64(col) + sigmoid(float64(v[0]))) / float64(cells) * corrX
				cy := (float64(row) + sigmoid(float64(v[1]))) / float64(cells) * corrY
				w := math.Exp(float64(v[2])) * anchor.X / float64(cells) * corrX
				h := math.Exp(float64(v[3])) * anchor.Y / float64(cells) * corrY
				found = append(found, Detection{Score: score, Box: Box{
					X: (cx - w/2) * float64(img.Width), Y: (cy - h/2) * float64(img.Height),
					Width: w * float64(img.Width), Height: h * float64(img.Height),
				}})
			}
		}
	}
	return nonMaxSuppression(found, iouThreshold), nil
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// nonMaxSuppression keeps the best-scoring boxes, dropping any that overlap
// a kept one by more than iouThreshold.
func nonMaxSuppression(dets []Detection, iouThreshold float64) []Detection {
	sort.SliceStable(dets, func(i, j int) bool { return dets[i].Score > dets[j].Score })
	var kept []Detection
	for _, d := range dets {
		ok := true
		for _, k := range kept {
			if d.Box.IoU(k.Box) > iouThreshold {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, d)
		}
	}
	return kept
}
