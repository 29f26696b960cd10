package onnx

import (
	"fmt"

	"github.com/huella-abis/huella/face/tfjs"
)

// Net is a Model prepared to run: convolution weights transposed to tfjs's
// layouts once.
type Net struct {
	m     *Model
	convs map[int]*conv
}

// conv is one Conv node in tfjs layout.
type conv struct {
	filter    *tfjs.Tensor // [kh,kw,cin,cout], or [kh,kw,c,1] when depthwise
	bias      *tfjs.Tensor // [cout] or nil
	depthwise bool
	stride    int
	pads      [4]int // top, left, bottom, right
}

// Prepare checks that every node is an operator this package runs and
// converts the convolution weights.
func Prepare(m *Model) (*Net, error) {
	n := &Net{m: m, convs: map[int]*conv{}}
	arity := map[string]int{"Conv": 2, "PRelu": 2, "Add": 2, "Relu": 1, "Reshape": 1, "Flatten": 1}
	for i, node := range m.Nodes {
		if want, ok := arity[node.Op]; ok && len(node.Inputs) < want {
			return nil, fmt.Errorf("%w: node %d: %s with %d inputs", ErrModel, i, node.Op, len(node.Inputs))
		}
		switch node.Op {
		case "Conv":
			c, err := prepareConv(m, node)
			if err != nil {
				return nil, fmt.Errorf("node %d: %w", i, err)
			}
			n.convs[i] = c
		case "PRelu", "Add", "Relu", "Reshape", "Flatten":
		default:
			return nil, fmt.Errorf("%w: operator %s not supported", ErrModel, node.Op)
		}
	}
	return n, nil
}

func prepareConv(m *Model, node Node) (*conv, error) {
	if len(node.Inputs) < 2 {
		return nil, fmt.Errorf("%w: conv without weights", ErrModel)
	}
	w := m.Weights[node.Inputs[1]]
	if w == nil || len(w.Shape) != 4 {
		return nil, fmt.Errorf("%w: conv weights %q missing or not 4-d", ErrModel, node.Inputs[1])
	}
	cout, cinG, kh, kw := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	if cout < 1 || cinG < 1 || kh < 1 || kw < 1 {
		return nil, fmt.Errorf("%w: conv weights of shape %v", ErrModel, w.Shape)
	}
	group := int(node.Int["group"])
	if group == 0 {
		group = 1
	}
	c := &conv{stride: 1}
	if s := node.Ints["strides"]; len(s) == 2 {
		if s[0] != s[1] || s[0] < 1 || s[0] > 16 {
			return nil, fmt.Errorf("%w: conv strides %v", ErrModel, s)
		}
		c.stride = int(s[0])
	}
	if d := node.Ints["dilations"]; len(d) == 2 && (d[0] != 1 || d[1] != 1) {
		return nil, fmt.Errorf("%w: dilated conv", ErrModel)
	}
	if p := node.Ints["pads"]; len(p) == 4 {
		for i, v := range p {
			if v < 0 || v > 64 {
				return nil, fmt.Errorf("%w: conv pads %v", ErrModel, p)
			}
			c.pads[i] = int(v)
		}
	}
	switch {
	case group == 1:
		c.filter = tfjs.New(kh, kw, cinG, cout)
		for o := 0; o < cout; o++ {
			for i := 0; i < cinG; i++ {
				for y := 0; y < kh; y++ {
					for x := 0; x < kw; x++ {
						c.filter.Data[((y*kw+x)*cinG+i)*cout+o] = w.Data[((o*cinG+i)*kh+y)*kw+x]
					}
				}
			}
		}
	case group == cout && cinG == 1:
		c.depthwise = true
		c.filter = tfjs.New(kh, kw, cout, 1)
		for o := 0; o < cout; o++ {
			for y := 0; y < kh; y++ {
				for x := 0; x < kw; x++ {
					c.filter.Data[(y*kw+x)*cout+o] = w.Data[(o*kh+y)*kw+x]
				}
			}
		}
	default:
		return nil, fmt.Errorf("%w: conv with %d groups of %d channels", ErrModel, group, cinG)
	}
	if len(node.Inputs) > 2 {
		b := m.Weights[node.Inputs[2]]
		if b == nil || len(b.Data) != cout {
			return nil, fmt.Errorf("%w: conv bias %q", ErrModel, node.Inputs[2])
		}
		c.bias = &tfjs.Tensor{Shape: []int{cout}, Data: b.Data}
	}
	return c, nil
}

// Run feeds x, a [h,w,c] image tensor, to the graph's input and returns
// the output's values.
func (n *Net) Run(e tfjs.Exec, x *tfjs.Tensor) ([]float32, error) {
	vals := map[string]*tfjs.Tensor{n.m.Input: x}
	get := func(name string) (*tfjs.Tensor, error) {
		if v := vals[name]; v != nil {
			return v, nil
		}
		if v := n.m.Weights[name]; v != nil {
			return v, nil
		}
		return nil, fmt.Errorf("%w: value %q not computed", ErrModel, name)
	}
	for i, node := range n.m.Nodes {
		in, err := get(node.Inputs[0])
		if err != nil {
			return nil, err
		}
		var out *tfjs.Tensor
		switch node.Op {
		case "Conv":
			c := n.convs[i]
			if len(in.Shape) != 3 {
				return nil, fmt.Errorf("%w: conv on a %d-d value", ErrModel, len(in.Shape))
			}
			if c.depthwise && in.Shape[2] != c.filter.Shape[2] {
				return nil, fmt.Errorf("%w: depthwise conv of %d channels on %v", ErrModel, c.filter.Shape[2], in.Shape)
			}
			p := padHW(in, c.pads)
			if p.Shape[0] < c.filter.Shape[0] || p.Shape[1] < c.filter.Shape[1] {
				return nil, fmt.Errorf("%w: conv input %v smaller than its kernel", ErrModel, p.Shape)
			}
			if c.depthwise {
				if out, err = e.DepthwiseConv2D(p, c.filter, c.stride, tfjs.Valid); err == nil && c.bias != nil {
					tfjs.AddBias(out, c.bias)
				}
			} else {
				out, err = e.Conv2D(p, c.filter, c.bias, c.stride, tfjs.Valid)
			}
			if err != nil {
				return nil, err
			}
		case "PRelu":
			slope, err := get(node.Inputs[1])
			if err != nil {
				return nil, err
			}
			out, err = prelu(in, slope)
			if err != nil {
				return nil, err
			}
		case "Relu":
			out = &tfjs.Tensor{Shape: in.Shape, Data: append([]float32(nil), in.Data...)}
			tfjs.ReLU(out)
		case "Add":
			y, err := get(node.Inputs[1])
			if err != nil {
				return nil, err
			}
			if len(y.Data) != len(in.Data) {
				return nil, fmt.Errorf("%w: add of %v and %v", ErrModel, in.Shape, y.Shape)
			}
			out = &tfjs.Tensor{Shape: in.Shape, Data: append([]float32(nil), in.Data...)}
			if err := tfjs.Add(out, y); err != nil {
				return nil, err
			}
		case "Reshape", "Flatten":
			// The embedders flatten a 1×1×C map: the values keep their order.
			h, w := 1, 1
			if len(in.Shape) == 3 {
				h, w = in.Shape[0], in.Shape[1]
			}
			if h != 1 || w != 1 {
				return nil, fmt.Errorf("%w: %s of a %v map", ErrModel, node.Op, in.Shape)
			}
			out = &tfjs.Tensor{Shape: []int{len(in.Data)}, Data: in.Data}
		}
		vals[node.Outputs[0]] = out
	}
	v, err := get(n.m.Output)
	if err != nil {
		return nil, err
	}
	return v.Data, nil
}

// padHW zero-pads a [h,w,c] map by pads (top, left, bottom, right).
func padHW(x *tfjs.Tensor, pads [4]int) *tfjs.Tensor {
	if pads == [4]int{} {
		return x
	}
	h, w, c := x.Dims()
	h2, w2 := h+pads[0]+pads[2], w+pads[1]+pads[3]
	out := tfjs.New(h2, w2, c)
	for y := 0; y < h; y++ {
		copy(out.Data[((y+pads[0])*w2+pads[1])*c:], x.Data[y*w*c:(y+1)*w*c])
	}
	return out
}

// prelu is max(x, 0) + slope·min(x, 0) with one slope per channel.
func prelu(x, slope *tfjs.Tensor) (*tfjs.Tensor, error) {
	if len(x.Shape) == 0 {
		return nil, fmt.Errorf("%w: prelu of a scalar", ErrModel)
	}
	c := x.Shape[len(x.Shape)-1]
	if c == 0 || (len(slope.Data) != c && len(slope.Data) != 1) {
		return nil, fmt.Errorf("%w: prelu slope of %d for %d channels", ErrModel, len(slope.Data), c)
	}
	out := &tfjs.Tensor{Shape: x.Shape, Data: make([]float32, len(x.Data))}
	for i, v := range x.Data {
		if v >= 0 {
			out.Data[i] = v
			continue
		}
		s := slope.Data[0]
		if len(slope.Data) > 1 {
			s = slope.Data[i%c]
		}
		out.Data[i] = s * v
	}
	return out, nil
}
