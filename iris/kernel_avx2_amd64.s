//go:build amd64 && !purego

#include "textflag.h"

// The AVX2 form of the kernels in kernel_amd64.s: for each probe row s,
// out[s] = n<<32 | d with n = popcount(probeMask_s & mask) and
// d = popcount((probeCode_s ^ code) & probeMask_s & mask).
//
// AVX2 has no vector popcount: each byte is split into its two nibbles,
// VPSHUFB looks up their bit counts in a 16-byte table (Muła's method), the
// byte counts add up over the row (at most 8 per chunk, 64 per row of
// 2048 bits: no byte overflows), and VPSADBW sums each eight bytes into a
// quadword. Four rows share one transpose-add (two unpacks, one lane
// permute), which leaves their four totals in one register; the running
// dword-wise minimum and maximum of those give the extrema the caller
// bounds the distance with.
//
// Registers of distances8x256 (2048-bit codes): Y15 the table, Y14 the
// nibble mask, Y13 zero, Y12 running minimum, Y11 running maximum, Y8/Y9 a
// row's byte counts of the mask and of the differing bits, Y4–Y7
// temporaries, Y0–Y3 the rows of a block. distances4x256 (1024-bit codes)
// first keeps the entry mask's nibbles in Y0–Y7 (see NCHUNK) and the rows'
// sums in its frame, then uses the same block code.

// nibbleCounts is the bit count of every 4-bit value.
DATA nibbleCounts<>+0(SB)/8, $0x0302020102010100
DATA nibbleCounts<>+8(SB)/8, $0x0403030203020201
GLOBL nibbleCounts<>(SB), RODATA|NOPTR, $16

DATA lowNibbles<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA lowNibbles<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL lowNibbles<>(SB), RODATA|NOPTR, $16

// CHUNK adds the byte counts of one 256-bit chunk at byte c of a code whose
// mask starts at byte mo, for the probe row at byte ro of SI: the common
// mask m is split into nibbles once, and the differing bits' nibbles are
// those of probeCode ^ code (shifted for the high one) under m's nibbles,
// which saves masking the differing bits as a whole.
#define CHUNK(ro, mo, c) \
	VMOVDQU (ro+mo+c)(SI), Y4 \
	VPAND   (mo+c)(DI), Y4, Y4 \
	VMOVDQU (ro+c)(SI), Y5 \
	VPXOR   (c)(DI), Y5, Y5 \
	VPSRLW  $4, Y4, Y6 \
	VPSRLW  $4, Y5, Y7 \
	VPAND   Y14, Y4, Y4 \
	VPAND   Y14, Y6, Y6 \
	VPAND   Y4, Y5, Y5 \
	VPAND   Y6, Y7, Y7 \
	VPSHUFB Y4, Y15, Y4 \
	VPSHUFB Y5, Y15, Y5 \
	VPSHUFB Y6, Y15, Y6 \
	VPSHUFB Y7, Y15, Y7 \
	VPADDB  Y4, Y8, Y8 \
	VPADDB  Y5, Y9, Y9 \
	VPADDB  Y6, Y8, Y8 \
	VPADDB  Y7, Y9, Y9

// CHUNK0 is CHUNK for a row's first chunk: it sets the counts instead of
// adding to them.
#define CHUNK0(ro, mo, c) \
	VMOVDQU (ro+mo+c)(SI), Y4 \
	VPAND   (mo+c)(DI), Y4, Y4 \
	VMOVDQU (ro+c)(SI), Y5 \
	VPXOR   (c)(DI), Y5, Y5 \
	VPSRLW  $4, Y4, Y6 \
	VPSRLW  $4, Y5, Y7 \
	VPAND   Y14, Y4, Y4 \
	VPAND   Y14, Y6, Y6 \
	VPAND   Y4, Y5, Y5 \
	VPAND   Y6, Y7, Y7 \
	VPSHUFB Y4, Y15, Y4 \
	VPSHUFB Y5, Y15, Y5 \
	VPSHUFB Y6, Y15, Y6 \
	VPSHUFB Y7, Y15, Y7 \
	VPADDB  Y4, Y6, Y8 \
	VPADDB  Y5, Y7, Y9

// NCHUNK adds the byte counts of the 1024-bit code's chunk at byte c for
// the probe row at byte ro of SI, whose mask nibbles are at bytes ro and
// ro+128 of BX, the entry mask's low and high nibbles of that chunk being
// in registers lo and hi: 14 vector operations, the nibble split of both
// masks having been done once (the probe's per search, the entry's per
// entry). NCHUNK0 sets the counts instead of adding to them.
#define NCHUNK(ro, c, lo, hi) \
	VPAND   (ro+c)(BX), lo, Y10 \
	VPAND   (ro+128+c)(BX), hi, Y11 \
	VMOVDQU (ro+c)(SI), Y12 \
	VPXOR   (c)(DI), Y12, Y12 \
	VPSRLW  $4, Y12, Y13 \
	VPAND   Y10, Y12, Y12 \
	VPAND   Y11, Y13, Y13 \
	VPSHUFB Y10, Y15, Y10 \
	VPSHUFB Y11, Y15, Y11 \
	VPSHUFB Y12, Y15, Y12 \
	VPSHUFB Y13, Y15, Y13 \
	VPADDB  Y10, Y8, Y8 \
	VPADDB  Y11, Y8, Y8 \
	VPADDB  Y12, Y9, Y9 \
	VPADDB  Y13, Y9, Y9

#define NCHUNK0(ro, c, lo, hi) \
	VPAND   (ro+c)(BX), lo, Y10 \
	VPAND   (ro+128+c)(BX), hi, Y11 \
	VMOVDQU (ro+c)(SI), Y12 \
	VPXOR   (c)(DI), Y12, Y12 \
	VPSRLW  $4, Y12, Y13 \
	VPAND   Y10, Y12, Y12 \
	VPAND   Y11, Y13, Y13 \
	VPSHUFB Y10, Y15, Y10 \
	VPSHUFB Y11, Y15, Y11 \
	VPSHUFB Y12, Y15, Y12 \
	VPSHUFB Y13, Y15, Y13 \
	VPADDB  Y10, Y11, Y8 \
	VPADDB  Y12, Y13, Y9

// NSPLIT puts the low and high nibbles of the entry mask's chunk at byte c
// (1024-bit codes) into lo and hi.
#define NSPLIT(c, lo, hi) \
	VMOVDQU (128+c)(DI), lo \
	VPSRLW  $4, lo, hi \
	VPAND   Y14, lo, lo \
	VPAND   Y14, hi, hi

// ROWEND sums the row's byte counts into four quadwords n<<32 | d in dst.
#define ROWEND(dst) \
	VPSADBW Y13, Y8, Y8 \
	VPSADBW Y13, Y9, Y9 \
	VPSLLQ  $32, Y8, Y8 \
	VPADDQ  Y8, Y9, dst

// ROW4 and ROW8 compute the row at byte ro of SI for codes of four and
// eight chunks (1024 and 2048 bits).
#define ROW4(ro, dst) \
	CHUNK0(ro, 128, 0) \
	CHUNK(ro, 128, 32) \
	CHUNK(ro, 128, 64) \
	CHUNK(ro, 128, 96) \
	ROWEND(dst)

#define ROW8(ro, dst) \
	CHUNK0(ro, 256, 0) \
	CHUNK(ro, 256, 32) \
	CHUNK(ro, 256, 64) \
	CHUNK(ro, 256, 96) \
	CHUNK(ro, 256, 128) \
	CHUNK(ro, 256, 160) \
	CHUNK(ro, 256, 192) \
	CHUNK(ro, 256, 224) \
	ROWEND(dst)

// SETUP loads the arguments and constants and prefetches the entry 2 KiB
// ahead (the gallery streams through).
#define SETUP \
	MOVQ rot+0(FP), SI \
	MOVQ entry+16(FP), DI \
	MOVQ out+24(FP), DX \
	PREFETCHT0 2048(DI) \
	PREFETCHT0 2112(DI) \
	PREFETCHT0 2176(DI) \
	PREFETCHT0 2240(DI) \
	VBROADCASTI128 nibbleCounts<>(SB), Y15 \
	VBROADCASTI128 lowNibbles<>(SB), Y14 \
	VPXOR    Y13, Y13, Y13 \
	VPCMPEQD Y12, Y12, Y12 \
	VPXOR    Y11, Y11, Y11

// BLOCKEND transposes and adds the four rows in Y0–Y3 so that quadword j
// of Y5 is row j's total, stores it and updates the extrema.
#define BLOCKEND \
	VPUNPCKLQDQ Y1, Y0, Y4 \
	VPUNPCKHQDQ Y1, Y0, Y5 \
	VPADDQ      Y5, Y4, Y4 \
	VPUNPCKLQDQ Y3, Y2, Y6 \
	VPUNPCKHQDQ Y3, Y2, Y7 \
	VPADDQ      Y7, Y6, Y6 \
	VPERM2I128  $0x20, Y6, Y4, Y5 \
	VPERM2I128  $0x31, Y6, Y4, Y7 \
	VPADDQ      Y7, Y5, Y5 \
	VMOVDQU     Y5, (DX) \
	VPMINUD     Y5, Y12, Y12 \
	VPMAXUD     Y5, Y11, Y11

// SINGLEEND sums the one row in Y0, stores it and updates the extrema.
#define SINGLEEND \
	VEXTRACTI128 $1, Y0, X1 \
	VPADDQ       X1, X0, X0 \
	VPSHUFD      $0x4E, X0, X1 \
	VPADDQ       X1, X0, X0 \
	VMOVQ        X0, (DX) \
	VPBROADCASTQ X0, Y0 \
	VPMINUD      Y0, Y12, Y12 \
	VPMAXUD      Y0, Y11, Y11

// DONE returns the dword-wise minimum (low: d, high: n) and maximum (high:
// n) over all rows.
#define DONE \
	VEXTRACTI128 $1, Y12, X0 \
	VPMINUD      X0, X12, X0 \
	VPSHUFD      $0x4E, X0, X1 \
	VPMINUD      X1, X0, X0 \
	VMOVQ        X0, AX \
	MOVQ         AX, dn+48(FP) \
	VEXTRACTI128 $1, Y11, X0 \
	VPMAXUD      X0, X11, X0 \
	VPSHUFD      $0x4E, X0, X1 \
	VPMAXUD      X1, X0, X0 \
	VMOVQ        X0, AX \
	MOVQ         AX, maxN+56(FP) \
	VZEROUPPER \
	RET

// func distances4x256(rot *uint64, nibbles *uint64, entry *uint64, out *uint64, groups, singles int) (dn, maxN uint64)
//
// With 1024-bit codes the entry mask's nibbles fit in Y0–Y7 for the whole
// scan of the rows: each row's four quadword sums go to the frame, then
// blocks of four rows are transposed and added from there.
TEXT ·distances4x256(SB), NOSPLIT, $512-64
	MOVQ rot+0(FP), SI
	MOVQ nibbles+8(FP), BX
	MOVQ entry+16(FP), DI
	MOVQ out+24(FP), DX
	PREFETCHT0 2048(DI)
	PREFETCHT0 2112(DI)
	PREFETCHT0 2176(DI)
	PREFETCHT0 2240(DI)
	VBROADCASTI128 nibbleCounts<>(SB), Y15
	VBROADCASTI128 lowNibbles<>(SB), Y14
	NSPLIT(0, Y0, Y4)
	NSPLIT(32, Y1, Y5)
	NSPLIT(64, Y2, Y6)
	NSPLIT(96, Y3, Y7)
	VPXOR Y14, Y14, Y14
	MOVQ  groups+32(FP), CX
	SHLQ  $2, CX
	ADDQ  singles+40(FP), CX
	XORQ  R8, R8

n4_row:
	NCHUNK0(0, 0, Y0, Y4)
	NCHUNK(0, 32, Y1, Y5)
	NCHUNK(0, 64, Y2, Y6)
	NCHUNK(0, 96, Y3, Y7)
	VPSADBW Y14, Y8, Y8
	VPSADBW Y14, Y9, Y9
	VPSLLQ  $32, Y8, Y8
	VPADDQ  Y8, Y9, Y8
	VMOVDQU Y8, (SP)(R8*1)
	ADDQ    $32, R8
	ADDQ    $256, SI
	ADDQ    $256, BX
	DECQ    CX
	JNZ     n4_row

	VPCMPEQD Y12, Y12, Y12
	VPXOR    Y11, Y11, Y11
	XORQ     R8, R8
	MOVQ     groups+32(FP), CX
	TESTQ    CX, CX
	JZ       n4_singles

n4_block:
	VMOVDQU 0(SP)(R8*1), Y0
	VMOVDQU 32(SP)(R8*1), Y1
	VMOVDQU 64(SP)(R8*1), Y2
	VMOVDQU 96(SP)(R8*1), Y3
	BLOCKEND
	ADDQ $32, DX
	ADDQ $128, R8
	DECQ CX
	JNZ  n4_block

n4_singles:
	MOVQ  singles+40(FP), CX
	TESTQ CX, CX
	JZ    n4_done

n4_single:
	VMOVDQU (SP)(R8*1), Y0
	SINGLEEND
	ADDQ $8, DX
	ADDQ $32, R8
	DECQ CX
	JNZ  n4_single

n4_done:
	DONE

// func distances8x256(rot *uint64, nibbles *uint64, entry *uint64, out *uint64, groups, singles int) (dn, maxN uint64)
TEXT ·distances8x256(SB), NOSPLIT, $0-64
	SETUP
	MOVQ  groups+32(FP), CX
	TESTQ CX, CX
	JZ    d8_singles

d8_block:
	ROW8(0, Y0)
	ROW8(512, Y1)
	ROW8(1024, Y2)
	ROW8(1536, Y3)
	BLOCKEND
	ADDQ $32, DX
	ADDQ $2048, SI
	DECQ CX
	JNZ  d8_block

d8_singles:
	MOVQ  singles+40(FP), CX
	TESTQ CX, CX
	JZ    d8_done

d8_single:
	ROW8(0, Y0)
	SINGLEEND
	ADDQ $8, DX
	ADDQ $512, SI
	DECQ CX
	JNZ  d8_single

d8_done:
	DONE

// SWORD adds the counts of 64-bit word w of the scalar row (probe row at
// AX, entry at DI, byte offset R13 of the current pair of words) to R11 (n)
// and R12 (d) with the integer units, which the vector rows leave idle.
#define SWORD(w) \
	MOVQ    (128+w)(AX)(R13*1), R9 \
	ANDQ    (128+w)(DI)(R13*1), R9 \
	MOVQ    (w)(AX)(R13*1), R10 \
	XORQ    (w)(DI)(R13*1), R10 \
	ANDQ    R9, R10 \
	POPCNTQ R9, R9 \
	POPCNTQ R10, R10 \
	ADDQ    R9, R11 \
	ADDQ    R10, R12

// func distances4x256h(p *Probe, entry *[EntryWords]uint64, out *[RotRows]uint64) (minD, maxN, minN uint32)
//
// distances4x256 for exactly nine rows (1024-bit codes, ±4 shifts): rows
// 0–7 on the vector units as there, row 8 with scalar POPCNT, two of its
// sixteen words in each of the eight vector rows' iterations so that both
// kinds of unit work at once.
TEXT ·distances4x256h(SB), NOSPLIT, $256-36
	MOVQ p+0(FP), SI
	LEAQ 2304(SI), BX
	MOVQ entry+8(FP), DI
	MOVQ out+16(FP), DX
	PREFETCHT0 2048(DI)
	PREFETCHT0 2112(DI)
	PREFETCHT0 2176(DI)
	PREFETCHT0 2240(DI)
	VBROADCASTI128 nibbleCounts<>(SB), Y15
	VBROADCASTI128 lowNibbles<>(SB), Y14
	NSPLIT(0, Y0, Y4)
	NSPLIT(32, Y1, Y5)
	NSPLIT(64, Y2, Y6)
	NSPLIT(96, Y3, Y7)
	VPXOR Y14, Y14, Y14
	LEAQ  2048(SI), AX
	MOVQ  $8, CX
	XORQ  R8, R8
	XORQ  R11, R11
	XORQ  R12, R12
	XORQ  R13, R13

h4_row:
	NCHUNK0(0, 0, Y0, Y4)
	SWORD(0)
	NCHUNK(0, 32, Y1, Y5)
	NCHUNK(0, 64, Y2, Y6)
	SWORD(8)
	NCHUNK(0, 96, Y3, Y7)
	VPSADBW Y14, Y8, Y8
	VPSADBW Y14, Y9, Y9
	VPSLLQ  $32, Y8, Y8
	VPADDQ  Y8, Y9, Y8
	VMOVDQU Y8, (SP)(R8*1)
	ADDQ    $32, R8
	ADDQ    $16, R13
	ADDQ    $256, SI
	ADDQ    $256, BX
	DECQ    CX
	JNZ     h4_row

	VPCMPEQD Y12, Y12, Y12
	VPXOR    Y11, Y11, Y11
	VMOVDQU  0(SP), Y0
	VMOVDQU  32(SP), Y1
	VMOVDQU  64(SP), Y2
	VMOVDQU  96(SP), Y3
	BLOCKEND
	VMOVDQU  128(SP), Y0
	VMOVDQU  160(SP), Y1
	VMOVDQU  192(SP), Y2
	VMOVDQU  224(SP), Y3
	ADDQ     $32, DX
	BLOCKEND
	SHLQ         $32, R11
	ORQ          R12, R11
	MOVQ         R11, 32(DX)
	VPBROADCASTQ 32(DX), Y0
	VPMINUD      Y0, Y12, Y12
	VPMAXUD      Y0, Y11, Y11
	VEXTRACTI128 $1, Y12, X0
	VPMINUD      X0, X12, X0
	VPSHUFD      $0x4E, X0, X1
	VPMINUD      X1, X0, X0
	VMOVQ        X0, AX
	MOVL         AX, minD+24(FP)
	SHRQ         $32, AX
	MOVL         AX, minN+32(FP)
	VEXTRACTI128 $1, Y11, X0
	VPMAXUD      X0, X11, X0
	VPSHUFD      $0x4E, X0, X1
	VPMAXUD      X1, X0, X0
	VMOVQ        X0, AX
	SHRQ         $32, AX
	MOVL         AX, maxN+28(FP)
	VZEROUPPER
	RET
