//go:build amd64 && !purego

#include "textflag.h"

// func kernel4x16(a *float32, lda int, b *float32, k int, out *float32)
//
// out[0:64] = A[4×k] · B[k×16], A rows lda floats apart, B packed 16 floats
// per row. AVX2 + FMA.
TEXT ·kernel4x16(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ lda+8(FP), R8
	SHLQ $2, R8
	MOVQ b+16(FP), DI
	MOVQ k+24(FP), CX
	MOVQ out+32(FP), DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	LEAQ (SI)(R8*1), R9
	LEAQ (R9)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	TESTQ CX, CX
	JEQ done

loop:
	VMOVUPS (DI), Y8
	VMOVUPS 32(DI), Y9
	VBROADCASTSS (SI), Y10
	VFMADD231PS Y8, Y10, Y0
	VFMADD231PS Y9, Y10, Y1
	VBROADCASTSS (R9), Y11
	VFMADD231PS Y8, Y11, Y2
	VFMADD231PS Y9, Y11, Y3
	VBROADCASTSS (R10), Y12
	VFMADD231PS Y8, Y12, Y4
	VFMADD231PS Y9, Y12, Y5
	VBROADCASTSS (R11), Y13
	VFMADD231PS Y8, Y13, Y6
	VFMADD231PS Y9, Y13, Y7
	ADDQ $64, DI
	ADDQ $4, SI
	ADDQ $4, R9
	ADDQ $4, R10
	ADDQ $4, R11
	DECQ CX
	JNE loop

done:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	VMOVUPS Y4, 128(DX)
	VMOVUPS Y5, 160(DX)
	VMOVUPS Y6, 192(DX)
	VMOVUPS Y7, 224(DX)
	VZEROUPPER
	RET

// func depthwise3x3x8(dst, x *float32, row, c int, f, bias *float32, lo, hi float32, groups int)
//
// For groups blocks of 8 channels: dst = clamp(bias + Σ taps x·f, lo, hi)
// over a 3×3 window whose top-left input is x, input rows row floats
// apart, pixels c floats apart; f is the [3,3,c] filter. AVX2 + FMA.
TEXT ·depthwise3x3x8(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DX
	MOVQ x+8(FP), SI
	MOVQ row+16(FP), AX
	SHLQ $2, AX
	MOVQ c+24(FP), R8
	SHLQ $2, R8
	MOVQ f+32(FP), DI
	MOVQ bias+40(FP), BX
	VBROADCASTSS lo+48(FP), Y14
	VBROADCASTSS hi+52(FP), Y15
	MOVQ groups+56(FP), CX
	LEAQ (R8)(R8*1), R11
	LEAQ (SI)(AX*1), R9
	LEAQ (R9)(AX*1), R10
	LEAQ (R11)(R8*1), R12
	LEAQ (DI)(R12*1), R13
	LEAQ (R13)(R12*1), R14
	TESTQ CX, CX
	JEQ dwdone

dwloop:
	VMOVUPS (BX), Y0
	VMOVUPS (SI), Y1
	VFMADD231PS (DI), Y1, Y0
	VMOVUPS (SI)(R8*1), Y2
	VFMADD231PS (DI)(R8*1), Y2, Y0
	VMOVUPS (SI)(R11*1), Y3
	VFMADD231PS (DI)(R11*1), Y3, Y0
	VMOVUPS (R9), Y1
	VMULPS (R13), Y1, Y4
	VMOVUPS (R9)(R8*1), Y2
	VFMADD231PS (R13)(R8*1), Y2, Y4
	VMOVUPS (R9)(R11*1), Y3
	VFMADD231PS (R13)(R11*1), Y3, Y4
	VMOVUPS (R10), Y1
	VMULPS (R14), Y1, Y5
	VMOVUPS (R10)(R8*1), Y2
	VFMADD231PS (R14)(R8*1), Y2, Y5
	VMOVUPS (R10)(R11*1), Y3
	VFMADD231PS (R14)(R11*1), Y3, Y5
	VADDPS Y4, Y0, Y0
	VADDPS Y5, Y0, Y0
	VMAXPS Y14, Y0, Y0
	VMINPS Y15, Y0, Y0
	VMOVUPS Y0, (DX)
	ADDQ $32, SI
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, DI
	ADDQ $32, R13
	ADDQ $32, R14
	ADDQ $32, BX
	ADDQ $32, DX
	DECQ CX
	JNE dwloop

dwdone:
	VZEROUPPER
	RET
