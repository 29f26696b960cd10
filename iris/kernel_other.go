//go:build !amd64

package iris

const hasKernel = false

func distancesKernel(rot *[RotRows][EntryWords]uint64, entry []uint64, out *[RotRows]uint64) (minD, maxN, minN uint32) {
	panic("iris: no kernel on this architecture")
}
