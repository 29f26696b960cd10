//go:build amd64 && !purego

package finger

import "golang.org/x/sys/cpu"

// The kernels (similarity_amd64.s) take 2048-bit descriptors.
var (
	hasSimilarityAVX2   = cpu.X86.HasAVX2 && descriptorWords == 32
	hasSimilarityAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VPOPCNTDQ && descriptorWords == 32
)

// similarities2048AVX2 and similarities2048AVX512 write the count of bits
// the probe shares with each of n 2048-bit descriptors.
//
//go:noescape
func similarities2048AVX2(probe *uint64, all *uint64, n int, out *int32)

//go:noescape
func similarities2048AVX512(probe *uint64, all *uint64, n int, out *int32)

func similaritiesAVX2(d *Descriptor, all []Descriptor, out []int32) {
	similarities2048AVX2(&d[0], &all[0][0], len(all), &out[0])
}

func similaritiesAVX512(d *Descriptor, all []Descriptor, out []int32) {
	similarities2048AVX512(&d[0], &all[0][0], len(all), &out[0])
}
