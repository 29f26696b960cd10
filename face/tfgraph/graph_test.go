package tfgraph_test

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/huella-abis/huella/face/internal/convref"
	"github.com/huella-abis/huella/face/tfgraph"
	"github.com/huella-abis/huella/face/tfjs"
)

// testWeight is one constant of the small test graph.
type testWeight struct {
	name  string
	shape []int
	data  []float32
}

// ramp returns n values spread over [-1, 1) in a fixed, irregular order.
func ramp(n, seed int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32((i*37+seed*11)%29)/14.5 - 1
	}
	return out
}

// smallModel is a MobileNet-like graph: a 3×3 stride-2 convolution with batch
// norm (Mul, Add) and ReLU6 (Relu, Minimum, Maximum), a 3×3 depthwise
// convolution, Sub, a spatial Mean, a fused dense layer and Softmax.
func smallModel(tb testing.TB) (model []byte, shard []byte, weights map[string]testWeight) {
	tb.Helper()
	ws := []testWeight{
		{"conv/filter", []int{3, 3, 2, 3}, ramp(54, 1)},
		{"bn/mul", []int{3}, []float32{1.5, -2, 0.5}},
		{"bn/add", []int{3}, []float32{0.25, 3, -0.5}},
		{"six", nil, []float32{6}},
		{"zero", nil, []float32{0}},
		{"dw/filter", []int{3, 3, 3, 1}, ramp(27, 2)},
		{"sub", []int{3}, []float32{0.1, 0.2, 0.3}},
		{"axes", []int{2}, []float32{1, 2}},
		{"fc/kernel", []int{3, 2}, ramp(6, 3)},
		{"fc/bias", []int{2}, []float32{0.5, -0.5}},
	}
	weights = map[string]testWeight{}
	type spec struct {
		Name  string `json:"name"`
		Shape []int  `json:"shape"`
		Dtype string `json:"dtype"`
	}
	var specs []spec
	for _, w := range ws {
		weights[w.name] = w
		dtype := "float32"
		if w.name == "axes" {
			dtype = "int32"
		}
		specs = append(specs, spec{w.name, append([]int{}, w.shape...), dtype})
		for _, v := range w.data {
			if dtype == "int32" {
				shard = binary.LittleEndian.AppendUint32(shard, uint32(int32(v)))
			} else {
				shard = binary.LittleEndian.AppendUint32(shard, math.Float32bits(v))
			}
		}
	}
	s := func(v string) map[string]any {
		return map[string]any{"s": base64.StdEncoding.EncodeToString([]byte(v))}
	}
	ints := func(v ...string) map[string]any { return map[string]any{"list": map[string]any{"i": v}} }
	node := func(name, op string, attr map[string]any, in ...string) map[string]any {
		return map[string]any{"name": name, "op": op, "input": in, "attr": attr}
	}
	nodes := []map[string]any{
		node("input", "Placeholder", map[string]any{"shape": map[string]any{"shape": map[string]any{
			"dim": []map[string]any{{"size": "-1"}, {"size": "5"}, {"size": "5"}, {"size": "2"}}}}}),
		node("conv", "Conv2D", map[string]any{"strides": ints("1", "2", "2", "1"), "padding": s("SAME"),
			"dilations": ints("1", "1", "1", "1"), "data_format": s("NHWC")}, "input", "conv/filter"),
		node("bn/m", "Mul", nil, "conv", "bn/mul"),
		node("bn/a", "Add", nil, "bn/m", "bn/add"),
		node("relu", "Relu", nil, "bn/a"),
		node("clip/min", "Minimum", nil, "relu", "six"),
		node("clip", "Maximum", nil, "clip/min", "zero"),
		node("dw", "DepthwiseConv2dNative", map[string]any{"strides": ints("1", "1", "1", "1"), "padding": s("SAME")}, "clip", "dw/filter"),
		node("dwsub", "Sub", nil, "dw", "sub"),
		node("pool", "Mean", map[string]any{"keep_dims": map[string]any{"b": false}}, "dwsub", "axes"),
		node("fc", "_FusedMatMul", map[string]any{"fused_ops": map[string]any{"list": map[string]any{
			"s": []string{base64.StdEncoding.EncodeToString([]byte("BiasAdd"))}}}}, "pool", "fc/kernel", "fc/bias"),
		node("prob", "Softmax", nil, "fc"),
	}
	for _, w := range ws {
		nodes = append(nodes, node(w.name, "Const", nil))
	}
	model, err := json.Marshal(map[string]any{
		"format":          "graph-model",
		"modelTopology":   map[string]any{"node": nodes},
		"weightsManifest": []map[string]any{{"paths": []string{"w.bin"}, "weights": specs}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return model, shard, weights
}

// naiveConv is a direct TensorFlow convolution with SAME padding (the
// extra row and column at the end), depthwise when depthwise is set, with
// no bias or clamp.
func naiveConv(x []float32, h, w, cin int, f []float32, k, cout, stride int, depthwise bool) ([]float32, int, int) {
	inf := float32(math.Inf(1))
	return convref.Conv(x, h, w, cin, f, k, cout, stride, tfjs.Same, depthwise, nil, -inf, inf)
}

// smallModelByHand computes smallModel's output for x [5,5,2] directly.
func smallModelByHand(x []float32, ws map[string]testWeight) []float32 {
	y, h, w := naiveConv(x, 5, 5, 2, ws["conv/filter"].data, 3, 3, 2, false)
	for i := range y {
		c := i % 3
		y[i] = min(max(max(y[i]*ws["bn/mul"].data[c]+ws["bn/add"].data[c], 0), 0), 6)
	}
	y, h, w = naiveConv(y, h, w, 3, ws["dw/filter"].data, 3, 3, 1, true)
	pool := make([]float32, 3)
	for i, v := range y {
		pool[i%3] += v - ws["sub"].data[i%3]
	}
	for c := range pool {
		pool[c] /= float32(h * w)
	}
	logits := make([]float64, 2)
	for j := range logits {
		for c := range pool {
			logits[j] += float64(pool[c] * ws["fc/kernel"].data[c*2+j])
		}
		logits[j] += float64(ws["fc/bias"].data[j])
	}
	e0, e1 := math.Exp(logits[0]), math.Exp(logits[1])
	return []float32{float32(e0 / (e0 + e1)), float32(e1 / (e0 + e1))}
}

func TestRun(t *testing.T) {
	model, shard, ws := smallModel(t)
	read := func(string) ([]byte, error) { return shard, nil }
	g, err := tfgraph.Decode(model, read)
	if err != nil {
		t.Fatal(err)
	}
	x, err := tfjs.FromData(ramp(50, 4), 5, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		net, err := tfgraph.Prepare(g, "prob", "pool:0")
		if err != nil {
			t.Fatal(err)
		}
		out, err := net.Run(tfjs.Exec{Workers: 1}, x)
		if err != nil {
			t.Fatal(err)
		}
		want := smallModelByHand(ramp(50, 4), ws)
		if len(out) != 2 || len(out[0]) != 2 || len(out[1]) != 3 {
			t.Fatalf("got outputs of %d values, want 2 outputs of 2 and 3", len(out))
		}
		for i := range want {
			if math.Abs(float64(out[0][i]-want[i])) > 1e-5 {
				t.Errorf("prob = %v, want %v", out[0], want)
			}
		}
	})
	t.Run("ErrInputShape", func(t *testing.T) {
		net, err := tfgraph.Prepare(g, "prob")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := net.Run(tfjs.Exec{Workers: 1}, tfjs.New(4, 5, 2)); !errors.Is(err, tfgraph.ErrModel) {
			t.Errorf("err = %v, want ErrModel", err)
		}
	})
	t.Run("ErrNoSuchOutput", func(t *testing.T) {
		if _, err := tfgraph.Prepare(g, "nope"); !errors.Is(err, tfgraph.ErrModel) {
			t.Errorf("err = %v, want ErrModel", err)
		}
	})
	t.Run("ErrUnsupportedOp", func(t *testing.T) {
		bad := strings.Replace(string(model), `"op":"Softmax"`, `"op":"LRN"`, 1)
		g, err := tfgraph.Decode([]byte(bad), read)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tfgraph.Prepare(g, "prob"); !errors.Is(err, tfgraph.ErrModel) || !strings.Contains(err.Error(), "LRN") {
			t.Errorf("err = %v, want ErrModel naming LRN", err)
		}
	})
	t.Run("ErrCycle", func(t *testing.T) {
		bad := strings.Replace(string(model), `"input":["conv","bn/mul"]`, `"input":["prob","bn/mul"]`, 1)
		g, err := tfgraph.Decode([]byte(bad), read)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tfgraph.Prepare(g, "prob"); !errors.Is(err, tfgraph.ErrModel) {
			t.Errorf("err = %v, want ErrModel", err)
		}
	})
}

func TestDecode(t *testing.T) {
	model, shard, _ := smallModel(t)
	read := func(string) ([]byte, error) { return shard, nil }
	for name, edit := range map[string]func(string) string{
		"ErrNotJSON":      func(string) string { return "{" },
		"ErrFormat":       func(m string) string { return strings.Replace(m, `"graph-model"`, `"layers-model"`, 1) },
		"ErrUnknownInput": func(m string) string { return strings.Replace(m, `"input":["bn/m"`, `"input":["ghost"`, 1) },
		"ErrTwoInputs":    func(m string) string { return strings.Replace(m, `"op":"Relu"`, `"op":"Placeholder"`, 1) },
		"ErrConstNoWeight": func(m string) string {
			return strings.Replace(m, `"name":"relu","op":"Relu"`, `"name":"relu","op":"Const"`, 1)
		},
		"ErrTruncatedShard": func(m string) string {
			shard = shard[:len(shard)-4]
			return m
		},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := tfgraph.Decode([]byte(edit(string(model))), read); !errors.Is(err, tfgraph.ErrModel) {
				t.Errorf("err = %v, want ErrModel", err)
			}
		})
	}
}

// FuzzDecode feeds arbitrary model.json bytes (with the small model's
// shard) to Decode and, when they decode, to Prepare and Run.
func FuzzDecode(f *testing.F) {
	model, shard, _ := smallModel(f)
	f.Add(model)
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := tfgraph.Decode(b, func(string) ([]byte, error) { return shard, nil })
		if err != nil {
			return
		}
		net, err := tfgraph.Prepare(g, g.Nodes[len(g.Nodes)-1].Name)
		if err != nil {
			return
		}
		x, _ := tfjs.FromData(ramp(50, 4), 5, 5, 2)
		_, _ = net.Run(tfjs.Exec{Workers: 1}, x)
	})
}

// TestRunFused checks the converter's fused operators against the plain
// ones they stand for: _FusedConv2D and FusedDepthwiseConv2dNative with
// BiasAdd and Relu6 against Conv2D, BiasAdd and Relu6; AvgPool over the
// whole map and Squeeze against Mean.
func TestRunFused(t *testing.T) {
	b64 := func(v string) string { return base64.StdEncoding.EncodeToString([]byte(v)) }
	s := func(v string) map[string]any { return map[string]any{"s": b64(v)} }
	ints := func(v ...string) map[string]any { return map[string]any{"list": map[string]any{"i": v}} }
	fused := func(ops ...string) map[string]any {
		var enc []string
		for _, o := range ops {
			enc = append(enc, b64(o))
		}
		return map[string]any{"list": map[string]any{"s": enc}}
	}
	node := func(name, op string, attr map[string]any, in ...string) map[string]any {
		return map[string]any{"name": name, "op": op, "input": in, "attr": attr}
	}
	convAttr := func(f map[string]any) map[string]any {
		a := map[string]any{"strides": ints("1", "1", "1", "1"), "padding": s("SAME")}
		if f != nil {
			a["fused_ops"] = f
		}
		return a
	}
	ws := []testWeight{
		{"conv/filter", []int{3, 3, 2, 3}, ramp(54, 1)},
		{"conv/bias", []int{3}, []float32{0.5, -1, 2}},
		{"dw/filter", []int{3, 3, 3, 1}, ramp(27, 2)},
		{"dw/bias", []int{3}, []float32{-0.25, 1, 0.75}},
		{"axes", []int{2}, []float32{1, 2}},
	}
	build := func(nodes []map[string]any) *tfgraph.Graph {
		type spec struct {
			Name  string `json:"name"`
			Shape []int  `json:"shape"`
			Dtype string `json:"dtype"`
		}
		var specs []spec
		var shard []byte
		for _, w := range ws {
			dtype := "float32"
			if w.name == "axes" {
				dtype = "int32"
			}
			specs = append(specs, spec{w.name, w.shape, dtype})
			for _, v := range w.data {
				if dtype == "int32" {
					shard = binary.LittleEndian.AppendUint32(shard, uint32(int32(v)))
				} else {
					shard = binary.LittleEndian.AppendUint32(shard, math.Float32bits(v))
				}
			}
			nodes = append(nodes, node(w.name, "Const", nil))
		}
		model, err := json.Marshal(map[string]any{
			"format":          "graph-model",
			"modelTopology":   map[string]any{"node": nodes},
			"weightsManifest": []map[string]any{{"paths": []string{"w.bin"}, "weights": specs}},
		})
		if err != nil {
			t.Fatal(err)
		}
		g, err := tfgraph.Decode(model, func(string) ([]byte, error) { return shard, nil })
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	input := node("input", "Placeholder", nil)
	plain := build([]map[string]any{input,
		node("conv", "Conv2D", convAttr(nil), "input", "conv/filter"),
		node("conv/b", "BiasAdd", nil, "conv", "conv/bias"),
		node("conv/r", "Relu6", nil, "conv/b"),
		node("dw", "DepthwiseConv2dNative", convAttr(nil), "conv/r", "dw/filter"),
		node("dw/b", "BiasAdd", nil, "dw", "dw/bias"),
		node("out", "Mean", map[string]any{"keep_dims": map[string]any{"b": false}}, "dw/b", "axes"),
	})
	withFused := build([]map[string]any{input,
		node("conv", "_FusedConv2D", convAttr(fused("BiasAdd", "Relu6")), "input", "conv/filter", "conv/bias"),
		node("dw", "FusedDepthwiseConv2dNative", convAttr(fused("BiasAdd")), "conv", "dw/filter", "dw/bias"),
		node("pool", "AvgPool", map[string]any{"ksize": ints("1", "5", "5", "1"), "strides": ints("1", "1", "1", "1"), "padding": s("VALID")}, "dw"),
		node("out", "Squeeze", map[string]any{"squeeze_dims": ints("1", "2")}, "pool"),
	})
	x, err := tfjs.FromData(ramp(50, 4), 5, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	var outs [2][]float32
	for i, g := range []*tfgraph.Graph{plain, withFused} {
		net, err := tfgraph.Prepare(g, "out")
		if err != nil {
			t.Fatal(err)
		}
		res, err := net.Run(tfjs.Exec{}, x)
		if err != nil {
			t.Fatal(err)
		}
		outs[i] = res[0]
	}
	if len(outs[0]) != 3 || len(outs[1]) != 3 {
		t.Fatalf("got %d and %d values, want 3", len(outs[0]), len(outs[1]))
	}
	for i := range outs[0] {
		if math.Abs(float64(outs[0][i]-outs[1][i])) > 1e-5 {
			t.Errorf("value %d: fused %v, plain %v", i, outs[1][i], outs[0][i])
		}
	}
}
