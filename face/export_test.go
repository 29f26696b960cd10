package face

// Test hooks into the scan kernels.

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

// UseKernel makes the scans use the named kernel until restore is called.
// It panics for a kernel this machine cannot run.
func UseKernel(name string) (restore func()) {
	for k, n := range kernelNames {
		if n == name {
			if !kernelRuns[k] {
				panic("face: kernel " + name + " cannot run here")
			}
			saved := kernel
			kernel = k
			return func() { kernel = saved }
		}
	}
	panic("face: no kernel " + name)
}

// DotInt8 and DotInt8Go expose the selected kernel's dots and the pure-Go ones.
func DotInt8(codes []int8, probe []int16, dots []int32)   { dotInt8(codes, probe, dots) }
func DotInt8Go(codes []int8, probe []int16, dots []int32) { dotInt8Go(codes, probe, dots) }
