// Package tfjs is a small CPU tensor runtime for the TensorFlow.js layers
// models that face/ ships: it reads the TF.js weights manifest and shard
// format (float32, float16 and uint8/uint16-quantised weights) and implements
// exactly the operations those networks use, in float32, in the NHWC layout
// of TF.js for a single image (batch 1).
package tfjs

import "fmt"

// Tensor is a dense float32 tensor in row-major order. Feature maps are
// [height, width, channels]; convolution filters are TF.js's
// [kernelHeight, kernelWidth, inChannels, outChannels].
type Tensor struct {
	Shape []int
	Data  []float32
}

// New returns a zero tensor of the given shape.
func New(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, numElements(shape))}
}

// FromData wraps data (not copied) as a tensor of the given shape.
func FromData(data []float32, shape ...int) (*Tensor, error) {
	if n := numElements(shape); n != len(data) {
		return nil, fmt.Errorf("tfjs: shape %v needs %d values, have %d", shape, n, len(data))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}, nil
}

// Len is the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Dims returns height, width and channels of a rank-3 feature map.
func (t *Tensor) Dims() (h, w, c int) { return t.Shape[0], t.Shape[1], t.Shape[2] }

func numElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
