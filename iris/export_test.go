package iris

// Test hooks into the unexported fast paths.

// Kernels lists the kernels this machine runs, slowest first.
func Kernels() []string {
	var names []string
	for k, ok := range kernelRuns {
		if ok {
			names = append(names, kernelNames[k])
		}
	}
	return names
}

// UseKernel makes fastDistance use the named kernel until restore is called.
// It panics for a kernel this machine cannot run.
func UseKernel(name string) (restore func()) {
	for k, n := range kernelNames {
		if n == name {
			if !kernelRuns[k] {
				panic("iris: kernel " + name + " cannot run here")
			}
			saved := kernel
			kernel = k
			return func() { kernel = saved }
		}
	}
	panic("iris: no kernel " + name)
}

// CountsGo and Counts expose the pure-Go counts and those of the selected
// kernel.
func (p *Probe) CountsGo(entry []uint64) (out [RotRows]uint64, extrema [3]uint32) {
	extrema[0], extrema[1], extrema[2] = p.countsGo(entry, &out)
	return out, extrema
}

func (p *Probe) Counts(entry []uint64) (out [RotRows]uint64, extrema [3]uint32) {
	extrema[0], extrema[1], extrema[2] = p.counts(entry, &out)
	return out, extrema
}
