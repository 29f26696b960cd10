#include "textflag.h"

// For each shift s: out[s] = n<<32 | d with n = popcount(probeMask_s & mask)
// and d = popcount((probeCode_s ^ code) & probeMask_s & mask). The gallery
// entry stays in registers (code in Z0–Z3, mask in Z4–Z7) while the probe's
// rotations stream from L1. VPTERNLOGQ $0x60 computes A & (B ^ C): the
// differing bits under the common mask in one instruction.

// func distances4x512(rot *uint64, entry *uint64, out *uint64, shifts int) (minD, maxN, minN uint64)
TEXT ·distances4x512(SB), NOSPLIT, $0-56
	MOVQ rot+0(FP), SI
	MOVQ entry+8(FP), DI
	MOVQ out+16(FP), DX
	MOVQ shifts+24(FP), CX
	MOVQ $0xFFFFFFFF, R8
	MOVQ $0, R9
	MOVQ $0xFFFFFFFF, R10
	VMOVDQU64 0(DI), Z0
	VMOVDQU64 256(DI), Z4
	VMOVDQU64 64(DI), Z1
	VMOVDQU64 320(DI), Z5
	VMOVDQU64 128(DI), Z2
	VMOVDQU64 384(DI), Z6
	VMOVDQU64 192(DI), Z3
	VMOVDQU64 448(DI), Z7

distances4x512_loop:
	VPANDQ     256(SI), Z4, Z8
	VPOPCNTQ   Z8, Z16
	VPTERNLOGQ $0x60, 0(SI), Z0, Z8
	VPOPCNTQ   Z8, Z17
	VPANDQ     320(SI), Z5, Z10
	VPOPCNTQ   Z10, Z11
	VPADDQ     Z11, Z16, Z16
	VPTERNLOGQ $0x60, 64(SI), Z1, Z10
	VPOPCNTQ   Z10, Z10
	VPADDQ     Z10, Z17, Z17
	VPANDQ     384(SI), Z6, Z12
	VPOPCNTQ   Z12, Z13
	VPADDQ     Z13, Z16, Z16
	VPTERNLOGQ $0x60, 128(SI), Z2, Z12
	VPOPCNTQ   Z12, Z12
	VPADDQ     Z12, Z17, Z17
	VPANDQ     448(SI), Z7, Z14
	VPOPCNTQ   Z14, Z15
	VPADDQ     Z15, Z16, Z16
	VPTERNLOGQ $0x60, 192(SI), Z3, Z14
	VPOPCNTQ   Z14, Z14
	VPADDQ     Z14, Z17, Z17

	// Horizontal sum of n<<32 | d.
	VPSLLQ        $32, Z16, Z16
	VPADDQ        Z16, Z17, Z8
	VEXTRACTI64X4 $1, Z8, Y9
	VPADDQ        Y9, Y8, Y8
	VEXTRACTI128  $1, Y8, X9
	VPADDQ        X9, X8, X8
	VPSHUFD       $0x4E, X8, X9
	VPADDQ        X9, X8, X8
	VMOVQ         X8, AX
	MOVQ          AX, (DX)
	MOVL          AX, BX
	CMPQ          BX, R8
	CMOVQLT       BX, R8
	SHRQ          $32, AX
	CMPQ          AX, R9
	CMOVQGT       AX, R9
	CMPQ          AX, R10
	CMOVQLT       AX, R10
	ADDQ          $8, DX
	ADDQ          $512, SI
	DECQ          CX
	JNZ           distances4x512_loop
	VZEROUPPER
	MOVQ R8, minD+32(FP)
	MOVQ R9, maxN+40(FP)
	MOVQ R10, minN+48(FP)
	RET

// func distances2x512(rot *uint64, entry *uint64, out *uint64, shifts int) (minD, maxN, minN uint64)
TEXT ·distances2x512(SB), NOSPLIT, $0-56
	MOVQ rot+0(FP), SI
	MOVQ entry+8(FP), DI
	MOVQ out+16(FP), DX
	MOVQ shifts+24(FP), CX
	MOVQ $0xFFFFFFFF, R8
	MOVQ $0, R9
	MOVQ $0xFFFFFFFF, R10
	VMOVDQU64 0(DI), Z0
	VMOVDQU64 128(DI), Z4
	VMOVDQU64 64(DI), Z1
	VMOVDQU64 192(DI), Z5

distances2x512_loop:
	VPANDQ     128(SI), Z4, Z8
	VPOPCNTQ   Z8, Z16
	VPTERNLOGQ $0x60, 0(SI), Z0, Z8
	VPOPCNTQ   Z8, Z17
	VPANDQ     192(SI), Z5, Z10
	VPOPCNTQ   Z10, Z11
	VPADDQ     Z11, Z16, Z16
	VPTERNLOGQ $0x60, 64(SI), Z1, Z10
	VPOPCNTQ   Z10, Z10
	VPADDQ     Z10, Z17, Z17

	// Horizontal sum of n<<32 | d.
	VPSLLQ        $32, Z16, Z16
	VPADDQ        Z16, Z17, Z8
	VEXTRACTI64X4 $1, Z8, Y9
	VPADDQ        Y9, Y8, Y8
	VEXTRACTI128  $1, Y8, X9
	VPADDQ        X9, X8, X8
	VPSHUFD       $0x4E, X8, X9
	VPADDQ        X9, X8, X8
	VMOVQ         X8, AX
	MOVQ          AX, (DX)
	MOVL          AX, BX
	CMPQ          BX, R8
	CMOVQLT       BX, R8
	SHRQ          $32, AX
	CMPQ          AX, R9
	CMOVQGT       AX, R9
	CMPQ          AX, R10
	CMOVQLT       AX, R10
	ADDQ          $8, DX
	ADDQ          $256, SI
	DECQ          CX
	JNZ           distances2x512_loop
	VZEROUPPER
	MOVQ R8, minD+32(FP)
	MOVQ R9, maxN+40(FP)
	MOVQ R10, minN+48(FP)
	RET
