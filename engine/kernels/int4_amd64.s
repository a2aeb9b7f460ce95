//go:build amd64 && !purego

#include "textflag.h"
#include "kernels_amd64.h"

// Int4 kernels. A group's 16 code bytes are 4 dwords c: the low nibbles
// of dword c are weights 4c..4c+3, the high nibbles weights 16+4c..16+4c+3,
// so they pair with prepared activation vectors c and 4+c. In-lane 4×4
// dword transposes of the code vectors bring one group to each lane, in
// the lane order int4Lanes16/int4Lanes8 (gemv_amd64.go), which VPERMD
// undoes on the integer sums.

// int4Lanes16<> is int4Lanes16, its own inverse.
DATA int4Lanes16<>+0(SB)/8, $0x0000000400000000
DATA int4Lanes16<>+8(SB)/8, $0x0000000c00000008
DATA int4Lanes16<>+16(SB)/8, $0x0000000500000001
DATA int4Lanes16<>+24(SB)/8, $0x0000000d00000009
DATA int4Lanes16<>+32(SB)/8, $0x0000000600000002
DATA int4Lanes16<>+40(SB)/8, $0x0000000e0000000a
DATA int4Lanes16<>+48(SB)/8, $0x0000000700000003
DATA int4Lanes16<>+56(SB)/8, $0x0000000f0000000b
GLOBL int4Lanes16<>(SB), RODATA|NOPTR, $64

// int4Lanes8<> is int4Lanes8: the VPERMD index that puts a row's scales
// and offsets in the lane order of the AVX2 GEMM's codes.
DATA int4Lanes8<>+0(SB)/8, $0x0000000200000000
DATA int4Lanes8<>+8(SB)/8, $0x0000000600000004
DATA int4Lanes8<>+16(SB)/8, $0x0000000300000001
DATA int4Lanes8<>+24(SB)/8, $0x0000000700000005
GLOBL int4Lanes8<>(SB), RODATA|NOPTR, $32

// int4Lanes8Inv<> is the inverse of int4Lanes8.
DATA int4Lanes8Inv<>+0(SB)/8, $0x0000000400000000
DATA int4Lanes8Inv<>+8(SB)/8, $0x0000000500000001
DATA int4Lanes8Inv<>+16(SB)/8, $0x0000000600000002
DATA int4Lanes8Inv<>+24(SB)/8, $0x0000000700000003
GLOBL int4Lanes8Inv<>(SB), RODATA|NOPTR, $32

// TRANSPOSE4 transposes the 4×4 dword matrices in each 128-bit lane of
// a, b, c, d (rows) into the columns T0 = d, T1 = e, T2 = b, T3 = a.
#define TRANSPOSE4(a, b, c, d, e) \
	VPUNPCKLDQ  b, a, e \
	VPUNPCKHDQ  b, a, a \
	VPUNPCKLDQ  d, c, b \
	VPUNPCKHDQ  d, c, c \
	VPUNPCKLQDQ b, e, d \
	VPUNPCKHQDQ b, e, e \
	VPUNPCKLQDQ c, a, b \
	VPUNPCKHQDQ c, a, a

// INT4_DOT16 adds the products of the low and the high nibbles of c with
// the activation vectors lo and hi to i. Clobbers e.
#define INT4_DOT16(c, lo, hi, e, i) \
	VPANDD   Z8, c, e \
	VPDPBUSD lo, e, i \
	INT4_HI(c, e) \
	VPDPBUSD hi, e, i

// INT4_ROW16 adds a row's block of 16 groups (code quarters at c0..c3,
// masked by K2..K5) to acc; Z0..Z7 hold the prepared activation vectors,
// Z8 0x0F bytes, Z9 int4Lanes16. Clobbers ta..tg.
#define INT4_ROW16(c0, c1, c2, c3, sc, off, acc, ta, tb, tc, td, te, tf, tg) \
	INT4_CODES16(c0, c1, c2, c3, ta, tb, tc, td, te) \
	VPXORD      tf, tf, tf \
	INT4_DOT16(td, Z0, Z4, tg, tf) \
	INT4_DOT16(te, Z1, Z5, tg, tf) \
	INT4_DOT16(tb, Z2, Z6, tg, tf) \
	INT4_DOT16(ta, Z3, Z7, tg, tf) \
	VPERMD      tf, Z9, tf \
	SCALE16(sc, off, acc, tf, tc, tg)

// INT4_PAIR16 adds the packed tail of rows A (code vectors at a0, a1) and
// B (b0, b1), scale and offset codes at scA, scB, offA, offB, to accA and
// accB, with the prepared activations (period 8) at AX, in two sums (tf,
// th), as INT2_DOTS16X2; yc, yd, yg are the Y views of tc, td, tg.
// Clobbers ta..ti.
#define INT4_PAIR16(a0, a1, b0, b1, scA, scB, offA, offB, accA, accB, ta, tb, tc, yc, td, yd, te, tf, tg, yg, th, ti) \
	INT4_CODES16(a0, a1, b0, b1, ta, tb, tc, td, te) \
	VPXORD      tf, tf, tf \
	VPXORD      th, th, th \
	INT4_DOT16(td, 0(AX), 256(AX), tg, tf) \
	INT4_DOT16(te, 64(AX), 320(AX), ti, th) \
	INT4_DOT16(tb, 128(AX), 384(AX), tg, tf) \
	INT4_DOT16(ta, 192(AX), 448(AX), ti, th) \
	VPADDD      th, tf, tf \
	VPERMD      tf, Z9, tf \
	SCALE16P(scA, scB, offA, offB, accA, accB, K6, K7, tf, tc, yc, tg, yg, yd)

// INT4_CODES16 loads the code quarters at c0..c3 (masked by K2..K5) and
// transposes them into T0..T3 = td, te, tb, ta (TRANSPOSE4).
#define INT4_CODES16(c0, c1, c2, c3, ta, tb, tc, td, te) \
	VMOVDQU32.Z c0, K2, ta \
	VMOVDQU32.Z c1, K3, tb \
	VMOVDQU32.Z c2, K4, tc \
	VMOVDQU32.Z c3, K5, td \
	TRANSPOSE4(ta, tb, tc, td, te)

// INT4_TAILMASK sets the masks of a block of r = CX < 16 groups: K1 the
// first r dword lanes, K2..K5 the first 4r of the 64 code dwords.
// Clobbers R8, R9.
#define INT4_TAILMASK \
	MOVL  $1, R8 \
	SHLL  CX, R8 \
	LEAL  -1(R8), R9 \
	KMOVW R9, K1 \
	IMULQ R8, R8 \
	IMULQ R8, R8 \
	DECQ  R8 \
	KMOVW R8, K2 \
	SHRQ  $16, R8 \
	KMOVW R8, K3 \
	SHRQ  $16, R8 \
	KMOVW R8, K4 \
	SHRQ  $16, R8 \
	KMOVW R8, K5

// INT4_PACKINIT(ka, kb, lanes) computes the masks of a packed tail of r =
// CX <= 8 groups (GROUPED_GEMV16): K1 the first r dword lanes (0(SP)),
// K2:K3 the first 4r of the 32 code dwords of row A (2(SP), 4(SP)), K4:K5
// the same for row B, and ka, kb the lanes of rows A and B (lanes: those
// of row A in 16 bits). Clobbers R8, R9.
#define INT4_PACKINIT(ka, kb, lanes) \
	MOVL  $1, R8 \
	SHLL  CX, R8 \
	LEAL  -1(R8), R9 \
	MOVW  R9, 0(SP) \
	IMULQ R8, R8 \
	IMULQ R8, R8 \
	DECQ  R8 \
	MOVW  R8, 2(SP) \
	SHRQ  $16, R8 \
	MOVW  R8, 4(SP) \
	MOVL  $lanes, R8 \
	KMOVW R8, ka \
	KNOTW ka, kb

// INT4_PACKMASKS sets the masks of a packed tail kept in the frame.
#define INT4_PACKMASKS \
	KMOVW 0(SP), K1 \
	KMOVW 2(SP), K2 \
	KMOVW 2(SP), K4 \
	KMOVW 4(SP), K3 \
	KMOVW 4(SP), K5

// INT4_MASKS sets the masks of a full block.
#define INT4_MASKS \
	KXNORW K1, K1, K1 \
	KXNORW K2, K2, K2 \
	KXNORW K3, K3, K3 \
	KXNORW K4, K4, K4 \
	KXNORW K5, K5, K5

// The hooks of GROUPED_GEMV16 (kernels_amd64.h): tiles of 2 rows.
#define G16_SETUP \
	MOVL         $0x0f0f0f0f, R8 \
	VPBROADCASTD R8, Z8 \
	VMOVDQU32    int4Lanes16<>(SB), Z9 \
	MOVQ         $0x1020408000000000, R8 \
	VPBROADCASTQ R8, Z10
#define G16_ZERO \
	VPXORD Z12, Z12, Z12 \
	VPXORD Z13, Z13, Z13
#define G16_MASKS INT4_MASKS
#define G16_TAILMASK INT4_TAILMASK
#define G16_PREFETCH \
	PREFETCH8(R14) \
	PREFETCHT0 512(R14) \
	ADDQ       $576, R14
#define G16_TILE \
	INT4_ROW16(0(SI), 64(SI), 128(SI), 192(SI), (BX), (DI), Z12, Z14, Z15, Z16, Z17, Z18, Z19, Z20) \
	INT4_ROW16(0(SI)(DX*1), 64(SI)(DX*1), 128(SI)(DX*1), 192(SI)(DX*1), (BX)(DX*1), (DI)(DX*1), Z13, Z21, Z22, Z23, Z24, Z25, Z26, Z27)
#define G16_REDUCE \
	REDUCE1_512(Z12, Y12, X12, Y14, X14, (R12)) \
	REDUCE1_512(Z13, Y13, X13, Y14, X14, 4(R12)) \
	ADDQ $8, R12
#define G16_ROW INT4_ROW16(0(SI), 64(SI), 128(SI), 192(SI), (BX), (DI), Z12, Z16, Z17, Z18, Z19, Z20, Z21, Z22)
#define G16_PACKINIT INT4_PACKINIT(K6, K7, 0xff)
#define G16_PACKMASKS INT4_PACKMASKS
#define G16_PACKTILE \
	PREFETCH5(R14) \
	INT4_PAIR16(0(SI), 64(SI), 0(SI)(DX*1), 64(SI)(DX*1), (BX), (BX)(DX*1), (DI), (DI)(DX*1), Z12, Z13, Z14, Z15, Z16, Y16, Z17, Y17, Z18, Z19, Z20, Y20, Z21, Z22)

// The hooks of GROUPED_GEMM16 (kernels_amd64.h): the code vectors,
// loaded into c4..c7 and transposed to T0..T3 (c7, t0, c5, c4), give code
// vectors k (low nibbles of T(k)) and 4+k (high nibbles); Z9
// (int4Lanes16) puts the scales and offsets in their lane order.
#define GM16_PREFETCH(p) \
	PREFETCHT0 0(p) \
	PREFETCHT0 64(p) \
	PREFETCHT0 128(p) \
	PREFETCHT0 192(p) \
	PREFETCHT0 256(p)
#define GM16_EXPAND(a0, a1, a2, a3, c0, c1, c2, c3, c4, c5, c6, c7, t0, t1, t2, t3) \
	VMOVDQU32.Z a0, K2, c4 \
	VMOVDQU32.Z a1, K3, c5 \
	VMOVDQU32.Z a2, K4, c6 \
	VMOVDQU32.Z a3, K5, c7 \
	TRANSPOSE4(c4, c5, c6, c7, t0) \
	VPANDD      Z8, c7, c0 \
	VPANDD      Z8, t0, c1 \
	VPANDD      Z8, c5, c2 \
	VPANDD      Z8, c4, c3 \
	INT4_HI(c4, t1) \
	INT4_HI(c5, c6) \
	INT4_HI(t0, c5) \
	INT4_HI(c7, c4) \
	VMOVDQA64   t1, c7
#define GM16_PERM(d, o) \
	VPERMD d, Z9, d \
	VPERMD o, Z9, o
// In the codes' lane order, lane 4l+j holds a group of row A for j < 2.
#define GM16_PACKINIT INT4_PACKINIT(K6, K7, 0x3333)
#define GM16_PACKMASKS INT4_PACKMASKS
#define GM16_PACKPREFETCH(p) PREFETCH3(p)
#define GM16_PACKEXPAND GM16_EXPAND(0(SI), 64(SI), 0(SI)(DX*1), 64(SI)(DX*1), Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z12, Z13, Z14, Z15)

// INT4_CODES8(r0, r1, r2, r3) loads an AVX2 block's codes (two groups a
// register); INT4_TAILCODES8(m, r0, ..., r3) those of the last r = CX < 8
// groups, with VPMASKMOVD masks from dwordMasks (R8; R10: 64-8r) in m.
#define INT4_CODES8(r0, r1, r2, r3) \
	VMOVDQU (SI), r0 \
	VMOVDQU 32(SI), r1 \
	VMOVDQU 64(SI), r2 \
	VMOVDQU 96(SI), r3
#define INT4_TAILCODES8(m, r0, r1, r2, r3) \
	SHLQ       $1, R10 \
	VMOVDQU    (R8)(R10*1), m \
	VPMASKMOVD (SI), m, r0 \
	VMOVDQU    32(R8)(R10*1), m \
	VPMASKMOVD 32(SI), m, r1 \
	VMOVDQU    64(R8)(R10*1), m \
	VPMASKMOVD 64(SI), m, r2 \
	VMOVDQU    96(R8)(R10*1), m \
	VPMASKMOVD 96(SI), m, r3

// INT4_PAIRCODES8(m, r0, r1, r2, r3, t0, t1) loads the codes of the last
// r = CX <= 4 groups of rows A (at SI - DX) into r0, r1 and B (at SI)
// into r2, r3, the block of a packed AVX2 tail, with VPMASKMOVD masks from
// dwordMasks (R8) in m. Clobbers t0, t1.
#define INT4_PAIRCODES8(m, r0, r1, r2, r3, t0, t1) \
	MOVQ       CX, t0 \
	SHLQ       $4, t0 \
	NEGQ       t0 \
	ADDQ       $128, t0 \
	MOVQ       SI, t1 \
	SUBQ       DX, t1 \
	VMOVDQU    (R8)(t0*1), m \
	VPMASKMOVD (t1), m, r0 \
	VPMASKMOVD (SI), m, r2 \
	VMOVDQU    32(R8)(t0*1), m \
	VPMASKMOVD 32(t1), m, r1 \
	VPMASKMOVD 32(SI), m, r3

// INT4_DOT8 adds the products of the low and the high nibbles of c with
// the activation vectors at lo(AX) and hi(AX) (GROUPED_GEMV8's DOT hooks).
#define INT4_DOT8(c, lo, hi) \
	VPAND  Y0, c, Y7 \
	DOT(lo) \
	VPSRLD $4, c, Y7 \
	VPAND  Y0, Y7, Y7 \
	DOT(hi)

// The hooks of GROUPED_GEMV8 (kernels_amd64.h): the codes of groups 0..7
// in Y5..Y8 (two groups each), transposed to T0..T3 = Y8, Y9, Y6, Y5 in
// lane order int4Lanes8; DOT_INIT, DOT(off) and DOT_FINISH sum the
// products of the codes in Y7 with the activation vector at off(AX) into
// Y10.
#define G8_SETUP \
	MOVL         $0x0f0f0f0f, R8 \
	MOVQ         R8, X0 \
	VPBROADCASTD X0, Y0 \
	VMOVDQU      int4Lanes8Inv<>(SB), Y2
#define G8_CODES INT4_CODES8(Y5, Y6, Y7, Y8)
#define G8_TAILCODES INT4_TAILCODES8(Y9, Y5, Y6, Y7, Y8)
#define G8_PAIRCODES INT4_PAIRCODES8(Y9, Y5, Y6, Y7, Y8, R9, R10)
#define G8_DOTS \
	TRANSPOSE4(Y5, Y6, Y7, Y8, Y9) \
	DOT_INIT \
	INT4_DOT8(Y8, 0, 128) \
	INT4_DOT8(Y9, 32, 160) \
	INT4_DOT8(Y6, 64, 192) \
	INT4_DOT8(Y5, 96, 224) \
	DOT_FINISH \
	VPERMD Y10, Y2, Y10

// High nibbles with a shift.
#define INT4_HI(c, e) VPSRLD $4, c, e; VPANDD Z8, e, e

// func int4GEMVx16(codes, scales, offs *byte, stride, rows, groups int, act *byte, out *float32)
TEXT ·int4GEMVx16(SB), NOSPLIT, $8-64
	GROUPED_GEMV16(2, 256, 4)

// func int4GEMMx16(codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)
TEXT ·int4GEMMx16(SB), NOSPLIT, $8-80
	GROUPED_GEMM16(256, 4)

#undef INT4_HI

// High nibbles with GF2P8AFFINEQB (Z10 moves bits 7..4 to 3..0).
#define INT4_HI(c, e) VGF2P8AFFINEQB $0, Z10, c, e

// func int4GEMVx16GFNI(codes, scales, offs *byte, stride, rows, groups int, act *byte, out *float32)
TEXT ·int4GEMVx16GFNI(SB), NOSPLIT, $8-64
	GROUPED_GEMV16(2, 256, 4)

// func int4GEMMx16GFNI(codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)
TEXT ·int4GEMMx16GFNI(SB), NOSPLIT, $8-80
	GROUPED_GEMM16(256, 4)

// The hooks of GROUPED_GEMM8 (kernels_amd64.h): the codes of groups 0..7
// in Y4..Y7, transposed to T0..T3 = Y7, Y12, Y5, Y4 (lane order
// int4Lanes8), give code vectors k (low nibbles of T(k)) and 4+k (high).
#define GM8_CODES INT4_CODES8(Y4, Y5, Y6, Y7)
#define GM8_TAILCODES INT4_TAILCODES8(Y12, Y4, Y5, Y6, Y7)
#define GM8_PAIRCODES INT4_PAIRCODES8(Y12, Y4, Y5, Y6, Y7, R10, R14)
#define GM8_EXPAND \
	TRANSPOSE4(Y4, Y5, Y6, Y7, Y12) \
	MOVL         $0x0f0f0f0f, R8 \
	MOVQ         R8, X13 \
	VPBROADCASTD X13, Y13 \
	VPAND        Y13, Y7, Y0 \
	VPAND        Y13, Y12, Y1 \
	VPAND        Y13, Y5, Y2 \
	VPAND        Y13, Y4, Y3 \
	VPSRLD       $4, Y5, Y6 \
	VPAND        Y13, Y6, Y6 \
	VPSRLD       $4, Y12, Y5 \
	VPAND        Y13, Y5, Y5 \
	VPSRLD       $4, Y4, Y12 \
	VPAND        Y13, Y12, Y12 \
	VPSRLD       $4, Y7, Y4 \
	VPAND        Y13, Y4, Y4 \
	VMOVDQU      Y12, Y7

// func int4GEMMx8VNNI(codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)
TEXT ·int4GEMMx8VNNI(SB), NOSPLIT, $0-80
	GROUPED_GEMM8(128, 4, GEMM_TOKEN8_VNNI, int4Lanes8<>(SB))

// func int4GEMMx8(codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)
TEXT ·int4GEMMx8(SB), NOSPLIT, $0-80
	GROUPED_GEMM8(128, 4, GEMM_TOKEN8_MADD, int4Lanes8<>(SB))

// AVX-VNNI dot products: Y10 += Y7 (u8) · Y11 (s8).
#define DOT_INIT VPXOR Y10, Y10, Y10
#define DOT(off) VMOVDQU off(AX), Y11; VNNIY(10, 7, 11)
#define DOT_FINISH

// func int4GEMVx8VNNI(codes, scales, offs *byte, stride, rows, groups int, act *byte, out *float32)
TEXT ·int4GEMVx8VNNI(SB), NOSPLIT, $0-64
	GROUPED_GEMV8(128, 4, Y10, X10)

#undef DOT_INIT
#undef DOT
#undef DOT_FINISH

// AVX2 dot products: int16 pair sums (at most 8·2·15·128 = 30720, no
// saturation) in Y14, widened to int32 by VPMADDWD with ones.
#define DOT_INIT VPXOR Y14, Y14, Y14
#define DOT(off) VPMADDUBSW off(AX), Y7, Y11; VPADDW Y11, Y14, Y14
#define DOT_FINISH VPMADDWD Y3, Y14, Y10

// func int4GEMVx8(codes, scales, offs *byte, stride, rows, groups int, act *byte, out *float32)
TEXT ·int4GEMVx8(SB), NOSPLIT, $0-64
	GROUPED_GEMV8(128, 4, Y10, X10)
