// Package onnx reads ONNX models (the protobuf ModelProto, weights inline)
// and runs the few operators of the face embedders that ship as ONNX —
// Conv (grouped and depthwise, explicit pads), PRelu, Add, Relu, Reshape,
// Flatten — on the face/tfjs runtime, for one image (batch 1). Feature maps
// live in tfjs's [height, width, channels] layout; ONNX's NCHW weights are
// transposed once at load time.
package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/huella-abis/huella/face/tfjs"
)

// ErrModel reports a model that cannot be decoded or run.
var ErrModel = errors.New("onnx: bad model")

// Node is one operator application of the graph.
type Node struct {
	Op      string
	Inputs  []string
	Outputs []string
	Ints    map[string][]int64
	Int     map[string]int64
}

// Model is a decoded graph: nodes in topological order, constant tensors
// (initializers) with their ONNX shapes, and the graph's input and output
// names.
type Model struct {
	Nodes   []Node
	Weights map[string]*tfjs.Tensor
	Input   string
	Output  string
}

// Limits bounding what a malformed file can make the decoder allocate.
const (
	maxNodes  = 10000
	maxRank   = 8
	maxValues = 1 << 28
)

// protobuf wire types.
const (
	wireVarint = 0
	wire64     = 1
	wireBytes  = 2
	wire32     = 5
)

type field struct {
	num, wire int
	v         uint64
	b         []byte
}

// fields splits one protobuf message into its fields.
func fields(b []byte) ([]field, error) {
	var out []field
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, fmt.Errorf("%w: bad field key", ErrModel)
		}
		b = b[n:]
		f := field{num: int(key >> 3), wire: int(key & 7)}
		switch f.wire {
		case wireVarint:
			if f.v, n = binary.Uvarint(b); n <= 0 {
				return nil, fmt.Errorf("%w: bad varint", ErrModel)
			}
			b = b[n:]
		case wire64:
			if len(b) < 8 {
				return nil, fmt.Errorf("%w: truncated", ErrModel)
			}
			f.v, b = binary.LittleEndian.Uint64(b), b[8:]
		case wire32:
			if len(b) < 4 {
				return nil, fmt.Errorf("%w: truncated", ErrModel)
			}
			f.v, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		case wireBytes:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return nil, fmt.Errorf("%w: truncated", ErrModel)
			}
			f.b, b = b[n:n+int(l)], b[n+int(l):]
		default:
			return nil, fmt.Errorf("%w: wire type %d", ErrModel, f.wire)
		}
		out = append(out, f)
	}
	return out, nil
}

// int64s reads a repeated int64 field, packed or not.
func int64s(f field, into []int64) ([]int64, error) {
	if f.wire == wireVarint {
		return append(into, int64(f.v)), nil
	}
	b := f.b
	for len(b) > 0 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, fmt.Errorf("%w: bad packed varint", ErrModel)
		}
		into, b = append(into, int64(v)), b[n:]
	}
	return into, nil
}

// Decode reads a ModelProto whose weights are stored inline as float32.
func Decode(data []byte) (*Model, error) {
	top, err := fields(data)
	if err != nil {
		return nil, err
	}
	var graph []byte
	for _, f := range top {
		if f.num == 7 && f.wire == wireBytes {
			graph = f.b
		}
	}
	if graph == nil {
		return nil, fmt.Errorf("%w: no graph", ErrModel)
	}
	gf, err := fields(graph)
	if err != nil {
		return nil, err
	}
	m := &Model{Weights: map[string]*tfjs.Tensor{}}
	var inputs []string
	for _, f := range gf {
		if f.wire != wireBytes {
			continue
		}
		switch f.num {
		case 1:
			if len(m.Nodes) >= maxNodes {
				return nil, fmt.Errorf("%w: too many nodes", ErrModel)
			}
			n, err := decodeNode(f.b)
			if err != nil {
				return nil, err
			}
			m.Nodes = append(m.Nodes, n)
		case 5:
			name, t, err := decodeTensor(f.b)
			if err != nil {
				return nil, err
			}
			m.Weights[name] = t
		case 11, 12:
			name, err := valueName(f.b)
			if err != nil {
				return nil, err
			}
			if f.num == 11 {
				inputs = append(inputs, name)
			} else if m.Output == "" {
				m.Output = name
			}
		}
	}
	for _, in := range inputs {
		if _, isWeight := m.Weights[in]; !isWeight && m.Input == "" {
			m.Input = in
		}
	}
	if m.Input == "" || m.Output == "" || len(m.Nodes) == 0 {
		return nil, fmt.Errorf("%w: graph without input, output or nodes", ErrModel)
	}
	return m, nil
}

func valueName(b []byte) (string, error) {
	fs, err := fields(b)
	if err != nil {
		return "", err
	}
	for _, f := range fs {
		if f.num == 1 && f.wire == wireBytes {
			return string(f.b), nil
		}
	}
	return "", fmt.Errorf("%w: value without a name", ErrModel)
}

func decodeNode(b []byte) (Node, error) {
	n := Node{Ints: map[string][]int64{}, Int: map[string]int64{}}
	fs, err := fields(b)
	if err != nil {
		return n, err
	}
	for _, f := range fs {
		switch {
		case f.num == 1 && f.wire == wireBytes:
			n.Inputs = append(n.Inputs, string(f.b))
		case f.num == 2 && f.wire == wireBytes:
			n.Outputs = append(n.Outputs, string(f.b))
		case f.num == 4 && f.wire == wireBytes:
			n.Op = string(f.b)
		case f.num == 5 && f.wire == wireBytes:
			af, err := fields(f.b)
			if err != nil {
				return n, err
			}
			var name string
			var ints []int64
			hasInt, i := false, int64(0)
			for _, a := range af {
				switch {
				case a.num == 1 && a.wire == wireBytes:
					name = string(a.b)
				case a.num == 3 && a.wire == wireVarint:
					hasInt, i = true, int64(a.v)
				case a.num == 8:
					if ints, err = int64s(a, ints); err != nil {
						return n, err
					}
				}
			}
			if hasInt {
				n.Int[name] = i
			}
			if ints != nil {
				n.Ints[name] = ints
			}
		}
	}
	if n.Op == "" || len(n.Outputs) == 0 {
		return n, fmt.Errorf("%w: node without op or output", ErrModel)
	}
	return n, nil
}

// decodeTensor reads a float32 TensorProto (raw_data or float_data).
func decodeTensor(b []byte) (string, *tfjs.Tensor, error) {
	fs, err := fields(b)
	if err != nil {
		return "", nil, err
	}
	var dims []int64
	var name string
	var raw []byte
	var floats []float32
	dtype := uint64(1)
	for _, f := range fs {
		switch f.num {
		case 1:
			if dims, err = int64s(f, dims); err != nil {
				return "", nil, err
			}
		case 2:
			dtype = f.v
		case 4:
			if f.wire == wire32 {
				floats = append(floats, math.Float32frombits(uint32(f.v)))
			} else if f.wire == wireBytes {
				if len(f.b)%4 != 0 {
					return "", nil, fmt.Errorf("%w: float_data length", ErrModel)
				}
				for i := 0; i < len(f.b); i += 4 {
					floats = append(floats, math.Float32frombits(binary.LittleEndian.Uint32(f.b[i:])))
				}
			}
		case 7:
			// int64_data (Reshape shapes).
			var v []int64
			if v, err = int64s(f, nil); err != nil {
				return "", nil, err
			}
			for _, x := range v {
				floats = append(floats, float32(x))
			}
		case 8:
			name = string(f.b)
		case 9:
			raw = f.b
		}
	}
	if len(dims) > maxRank {
		return "", nil, fmt.Errorf("%w: tensor %q of rank %d", ErrModel, name, len(dims))
	}
	shape := make([]int, len(dims))
	n := 1
	for i, d := range dims {
		if d < 0 || d > maxValues || n*int(d) > maxValues {
			return "", nil, fmt.Errorf("%w: tensor %q too large", ErrModel, name)
		}
		shape[i] = int(d)
		n *= int(d)
	}
	switch {
	case raw != nil && dtype == 1:
		if len(raw) != 4*n {
			return "", nil, fmt.Errorf("%w: tensor %q holds %d bytes, want %d", ErrModel, name, len(raw), 4*n)
		}
		floats = make([]float32, n)
		for i := range floats {
			floats[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case raw != nil && dtype == 7: // int64
		if len(raw) != 8*n {
			return "", nil, fmt.Errorf("%w: tensor %q holds %d bytes, want %d", ErrModel, name, len(raw), 8*n)
		}
		floats = make([]float32, n)
		for i := range floats {
			floats[i] = float32(int64(binary.LittleEndian.Uint64(raw[8*i:])))
		}
	case raw != nil:
		return "", nil, fmt.Errorf("%w: tensor %q of data type %d", ErrModel, name, dtype)
	}
	if len(floats) != n {
		return "", nil, fmt.Errorf("%w: tensor %q holds %d values, want %d", ErrModel, name, len(floats), n)
	}
	return name, &tfjs.Tensor{Shape: shape, Data: floats}, nil
}
