package iris

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// hasKernel reports whether an AVX-512 VPOPCNTDQ kernel can run here for
// this code size (2048 or 1024 bits).
var hasKernel = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VPOPCNTDQ && cpu.X86.HasAVX512VL &&
	(CodeWords == 32 || CodeWords == 16)

// distances4x512 and distances2x512 write n<<32 | d for each of the first
// shifts rows of rot against entry, for codes of four or two 512-bit
// registers (see kernel_amd64.s), and return the smallest d and the largest
// and smallest n over the shifts.
//
//go:noescape
func distances4x512(rot *uint64, entry *uint64, out *uint64, shifts int) (minD, maxN, minN uint64)

//go:noescape
func distances2x512(rot *uint64, entry *uint64, out *uint64, shifts int) (minD, maxN, minN uint64)

func distancesKernel(rot *[Shifts][EntryWords]uint64, entry []uint64, out *[Shifts]uint64) (minD, maxN, minN uint32) {
	r := (*uint64)(unsafe.Pointer(rot))
	var a, b, c uint64
	if CodeWords == 32 {
		a, b, c = distances4x512(r, &entry[0], &out[0], Shifts)
	} else {
		a, b, c = distances2x512(r, &entry[0], &out[0], Shifts)
	}
	return uint32(a), uint32(b), uint32(c)
}
