package iris

import "golang.org/x/sys/cpu"

// hasKernel reports whether the AVX-512 VPOPCNTDQ kernel can run here.
var hasKernel = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VPOPCNTDQ && cpu.X86.HasAVX512VL && CodeWords == 32

// distancesAVX512 writes n<<32 | d for each of the first shifts rows of rot
// against entry (see kernel_amd64.s).
//
//go:noescape
func distancesAVX512(rot *[Shifts][EntryWords]uint64, entry *uint64, out *uint64, shifts int)

func distancesKernel(rot *[Shifts][EntryWords]uint64, entry []uint64, out *[Shifts]uint64) {
	distancesAVX512(rot, &entry[0], &out[0], Shifts)
}
