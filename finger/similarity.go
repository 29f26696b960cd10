package finger

import (
	"math/bits"

	"github.com/huella-abis/huella/internal/cpulevel"
)

// The descriptor scan kernels, slowest first: all count the same bits.
const (
	similarityGeneric = iota // pure Go (similaritiesGo)
	similarityAVX2           // nibble-table popcount (VPSHUFB) summed by VPSADBW
	similarityAVX512         // VPOPCNTQ
	similarityCount
)

var similarityNames = [similarityCount]string{"generic", "avx2", "avx512"}

// similarityRuns reports which kernels this CPU and build can run.
var similarityRuns = [similarityCount]bool{true, hasSimilarityAVX2, hasSimilarityAVX512}

// similarityKernel is the kernel Similarities uses: the fastest this CPU
// runs within the cap HUELLA_CPU sets (see internal/cpulevel).
var similarityKernel = bestSimilarityKernel(cpulevel.Limit())

func bestSimilarityKernel(limit cpulevel.Level) int {
	switch {
	case similarityRuns[similarityAVX512] && limit >= cpulevel.AVX512:
		return similarityAVX512
	case similarityRuns[similarityAVX2] && limit >= cpulevel.AVX2:
		return similarityAVX2
	}
	return similarityGeneric
}

// SimilarityKernel names the kernel Similarities uses on this machine:
// "avx512" (AVX-512 VPOPCNTDQ), "avx2" or "generic" (pure Go).
func SimilarityKernel() string { return similarityNames[similarityKernel] }

// Similarities writes d.Similarity(&all[i]) to out[i] for every descriptor
// of all, with the fastest kernel the CPU runs: the 1:N first stage's scan.
// out must hold len(all) values.
func (d *Descriptor) Similarities(all []Descriptor, out []int32) {
	out = out[:len(all)]
	if len(all) == 0 {
		return
	}
	switch similarityKernel {
	case similarityAVX512:
		similaritiesAVX512(d, all, out)
	case similarityAVX2:
		similaritiesAVX2(d, all, out)
	default:
		similaritiesGo(d, all, out)
	}
}

// similaritiesGo is the pure-Go scan, four words a step.
func similaritiesGo(d *Descriptor, all []Descriptor, out []int32) {
	for i := range all {
		e := &all[i]
		n := 0
		for w := 0; w < descriptorWords; w += 4 {
			n += bits.OnesCount64(d[w]&e[w]) + bits.OnesCount64(d[w+1]&e[w+1]) +
				bits.OnesCount64(d[w+2]&e[w+2]) + bits.OnesCount64(d[w+3]&e[w+3])
		}
		out[i] = int32(n)
	}
}
