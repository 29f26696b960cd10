//go:build amd64 && !purego

package face

import "golang.org/x/sys/cpu"

var haveAVX2 = cpu.X86.HasAVX2

// dotInt8 computes dots[i] = codes[i·128:(i+1)·128]·probe.
func dotInt8(codes []int8, probe []int16, dots []int32) {
	if haveAVX2 && len(dots) > 0 {
		dotInt8AVX2(&codes[0], len(dots), &probe[0], &dots[0])
		return
	}
	dotInt8Go(codes, probe, dots)
}

//go:noescape
func dotInt8AVX2(codes *int8, n int, probe *int16, dots *int32)
