//go:build !amd64

package iris

const hasKernel = false

func distancesKernel(rot *[Shifts][EntryWords]uint64, entry []uint64, out *[Shifts]uint64) (minD, maxN, minN uint32) {
	panic("iris: no kernel on this architecture")
}
