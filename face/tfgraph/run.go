package tfgraph

import (
	"fmt"
	"math"
	"slices"

	"github.com/huella-abis/huella/face/tfjs"
)

// Net is the part of a Graph that computes the chosen outputs, checked
// operator by operator, ready to run.
type Net struct {
	g       *Graph
	order   []int // nodes to evaluate, inputs before their readers
	outputs []string
	convs   map[int]conv
	inShape []int // placeholder shape without the batch axis; −1 = any
}

// conv is one Conv2D or DepthwiseConv2dNative node and the element-wise
// nodes fused after it (batch norm's Mul and Add, ReLU6's clip), applied in
// place; the result stands for the last of them.
type conv struct {
	filter    *tfjs.Tensor
	stride    int
	pad       tfjs.Padding
	depthwise bool
	epilogue  []step
	result    string
}

// step is one fused element-wise operation: op with a constant operand k
// (one value, or one per channel) or, for Relu and Relu6, none.
type step struct {
	op string
	k  []float32
}

// unary and binary list the element-wise operators Net runs.
var (
	unary  = []string{"Relu", "Relu6", "Sigmoid", "Softmax", "Identity"}
	binary = []string{"Add", "AddV2", "BiasAdd", "Sub", "Mul", "Minimum", "Maximum"}
)

// Prepare selects the nodes outputs depend on and checks that Net can run
// each of them.
func Prepare(g *Graph, outputs ...string) (*Net, error) {
	if len(outputs) == 0 {
		return nil, fmt.Errorf("%w: no output asked for", ErrModel)
	}
	n := &Net{g: g, outputs: outputs, convs: map[int]conv{}}
	state := make([]byte, len(g.Nodes)) // 0 unseen, 1 on the path, 2 done
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case 1:
			return fmt.Errorf("%w: cycle through %q", ErrModel, g.Nodes[i].Name)
		case 2:
			return nil
		}
		state[i] = 1
		for _, in := range g.Nodes[i].Inputs {
			if in != "" && in[0] == '^' {
				continue // control dependency: no value flows
			}
			if err := visit(g.byName[valueNode(in)]); err != nil {
				return err
			}
		}
		state[i] = 2
		n.order = append(n.order, i)
		return nil
	}
	for _, o := range outputs {
		i, ok := g.byName[valueNode(o)]
		if !ok {
			return nil, fmt.Errorf("%w: no node %q", ErrModel, o)
		}
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	for _, i := range n.order {
		if err := n.check(i); err != nil {
			return nil, fmt.Errorf("node %q: %w", g.Nodes[i].Name, err)
		}
	}
	n.fuse()
	return n, nil
}

// fuse folds into each convolution the chain of element-wise nodes that
// alone read its result, as long as each one's other operand is a constant
// scalar or per-channel vector (Mul, Add, Sub, Minimum, Maximum) or there is
// none (Relu, Relu6). Fused nodes are dropped from the order.
func (n *Net) fuse() {
	readers := map[string][]int{}
	for _, i := range n.order {
		for _, in := range n.g.Nodes[i].Inputs {
			readers[valueNode(in)] = append(readers[valueNode(in)], i)
		}
	}
	for _, o := range n.outputs {
		readers[valueNode(o)] = append(readers[valueNode(o)], -1)
	}
	dropped := map[int]bool{}
	for _, i := range n.order {
		c, ok := n.convs[i]
		if !ok {
			continue
		}
		cout := c.filter.Shape[3]
		if c.depthwise {
			cout = c.filter.Shape[2]
		}
		c.result = n.g.Nodes[i].Name
		for {
			r := readers[c.result]
			if len(r) != 1 || r[0] < 0 {
				break
			}
			next := n.g.Nodes[r[0]]
			st, ok := n.fusable(next, c.result, cout)
			if !ok {
				break
			}
			c.epilogue = append(c.epilogue, st)
			dropped[r[0]] = true
			c.result = next.Name
		}
		n.convs[i] = c
	}
	order := n.order[:0]
	for _, i := range n.order {
		if !dropped[i] {
			order = append(order, i)
		}
	}
	n.order = order
}

// fusable says whether node, reading value, can run as a step on a map of
// cout channels.
func (n *Net) fusable(node Node, value string, cout int) (step, bool) {
	switch node.Op {
	case "Relu", "Relu6":
		return step{op: node.Op}, len(node.Inputs) == 1
	case "Mul", "Add", "AddV2", "BiasAdd", "Sub", "Minimum", "Maximum":
		if len(node.Inputs) != 2 || valueNode(node.Inputs[0]) != value {
			return step{}, false // Sub with the map second is not a step
		}
		k := n.constant(node.Inputs[1])
		if k == nil || (len(k.Data) != 1 && len(k.Data) != cout) {
			return step{}, false
		}
		return step{op: node.Op, k: k.Data}, true
	}
	return step{}, false
}

// check validates node i and prepares what it needs.
func (n *Net) check(i int) error {
	node := n.g.Nodes[i]
	arity := func(k int) error {
		if len(node.Inputs) < k {
			return fmt.Errorf("%w: %s with %d inputs", ErrModel, node.Op, len(node.Inputs))
		}
		return nil
	}
	switch {
	case node.Op == "Const":
		return nil
	case node.Op == "Placeholder":
		dims := node.Attr["shape"].Shape
		if len(dims) > 0 {
			n.inShape = dims2(dims[1:])
		}
		return nil
	case slices.Contains(convOps, node.Op):
		if err := arity(2); err != nil {
			return err
		}
		c, err := n.prepareConv(node)
		if err != nil {
			return err
		}
		n.convs[i] = c
		return nil
	case node.Op == "AvgPool":
		if err := arity(1); err != nil {
			return err
		}
		k, s := node.Attr["ksize"].Ints, node.Attr["strides"].Ints
		if len(k) != 4 || k[0] != 1 || k[3] != 1 || k[1] != k[2] || k[1] < 1 ||
			len(s) != 4 || s[0] != 1 || s[3] != 1 || s[1] != s[2] || s[1] < 1 {
			return fmt.Errorf("%w: AvgPool ksize %v strides %v", ErrModel, k, s)
		}
		if p := node.Attr["padding"].String; p != "SAME" && p != "VALID" {
			return fmt.Errorf("%w: padding %q", ErrModel, p)
		}
		return nil
	case node.Op == "Squeeze":
		if err := arity(1); err != nil {
			return err
		}
		if d := node.Attr["squeeze_dims"].Ints; !slices.Equal(d, []int64{1, 2}) {
			return fmt.Errorf("%w: Squeeze only of the spatial axes 1 and 2", ErrModel)
		}
		return nil
	case slices.Contains(unary, node.Op):
		return arity(1)
	case slices.Contains(binary, node.Op):
		return arity(2)
	case node.Op == "Mean":
		if err := arity(2); err != nil {
			return err
		}
		axes := n.constant(node.Inputs[1])
		if axes == nil || !slices.Equal(axes.Data, []float32{1, 2}) {
			return fmt.Errorf("%w: Mean only over the spatial axes 1 and 2", ErrModel)
		}
		return nil
	case node.Op == "MatMul" || node.Op == "_FusedMatMul":
		if err := arity(2); err != nil {
			return err
		}
		if node.Attr["transpose_a"].Bool || node.Attr["transpose_b"].Bool {
			return fmt.Errorf("%w: transposed MatMul", ErrModel)
		}
		if w := n.constant(node.Inputs[1]); w == nil || len(w.Shape) != 2 {
			return fmt.Errorf("%w: MatMul weights must be a 2-d constant", ErrModel)
		}
		fused := node.Attr["fused_ops"].Strings
		for j, f := range fused {
			if !(f == "BiasAdd" && j == 0) && !(f == "Relu" && j == len(fused)-1) {
				return fmt.Errorf("%w: fused op %q", ErrModel, f)
			}
		}
		if len(fused) > 0 && fused[0] == "BiasAdd" {
			if err := arity(3); err != nil {
				return err
			}
			b := n.constant(node.Inputs[2])
			if b == nil || len(b.Data) != n.constant(node.Inputs[1]).Shape[1] {
				return fmt.Errorf("%w: MatMul bias", ErrModel)
			}
		}
		return nil
	}
	return fmt.Errorf("%w: operator %s not supported", ErrModel, node.Op)
}

// dims2 converts a shape attribute to ints.
func dims2(d []int64) []int {
	out := make([]int, len(d))
	for i, v := range d {
		out[i] = int(v)
	}
	return out
}

// constant is the weight a Const node holds, or nil when name is not one.
func (n *Net) constant(name string) *tfjs.Tensor {
	node, ok := n.g.Node(valueNode(name))
	if !ok || node.Op != "Const" {
		return nil
	}
	return n.g.Weights[node.Name]
}

// convOps are the convolutions Net runs: plain, and fused by the TF.js
// converter with their BiasAdd and activation.
var convOps = []string{"Conv2D", "DepthwiseConv2dNative", "_FusedConv2D", "FusedDepthwiseConv2dNative"}

func (n *Net) prepareConv(node Node) (conv, error) {
	c := conv{depthwise: node.Op == "DepthwiseConv2dNative" || node.Op == "FusedDepthwiseConv2dNative"}
	c.filter = n.constant(node.Inputs[1])
	if c.filter == nil || len(c.filter.Shape) != 4 || slices.Min(c.filter.Shape) < 1 {
		return c, fmt.Errorf("%w: filter must be a 4-d constant", ErrModel)
	}
	if c.depthwise && c.filter.Shape[3] != 1 {
		return c, fmt.Errorf("%w: depthwise channel multiplier %d", ErrModel, c.filter.Shape[3])
	}
	if f := node.Attr["data_format"].String; f != "" && f != "NHWC" {
		return c, fmt.Errorf("%w: data format %s", ErrModel, f)
	}
	s := node.Attr["strides"].Ints
	if len(s) != 4 || s[0] != 1 || s[3] != 1 || s[1] != s[2] || s[1] < 1 || s[1] > 16 {
		return c, fmt.Errorf("%w: strides %v", ErrModel, s)
	}
	c.stride = int(s[1])
	for _, d := range node.Attr["dilations"].Ints {
		if d != 1 {
			return c, fmt.Errorf("%w: dilated convolution", ErrModel)
		}
	}
	switch node.Attr["padding"].String {
	case "SAME":
		c.pad = tfjs.Same
	case "VALID":
		c.pad = tfjs.Valid
	default:
		return c, fmt.Errorf("%w: padding %q", ErrModel, node.Attr["padding"].String)
	}
	cout := c.filter.Shape[3]
	if c.depthwise {
		cout = c.filter.Shape[2]
	}
	for j, f := range node.Attr["fused_ops"].Strings {
		switch {
		case f == "BiasAdd" && j == 0:
			b := n.constant(node.Inputs[min(2, len(node.Inputs)-1)])
			if len(node.Inputs) < 3 || b == nil || len(b.Data) != cout {
				return c, fmt.Errorf("%w: fused convolution bias", ErrModel)
			}
			c.epilogue = append(c.epilogue, step{op: "BiasAdd", k: b.Data})
		case (f == "Relu" || f == "Relu6") && j > 0:
			c.epilogue = append(c.epilogue, step{op: f})
		default:
			return c, fmt.Errorf("%w: fused op %q", ErrModel, f)
		}
	}
	return c, nil
}

// Run feeds x, a [h,w,c] image tensor, to the graph's input and returns
// the values of the outputs Prepare was given, in that order.
func (n *Net) Run(e tfjs.Exec, x *tfjs.Tensor) ([][]float32, error) {
	if len(x.Shape) != len(n.inShape) && len(n.inShape) > 0 {
		return nil, fmt.Errorf("%w: input of shape %v, graph wants %v", ErrModel, x.Shape, n.inShape)
	}
	for i, d := range n.inShape {
		if d >= 0 && x.Shape[i] != d {
			return nil, fmt.Errorf("%w: input of shape %v, graph wants %v", ErrModel, x.Shape, n.inShape)
		}
	}
	vals := make(map[string]*tfjs.Tensor, len(n.order))
	get := func(name string) *tfjs.Tensor {
		name = valueNode(name)
		if v := vals[name]; v != nil {
			return v
		}
		return n.g.Weights[name]
	}
	for _, i := range n.order {
		node := n.g.Nodes[i]
		var out *tfjs.Tensor
		var err error
		switch node.Op {
		case "Const":
			continue
		case "Placeholder":
			out = x
		case "Conv2D", "DepthwiseConv2dNative", "_FusedConv2D", "FusedDepthwiseConv2dNative":
			c := n.convs[i]
			if out, err = n.runConv(e, c, get(node.Inputs[0])); err == nil {
				for _, st := range c.epilogue {
					st.apply(out.Data)
				}
				vals[c.result] = out
			}
		case "Mean":
			in := get(node.Inputs[0])
			if len(in.Shape) != 3 {
				return nil, fmt.Errorf("%w: node %q: Mean of a %v value", ErrModel, node.Name, in.Shape)
			}
			out = tfjs.Mean(in)
			if node.Attr["keep_dims"].Bool {
				out.Shape = []int{1, 1, len(out.Data)}
			}
		case "AvgPool":
			in := get(node.Inputs[0])
			if len(in.Shape) != 3 {
				return nil, fmt.Errorf("%w: node %q: AvgPool of a %v value", ErrModel, node.Name, in.Shape)
			}
			pad := tfjs.Same
			if node.Attr["padding"].String == "VALID" {
				pad = tfjs.Valid
			}
			out = tfjs.AvgPool(in, int(node.Attr["ksize"].Ints[1]), int(node.Attr["strides"].Ints[1]), pad)
		case "Squeeze":
			in := get(node.Inputs[0])
			if len(in.Shape) != 3 || in.Shape[0] != 1 || in.Shape[1] != 1 {
				return nil, fmt.Errorf("%w: node %q: Squeeze of a %v value", ErrModel, node.Name, in.Shape)
			}
			out = &tfjs.Tensor{Shape: []int{in.Shape[2]}, Data: in.Data}
		case "MatMul", "_FusedMatMul":
			out, err = matMul(node, get(node.Inputs[0]), n.constant(node.Inputs[1]), n.g)
		default:
			if slices.Contains(unary, node.Op) {
				out = unaryOp(node.Op, get(node.Inputs[0]))
			} else {
				out, err = binaryOp(node.Op, get(node.Inputs[0]), get(node.Inputs[1]))
			}
		}
		if err != nil {
			return nil, fmt.Errorf("node %q: %w", node.Name, err)
		}
		vals[node.Name] = out
	}
	res := make([][]float32, len(n.outputs))
	for i, o := range n.outputs {
		res[i] = get(o).Data
	}
	return res, nil
}

func (n *Net) runConv(e tfjs.Exec, c conv, in *tfjs.Tensor) (*tfjs.Tensor, error) {
	if len(in.Shape) != 3 {
		return nil, fmt.Errorf("%w: convolution of a %v value", ErrModel, in.Shape)
	}
	if in.Shape[2] != c.filter.Shape[2] {
		return nil, fmt.Errorf("%w: filter %v on a %v map", ErrModel, c.filter.Shape, in.Shape)
	}
	if c.pad == tfjs.Valid && (in.Shape[0] < c.filter.Shape[0] || in.Shape[1] < c.filter.Shape[1]) {
		return nil, fmt.Errorf("%w: %v map smaller than its kernel", ErrModel, in.Shape)
	}
	if c.depthwise {
		return e.DepthwiseConv2D(in, c.filter, c.stride, c.pad)
	}
	return e.Conv2D(in, c.filter, nil, c.stride, c.pad)
}

// apply runs the step in place on a [..., c] map's values.
func (st step) apply(x []float32) {
	switch st.op {
	case "Relu":
		for i, v := range x {
			x[i] = max(v, 0)
		}
		return
	case "Relu6":
		for i, v := range x {
			x[i] = min(max(v, 0), 6)
		}
		return
	}
	c := len(st.k)
	if c == 0 {
		return
	}
	// One loop per operator, row by row, without a call per value: this
	// runs after every convolution.
	for lo := 0; lo+c <= len(x); lo += c {
		row, k := x[lo:lo+c], st.k
		switch st.op {
		case "Mul":
			for j := range row {
				row[j] *= k[j]
			}
		case "Add", "AddV2", "BiasAdd":
			for j := range row {
				row[j] += k[j]
			}
		case "Sub":
			for j := range row {
				row[j] -= k[j]
			}
		case "Minimum":
			for j := range row {
				row[j] = min(row[j], k[j])
			}
		case "Maximum":
			for j := range row {
				row[j] = max(row[j], k[j])
			}
		}
	}
}

func unaryOp(op string, in *tfjs.Tensor) *tfjs.Tensor {
	out := &tfjs.Tensor{Shape: in.Shape, Data: make([]float32, len(in.Data))}
	switch op {
	case "Relu":
		for i, v := range in.Data {
			out.Data[i] = max(v, 0)
		}
	case "Relu6":
		for i, v := range in.Data {
			out.Data[i] = min(max(v, 0), 6)
		}
	case "Sigmoid":
		for i, v := range in.Data {
			out.Data[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	case "Softmax":
		c := len(in.Data)
		if len(in.Shape) > 0 {
			c = in.Shape[len(in.Shape)-1]
		}
		for lo := 0; c > 0 && lo+c <= len(in.Data); lo += c {
			row := in.Data[lo : lo+c]
			m := slices.Max(row)
			var s float64
			for j, v := range row {
				ev := math.Exp(float64(v - m))
				out.Data[lo+j] = float32(ev)
				s += ev
			}
			for j := range row {
				out.Data[lo+j] /= float32(s)
			}
		}
	case "Identity":
		copy(out.Data, in.Data)
	}
	return out
}

// binaryOp applies op element by element; the smaller operand broadcasts
// when it is a scalar or one value per channel (the last axis).
func binaryOp(op string, a, b *tfjs.Tensor) (*tfjs.Tensor, error) {
	big := a
	if len(b.Data) > len(a.Data) {
		big = b
	}
	small := len(a.Data) + len(b.Data) - len(big.Data)
	if len(big.Shape) == 0 || small == 0 ||
		(small != 1 && small != len(big.Data) && small != big.Shape[len(big.Shape)-1]) {
		return nil, fmt.Errorf("%w: %s of %v and %v", ErrModel, op, a.Shape, b.Shape)
	}
	out := &tfjs.Tensor{Shape: big.Shape, Data: make([]float32, len(big.Data))}
	na, nb := len(a.Data), len(b.Data)
	for i := range out.Data {
		x, y := a.Data[i%na], b.Data[i%nb]
		var v float32
		switch op {
		case "Add", "AddV2", "BiasAdd":
			v = x + y
		case "Sub":
			v = x - y
		case "Mul":
			v = x * y
		case "Minimum":
			v = min(x, y)
		case "Maximum":
			v = max(x, y)
		}
		out.Data[i] = v
	}
	return out, nil
}

// matMul is x·w for a vector x, then the fused BiasAdd and Relu.
func matMul(node Node, x, w *tfjs.Tensor, g *Graph) (*tfjs.Tensor, error) {
	if len(x.Data) != w.Shape[0] {
		return nil, fmt.Errorf("%w: MatMul of %d values by %v", ErrModel, len(x.Data), w.Shape)
	}
	var bias *tfjs.Tensor
	fused := node.Attr["fused_ops"].Strings
	if len(fused) > 0 && fused[0] == "BiasAdd" {
		bias = g.Weights[valueNode(node.Inputs[2])]
	}
	out, err := tfjs.Dense(&tfjs.Tensor{Shape: []int{len(x.Data)}, Data: x.Data}, w, bias)
	if err != nil {
		return nil, err
	}
	if len(fused) > 0 && fused[len(fused)-1] == "Relu" {
		tfjs.ReLU(out)
	}
	return out, nil
}
