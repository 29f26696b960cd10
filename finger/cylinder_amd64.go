//go:build amd64 && !purego

package finger

import "golang.org/x/sys/cpu"

// The kernels (cylinder_amd64.s) take cylinders of 4 mask words and 24 value words.
var (
	hasCylinderAVX2   = cpu.X86.HasAVX2 && maskWords == 4 && valueWords == 24
	hasCylinderAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VPOPCNTDQ &&
		maskWords == 4 && valueWords == 24
)

//go:noescape
func cylinderCountsAVX512(va, ma, values, masks *uint64, idx *int32, n int, out *int32)

//go:noescape
func cylinderCountsAVX2(va, ma, values, masks *uint64, idx *int32, n int, out *int32)
