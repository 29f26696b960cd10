//go:build amd64 && !purego

package face

import "golang.org/x/sys/cpu"

// hasAVX2Kernel reports whether the AVX2 scan can run here.
var hasAVX2Kernel = cpu.X86.HasAVX2

//go:noescape
func dotInt8AVX2(codes *int8, n int, probe *int16, dots *int32)

// dotInt8AVX2Slices checks the lengths the assembly reads, then runs it.
func dotInt8AVX2Slices(codes []int8, probe []int16, dots []int32) {
	if len(dots) == 0 {
		return
	}
	_ = codes[len(dots)*DescriptorSize-1]
	_ = probe[DescriptorSize-1]
	dotInt8AVX2(&codes[0], len(dots), &probe[0], &dots[0])
}
