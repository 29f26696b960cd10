package iris

// Test hooks into the unexported fast paths.

// KernelAvailable reports whether the assembly kernel runs on this machine.
var KernelAvailable = hasKernel

// CountsGo and CountsKernel expose both forms of the per-shift counts.
func (p *Probe) CountsGo(entry []uint64) (out [RotRows]uint64, extrema [3]uint32) {
	extrema[0], extrema[1], extrema[2] = p.countsGo(entry, &out)
	return out, extrema
}

func (p *Probe) CountsKernel(entry []uint64) (out [RotRows]uint64, extrema [3]uint32) {
	extrema[0], extrema[1], extrema[2] = distancesKernel(&p.rot, entry, &out)
	return out, extrema
}
