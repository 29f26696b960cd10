package tfjs

// GemmPortable exposes the scalar GEMM so tests check it on AVX2 machines too.
func (e Exec) GemmPortable(m, n, k int, a, b, c []float32) { e.gemm4(m, n, k, a, b, c) }
