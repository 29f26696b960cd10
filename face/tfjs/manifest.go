package tfjs

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// ErrManifest reports a weights manifest or shard that cannot be decoded.
var ErrManifest = errors.New("tfjs: bad weights manifest")

// maxElements bounds the size of one weight tensor (64 M values) so a
// corrupt manifest cannot make the decoder allocate without limit.
const maxElements = 64 << 20

// manifestGroup is one entry of a TF.js weights manifest
// (model-weights_manifest.json): shard file names and the weights stored in
// them, concatenated in order.
type manifestGroup struct {
	Paths   []string         `json:"paths"`
	Weights []manifestWeight `json:"weights"`
}

type manifestWeight struct {
	Name         string        `json:"name"`
	Shape        []int         `json:"shape"`
	Dtype        string        `json:"dtype"`
	Quantization *quantization `json:"quantization"`
}

type quantization struct {
	Dtype string   `json:"dtype"`
	Scale *float64 `json:"scale"`
	Min   *float64 `json:"min"`
}

// Weights maps a weight name (e.g. "conv32_1/conv1/conv/filters") to its
// dequantised values.
type Weights map[string]*Tensor

// DecodeManifest reads a TF.js weights manifest and its shards, returned by
// shard for each path the manifest names, and dequantises every weight to
// float32.
func DecodeManifest(manifest []byte, shard func(path string) ([]byte, error)) (Weights, error) {
	var groups []manifestGroup
	if err := json.Unmarshal(manifest, &groups); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrManifest, err)
	}
	out := Weights{}
	for _, g := range groups {
		var buf []byte
		for _, p := range g.Paths {
			b, err := shard(p)
			if err != nil {
				return nil, fmt.Errorf("tfjs: shard %q: %w", p, err)
			}
			buf = append(buf, b...)
		}
		for _, w := range g.Weights {
			t, n, err := decodeWeight(w, buf)
			if err != nil {
				return nil, err
			}
			buf = buf[n:]
			out[w.Name] = t
		}
	}
	return out, nil
}

// decodeWeight decodes one weight from the front of buf and returns it with
// the number of bytes it used.
func decodeWeight(w manifestWeight, buf []byte) (*Tensor, int, error) {
	n := 1
	for _, d := range w.Shape {
		if d < 0 || (d > 0 && n > maxElements/d) {
			return nil, 0, fmt.Errorf("%w: weight %q has shape %v", ErrManifest, w.Name, w.Shape)
		}
		n *= d
	}
	q := w.Quantization
	if w.Dtype == "int32" && q == nil {
		// Graph models keep small integer constants (reduction axes,
		// shapes) beside the weights; they are exact in float32.
		if len(buf) < 4*n {
			return nil, 0, fmt.Errorf("%w: weight %q truncated", ErrManifest, w.Name)
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(int32(binary.LittleEndian.Uint32(buf[4*i:])))
		}
		return &Tensor{Shape: append([]int(nil), w.Shape...), Data: data}, 4 * n, nil
	}
	if w.Dtype != "float32" {
		return nil, 0, fmt.Errorf("%w: weight %q has dtype %q", ErrManifest, w.Name, w.Dtype)
	}
	size := 4
	if q != nil {
		switch q.Dtype {
		case "uint8":
			size = 1
		case "uint16", "float16":
			size = 2
		default:
			return nil, 0, fmt.Errorf("%w: weight %q has quantization %q", ErrManifest, w.Name, q.Dtype)
		}
	}
	// Check the bytes are there before allocating, so a lying manifest
	// cannot make the decoder allocate more than the shards hold.
	if len(buf) < size*n {
		return nil, 0, fmt.Errorf("%w: weight %q truncated", ErrManifest, w.Name)
	}
	data := make([]float32, n)
	if q == nil {
		for i := range data {
			data[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
		}
		return &Tensor{Shape: append([]int(nil), w.Shape...), Data: data}, 4 * n, nil
	}
	switch q.Dtype {
	case "uint8", "uint16":
		if q.Scale == nil || q.Min == nil {
			return nil, 0, fmt.Errorf("%w: weight %q lacks scale or min", ErrManifest, w.Name)
		}
		scale, minimum := float32(*q.Scale), float32(*q.Min)
		for i := range data {
			v := uint32(buf[i])
			if size == 2 {
				v = uint32(binary.LittleEndian.Uint16(buf[2*i:]))
			}
			data[i] = float32(v)*scale + minimum
		}
		return &Tensor{Shape: append([]int(nil), w.Shape...), Data: data}, size * n, nil
	case "float16":
		for i := range data {
			data[i] = float16(binary.LittleEndian.Uint16(buf[2*i:]))
		}
		return &Tensor{Shape: append([]int(nil), w.Shape...), Data: data}, 2 * n, nil
	}
	return nil, 0, fmt.Errorf("%w: weight %q has quantization %q", ErrManifest, w.Name, q.Dtype)
}

// float16 converts an IEEE 754 half-precision value to float32.
func float16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		v := float32(frac) / 1024 / 16384
		if sign != 0 {
			v = -v
		}
		return v
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// Get returns the weight called name with the expected rank, or an error.
func (w Weights) Get(name string, rank int) (*Tensor, error) {
	t, ok := w[name]
	if !ok {
		return nil, fmt.Errorf("%w: missing weight %q", ErrManifest, name)
	}
	if len(t.Shape) != rank {
		return nil, fmt.Errorf("%w: weight %q has shape %v, want rank %d", ErrManifest, name, t.Shape, rank)
	}
	return t, nil
}
