package face

import (
	"fmt"

	"github.com/huella-abis/huella/face/tfjs"
)

// LandmarkNet is face-api's FaceLandmark68Net: four densely connected blocks
// of depthwise-separable convolutions and a dense layer that regress the 68
// iBUG landmarks from a 112×112 face crop.
type LandmarkNet struct {
	dense   [4]denseBlock
	fc, fcB *tfjs.Tensor
}

// sepConv is a depthwise-separable convolution with bias (or, for the very
// first layer, a plain convolution in filters).
type sepConv struct {
	filters, depthwise, pointwise, bias *tfjs.Tensor
}

func (s sepConv) apply(e tfjs.Exec, x *tfjs.Tensor, stride int, pad tfjs.Padding) (*tfjs.Tensor, error) {
	if s.filters != nil {
		return e.Conv2D(x, s.filters, s.bias, stride, pad)
	}
	return e.SeparableConv2D(x, s.depthwise, s.pointwise, s.bias, stride, pad)
}

type denseBlock [4]sepConv

// LandmarkInputSize is the side of the landmark network's input.
const LandmarkInputSize = 112

// NewLandmarkNet decodes the embedded FaceLandmark68Net weights.
func NewLandmarkNet() (*LandmarkNet, error) {
	w, err := loadWeights("face_landmark_68_model")
	if err != nil {
		return nil, err
	}
	n := &LandmarkNet{}
	for b := range n.dense {
		for c := range n.dense[b] {
			prefix := fmt.Sprintf("dense%d/conv%d", b, c)
			if n.dense[b][c], err = loadSepConv(w, prefix, b == 0 && c == 0); err != nil {
				return nil, fmt.Errorf("face: landmark net: %w", err)
			}
		}
	}
	if n.fc, err = w.Get("fc/weights", 2); err != nil {
		return nil, fmt.Errorf("face: landmark net: %w", err)
	}
	if n.fcB, err = w.Get("fc/bias", 1); err != nil {
		return nil, fmt.Errorf("face: landmark net: %w", err)
	}
	return n, nil
}

func loadSepConv(w tfjs.Weights, prefix string, plain bool) (sepConv, error) {
	var s sepConv
	var err error
	if plain {
		if s.filters, err = w.Get(prefix+"/filters", 4); err != nil {
			return s, err
		}
	} else {
		if s.depthwise, err = w.Get(prefix+"/depthwise_filter", 4); err != nil {
			return s, err
		}
		if s.pointwise, err = w.Get(prefix+"/pointwise_filter", 4); err != nil {
			return s, err
		}
	}
	s.bias, err = w.Get(prefix+"/bias", 1)
	return s, err
}

// Forward runs the network on a normalised [112,112,3] input and returns
// 136 values: x, y of each landmark relative to the input square.
func (n *LandmarkNet) Forward(e tfjs.Exec, x *tfjs.Tensor) ([]float32, error) {
	var err error
	for _, b := range n.dense {
		if x, err = b.apply(e, x); err != nil {
			return nil, err
		}
	}
	x = tfjs.AvgPool(x, 7, 2, tfjs.Valid)
	out, err := tfjs.Dense(x, n.fc, n.fcB)
	if err != nil {
		return nil, err
	}
	return out.Data, nil
}

// apply is face-api's denseBlock4: each separable convolution sees the sum
// of the previous outputs.
func (b denseBlock) apply(e tfjs.Exec, x *tfjs.Tensor) (*tfjs.Tensor, error) {
	out1, err := b[0].apply(e, x, 2, tfjs.Same)
	if err != nil {
		return nil, err
	}
	tfjs.ReLU(out1)
	sum := &tfjs.Tensor{Shape: out1.Shape, Data: append([]float32(nil), out1.Data...)}
	for i := 1; i < 4; i++ {
		in := &tfjs.Tensor{Shape: sum.Shape, Data: append([]float32(nil), sum.Data...)}
		tfjs.ReLU(in)
		o, err := b[i].apply(e, in, 1, tfjs.Same)
		if err != nil {
			return nil, err
		}
		if err := tfjs.Add(sum, o); err != nil {
			return nil, err
		}
	}
	tfjs.ReLU(sum)
	return sum, nil
}

// Landmarks runs the landmark net on the face in box (clipped to the image
// and floored, as face-api's extractFaceTensors) and returns the 68 points in
// image pixels; like face-api it shifts them by the unrounded box corner.
func (n *LandmarkNet) Landmarks(e tfjs.Exec, img *RGB, box Box) (Landmarks68, error) {
	r := clipBox(box, img.Width, img.Height)
	if r.Empty() {
		return nil, fmt.Errorf("%w: face box outside the image", ErrImage)
	}
	x := netInput(img, r, LandmarkInputSize, true, recognitionMean)
	out, err := n.Forward(e, x)
	if err != nil {
		return nil, err
	}
	// Undo the centred square padding (FaceLandmark68NetBase.postProcess).
	w, h := float64(r.Dx()), float64(r.Dy())
	scale := LandmarkInputSize / max(w, h)
	iw, ih := w*scale, h*scale
	padX, padY := 0.0, 0.0
	if iw < ih {
		padX = (ih - iw) / 2
	} else if ih < iw {
		padY = (iw - ih) / 2
	}
	pts := make(Landmarks68, 68)
	for i := range pts {
		rx := (float64(out[2*i])*LandmarkInputSize - padX) / iw
		ry := (float64(out[2*i+1])*LandmarkInputSize - padY) / ih
		pts[i] = Point{X: rx*w + box.X, Y: ry*h + box.Y}
	}
	return pts, nil
}
