package iris

// Test hooks into the unexported fast paths.

// KernelAvailable reports whether the assembly kernel runs on this machine.
var KernelAvailable = hasKernel

// CountsGo and CountsKernel expose both forms of the per-shift counts.
func (p *Probe) CountsGo(entry []uint64) (out [Shifts]uint64, minD, maxN, minN uint32) {
	minD, maxN, minN = p.countsGo(entry, &out)
	return out, minD, maxN, minN
}

func (p *Probe) CountsKernel(entry []uint64) (out [Shifts]uint64, minD, maxN, minN uint32) {
	minD, maxN, minN = distancesKernel(&p.rot, entry, &out)
	return out, minD, maxN, minN
}
