//go:build !amd64 || purego

package finger

const (
	hasCylinderAVX2   = false
	hasCylinderAVX512 = false
)

func cylinderCountsAVX512(va, ma, values, masks *uint64, idx *int32, n int, out *int32) {
	panic("finger: no AVX-512 kernel in this build")
}

func cylinderCountsAVX2(va, ma, values, masks *uint64, idx *int32, n int, out *int32) {
	panic("finger: no AVX2 kernel in this build")
}
