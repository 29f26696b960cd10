//go:build amd64 && !purego

#include "textflag.h"

// Bits shared by a probe descriptor (2048 bits, kept in registers) and each
// descriptor of a contiguous gallery: popcount(probe & entry).

DATA simNibbleCounts<>+0(SB)/8, $0x0302020102010100
DATA simNibbleCounts<>+8(SB)/8, $0x0403030203020201
GLOBL simNibbleCounts<>(SB), RODATA|NOPTR, $16

DATA simLowNibbles<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA simLowNibbles<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL simLowNibbles<>(SB), RODATA|NOPTR, $16

// SIMCHUNK adds to Y8 the byte counts of probe chunk p & the entry's chunk
// at byte c of SI (nibble-table method, as in the iris kernel).
#define SIMCHUNK(p, c) \
	VPAND   (c)(SI), p, Y9 \
	VPSRLW  $4, Y9, Y10 \
	VPAND   Y14, Y9, Y9 \
	VPAND   Y14, Y10, Y10 \
	VPSHUFB Y9, Y15, Y9 \
	VPSHUFB Y10, Y15, Y10 \
	VPADDB  Y9, Y8, Y8 \
	VPADDB  Y10, Y8, Y8

// func similarities2048AVX2(probe *uint64, all *uint64, n int, out *int32)
TEXT ·similarities2048AVX2(SB), NOSPLIT, $0-32
	MOVQ probe+0(FP), DI
	MOVQ all+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ out+24(FP), DX
	VMOVDQU 0(DI), Y0
	VMOVDQU 32(DI), Y1
	VMOVDQU 64(DI), Y2
	VMOVDQU 96(DI), Y3
	VMOVDQU 128(DI), Y4
	VMOVDQU 160(DI), Y5
	VMOVDQU 192(DI), Y6
	VMOVDQU 224(DI), Y7
	VBROADCASTI128 simNibbleCounts<>(SB), Y15
	VBROADCASTI128 simLowNibbles<>(SB), Y14
	VPXOR Y13, Y13, Y13
	TESTQ CX, CX
	JZ    avx2_done

avx2_loop:
	PREFETCHT0 2048(SI)
	PREFETCHT0 2112(SI)
	PREFETCHT0 2176(SI)
	PREFETCHT0 2240(SI)
	VPXOR Y8, Y8, Y8
	SIMCHUNK(Y0, 0)
	SIMCHUNK(Y1, 32)
	SIMCHUNK(Y2, 64)
	SIMCHUNK(Y3, 96)
	SIMCHUNK(Y4, 128)
	SIMCHUNK(Y5, 160)
	SIMCHUNK(Y6, 192)
	SIMCHUNK(Y7, 224)
	// At most 64 per byte: no overflow. Sum the 32 bytes.
	VPSADBW      Y13, Y8, Y8
	VEXTRACTI128 $1, Y8, X9
	VPADDQ       X9, X8, X8
	VPSHUFD      $0x4E, X8, X9
	VPADDQ       X9, X8, X8
	VMOVD        X8, (DX)
	ADDQ $256, SI
	ADDQ $4, DX
	DECQ CX
	JNZ  avx2_loop

avx2_done:
	VZEROUPPER
	RET

// func similarities2048AVX512(probe *uint64, all *uint64, n int, out *int32)
TEXT ·similarities2048AVX512(SB), NOSPLIT, $0-32
	MOVQ probe+0(FP), DI
	MOVQ all+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ out+24(FP), DX
	VMOVDQU64 0(DI), Z0
	VMOVDQU64 64(DI), Z1
	VMOVDQU64 128(DI), Z2
	VMOVDQU64 192(DI), Z3
	TESTQ CX, CX
	JZ    avx512_done

avx512_loop:
	PREFETCHT0 2048(SI)
	PREFETCHT0 2112(SI)
	PREFETCHT0 2176(SI)
	PREFETCHT0 2240(SI)
	VPANDQ   0(SI), Z0, Z4
	VPANDQ   64(SI), Z1, Z5
	VPANDQ   128(SI), Z2, Z6
	VPANDQ   192(SI), Z3, Z7
	VPOPCNTQ Z4, Z4
	VPOPCNTQ Z5, Z5
	VPOPCNTQ Z6, Z6
	VPOPCNTQ Z7, Z7
	VPADDQ   Z5, Z4, Z4
	VPADDQ   Z7, Z6, Z6
	VPADDQ   Z6, Z4, Z4
	VEXTRACTI64X4 $1, Z4, Y5
	VPADDQ        Y5, Y4, Y4
	VEXTRACTI128  $1, Y4, X5
	VPADDQ        X5, X4, X4
	VPSHUFD       $0x4E, X4, X5
	VPADDQ        X5, X4, X4
	VMOVD         X4, (DX)
	ADDQ $256, SI
	ADDQ $4, DX
	DECQ CX
	JNZ  avx512_loop

avx512_done:
	VZEROUPPER
	RET
