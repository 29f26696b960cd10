package finger

import "github.com/huella-abis/huella/internal/cpulevel"

// The local-similarity kernels: for one probe cylinder and a batch of
// candidate cylinders they count the common valid cells and the value bits
// within them (cylinderCounts), from which localSimilarity's formula gives
// the same similarity. The pure-Go path is localSimilarity itself.
const (
	cylinderGeneric = iota
	cylinderAVX2
	cylinderAVX512
	cylinderKernelCount
)

var cylinderNames = [cylinderKernelCount]string{"generic", "avx2", "avx512"}

var cylinderRuns = [cylinderKernelCount]bool{true, hasCylinderAVX2, hasCylinderAVX512}

// cylinderKernel is the kernel Compare uses: the fastest this CPU runs
// within the cap HUELLA_CPU sets (see internal/cpulevel).
var cylinderKernel = bestCylinderKernel(cpulevel.Limit())

func bestCylinderKernel(limit cpulevel.Level) int {
	switch {
	case cylinderRuns[cylinderAVX512] && limit >= cpulevel.AVX512:
		return cylinderAVX512
	case cylinderRuns[cylinderAVX2] && limit >= cpulevel.AVX2:
		return cylinderAVX2
	}
	return cylinderGeneric
}

// CylinderKernel names the kernel Compare counts cylinder bits with on this
// machine: "avx512" (AVX-512 VPOPCNTQ), "avx2" or "generic" (pure Go).
func CylinderKernel() string { return cylinderNames[cylinderKernel] }

// cylinderCounts writes, for each candidate cylinder idx[k] of c, the
// common valid cells of probe cylinder a of p and it, and the set value bits
// of each and their differing bits within those cells, to out[4k:4k+4].
func cylinderCounts(p *Candidate, a int, c *Candidate, idx []int32, out []int32) {
	if len(idx) == 0 {
		return
	}
	_ = out[4*len(idx)-1]
	va, ma := &p.values[a*valueWords], &p.masks[a*maskWords]
	switch cylinderKernel {
	case cylinderAVX512:
		cylinderCountsAVX512(va, ma, &c.values[0], &c.masks[0], &idx[0], len(idx), &out[0])
	case cylinderAVX2:
		cylinderCountsAVX2(va, ma, &c.values[0], &c.masks[0], &idx[0], len(idx), &out[0])
	default:
		panic("finger: cylinderCounts without a kernel")
	}
}

// similarityFromCounts is localSimilarity's masked formula on the counts
// cylinderCounts gives.
func similarityFromCounts(common, na, nb, nx int32) float64 {
	if float64(common) < cylinderMinMatchable*float64(circleCells) || na+nb == 0 {
		return 0
	}
	return 1 - sqrtCount[nx]/(sqrtCount[na]+sqrtCount[nb])
}
