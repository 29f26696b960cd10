//go:build !amd64 || purego

package finger

const (
	hasSimilarityAVX2   = false
	hasSimilarityAVX512 = false
)

func similaritiesAVX2(d *Descriptor, all []Descriptor, out []int32) {
	panic("finger: no AVX2 kernel in this build")
}

func similaritiesAVX512(d *Descriptor, all []Descriptor, out []int32) {
	panic("finger: no AVX-512 kernel in this build")
}
