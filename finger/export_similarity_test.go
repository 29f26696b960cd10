package finger

// Test hooks into the descriptor scan kernels.

// SimilarityKernels lists the kernels this machine runs, slowest first.
func SimilarityKernels() []string {
	var names []string
	for k, ok := range similarityRuns {
		if ok {
			names = append(names, similarityNames[k])
		}
	}
	return names
}

// UseSimilarityKernel makes Similarities use the named kernel until restore
// is called. It panics for a kernel this machine cannot run.
func UseSimilarityKernel(name string) (restore func()) {
	for k, n := range similarityNames {
		if n == name {
			if !similarityRuns[k] {
				panic("finger: kernel " + name + " cannot run here")
			}
			saved := similarityKernel
			similarityKernel = k
			return func() { similarityKernel = saved }
		}
	}
	panic("finger: no kernel " + name)
}
