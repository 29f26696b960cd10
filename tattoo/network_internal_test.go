package tattoo

import (
	"encoding/binary"
	"math"
	"os"
	"testing"

	"github.com/huella-abis/huella/face/tfjs"
)

// syntheticInput is a smooth colour pattern of side×side pixels: an input
// for the network that is no one's photograph.
func syntheticInput(side int) *tfjs.Tensor {
	x := tfjs.New(side, side, 3)
	for y := range side {
		for xx := range side {
			for c := range 3 {
				v := 0.5 + 0.5*math.Sin(float64(xx*(c+1))*0.11+float64(y*(3-c))*0.07+math.Cos(float64(xx*y)*0.003))
				x.Data[(y*side+xx)*3+c] = float32(v)
			}
		}
	}
	return x
}

// TestGlobalNetAgreesWithReference runs the global descriptor's network on
// a synthetic 192 px input and compares its last feature map with the one
// the runtime computed before its kernels were fused and packed
// (testdata/network-synthetic-192.bin: the channel count, then the map
// averaged over the image, its first cell and its last cell, float32).
// It runs twice, so the second run goes through recycled buffers.
func TestGlobalNetAgreesWithReference(t *testing.T) {
	data, err := os.ReadFile("testdata/network-synthetic-192.bin")
	if err != nil {
		t.Fatal(err)
	}
	c := int(binary.LittleEndian.Uint32(data))
	if c != globalChannels || len(data) != 4+12*c {
		t.Fatalf("reference of %d channels in %d bytes", c, len(data))
	}
	ref := make([]float32, 3*c)
	for i := range ref {
		ref[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4+4*i:]))
	}
	for run := range 2 {
		out, err := globalNet().Run(tfjs.Exec{Workers: 1}, syntheticInput(192))
		if err != nil {
			t.Fatal(err)
		}
		m := out[0]
		if len(m) != 36*c {
			t.Fatalf("run %d: %d values, want %d", run, len(m), 36*c)
		}
		pooled := make([]float32, c)
		for lo := 0; lo < len(m); lo += c {
			for j, v := range m[lo : lo+c] {
				pooled[j] += v / 36
			}
		}
		var worst float64
		for part, got := range [][]float32{pooled, m[:c], m[len(m)-c:]} {
			want := ref[part*c : (part+1)*c]
			for j := range want {
				d := math.Abs(float64(got[j] - want[j]))
				worst = max(worst, d)
				if d > 1e-3*max(1, math.Abs(float64(want[j]))) {
					t.Fatalf("run %d, part %d, channel %d: %g, want %g", run, part, j, got[j], want[j])
				}
			}
		}
		t.Logf("run %d: largest difference %.2g", run, worst)
	}
}
