package tfjs

// GemmPortable exposes the scalar GEMM so tests check it on AVX2 machines too.
func (e Exec) GemmPortable(m, n, k int, a, b, c []float32) {
	e.gemm4(m, a, packMatrix(k, n, b, 4), c, &NoEpilogue)
}

// GemmPackedPortable is GemmPacked through the scalar kernel.
func (e Exec) GemmPackedPortable(m, n, k int, a, b, c []float32, ep Epilogue) {
	e.gemm4(m, a, packMatrix(k, n, b, 4), c, &ep)
}
