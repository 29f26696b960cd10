package iris

import "github.com/huella-abis/huella/internal/cpulevel"

// The scan kernels, slowest first: every one returns the same counts as
// countsGo, bit for bit.
const (
	kernelGeneric = iota // pure Go (countsGo)
	kernelAVX2           // nibble-table popcount (VPSHUFB) summed by VPSADBW, one row on POPCNT
	kernelAVX512         // VPOPCNTQ
	kernelCount
)

var kernelNames = [kernelCount]string{"generic", "avx2", "avx512"}

// kernelRuns reports which kernels this CPU and build can run.
var kernelRuns = [kernelCount]bool{true, hasAVX2Kernel, hasAVX512Kernel}

// kernel is the kernel fastDistance uses: the fastest this CPU runs within
// the cap HUELLA_CPU sets (see internal/cpulevel). Tests switch it.
var kernel = bestKernel(cpulevel.Limit())

func bestKernel(limit cpulevel.Level) int {
	switch {
	case kernelRuns[kernelAVX512] && limit >= cpulevel.AVX512:
		return kernelAVX512
	case kernelRuns[kernelAVX2] && limit >= cpulevel.AVX2:
		return kernelAVX2
	}
	return kernelGeneric
}

// Kernel names the comparison kernel Search and DistanceTo use on this
// machine: "avx512" (AVX-512 VPOPCNTDQ), "avx2" or "generic" (pure Go).
// Evaluations report it beside their comparison rates.
func Kernel() string { return kernelNames[kernel] }

// counts writes n<<32 | d for every probe row against entry and returns
// the smallest d and the largest and smallest n over the rows, with the
// selected kernel.
func (p *Probe) counts(entry []uint64, out *[RotRows]uint64) (minD, maxN, minN uint32) {
	switch kernel {
	case kernelAVX512:
		return distancesAVX512(&p.rot, entry, out)
	case kernelAVX2:
		return distancesAVX2(p, entry, out)
	}
	return p.countsGo(entry, out)
}
