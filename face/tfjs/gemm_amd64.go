//go:build amd64 && !purego

package tfjs

import "golang.org/x/sys/cpu"

// haveFMA selects the AVX2 + FMA micro-kernel.
var haveFMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kernel4x16 sets out[0:64] to the 4×16 product of four rows of a (lda
// floats apart, k long) and a packed 16-column panel b.
//
//go:noescape
func kernel4x16(a *float32, lda int, b *float32, k int, out *float32)

// depthwise3x3x8 writes groups blocks of 8 channels of one 3×3 depthwise
// output: dst = clamp(bias + Σ x·f, lo, hi), the window's top-left input at
// x, input rows row floats apart and pixels c floats apart, f the [3,3,c]
// filter.
//
//go:noescape
func depthwise3x3x8(dst, x *float32, row, c int, f, bias *float32, lo, hi float32, groups int)

// kernel4x16Store sets four rows of c (ldc floats apart) at their first 16
// columns to clamp(A·B + bias, lo, hi), A and B as for kernel4x16 and bias
// 16 values.
//
//go:noescape
func kernel4x16Store(a *float32, lda int, b *float32, k int, c *float32, ldc int, bias *float32, lo, hi float32)
