package face

import "github.com/huella-abis/huella/internal/cpulevel"

// The 1:N scan kernels, slowest first: both compute the same int32 dots.
const (
	kernelGeneric = iota // pure Go (dotInt8Go)
	kernelAVX2           // VPMOVSXBW + VPMADDWD
	kernelCount
)

var kernelNames = [kernelCount]string{"generic", "avx2"}

// kernelRuns reports which kernels this CPU and build can run.
var kernelRuns = [kernelCount]bool{true, hasAVX2Kernel}

// kernel is the kernel dotInt8 uses: the fastest this CPU runs within the
// cap HUELLA_CPU sets (see internal/cpulevel). Tests switch it.
var kernel = bestKernel(cpulevel.Limit())

func bestKernel(limit cpulevel.Level) int {
	if kernelRuns[kernelAVX2] && limit >= cpulevel.AVX2 {
		return kernelAVX2
	}
	return kernelGeneric
}

// Kernel names the scan kernel Scores and Score use on this machine:
// "avx2" or "generic" (pure Go). Evaluations report it beside their rates.
func Kernel() string { return kernelNames[kernel] }

// dotInt8 computes dots[i] = codes[i·128:(i+1)·128]·probe with the
// selected kernel.
func dotInt8(codes []int8, probe []int16, dots []int32) {
	if kernel == kernelAVX2 {
		dotInt8AVX2Slices(codes, probe, dots)
		return
	}
	dotInt8Go(codes, probe, dots)
}
