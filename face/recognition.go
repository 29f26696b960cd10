package face

import (
	"fmt"
	"image"
	"strings"

	"github.com/huella-abis/huella/face/tfjs"
)

// RecognitionNet is face-api's FaceRecognitionNet: a port of dlib's
// ResNet-34-style face descriptor network (29 convolutions) that maps a
// 150×150 RGB face crop to a 128-d descriptor.
type RecognitionNet struct {
	down   convScale      // conv32_down: 7×7 stride 2
	blocks []residualUnit // conv32_1 … conv256_down_out
	fc     *tfjs.Tensor   // [256,128]
}

// convScale is a convolution followed by a per-channel scale layer.
type convScale struct {
	filters, bias, scaleW, scaleB *tfjs.Tensor
}

// residualUnit is two convScale layers with an identity (or, when down,
// average-pooled and zero-padded) shortcut.
type residualUnit struct {
	conv1, conv2 convScale
	down         bool
}

// recognitionBlocks lists the residual units in forward order; the ones
// whose name contains "down" halve the resolution.
var recognitionBlocks = []string{
	"conv32_1", "conv32_2", "conv32_3",
	"conv64_down", "conv64_1", "conv64_2", "conv64_3",
	"conv128_down", "conv128_1", "conv128_2",
	"conv256_down", "conv256_1", "conv256_2", "conv256_down_out",
}

// NewRecognitionNet decodes the embedded FaceRecognitionNet weights.
func NewRecognitionNet() (*RecognitionNet, error) {
	w, err := loadWeights("face_recognition_model")
	if err != nil {
		return nil, err
	}
	n := &RecognitionNet{}
	if n.down, err = loadConvScale(w, "conv32_down"); err != nil {
		return nil, err
	}
	for _, name := range recognitionBlocks {
		u := residualUnit{down: strings.Contains(name, "down")}
		if u.conv1, err = loadConvScale(w, name+"/conv1"); err != nil {
			return nil, err
		}
		if u.conv2, err = loadConvScale(w, name+"/conv2"); err != nil {
			return nil, err
		}
		n.blocks = append(n.blocks, u)
	}
	if n.fc, err = w.Get("fc", 2); err != nil {
		return nil, fmt.Errorf("face: recognition net: %w", err)
	}
	return n, nil
}

func loadConvScale(w tfjs.Weights, prefix string) (convScale, error) {
	var c convScale
	var err error
	if c.filters, err = w.Get(prefix+"/conv/filters", 4); err != nil {
		return c, fmt.Errorf("face: recognition net: %w", err)
	}
	if c.bias, err = w.Get(prefix+"/conv/bias", 1); err != nil {
		return c, fmt.Errorf("face: recognition net: %w", err)
	}
	if c.scaleW, err = w.Get(prefix+"/scale/weights", 1); err != nil {
		return c, fmt.Errorf("face: recognition net: %w", err)
	}
	if c.scaleB, err = w.Get(prefix+"/scale/biases", 1); err != nil {
		return c, fmt.Errorf("face: recognition net: %w", err)
	}
	return c, nil
}

// RecognitionInputSize is the side of the recognition network's input.
const RecognitionInputSize = 150

// recognitionMean is the per-channel RGB mean the network subtracts.
var recognitionMean = [3]float32{122.782, 117.001, 104.298}

// Descriptor runs the network on region of img (padded to a centred
// square and resized to 150×150) and returns the raw 128-d descriptor.
func (n *RecognitionNet) Descriptor(e tfjs.Exec, img *RGB, region image.Rectangle) ([]float32, error) {
	if region.Empty() {
		return nil, fmt.Errorf("%w: empty face region", ErrImage)
	}
	x := netInput(img, region, RecognitionInputSize, true, recognitionMean)
	return n.Forward(e, x)
}

// Forward runs the network on a normalised [150,150,3] input.
func (n *RecognitionNet) Forward(e tfjs.Exec, x *tfjs.Tensor) ([]float32, error) {
	out, err := n.down.apply(e, x, 2, tfjs.Valid, true)
	if err != nil {
		return nil, err
	}
	out = tfjs.MaxPool(out, 3, 2, tfjs.Valid)
	for _, u := range n.blocks {
		if out, err = u.apply(e, out); err != nil {
			return nil, err
		}
	}
	d, err := tfjs.Dense(tfjs.Mean(out), n.fc, nil)
	if err != nil {
		return nil, err
	}
	return d.Data, nil
}

func (c convScale) apply(e tfjs.Exec, x *tfjs.Tensor, stride int, pad tfjs.Padding, relu bool) (*tfjs.Tensor, error) {
	out, err := e.Conv2D(x, c.filters, c.bias, stride, pad)
	if err != nil {
		return nil, err
	}
	tfjs.Scale(out, c.scaleW, c.scaleB)
	if relu {
		tfjs.ReLU(out)
	}
	return out, nil
}

func (u residualUnit) apply(e tfjs.Exec, x *tfjs.Tensor) (*tfjs.Tensor, error) {
	stride, pad := 1, tfjs.Same
	if u.down {
		stride, pad = 2, tfjs.Valid
	}
	out, err := u.conv1.apply(e, x, stride, pad, true)
	if err != nil {
		return nil, err
	}
	if out, err = u.conv2.apply(e, out, 1, tfjs.Same, false); err != nil {
		return nil, err
	}
	shortcut := x
	if u.down {
		shortcut = tfjs.AvgPool(x, 2, 2, tfjs.Valid)
		h, w, c := out.Dims()
		sh, sw, _ := shortcut.Dims()
		// face-api pads the convolution branch with a zero row and column
		// when it came out one smaller than the pooled shortcut, and the
		// shortcut with zero channels when the width doubles.
		out = tfjs.PadTo(out, max(h, sh), max(w, sw), c)
		shortcut = tfjs.PadTo(shortcut, max(h, sh), max(w, sw), c)
	}
	if err := tfjs.Add(out, shortcut); err != nil {
		return nil, err
	}
	tfjs.ReLU(out)
	return out, nil
}
