// Package tfgraph reads TensorFlow.js graph models (model.json: a frozen
// TensorFlow GraphDef written as JSON, plus a weights manifest and its
// shards) and runs the operators of MobileNet-style embedders — Conv2D,
// DepthwiseConv2dNative and their converter-fused forms _FusedConv2D and
// FusedDepthwiseConv2dNative (BiasAdd, then Relu or Relu6), element-wise
// Add/Sub/Mul/Minimum/Maximum with per-channel or scalar operands, Relu,
// Relu6, Sigmoid, Mean over the spatial axes, AvgPool, Squeeze of the
// spatial axes, MatMul and _FusedMatMul (BiasAdd, Relu), Softmax — on the
// face/tfjs runtime, for one image (batch 1). Values drop the batch axis:
// feature maps are [height, width, channels], vectors [n].
package tfgraph

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/huella-abis/huella/face/tfjs"
)

// ErrModel reports a model that cannot be decoded or run.
var ErrModel = errors.New("tfgraph: bad model")

// maxNodes bounds the graph a malformed file can make the decoder build.
const maxNodes = 100000

// Node is one operator application of the graph.
type Node struct {
	Name   string
	Op     string
	Inputs []string
	Attr   map[string]Attr
}

// Attr is one node attribute as the TF.js converter writes it: a list of
// integers (strides, dilations), a string (padding, data_format), a list
// of strings (fused_ops), a shape (the input's), a bool (keep_dims, transpose_a) or a number.
type Attr struct {
	Ints    []int64
	String  string
	Strings []string
	Bool    bool
	Int     int64
	Float   float64
	// Shape is a shape attribute's dimensions, −1 where unknown.
	Shape []int64
}

// Graph is a decoded model: its nodes in file order, its constants
// (dequantised to float32) and the name of its single input.
type Graph struct {
	Nodes   []Node
	Weights tfjs.Weights
	Input   string
	byName  map[string]int
}

// Node returns the node called name, or false.
func (g *Graph) Node(name string) (Node, bool) {
	i, ok := g.byName[name]
	if !ok {
		return Node{}, false
	}
	return g.Nodes[i], true
}

// model.json as the TF.js converter writes it.
type modelJSON struct {
	Format        string `json:"format"`
	ModelTopology struct {
		Node []nodeJSON `json:"node"`
	} `json:"modelTopology"`
	WeightsManifest json.RawMessage `json:"weightsManifest"`
}

type nodeJSON struct {
	Name  string              `json:"name"`
	Op    string              `json:"op"`
	Input []string            `json:"input"`
	Attr  map[string]attrJSON `json:"attr"`
}

// attrJSON is a TensorFlow AttrValue in proto3 JSON: int64 as strings,
// bytes as base64.
type attrJSON struct {
	List *struct {
		I []json.Number `json:"i"`
		S []string      `json:"s"`
	} `json:"list"`
	S *string      `json:"s"`
	B *bool        `json:"b"`
	I *json.Number `json:"i"`
	F *json.Number `json:"f"`
	// Shape is a TensorShapeProto (the placeholder's shape).
	Shape *struct {
		Dim []struct {
			Size json.Number `json:"size"`
		} `json:"dim"`
	} `json:"shape"`
}

// Decode reads model.json and the weight shards, returned by shard for each
// path the manifest names. It checks the graph's structure (one input,
// every input named by a node, constants backed by weights) but not its
// operators: Prepare does that for the part of the graph that is run.
func Decode(model []byte, shard func(path string) ([]byte, error)) (*Graph, error) {
	var m modelJSON
	if err := json.Unmarshal(model, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrModel, err)
	}
	if m.Format != "" && m.Format != "graph-model" {
		return nil, fmt.Errorf("%w: format %q, want graph-model", ErrModel, m.Format)
	}
	nodes := m.ModelTopology.Node
	if len(nodes) == 0 || len(nodes) > maxNodes {
		return nil, fmt.Errorf("%w: %d nodes", ErrModel, len(nodes))
	}
	if len(m.WeightsManifest) == 0 {
		return nil, fmt.Errorf("%w: no weights manifest", ErrModel)
	}
	weights, err := tfjs.DecodeManifest(m.WeightsManifest, shard)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	g := &Graph{Weights: weights, byName: make(map[string]int, len(nodes))}
	for i, nj := range nodes {
		if nj.Name == "" || nj.Op == "" {
			return nil, fmt.Errorf("%w: node %d without name or op", ErrModel, i)
		}
		if _, dup := g.byName[nj.Name]; dup {
			return nil, fmt.Errorf("%w: node %q twice", ErrModel, nj.Name)
		}
		n := Node{Name: nj.Name, Op: nj.Op, Inputs: nj.Input, Attr: map[string]Attr{}}
		for k, a := range nj.Attr {
			v, err := decodeAttr(a)
			if err != nil {
				return nil, fmt.Errorf("%w: node %q attribute %s: %v", ErrModel, nj.Name, k, err)
			}
			n.Attr[k] = v
		}
		switch n.Op {
		case "Placeholder":
			if g.Input != "" {
				return nil, fmt.Errorf("%w: more than one input", ErrModel)
			}
			g.Input = n.Name
		case "Const":
			if weights[n.Name] == nil {
				return nil, fmt.Errorf("%w: constant %q has no weight", ErrModel, n.Name)
			}
		}
		g.byName[n.Name] = i
		g.Nodes = append(g.Nodes, n)
	}
	if g.Input == "" {
		return nil, fmt.Errorf("%w: no input", ErrModel)
	}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if _, ok := g.byName[valueNode(in)]; !ok {
				return nil, fmt.Errorf("%w: node %q reads unknown %q", ErrModel, n.Name, in)
			}
		}
	}
	return g, nil
}

// valueNode is the node that produces a value: "conv/x:0" and "^conv/x"
// (a control input) both come from node "conv/x".
func valueNode(name string) string {
	if len(name) > 0 && name[0] == '^' {
		name = name[1:]
	}
	for i := len(name) - 1; i > 0; i-- {
		c := name[i]
		if c == ':' {
			return name[:i]
		}
		if c < '0' || c > '9' {
			break
		}
	}
	return name
}

func decodeAttr(a attrJSON) (Attr, error) {
	var v Attr
	if a.List != nil {
		for _, s := range a.List.I {
			i, err := strconv.ParseInt(string(s), 10, 64)
			if err != nil {
				return v, err
			}
			v.Ints = append(v.Ints, i)
		}
		for _, s := range a.List.S {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return v, err
			}
			v.Strings = append(v.Strings, string(b))
		}
	}
	if a.S != nil {
		b, err := base64.StdEncoding.DecodeString(*a.S)
		if err != nil {
			return v, err
		}
		v.String = string(b)
	}
	if a.B != nil {
		v.Bool = *a.B
	}
	if a.Shape != nil {
		for _, d := range a.Shape.Dim {
			i, err := strconv.ParseInt(string(d.Size), 10, 64)
			if err != nil {
				return v, err
			}
			v.Shape = append(v.Shape, i)
		}
	}
	if a.I != nil {
		i, err := strconv.ParseInt(string(*a.I), 10, 64)
		if err != nil {
			return v, err
		}
		v.Int = i
	}
	if a.F != nil {
		f, err := strconv.ParseFloat(string(*a.F), 64)
		if err != nil {
			return v, err
		}
		v.Float = f
	}
	return v, nil
}
