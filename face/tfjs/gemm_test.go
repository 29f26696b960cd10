package tfjs_test

import (
	"math/rand/v2"
	"testing"

	"github.com/huella-abis/huella/face/tfjs"
)

func naiveGemm(m, n, k int, a, b []float32) []float32 {
	c := make([]float32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for r := 0; r < k; r++ {
				s += a[i*k+r] * b[r*n+j]
			}
			c[i*n+j] = s
		}
	}
	return c
}

func randSlice(n int, rng *rand.Rand) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

func TestGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range [][3]int{{1, 1, 1}, {5, 7, 3}, {17, 33, 300}, {64, 4, 9}, {3, 130, 513}, {9, 17, 1}} {
		m, n, k := tc[0], tc[1], tc[2]
		a, b := randSlice(m*k, rng), randSlice(k*n, rng)
		want := naiveGemm(m, n, k, a, b)
		for _, workers := range []int{1, 3} {
			for name, gemm := range map[string]func(m, n, k int, a, b, c []float32){
				"Gemm": tfjs.Exec{Workers: workers}.Gemm, "GemmPortable": tfjs.Exec{Workers: workers}.GemmPortable,
			} {
				got := make([]float32, m*n)
				gemm(m, n, k, a, b, got)
				for i := range want {
					if d := got[i] - want[i]; d > 1e-3 || d < -1e-3 {
						t.Fatalf("%s m=%d n=%d k=%d workers=%d: c[%d] = %g, want %g", name, m, n, k, workers, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// BenchmarkGemm is a residual 3×3 convolution of FaceRecognitionNet at
// 35×35×32 (1225×288 by 288×32).
func BenchmarkGemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	m, n, k := 1225, 32, 288
	a, bb, c := randSlice(m*k, rng), randSlice(k*n, rng), make([]float32, m*n)
	e := tfjs.Exec{Workers: 1}
	for b.Loop() {
		e.Gemm(m, n, k, a, bb, c)
	}
	b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
}
