//go:build amd64 && !purego

package iris

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// hasAVX512Kernel reports whether the AVX-512 VPOPCNTDQ kernel can run here
// for this code size (2048 or 1024 bits).
var hasAVX512Kernel = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VPOPCNTDQ && cpu.X86.HasAVX512VL &&
	(CodeWords == 32 || CodeWords == 16)

// hasAVX2Kernel reports whether the AVX2 kernel can run here for this code
// size (2048 or 1024 bits) and number of rows (its frame holds 16).
var hasAVX2Kernel = cpu.X86.HasAVX2 && (CodeWords == 32 || CodeWords == 16) && RotRows <= 16

// distances4x512 and distances2x512 write n<<32 | d for each row of rot
// against entry, taken as groups blocks of eight rows, four (0 or 1) blocks of
// four and singles single rows, for codes of four or two 512-bit
// registers (see kernel_amd64.s). They also return the smallest d (low half
// of dn), the smallest n (high half of dn) and the largest n (high half of
// maxN) over the rows.
//
//go:noescape
func distances4x512(rot *uint64, entry *uint64, out *uint64, groups, four, singles int) (dn, maxN uint64)

//go:noescape
func distances2x512(rot *uint64, entry *uint64, out *uint64, groups, four, singles int) (dn, maxN uint64)

// distances8x256 and distances4x256 are the AVX2 forms for codes of eight
// or four 256-bit registers (see kernel_avx2_amd64.s): groups blocks of four
// rows, then singles single rows, with the same outputs.
//
// distances4x256 reads the probe rows' mask nibbles from nibbles
// (Probe.maskNibbles); distances8x256 ignores it.
//
//go:noescape
func distances8x256(rot *uint64, nibbles *uint64, entry *uint64, out *uint64, groups, singles int) (dn, maxN uint64)

//go:noescape
func distances4x256(rot *uint64, nibbles *uint64, entry *uint64, out *uint64, groups, singles int) (dn, maxN uint64)

// distances4x256h is distances4x256 for exactly nine rows, the ninth counted
// with scalar POPCNT alongside the vector rows (see kernel_avx2_amd64.s); it
// reads p.rot and p.maskNibbles (probeNibbles bytes into p) and returns the
// extrema apart.
//
//go:noescape
func distances4x256h(p *Probe, entry *[EntryWords]uint64, out *[RotRows]uint64) (minD, maxN, minN uint32)

func distancesAVX512(rot *[RotRows][EntryWords]uint64, entry []uint64, out *[RotRows]uint64) (minD, maxN, minN uint32) {
	r := (*uint64)(unsafe.Pointer(rot))
	e := (*[EntryWords]uint64)(entry)
	var dn, mx uint64
	if CodeWords == 32 {
		dn, mx = distances4x512(r, &e[0], &out[0], RotRows/8, RotRows%8/4, RotRows%4)
	} else {
		dn, mx = distances2x512(r, &e[0], &out[0], RotRows/8, RotRows%8/4, RotRows%4)
	}
	return uint32(dn), uint32(mx >> 32), uint32(dn >> 32)
}

func distancesAVX2(p *Probe, entry []uint64, out *[RotRows]uint64) (minD, maxN, minN uint32) {
	// The condition is constant: only one branch is compiled, which keeps
	// this function small enough to inline into counts.
	if CodeWords == 16 && RotRows == 9 {
		return distances4x256h(p, (*[EntryWords]uint64)(entry), out)
	}
	return distancesAVX2Rows(&p.rot, &p.maskNibbles, entry, out)
}

// probeNibbles is the offset of Probe.maskNibbles, which
// distances4x256h assumes.
const probeNibbles = RotRows * EntryWords * 8

var _ = [1]struct{}{}[unsafe.Offsetof(Probe{}.maskNibbles)-probeNibbles]

// distancesAVX2Rows is distancesAVX2 for any number of rows.
func distancesAVX2Rows(rot *[RotRows][EntryWords]uint64, nibbles *[RotRows][EntryWords]uint64, entry []uint64, out *[RotRows]uint64) (minD, maxN, minN uint32) {
	r := (*uint64)(unsafe.Pointer(rot))
	nb := (*uint64)(unsafe.Pointer(nibbles))
	e := (*[EntryWords]uint64)(entry)
	var dn, mx uint64
	if CodeWords == 32 {
		dn, mx = distances8x256(r, nb, &e[0], &out[0], RotRows/4, RotRows%4)
	} else {
		dn, mx = distances4x256(r, nb, &e[0], &out[0], RotRows/4, RotRows%4)
	}
	return uint32(dn), uint32(mx >> 32), uint32(dn >> 32)
}
