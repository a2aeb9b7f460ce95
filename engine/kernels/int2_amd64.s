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

// INT2_ROW16 adds a row's block of 16 groups to acc; Z0..Z7 hold the
// prepared activation vectors. Clobbers ta, tb, tc, td.
#define INT2_ROW16(lo, hi, sc, off, acc, ta, tb, tc, td) \
	INT2_CODES16(lo, hi, tc, td, ta, tb) \
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
	VPDPBUSD    Z7, tb, ta \
	SCALE16(sc, off, acc, ta, tc, td)

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
TEXT ·int2GEMVx16(SB), NOSPLIT, $0-64
	GROUPED_GEMV16(4, 128, 3)

// func int2GEMMx16(codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)
TEXT ·int2GEMMx16(SB), NOSPLIT, $0-80
	GROUPED_GEMM16(128, 3)

#undef INT2_EXT1
#undef INT2_EXT2
#undef INT2_EXT3

// Code extraction with one GF2P8AFFINEQB per vector.
#define INT2_EXT1(c, e) VGF2P8AFFINEQB $0, Z9, c, e
#define INT2_EXT2(c, e) VGF2P8AFFINEQB $0, Z10, c, e
#define INT2_EXT3(c, e) VGF2P8AFFINEQB $0, Z11, c, e

// func int2GEMVx16GFNI(codes, scales, offs *byte, stride, rows, groups int, act *byte, out *float32)
TEXT ·int2GEMVx16GFNI(SB), NOSPLIT, $0-64
	GROUPED_GEMV16(4, 128, 3)

// func int2GEMMx16GFNI(codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)
TEXT ·int2GEMMx16GFNI(SB), NOSPLIT, $0-80
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
	GROUPED_GEMV8(64, 3, Y6)

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
	GROUPED_GEMV8(64, 3, Y6)
