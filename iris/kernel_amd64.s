#include "textflag.h"

// func distancesAVX512(rot *[Shifts][EntryWords]uint64, entry *uint64, out *uint64, shifts int)
// For each shift s: out[s] = n<<32 | d with n = popcount(probeMask_s & mask),
// d = popcount((probeCode_s ^ code) & probeMask_s & mask), for 2048-bit codes
// (4 zmm of code then 4 zmm of mask per row).
TEXT ·distancesAVX512(SB), NOSPLIT, $0-32
	MOVQ rot+0(FP), SI
	MOVQ entry+8(FP), DI
	MOVQ out+16(FP), DX
	MOVQ shifts+24(FP), CX
	VMOVDQU64 0(DI), Z0
	VMOVDQU64 64(DI), Z1
	VMOVDQU64 128(DI), Z2
	VMOVDQU64 192(DI), Z3
	VMOVDQU64 256(DI), Z4
	VMOVDQU64 320(DI), Z5
	VMOVDQU64 384(DI), Z6
	VMOVDQU64 448(DI), Z7

loop:
	VPANDQ   256(SI), Z4, Z8
	VPXORQ   0(SI), Z0, Z9
	VPANDQ   Z8, Z9, Z9
	VPOPCNTQ Z8, Z16
	VPOPCNTQ Z9, Z17
	VPANDQ   320(SI), Z5, Z10
	VPXORQ   64(SI), Z1, Z11
	VPANDQ   Z10, Z11, Z11
	VPOPCNTQ Z10, Z10
	VPOPCNTQ Z11, Z11
	VPADDQ   Z10, Z16, Z16
	VPADDQ   Z11, Z17, Z17
	VPANDQ   384(SI), Z6, Z12
	VPXORQ   128(SI), Z2, Z13
	VPANDQ   Z12, Z13, Z13
	VPOPCNTQ Z12, Z12
	VPOPCNTQ Z13, Z13
	VPADDQ   Z12, Z16, Z16
	VPADDQ   Z13, Z17, Z17
	VPANDQ   448(SI), Z7, Z14
	VPXORQ   192(SI), Z3, Z15
	VPANDQ   Z14, Z15, Z15
	VPOPCNTQ Z14, Z14
	VPOPCNTQ Z15, Z15
	VPADDQ   Z14, Z16, Z16
	VPADDQ   Z15, Z17, Z17

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
	ADDQ          $8, DX
	ADDQ          $512, SI
	DECQ          CX
	JNZ           loop
	VZEROUPPER
	RET
