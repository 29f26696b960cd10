//go:build amd64 && !purego

#include "textflag.h"

// Cylinder-pair bit counts of the comparator's local similarities: for a
// probe cylinder (24 value words, 4 mask words) and each candidate cylinder
// named by idx, the count of common valid cells, and of the probe's, the
// candidate's and the differing value bits within them. The 4 mask words
// repeat over the 6 sections of 4 value words.

// func cylinderCountsAVX512(va, ma, values, masks *uint64, idx *int32, n int, out *int32)
TEXT ·cylinderCountsAVX512(SB), NOSPLIT, $0-56
	MOVQ va+0(FP), DI
	MOVQ ma+8(FP), SI
	MOVQ values+16(FP), R8
	MOVQ masks+24(FP), R9
	MOVQ idx+32(FP), R10
	MOVQ n+40(FP), CX
	MOVQ out+48(FP), DX
	VMOVDQU64 0(DI), Z0
	VMOVDQU64 64(DI), Z1
	VMOVDQU64 128(DI), Z2
	VBROADCASTI64X4 0(SI), Z3
	TESTQ CX, CX
	JZ    cc512_done

cc512_loop:
	MOVLQSX (R10), AX
	IMUL3Q  $192, AX, BX
	SHLQ    $5, AX
	ADDQ    R8, BX
	VBROADCASTI64X4 (R9)(AX*1), Z4
	VPANDQ   Z3, Z4, Z4     // common mask
	VPOPCNTQ Y4, Y5         // common cells (one copy of the mask)
	// chunk 0
	VPANDQ   Z0, Z4, Z6     // x = va & m
	VPANDQ   0(BX), Z4, Z7  // y = vb & m
	VPXORQ   Z6, Z7, Z10
	VPOPCNTQ Z6, Z8
	VPOPCNTQ Z7, Z9
	VPOPCNTQ Z10, Z10
	// chunk 1
	VPANDQ   Z1, Z4, Z6
	VPANDQ   64(BX), Z4, Z7
	VPXORQ   Z6, Z7, Z11
	VPOPCNTQ Z6, Z6
	VPOPCNTQ Z7, Z7
	VPOPCNTQ Z11, Z11
	VPADDQ   Z6, Z8, Z8
	VPADDQ   Z7, Z9, Z9
	VPADDQ   Z11, Z10, Z10
	// chunk 2
	VPANDQ   Z2, Z4, Z6
	VPANDQ   128(BX), Z4, Z7
	VPXORQ   Z6, Z7, Z11
	VPOPCNTQ Z6, Z6
	VPOPCNTQ Z7, Z7
	VPOPCNTQ Z11, Z11
	VPADDQ   Z6, Z8, Z8
	VPADDQ   Z7, Z9, Z9
	VPADDQ   Z11, Z10, Z10
	// Fold each 8-lane sum to 4 lanes, then transpose-add the four
	// 4-lane sums into one vector (common, na, nb, nx).
	VEXTRACTI64X4 $1, Z8, Y6
	VPADDQ        Y6, Y8, Y8
	VEXTRACTI64X4 $1, Z9, Y6
	VPADDQ        Y6, Y9, Y9
	VEXTRACTI64X4 $1, Z10, Y6
	VPADDQ        Y6, Y10, Y10
	VPUNPCKLQDQ   Y8, Y5, Y6   // c0 a0 c2 a2
	VPUNPCKHQDQ   Y8, Y5, Y7   // c1 a1 c3 a3
	VPADDQ        Y7, Y6, Y6
	VPUNPCKLQDQ   Y10, Y9, Y7  // b0 x0 b2 x2
	VPUNPCKHQDQ   Y10, Y9, Y11 // b1 x1 b3 x3
	VPADDQ        Y11, Y7, Y7
	VPERM2I128    $0x20, Y7, Y6, Y11
	VPERM2I128    $0x31, Y7, Y6, Y12
	VPADDQ        Y12, Y11, Y11
	VPMOVQD       Y11, X11
	VMOVDQU       X11, (DX)
	ADDQ $4, R10
	ADDQ $16, DX
	DECQ CX
	JNZ  cc512_loop

cc512_done:
	VZEROUPPER
	RET

DATA ccNibbleCounts<>+0(SB)/8, $0x0302020102010100
DATA ccNibbleCounts<>+8(SB)/8, $0x0403030203020201
GLOBL ccNibbleCounts<>(SB), RODATA|NOPTR, $16

DATA ccLowNibbles<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA ccLowNibbles<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL ccLowNibbles<>(SB), RODATA|NOPTR, $16

// CCBYTES adds to acc the per-byte bit counts of v (nibble-table method);
// Y9 and Y10 are clobbered.
#define CCBYTES(v, acc) \
	VPSRLW  $4, v, Y10 \
	VPAND   Y14, v, Y9 \
	VPAND   Y14, Y10, Y10 \
	VPSHUFB Y9, Y15, Y9 \
	VPSHUFB Y10, Y15, Y10 \
	VPADDB  Y9, acc, acc \
	VPADDB  Y10, acc, acc

// CCCHUNK counts 4 value words of the probe (pa, a register) and of the
// candidate (at offset off of BX) under the common mask Y4.
#define CCCHUNK(pa, off) \
	VPAND   pa, Y4, Y6 \
	VPAND   off(BX), Y4, Y7 \
	VPXOR   Y6, Y7, Y8 \
	CCBYTES(Y6, Y1) \
	CCBYTES(Y7, Y2) \
	CCBYTES(Y8, Y3)

// func cylinderCountsAVX2(va, ma, values, masks *uint64, idx *int32, n int, out *int32)
TEXT ·cylinderCountsAVX2(SB), NOSPLIT, $0-56
	MOVQ va+0(FP), DI
	MOVQ ma+8(FP), SI
	MOVQ values+16(FP), R8
	MOVQ masks+24(FP), R9
	MOVQ idx+32(FP), R10
	MOVQ n+40(FP), CX
	MOVQ out+48(FP), DX
	VBROADCASTI128 ccNibbleCounts<>(SB), Y15
	VBROADCASTI128 ccLowNibbles<>(SB), Y14
	VPXOR Y13, Y13, Y13
	TESTQ CX, CX
	JZ    cc2_done

cc2_loop:
	MOVLQSX (R10), AX
	IMUL3Q  $192, AX, BX
	SHLQ    $5, AX
	ADDQ    R8, BX
	VMOVDQU (R9)(AX*1), Y4
	VPAND   (SI), Y4, Y4        // common mask
	VPXOR   Y0, Y0, Y0
	VPXOR   Y1, Y1, Y1
	VPXOR   Y2, Y2, Y2
	VPXOR   Y3, Y3, Y3
	CCBYTES(Y4, Y0)
	// Six chunks of 4 words: at most 6·8 = 48 per byte, no overflow.
	VMOVDQU 0(DI), Y5
	CCCHUNK(Y5, 0)
	VMOVDQU 32(DI), Y5
	CCCHUNK(Y5, 32)
	VMOVDQU 64(DI), Y5
	CCCHUNK(Y5, 64)
	VMOVDQU 96(DI), Y5
	CCCHUNK(Y5, 96)
	VMOVDQU 128(DI), Y5
	CCCHUNK(Y5, 128)
	VMOVDQU 160(DI), Y5
	CCCHUNK(Y5, 160)
	// Byte sums to 4 qword lanes each, then the transpose-add.
	VPSADBW     Y13, Y0, Y0
	VPSADBW     Y13, Y1, Y1
	VPSADBW     Y13, Y2, Y2
	VPSADBW     Y13, Y3, Y3
	VPUNPCKLQDQ Y1, Y0, Y6
	VPUNPCKHQDQ Y1, Y0, Y7
	VPADDQ      Y7, Y6, Y6
	VPUNPCKLQDQ Y3, Y2, Y7
	VPUNPCKHQDQ Y3, Y2, Y8
	VPADDQ      Y8, Y7, Y7
	VPERM2I128  $0x20, Y7, Y6, Y8
	VPERM2I128  $0x31, Y7, Y6, Y9
	VPADDQ      Y9, Y8, Y8
	// Pack the low dwords of the 4 qwords into X8.
	VPSHUFD      $0x08, Y8, Y8
	VPERMQ       $0x08, Y8, Y8
	VMOVDQU      X8, (DX)
	ADDQ $4, R10
	ADDQ $16, DX
	DECQ CX
	JNZ  cc2_loop

cc2_done:
	VZEROUPPER
	RET
