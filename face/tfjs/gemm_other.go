//go:build !amd64 || purego

package tfjs

// haveFMA is false: only the portable kernel exists on this platform.
var haveFMA = false

func kernel4x16(a *float32, lda int, b *float32, k int, out *float32) {
	panic("tfjs: kernel4x16 without AVX2")
}

func depthwise3x3x8(dst, x *float32, row, c int, f, bias *float32, lo, hi float32, groups int) {
	panic("tfjs: depthwise3x3x8 without AVX2")
}

func kernel4x16Store(a *float32, lda int, b *float32, k int, c *float32, ldc int, bias *float32, lo, hi float32) {
	panic("tfjs: kernel4x16Store without AVX2")
}
