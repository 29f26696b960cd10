//go:build !amd64 || purego

package iris

const (
	hasAVX512Kernel = false
	hasAVX2Kernel   = false
)

func distancesAVX512(rot *[RotRows][EntryWords]uint64, entry []uint64, out *[RotRows]uint64) (minD, maxN, minN uint32) {
	panic("iris: no AVX-512 kernel in this build")
}

func distancesAVX2(p *Probe, entry []uint64, out *[RotRows]uint64) (minD, maxN, minN uint32) {
	panic("iris: no AVX2 kernel in this build")
}
