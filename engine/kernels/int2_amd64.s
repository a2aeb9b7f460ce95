//go:build amd64 && !purego

#include "textflag.h"
#include "kernels_amd64.h"

// Int2 kernels. A block of 16 groups has 128 code bytes: group g's 8 bytes
// are dwords 2g (bytes 0..3, weights 8k+0..3 in bits 2k+1..2k) and 2g+1
// (weights 8k+4..7). VPERMI2D gathers the even dwords (C_A) and the odd
// dwords (C_B) of the block so that lane i belongs to group i; then
// (C_A>>2k)&3 pairs with prepared activation vector 2k, (C_B>>2k)&3 with
// vector 2k+1, and eight VPDPBUSD sum each group's 32 products in its lane.

DATA evenDwords<>+0(SB)/8, $0x0000000200000000
DATA evenDwords<>+8(SB)/8, $0x0000000600000004
DATA evenDwords<>+16(SB)/8, $0x0000000a00000008
DATA evenDwords<>+24(SB)/8, $0x0000000e0000000c
DATA evenDwords<>+32(SB)/8, $0x0000001200000010
DATA evenDwords<>+40(SB)/8, $0x0000001600000014
DATA evenDwords<>+48(SB)/8, $0x0000001a00000018
DATA evenDwords<>+56(SB)/8, $0x0000001e0000001c
GLOBL evenDwords<>(SB), RODATA|NOPTR, $64

DATA oddDwords<>+0(SB)/8, $0x0000000300000001
DATA oddDwords<>+8(SB)/8, $0x0000000700000005
DATA oddDwords<>+16(SB)/8, $0x0000000b00000009
DATA oddDwords<>+24(SB)/8, $0x0000000f0000000d
DATA oddDwords<>+32(SB)/8, $0x0000001300000011
DATA oddDwords<>+40(SB)/8, $0x0000001700000015
DATA oddDwords<>+48(SB)/8, $0x0000001b00000019
DATA oddDwords<>+56(SB)/8, $0x0000001f0000001d
GLOBL oddDwords<>(SB), RODATA|NOPTR, $64

// int2Lanes8<> restores group order after the AVX2 shuffle (int2Lanes8 in
// gemv_amd64.go, its own inverse).
DATA int2Lanes8<>+0(SB)/8, $0x0000000100000000
DATA int2Lanes8<>+8(SB)/8, $0x0000000500000004
DATA int2Lanes8<>+16(SB)/8, $0x0000000300000002
DATA int2Lanes8<>+24(SB)/8, $0x0000000700000006
GLOBL int2Lanes8<>(SB), RODATA|NOPTR, $32

// INT2_SETUP16 fills Z8 with 0x03 bytes and Z9, Z10, Z11 with the
// GF2P8AFFINEQB matrices that move bits 2k+1..2k of each byte to 1..0.
#define INT2_SETUP16 \
	MOVL         $0x03030303, R8 \
	VPBROADCASTD R8, Z8 \
	MOVQ         $0x0408000000000000, R8 \
	VPBROADCASTQ R8, Z9 \
	MOVQ         $0x1020000000000000, R8 \
	VPBROADCASTQ R8, Z10 \
	MOVQ         $0x4080000000000000, R8 \
	VPBROADCASTQ R8, Z11

// INT2_MASKS sets the masks of a full block: K1 its scales, K2 and K3 the
// two halves of its codes.
#define INT2_MASKS \
	KXNORW K1, K1, K1 \
	KXNORW K2, K2, K2 \
	KXNORW K3, K3, K3

// INT2_TAILMASK sets the masks of a block of r = CX < 16 groups: K1 the
// first r dword lanes, K2:K3 the first 2r of the 32 code dwords.
// Clobbers R8, R9.
#define INT2_TAILMASK \
	MOVL  $1, R8 \
	SHLL  CX, R8 \
	LEAL  -1(R8), R9 \
	KMOVW R9, K1 \
	IMULL R8, R8 \
	DECL  R8 \
	KMOVW R8, K2 \
	SHRL  $16, R8 \
	KMOVW R8, K3

// INT2_CODES16 loads a row's code block (halves lo, hi) into C_A (ca) and
// C_B (cb). Clobbers t1, t2.
#define INT2_CODES16(lo, hi, ca, cb, t1, t2) \
	VMOVDQU32.Z lo, K2, t1 \
	VMOVDQU32.Z hi, K3, t2 \
	VMOVDQU32   evenDwords<>(SB), ca \
	VMOVDQU32   oddDwords<>(SB), cb \
	VPERMI2D    t2, t1, ca \
	VPERMI2D    t2, t1, cb

// INT2_PAIRINIT computes the masks of a packed tail of r = CX <= 8 groups
// of two rows (GROUPED_GEMV16): K1 the first r dword lanes (0(SP)), K2
// and K3 the first 2r code dwords of rows A and B (2(SP), 4(SP)), K6 and
// K7 the lanes of the rows. Clobbers R8, R9.
#define INT2_PAIRINIT \
	MOVL $1, R8 \
	SHLL CX, R8 \
	LEAL -1(R8), R9 \
	MOVW R9, 0(SP) \
	IMULL R8, R8 \
	DECL R8 \
	MOVW R8, 2(SP) \
	MOVW R8, 4(SP) \
	HALVES(K6, K7)

// INT2_QUADINIT computes the masks of a packed tail of r = CX <= 4 groups
// of four rows: K2 and K3 (2(SP), 4(SP)) the code dwords 0..2r-1 and
// 8..8+2r-1 (two rows to a vector), K4..K7 the bytes and lanes
// 4j..4j+r-1 of row j. Clobbers R8, R9.
#define INT2_QUADINIT \
	MOVL  $1, R8 \
	SHLL  CX, R8 \
	LEAL  -1(R8), R9 \
	KMOVW R9, K4 \
	SHLL  $4, R9 \
	KMOVW R9, K5 \
	SHLL  $4, R9 \
	KMOVW R9, K6 \
	SHLL  $4, R9 \
	KMOVW R9, K7 \
	IMULL R8, R8 \
	DECL  R8 \
	MOVW  R8, 2(SP) \
	SHLL  $8, R8 \
	MOVW  R8, 4(SP)

// INT2_PACKMASKS sets the masks of a packed tail kept in the frame.
#define INT2_PACKMASKS \
	KMOVW 0(SP), K1 \
	KMOVW 2(SP), K2 \
	KMOVW 4(SP), K3

// INT2_ROW16 adds a row's block of 16 groups to acc; Z0..Z7 hold the
// prepared activation vectors. Clobbers ta, tb, tc, td.
#define INT2_ROW16(lo, hi, sc, off, acc, ta, tb, tc, td) \
	INT2_ISUM16(lo, hi, ta, tb, tc, td) \
	SCALE16(sc, off, acc, ta, tc, td)

// INT2_PAIR16 adds the packed tail of rows A and B (codes at a and b,
// scale and offset codes at scA, scB, offA, offB) to accA and accB, with
// the prepared activations (period 8) at AX. yb, yc, yd are the Y views
// of tb, tc, td. Clobbers ta..tf.
#define INT2_PAIR16(a, b, scA, scB, offA, offB, accA, accB, ta, tb, yb, tc, yc, td, yd, te, tf) \
	INT2_CODES16(a, b, tc, td, ta, tb) \
	INT2_DOTS16X2(ta, tb, tc, td, te, tf) \
	SCALE16P(scA, scB, offA, offB, accA, accB, K6, K7, ta, tc, yc, td, yd, yb)

// INT2_DOTS16X2 is INT2_DOTS16 for the packed tails, with the prepared
// activations at AX, and the products in two sums, ta and te (extraction
// temporaries tb and tf), so that the chain of dependent VPDPBUSD is no
// longer than in the full blocks, where the rows of a tile run side by
// side. Clobbers tb, te, tf.
#define INT2_DOTS16X2(ta, tb, tc, td, te, tf) \
	VPXORD      ta, ta, ta \
	VPXORD      te, te, te \
	VPANDD      Z8, tc, tb \
	VPDPBUSD    0(AX), tb, ta \
	VPANDD      Z8, td, tf \
	VPDPBUSD    64(AX), tf, te \
	INT2_EXT1(tc, tb) \
	VPDPBUSD    128(AX), tb, ta \
	INT2_EXT1(td, tf) \
	VPDPBUSD    192(AX), tf, te \
	INT2_EXT2(tc, tb) \
	VPDPBUSD    256(AX), tb, ta \
	INT2_EXT2(td, tf) \
	VPDPBUSD    320(AX), tf, te \
	INT2_EXT3(tc, tb) \
	VPDPBUSD    384(AX), tb, ta \
	INT2_EXT3(td, tf) \
	VPDPBUSD    448(AX), tf, te \
	VPADDD      te, ta, ta

// INT2_ISUM16 leaves in ta the integer sums of the 16 groups whose code
// dwords are at lo (groups 0..7) and hi (8..15), masked by K2 and K3, with
// the prepared activation vectors Z0..Z7. Clobbers tb, tc, td.
#define INT2_ISUM16(lo, hi, ta, tb, tc, td) \
	INT2_CODES16(lo, hi, tc, td, ta, tb) \
	INT2_DOTS16(ta, tb, tc, td)

// INT2_DOTS16 leaves in ta the integer sums of the codes C_A (tc) and C_B
// (td) with the prepared activation vectors Z0..Z7. Clobbers tb.
#define INT2_DOTS16(ta, tb, tc, td) \
	VPXORD      ta, ta, ta \
	VPANDD      Z8, tc, tb \
	VPDPBUSD    Z0, tb, ta \
	VPANDD      Z8, td, tb \
	VPDPBUSD    Z1, tb, ta \
	INT2_EXT1(tc, tb) \
	VPDPBUSD    Z2, tb, ta \
	INT2_EXT1(td, tb) \
	VPDPBUSD    Z3, tb, ta \
	INT2_EXT2(tc, tb) \
	VPDPBUSD    Z4, tb, ta \
	INT2_EXT2(td, tb) \
	VPDPBUSD    Z5, tb, ta \
	INT2_EXT3(tc, tb) \
	VPDPBUSD    Z6, tb, ta \
	INT2_EXT3(td, tb) \
	VPDPBUSD    Z7, tb, ta

// The hooks of GROUPED_GEMV16 (kernels_amd64.h): tiles of 4 rows, row 3's
// sections addressed from R8..R10 (row 1's) by 2·stride.
#define G16_SETUP INT2_SETUP16
#define G16_ZERO \
	VPXORD Z12, Z12, Z12 \
	VPXORD Z13, Z13, Z13 \
	VPXORD Z14, Z14, Z14 \
	VPXORD Z15, Z15, Z15
#define G16_MASKS INT2_MASKS
#define G16_TAILMASK INT2_TAILMASK
#define G16_PREFETCH \
	PREFETCH8(R14) \
	PREFETCHT0 512(R14) \
	PREFETCHT0 576(R14) \
	ADDQ       $640, R14
#define G16_TILE \
	LEAQ (SI)(DX*1), R8 \
	LEAQ (BX)(DX*1), R9 \
	LEAQ (DI)(DX*1), R10 \
	INT2_ROW16(0(SI), 64(SI), (BX), (DI), Z12, Z16, Z17, Z18, Z19) \
	INT2_ROW16(0(SI)(DX*1), 64(SI)(DX*1), (BX)(DX*1), (DI)(DX*1), Z13, Z20, Z21, Z22, Z23) \
	INT2_ROW16(0(SI)(DX*2), 64(SI)(DX*2), (BX)(DX*2), (DI)(DX*2), Z14, Z24, Z25, Z26, Z27) \
	INT2_ROW16(0(R8)(DX*2), 64(R8)(DX*2), (R9)(DX*2), (R10)(DX*2), Z15, Z28, Z29, Z30, Z31)
#define G16_REDUCE \
	REDUCE4_512((R12)) \
	ADDQ $16, R12
#define G16_ROW INT2_ROW16(0(SI), 64(SI), (BX), (DI), Z12, Z16, Z17, Z18, Z19)
//
// A packed tail of r <= 4 groups holds all four rows: row j's groups in
// lanes 4j..4j+3 (activations of period 4), K4..K7 their lanes; one of
// 4 < r <= 8 groups is done as two pairs of rows.
#define G16_PACKINIT \
	CMPQ CX, $4 \
	JA   pairinit \
	INT2_QUADINIT \
	JMP  packinit \
pairinit: \
	INT2_PAIRINIT \
packinit:
#define G16_PACKMASKS INT2_PACKMASKS
#define G16_PACKTILE \
	LEAQ (SI)(DX*1), R8 \
	LEAQ (BX)(DX*1), R9 \
	LEAQ (DI)(DX*1), R10 \
	CMPQ CX, $4 \
	JBE  quad \
	PREFETCH6(R14) \
	INT2_PAIR16(0(SI), 0(SI)(DX*1), (BX), (BX)(DX*1), (DI), (DI)(DX*1), Z12, Z13, Z16, Z17, Y17, Z18, Y18, Z19, Y19, Z24, Z25) \
	INT2_PAIR16(0(SI)(DX*2), 0(R8)(DX*2), (BX)(DX*2), (R9)(DX*2), (DI)(DX*2), (R10)(DX*2), Z14, Z15, Z20, Z21, Y21, Z22, Y22, Z23, Y23, Z26, Z27) \
	JMP  packdone \
quad: \
	PREFETCH3(R14) \
	INT2_QUAD16 \
packdone:

// INT2_QUADSEC(p, q, x) gathers the 4 rows' r bytes of a section (rows 0
// and 2 at p and p + 2·stride, 1 and 3 at q and q + 2·stride) into bytes
// 4j.. of x, the others zero.
#define INT2_QUADSEC(p, q, x) \
	VMOVDQU8.Z (p), K4, x \
	VMOVDQU8   -4(q), K5, x \
	VMOVDQU8   -8(p)(DX*2), K6, x \
	VMOVDQU8   -12(q)(DX*2), K7, x

// INT2_QUAD16 adds the packed tail of the tile's four rows (R8..R10: row
// 1's sections) to Z12..Z15, with the prepared activations (period 4) at
// AX. Clobbers Z16..Z23.
#define INT2_QUAD16 \
	VMOVDQU32.Z 0(SI), K2, Z16 \
	VMOVDQU32   -32(R8), K3, Z16 \
	VMOVDQU32.Z 0(SI)(DX*2), K2, Z17 \
	VMOVDQU32   -32(R8)(DX*2), K3, Z17 \
	VMOVDQU32   evenDwords<>(SB), Z18 \
	VMOVDQU32   oddDwords<>(SB), Z19 \
	VPERMI2D    Z17, Z16, Z18 \
	VPERMI2D    Z17, Z16, Z19 \
	INT2_DOTS16X2(Z16, Z17, Z18, Z19, Z22, Z23) \
	INT2_QUADSEC(BX, R9, X20) \
	VPMOVZXBD   X20, Z20 \
	VPSLLD      $20, Z20, Z20 \
	VPADDD.BCST scaleBias<>(SB), Z20, Z20 \
	INT2_QUADSEC(DI, R10, X21) \
	VPMOVSXBD   X21, Z21 \
	VCVTDQ2PS   Z21, Z21 \
	VCVTDQ2PS   Z16, Z16 \
	VMULPS      512(AX), Z16, Z16 \
	VFMADD231PS 576(AX), Z21, Z16 \
	VFMADD231PS Z20, Z16, K4, Z12 \
	VFMADD231PS Z20, Z16, K5, Z13 \
	VFMADD231PS Z20, Z16, K6, Z14 \
	VFMADD231PS Z20, Z16, K7, Z15

// The hooks of GROUPED_GEMM16 (kernels_amd64.h); Int2 keeps group order,
// so the scales need no permutation.
#define GM16_PREFETCH(p) \
	PREFETCHT0 0(p) \
	PREFETCHT0 64(p) \
	PREFETCHT0 128(p)
#define GM16_EXPAND(a0, a1, a2, a3, c0, c1, c2, c3, c4, c5, c6, c7, t0, t1, t2, t3) \
	INT2_CODES16(a0, a1, t0, t1, t2, t3) \
	VPANDD Z8, t0, c0 \
	VPANDD Z8, t1, c1 \
	INT2_EXT1(t0, c2) \
	INT2_EXT1(t1, c3) \
	INT2_EXT2(t0, c4) \
	INT2_EXT2(t1, c5) \
	INT2_EXT3(t0, c6) \
	INT2_EXT3(t1, c7)
#define GM16_PERM(d, o)
#define GM16_PACKINIT INT2_PAIRINIT
#define GM16_PACKMASKS INT2_PACKMASKS
#define GM16_PACKPREFETCH(p) PREFETCH2(p)
#define GM16_PACKEXPAND GM16_EXPAND(0(SI), 0(SI)(DX*1), _, _, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z12, Z13, Z14, Z15)

// INT2_CODES8(r0, r1) loads an AVX2 block's codes (four groups a
// register); INT2_TAILCODES8(m, r0, r1) those of the last r = CX < 8
// groups, with VPMASKMOVD masks from dwordMasks (R8; R10: 64-8r) in m.
#define INT2_CODES8(r0, r1) \
	VMOVDQU (SI), r0 \
	VMOVDQU 32(SI), r1
#define INT2_TAILCODES8(m, r0, r1) \
	ADDQ       $64, R10 \
	VMOVDQU    (R8)(R10*1), m \
	VPMASKMOVD (SI), m, r0 \
	VMOVDQU    32(R8)(R10*1), m \
	VPMASKMOVD 32(SI), m, r1

// INT2_PAIRCODES8(m, r0, r1, t0, t1) loads the codes of the last r = CX
// <= 4 groups of rows A (at SI - DX) into r0 and B (at SI) into r1, the
// block of a packed AVX2 tail, with VPMASKMOVD masks from dwordMasks (R8)
// in m. Clobbers t0, t1.
#define INT2_PAIRCODES8(m, r0, r1, t0, t1) \
	MOVQ       CX, t0 \
	SHLQ       $3, t0 \
	NEGQ       t0 \
	ADDQ       $128, t0 \
	VMOVDQU    (R8)(t0*1), m \
	MOVQ       SI, t1 \
	SUBQ       DX, t1 \
	VPMASKMOVD (t1), m, r0 \
	VPMASKMOVD (SI), m, r1

// INT2_DOT8 adds the products of the codes (c >> k) & 3 with the
// activation vector at off(AX) (GROUPED_GEMV8's DOT hooks).
#define INT2_DOT8(k, c, off) \
	VPSRLD $k, c, Y8 \
	VPAND  Y0, Y8, Y8 \
	DOT(off)

// The hooks of GROUPED_GEMV8 (kernels_amd64.h): VSHUFPS gathers the even
// (C_A, Y7) and odd (C_B, Y5) code dwords of groups 0..3 (Y5) and 4..7
// (Y6), in lane order int2Lanes8; DOT_INIT, DOT(off) and DOT_FINISH sum
// the products of the codes in Y8 with the activation vector at off(AX)
// into Y6.
#define G8_SETUP \
	MOVL         $0x03030303, R8 \
	MOVQ         R8, X0 \
	VPBROADCASTD X0, Y0 \
	VMOVDQU      int2Lanes8<>(SB), Y2
#define G8_CODES INT2_CODES8(Y5, Y6)
#define G8_TAILCODES INT2_TAILCODES8(Y10, Y5, Y6)
#define G8_PAIRCODES INT2_PAIRCODES8(Y10, Y5, Y6, R9, R10)
#define G8_DOTS \
	VSHUFPS $0x88, Y6, Y5, Y7 \
	VSHUFPS $0xdd, Y6, Y5, Y5 \
	DOT_INIT \
	VPAND   Y0, Y7, Y8 \
	DOT(0) \
	VPAND   Y0, Y5, Y8 \
	DOT(32) \
	INT2_DOT8(2, Y7, 64) \
	INT2_DOT8(2, Y5, 96) \
	INT2_DOT8(4, Y7, 128) \
	INT2_DOT8(4, Y5, 160) \
	INT2_DOT8(6, Y7, 192) \
	INT2_DOT8(6, Y5, 224) \
	DOT_FINISH \
	VPERMD  Y6, Y2, Y6

// Code extraction with shifts: e = (c >> 2k) & 3.
#define INT2_EXT1(c, e) VPSRLD $2, c, e; VPANDD Z8, e, e
#define INT2_EXT2(c, e) VPSRLD $4, c, e; VPANDD Z8, e, e
#define INT2_EXT3(c, e) VPSRLD $6, c, e; VPANDD Z8, e, e

// func int2GEMVx16(codes, scales, offs *byte, stride, rows, groups int, act *byte, out *float32)
TEXT ·int2GEMVx16(SB), NOSPLIT, $8-64
	GROUPED_GEMV16(4, 128, 3)

// func int2GEMMx16(codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)
TEXT ·int2GEMMx16(SB), NOSPLIT, $8-80
	GROUPED_GEMM16(128, 3)

#undef INT2_EXT1
#undef INT2_EXT2
#undef INT2_EXT3

// Code extraction with one GF2P8AFFINEQB per vector.
#define INT2_EXT1(c, e) VGF2P8AFFINEQB $0, Z9, c, e
#define INT2_EXT2(c, e) VGF2P8AFFINEQB $0, Z10, c, e
#define INT2_EXT3(c, e) VGF2P8AFFINEQB $0, Z11, c, e

// func int2GEMVx16GFNI(codes, scales, offs *byte, stride, rows, groups int, act *byte, out *float32)
TEXT ·int2GEMVx16GFNI(SB), NOSPLIT, $8-64
	GROUPED_GEMV16(4, 128, 3)

// func int2GEMMx16GFNI(codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)
TEXT ·int2GEMMx16GFNI(SB), NOSPLIT, $8-80
	GROUPED_GEMM16(128, 3)

// AVX-VNNI dot products: Y6 += Y8 (u8) · Y9 (s8).
#define DOT_INIT VPXOR Y6, Y6, Y6
#define DOT(off) VMOVDQU off(AX), Y9; VNNIY(6, 8, 9)
#define DOT_FINISH

// The hooks of GROUPED_GEMM8 (kernels_amd64.h): VSHUFPS gathers the even
// (C_A, Y14) and odd (C_B, Y15) code dwords of groups 0..3 and 4..7 (lane
// order int2Lanes8); code vector 2k is (C_A>>2k)&3, 2k+1 is (C_B>>2k)&3.
#define GM8_CODES INT2_CODES8(Y4, Y5)
#define GM8_TAILCODES INT2_TAILCODES8(Y12, Y4, Y5)
#define GM8_PAIRCODES INT2_PAIRCODES8(Y12, Y4, Y5, R10, R14)
#define INT2_EXT8(k, c, e) \
	VPSRLD $k, c, e \
	VPAND  Y13, e, e
#define GM8_EXPAND \
	VSHUFPS      $0x88, Y5, Y4, Y14 \
	VSHUFPS      $0xdd, Y5, Y4, Y15 \
	MOVL         $0x03030303, R8 \
	MOVQ         R8, X13 \
	VPBROADCASTD X13, Y13 \
	VPAND        Y13, Y14, Y0 \
	VPAND        Y13, Y15, Y1 \
	INT2_EXT8(2, Y14, Y2) \
	INT2_EXT8(2, Y15, Y3) \
	INT2_EXT8(4, Y14, Y4) \
	INT2_EXT8(4, Y15, Y5) \
	INT2_EXT8(6, Y14, Y6) \
	INT2_EXT8(6, Y15, Y7)

// func int2GEMMx8VNNI(codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)
TEXT ·int2GEMMx8VNNI(SB), NOSPLIT, $0-80
	GROUPED_GEMM8(64, 3, GEMM_TOKEN8_VNNI, int2Lanes8<>(SB))

// func int2GEMMx8(codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)
TEXT ·int2GEMMx8(SB), NOSPLIT, $0-80
	GROUPED_GEMM8(64, 3, GEMM_TOKEN8_MADD, int2Lanes8<>(SB))

// func int2GEMVx8VNNI(codes, scales, offs *byte, stride, rows, groups int, act *byte, out *float32)
TEXT ·int2GEMVx8VNNI(SB), NOSPLIT, $0-64
	GROUPED_GEMV8(64, 3, Y6, X6)

#undef DOT_INIT
#undef DOT
#undef DOT_FINISH

// AVX2 dot products: int16 pair sums (at most 8·2·3·128, no saturation)
// in Y10, widened to int32 by VPMADDWD with ones.
#define DOT_INIT VPXOR Y10, Y10, Y10
#define DOT(off) VPMADDUBSW off(AX), Y8, Y11; VPADDW Y11, Y10, Y10
#define DOT_FINISH VPMADDWD Y3, Y10, Y6

// func int2GEMVx8(codes, scales, offs *byte, stride, rows, groups int, act *byte, out *float32)
TEXT ·int2GEMVx8(SB), NOSPLIT, $0-64
	GROUPED_GEMV8(64, 3, Y6, X6)
