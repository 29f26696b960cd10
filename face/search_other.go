//go:build !amd64 || purego

package face

const hasAVX2Kernel = false

func dotInt8AVX2Slices(codes []int8, probe []int16, dots []int32) {
	panic("face: no AVX2 kernel in this build")
}
