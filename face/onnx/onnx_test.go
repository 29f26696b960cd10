package onnx_test

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/huella-abis/huella/face/onnx"
	"github.com/huella-abis/huella/face/tfjs"
)

// pb builds protobuf messages for test models.
type pb []byte

func (m pb) varint(num int, v uint64) pb {
	m = binary.AppendUvarint(m, uint64(num<<3))
	return binary.AppendUvarint(m, v)
}

func (m pb) bytes(num int, b []byte) pb {
	m = binary.AppendUvarint(m, uint64(num<<3|2))
	m = binary.AppendUvarint(m, uint64(len(b)))
	return append(m, b...)
}

func (m pb) str(num int, s string) pb { return m.bytes(num, []byte(s)) }

func tensor(name string, dims []int64, vals ...float32) []byte {
	var t pb
	for _, d := range dims {
		t = t.varint(1, uint64(d))
	}
	t = t.varint(2, 1).str(8, name)
	raw := make([]byte, 0, 4*len(vals))
	for _, v := range vals {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	return t.bytes(9, raw)
}

func intsAttr(name string, v ...int64) []byte {
	a := pb(nil).str(1, name)
	for _, x := range v {
		a = a.varint(8, uint64(x))
	}
	return a.varint(20, 7)
}

func node(op string, in, out []string, attrs ...[]byte) []byte {
	var n pb
	for _, s := range in {
		n = n.str(1, s)
	}
	for _, s := range out {
		n = n.str(2, s)
	}
	n = n.str(4, op)
	for _, a := range attrs {
		n = n.bytes(5, a)
	}
	return n
}

// testModel is x [1,1,4,4] → Conv 2×2 (one output channel, weights 1, 2,
// 3, 4, bias −10, stride 2, pads 1) → PRelu (slope 0.5) → Add itself →
// Reshape: a 3×3 map.
func testModel() []byte {
	var g pb
	g = g.bytes(1, node("Conv", []string{"x", "w", "b"}, []string{"c"},
		intsAttr("kernel_shape", 2, 2), intsAttr("strides", 2, 2), intsAttr("pads", 1, 1, 1, 1), intsAttr("dilations", 1, 1)))
	g = g.bytes(1, node("PRelu", []string{"c", "slope"}, []string{"p"}))
	g = g.bytes(1, node("Add", []string{"p", "p"}, []string{"a"}))
	g = g.str(2, "test")
	g = g.bytes(5, tensor("w", []int64{1, 1, 2, 2}, 1, 2, 3, 4))
	g = g.bytes(5, tensor("b", []int64{1}, -10))
	g = g.bytes(5, tensor("slope", []int64{1, 1, 1}, 0.5))
	g = g.bytes(11, pb(nil).str(1, "x"))
	g = g.bytes(12, pb(nil).str(1, "a"))
	return pb(nil).varint(1, 7).str(2, "huella-test").bytes(7, g)
}

func TestRunSmallGraph(t *testing.T) {
	m, err := onnx.Decode(testModel())
	if err != nil {
		t.Fatal(err)
	}
	n, err := onnx.Prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	x := tfjs.New(4, 4, 1)
	for i := range x.Data {
		x.Data[i] = float32(i + 1) // rows 1–4, 5–8, 9–12, 13–16
	}
	got, err := n.Run(tfjs.Exec{Workers: 1}, x)
	if err != nil {
		t.Fatal(err)
	}
	// Padded by one, the 2×2 windows at stride 2 see, for output (0,0),
	// only x[0][0]·4; for (1,1): x[1][1]·1 + x[1][2]·2 + x[2][1]·3 + x[2][2]·4.
	conv := func(r, c int) float32 {
		var s float32
		w := [2][2]float32{{1, 2}, {3, 4}}
		for dy := 0; dy < 2; dy++ {
			for dx := 0; dx < 2; dx++ {
				y, xx := 2*r+dy-1, 2*c+dx-1
				if y >= 0 && y < 4 && xx >= 0 && xx < 4 {
					s += w[dy][dx] * x.Data[y*4+xx]
				}
			}
		}
		return s - 10
	}
	if len(got) != 9 {
		t.Fatalf("got %d values, want 9", len(got))
	}
	for r := 0; r < 3; r++ {
		for c := 0; c < 3; c++ {
			want := conv(r, c)
			if want < 0 {
				want *= 0.5
			}
			want *= 2
			if d := got[r*3+c] - want; d > 1e-4 || d < -1e-4 {
				t.Errorf("out[%d][%d] = %g, want %g", r, c, got[r*3+c], want)
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	good := testModel()
	unsupported := pb(nil).bytes(7, pb(nil).bytes(1, node("LSTM", []string{"x"}, []string{"y"})).
		bytes(11, pb(nil).str(1, "x")).bytes(12, pb(nil).str(1, "y")))
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"ErrEmpty", nil},
		{"ErrTruncated", good[:len(good)-5]},
		{"ErrNoGraph", pb(nil).varint(1, 7)},
		{"ErrUnsupportedOp", unsupported},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := onnx.Decode(c.data)
			if err == nil {
				_, err = onnx.Prepare(m)
			}
			if !errors.Is(err, onnx.ErrModel) {
				t.Errorf("err = %v, want ErrModel", err)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(testModel())
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := onnx.Decode(data)
		if err != nil {
			return
		}
		n, err := onnx.Prepare(m)
		if err != nil {
			return
		}
		// A prepared graph must fail cleanly, not panic, on any input.
		n.Run(tfjs.Exec{Workers: 1}, tfjs.New(4, 4, 1))
	})
}
