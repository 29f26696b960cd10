package tfgraph

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/huella-abis/huella/face/tfjs"
)

// Net is the part of a Graph that computes the chosen outputs, checked
// operator by operator, ready to run.
type Net struct {
	g       *Graph
	order   []int // nodes to evaluate, inputs before their readers
	outputs []string
	convs   map[int]*conv
	inShape []int // placeholder shape without the batch axis; −1 = any
	// release lists, for each position in order, the values no later node
	// reads and that Run may then recycle: results of convolutions and
	// binary operators that are not outputs and that no Squeeze aliases.
	release [][]string
	arenas  sync.Pool // of *arena, one per concurrent Run
}

// arena keeps the value buffers of one Run for reuse by later nodes and
// later runs, so the network's maps are not allocated (and cleared) anew.
type arena struct {
	free [][]float32
}

// get returns a buffer of n values (contents undefined): the smallest free
// one that is long enough, or a new one.
func (a *arena) get(n int) []float32 {
	best := -1
	for i, b := range a.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(a.free[best])) {
			best = i
		}
	}
	if best < 0 {
		return make([]float32, n)
	}
	b := a.free[best]
	a.free[best] = a.free[len(a.free)-1]
	a.free = a.free[:len(a.free)-1]
	return b[:n]
}

// put hands a buffer back.
func (a *arena) put(b []float32) {
	a.free = append(a.free, b)
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
	// When the epilogue is affine steps then clamps, it runs inside the
	// kernel: the affine scale folded into scaled (the filter, packed for
	// a plain convolution), its offset and clamp in fused.
	fusedOK bool
	scaled  *tfjs.Tensor
	packed  *tfjs.PackedFilter
	fused   tfjs.Epilogue
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
	n := &Net{g: g, outputs: outputs, convs: map[int]*conv{}}
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
	n.plan()
	return n, nil
}

// plan fills release from the order of evaluation.
func (n *Net) plan() {
	last := map[string]int{}
	aliased := map[string]bool{}
	for pos, i := range n.order {
		node := n.g.Nodes[i]
		for _, in := range node.Inputs {
			last[valueNode(in)] = pos
			if node.Op == "Squeeze" {
				aliased[valueNode(in)] = true
			}
		}
	}
	for _, o := range n.outputs {
		aliased[valueNode(o)] = true
	}
	n.release = make([][]string, len(n.order))
	for _, i := range n.order {
		node := n.g.Nodes[i]
		name := node.Name
		if c, ok := n.convs[i]; ok {
			name = c.result
		} else if !slices.Contains(binary, node.Op) {
			continue
		}
		if pos, ok := last[name]; ok && !aliased[name] {
			n.release[pos] = append(n.release[pos], name)
		}
	}
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
		c.compile()
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

// compile folds the epilogue into the kernel when it is a chain of
// per-channel affine steps (Mul, Add, Sub) followed by clamps (Relu, Relu6,
// scalar Minimum and Maximum): y = clamp(x·scale + offset, lo, hi), with
// scale folded into the filter.
func (c *conv) compile() {
	cout := c.filter.Shape[3]
	if c.depthwise {
		cout = c.filter.Shape[2]
	}
	scale, offset := make([]float32, cout), make([]float32, cout)
	for j := range scale {
		scale[j] = 1
	}
	ep := tfjs.NoEpilogue
	clamped, scaled, offsetUsed := false, false, false
	at := func(k []float32, j int) float32 {
		if len(k) == 1 {
			return k[0]
		}
		return k[j]
	}
	for _, st := range c.epilogue {
		switch st.op {
		case "Mul", "Add", "AddV2", "BiasAdd", "Sub":
			if clamped {
				return
			}
			for j := range cout {
				switch st.op {
				case "Mul":
					scale[j] *= at(st.k, j)
					offset[j] *= at(st.k, j)
				case "Sub":
					offset[j] -= at(st.k, j)
				default:
					offset[j] += at(st.k, j)
				}
			}
			scaled = scaled || st.op == "Mul"
			offsetUsed = offsetUsed || st.op != "Mul"
		case "Relu":
			clamped, ep.Lo = true, max(ep.Lo, 0)
		case "Relu6":
			clamped, ep.Lo, ep.Hi = true, max(ep.Lo, 0), min(ep.Hi, 6)
		case "Minimum", "Maximum":
			if len(st.k) != 1 {
				return
			}
			clamped = true
			if st.op == "Minimum" {
				ep.Hi = min(ep.Hi, st.k[0])
			} else {
				ep.Lo = max(ep.Lo, st.k[0])
			}
		default:
			return
		}
	}
	if ep.Lo > ep.Hi {
		return
	}
	if offsetUsed {
		ep.Bias = offset
	}
	c.scaled = c.filter
	if scaled {
		c.scaled = &tfjs.Tensor{Shape: c.filter.Shape, Data: make([]float32, len(c.filter.Data))}
		for i, v := range c.filter.Data {
			c.scaled.Data[i] = v * scale[i%cout]
		}
	}
	if !c.depthwise {
		c.packed = tfjs.PackFilter(c.scaled)
	}
	c.fused, c.fusedOK = ep, true
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
		n.convs[i] = &c
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
	ar, _ := n.arenas.Get().(*arena)
	if ar == nil {
		ar = &arena{}
	}
	for pos, i := range n.order {
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
			if out, err = n.runConv(e, c, get(node.Inputs[0]), ar); err == nil {
				if !c.fusedOK {
					for _, st := range c.epilogue {
						st.apply(out.Data)
					}
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
				out, err = binaryOp(node.Op, get(node.Inputs[0]), get(node.Inputs[1]), ar)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("node %q: %w", node.Name, err)
		}
		vals[node.Name] = out
		for _, name := range n.release[pos] {
			ar.put(vals[name].Data)
			delete(vals, name)
		}
	}
	n.arenas.Put(ar)
	res := make([][]float32, len(n.outputs))
	for i, o := range n.outputs {
		res[i] = get(o).Data
	}
	return res, nil
}

func (n *Net) runConv(e tfjs.Exec, c *conv, in *tfjs.Tensor, ar *arena) (*tfjs.Tensor, error) {
	if len(in.Shape) != 3 {
		return nil, fmt.Errorf("%w: convolution of a %v value", ErrModel, in.Shape)
	}
	if in.Shape[2] != c.filter.Shape[2] {
		return nil, fmt.Errorf("%w: filter %v on a %v map", ErrModel, c.filter.Shape, in.Shape)
	}
	if c.pad == tfjs.Valid && (in.Shape[0] < c.filter.Shape[0] || in.Shape[1] < c.filter.Shape[1]) {
		return nil, fmt.Errorf("%w: %v map smaller than its kernel", ErrModel, in.Shape)
	}
	if !c.fusedOK {
		if c.depthwise {
			return e.DepthwiseConv2D(in, c.filter, c.stride, c.pad)
		}
		return e.Conv2D(in, c.filter, nil, c.stride, c.pad)
	}
	kh, kw := c.filter.Shape[0], c.filter.Shape[1]
	cout := c.filter.Shape[3]
	if c.depthwise {
		cout = c.filter.Shape[2]
	}
	buf := ar.get(convOut(in.Shape[0], kh, c.stride, c.pad) * convOut(in.Shape[1], kw, c.stride, c.pad) * cout)
	if c.depthwise {
		return e.DepthwiseConv2DFused(in, c.scaled, c.stride, c.pad, c.fused, buf)
	}
	return e.Conv2DPacked(in, c.packed, c.stride, c.pad, c.fused, buf)
}

// convOut is a convolution's output length along one axis.
func convOut(in, k, stride int, pad tfjs.Padding) int {
	if pad == tfjs.Valid {
		return max((in-k)/stride+1, 0)
	}
	return (in + stride - 1) / stride
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
func binaryOp(op string, a, b *tfjs.Tensor, ar *arena) (*tfjs.Tensor, error) {
	big := a
	if len(b.Data) > len(a.Data) {
		big = b
	}
	small := len(a.Data) + len(b.Data) - len(big.Data)
	if len(big.Shape) == 0 || small == 0 ||
		(small != 1 && small != len(big.Data) && small != big.Shape[len(big.Shape)-1]) {
		return nil, fmt.Errorf("%w: %s of %v and %v", ErrModel, op, a.Shape, b.Shape)
	}
	out := &tfjs.Tensor{Shape: big.Shape, Data: ar.get(len(big.Data))}
	na, nb := len(a.Data), len(b.Data)
	if na == nb && (op == "Add" || op == "AddV2") {
		// The residual connections: no broadcast, no per-value switch.
		x, y := a.Data, b.Data[:na]
		for i := range out.Data {
			out.Data[i] = x[i] + y[i]
		}
		return out, nil
	}
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
