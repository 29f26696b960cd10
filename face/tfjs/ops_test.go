package tfjs_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/huella-abis/huella/face/internal/convref"
	"github.com/huella-abis/huella/face/tfjs"
)

// garbage is a buffer of n non-zero values, to check that kernels writing
// into a reused buffer overwrite every value.
func garbage(n int) []float32 {
	b := make([]float32, n)
	for i := range b {
		b[i] = float32(i%7) + 100
	}
	return b
}

func closeTo(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-4*max(1, math.Abs(float64(want[i]))) {
			t.Fatalf("%s: value %d = %g, want %g", name, i, got[i], want[i])
		}
	}
}

func TestConvKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	epilogues := map[string]func(c int) tfjs.Epilogue{
		"None":      func(int) tfjs.Epilogue { return tfjs.NoEpilogue },
		"Bias":      func(c int) tfjs.Epilogue { e := tfjs.NoEpilogue; e.Bias = randSlice(c, rng); return e },
		"BiasRelu6": func(c int) tfjs.Epilogue { return tfjs.Epilogue{Bias: randSlice(c, rng), Lo: 0, Hi: 0.5} },
		"Relu":      func(int) tfjs.Epilogue { return tfjs.Epilogue{Lo: 0, Hi: float32(math.Inf(1))} },
	}
	for _, size := range [][2]int{{1, 1}, {3, 3}, {5, 8}, {13, 6}, {12, 12}} {
		for _, k := range []int{1, 3, 5} {
			for _, stride := range []int{1, 2} {
				for _, pad := range []tfjs.Padding{tfjs.Same, tfjs.Valid} {
					for _, ch := range [][2]int{{3, 48}, {17, 5}, {40, 33}} {
						for name, epilogue := range epilogues {
							h, w, cin, cout := size[0], size[1], ch[0], ch[1]
							if pad == tfjs.Valid && (h < k || w < k) {
								continue
							}
							label := fmt.Sprintf("%dx%dx%d k%d s%d pad%d cout%d %s", h, w, cin, k, stride, pad, cout, name)
							x, err := tfjs.FromData(randSlice(h*w*cin, rng), h, w, cin)
							if err != nil {
								t.Fatal(err)
							}
							// Plain convolution, through the packed filter.
							f, err := tfjs.FromData(randSlice(k*k*cin*cout, rng), k, k, cin, cout)
							if err != nil {
								t.Fatal(err)
							}
							ep := epilogue(cout)
							want, oh, ow := convref.Conv(x.Data, h, w, cin, f.Data, k, cout, stride, pad, false, ep.Bias, ep.Lo, ep.Hi)
							for _, workers := range []int{1, 3} {
								got, err := tfjs.Exec{Workers: workers}.Conv2DPacked(x, tfjs.PackFilter(f), stride, pad, ep, garbage(oh*ow*cout))
								if err != nil {
									t.Fatal(err)
								}
								closeTo(t, "Conv2DPacked "+label, got.Data, want)
							}
							// Depthwise, fused epilogue.
							df, err := tfjs.FromData(randSlice(k*k*cin, rng), k, k, cin, 1)
							if err != nil {
								t.Fatal(err)
							}
							ep = epilogue(cin)
							want, oh, ow = convref.Conv(x.Data, h, w, cin, df.Data, k, cin, stride, pad, true, ep.Bias, ep.Lo, ep.Hi)
							for _, workers := range []int{1, 3} {
								got, err := tfjs.Exec{Workers: workers}.DepthwiseConv2DFused(x, df, stride, pad, ep, garbage(oh*ow*cin))
								if err != nil {
									t.Fatal(err)
								}
								closeTo(t, "DepthwiseConv2DFused "+label, got.Data, want)
							}
							if name == "None" {
								got, err := tfjs.Exec{Workers: 1}.DepthwiseConv2D(x, df, stride, pad)
								if err != nil {
									t.Fatal(err)
								}
								closeTo(t, "DepthwiseConv2D "+label, got.Data, want)
							}
						}
					}
				}
			}
		}
	}
}

// TestGemmPacked checks the packed product with an epilogue against the
// naive product, over several blocks of the shared dimension and row
// counts that are not multiples of the kernel's.
func TestGemmPacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range [][3]int{{1, 1, 1}, {70, 37, 1100}, {131, 16, 48}, {9, 1792, 448}, {6, 5, 2100}} {
		m, n, k := tc[0], tc[1], tc[2]
		a, b := randSlice(m*k, rng), randSlice(k*n, rng)
		ep := tfjs.Epilogue{Bias: randSlice(n, rng), Lo: -1, Hi: 2}
		want := naiveGemm(m, n, k, a, b)
		for i := range want {
			want[i] = min(max(want[i]+ep.Bias[i%n], ep.Lo), ep.Hi)
		}
		for _, workers := range []int{1, 3} {
			got := garbage(m * n)
			tfjs.Exec{Workers: workers}.GemmPacked(m, a, tfjs.PackMatrix(k, n, b), got, ep)
			closeTo(t, fmt.Sprintf("GemmPacked m=%d n=%d k=%d workers=%d", m, n, k, workers), got, want)
			got = garbage(m * n)
			tfjs.Exec{Workers: workers}.GemmPackedPortable(m, n, k, a, b, got, ep)
			closeTo(t, fmt.Sprintf("GemmPackedPortable m=%d n=%d k=%d workers=%d", m, n, k, workers), got, want)
		}
	}
}
