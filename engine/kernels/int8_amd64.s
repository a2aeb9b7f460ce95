//go:build amd64 && !purego

#include "textflag.h"
#include "kernels_amd64.h"

// Int8 kernels. The codes are unsigned bytes in activation order, so they
// multiply the activations as they are: VPDPBUSD of a 64-byte code vector
// with the activations sums two groups, eight dwords each. A group's
// offset is the constant -128, applied once per row: -128·Σ d·S.

// pairLane0<> is the VPERMPS index of the first pair: group 0 in dwords
// 0..7, group 1 in dwords 8..15 (bytes, widened at start-up).
DATA pairLane0<>+0(SB)/8, $0
DATA pairLane0<>+8(SB)/8, $0x0101010101010101
GLOBL pairLane0<>(SB), RODATA|NOPTR, $16

DATA minus128<>+0(SB)/4, $0xc3000000
GLOBL minus128<>(SB), RODATA|NOPTR, $4

// int8Lanes16<> is int8Lanes16 (gemm_amd64.go): the VPERMD index that puts
// a row's scales in the lane order of the AVX-512 GEMM's transposed codes.
DATA int8Lanes16<>+0(SB)/8, $0x0000000200000000
DATA int8Lanes16<>+8(SB)/8, $0x0000000600000004
DATA int8Lanes16<>+16(SB)/8, $0x0000000300000001
DATA int8Lanes16<>+24(SB)/8, $0x0000000700000005
DATA int8Lanes16<>+32(SB)/8, $0x0000000a00000008
DATA int8Lanes16<>+40(SB)/8, $0x0000000e0000000c
DATA int8Lanes16<>+48(SB)/8, $0x0000000b00000009
DATA int8Lanes16<>+56(SB)/8, $0x0000000f0000000d
GLOBL int8Lanes16<>(SB), RODATA|NOPTR, $64

// wordSixteens<> is 16 int16 sixteens (VPMADDWD widening of the high
// nibbles' sums).
DATA wordSixteens<>+0(SB)/8, $0x0010001000100010
DATA wordSixteens<>+8(SB)/8, $0x0010001000100010
DATA wordSixteens<>+16(SB)/8, $0x0010001000100010
DATA wordSixteens<>+24(SB)/8, $0x0010001000100010
GLOBL wordSixteens<>(SB), RODATA|NOPTR, $32

// INT8_TAILMASK16(t0, t1, cont) sets the masks of a block of r = CX < 16
// groups, then goes on at cont: K1 the first r dword lanes, K3:K4 the
// first 8r of its 128 code dwords (K3 stays all ones when r >= 8).
// Clobbers t0, t1.
#define INT8_TAILMASK16(t0, t1, cont) \
	MOVL  $1, t0 \
	SHLL  CX, t0 \
	DECL  t0 \
	KMOVW t0, K1 \
	MOVQ  CX, t0 \
	SHLQ  $3, t0 \
	MOVQ  $-1, t1 \
	CMPQ  CX, $8 \
	JAE   upper \
	SHLXQ t0, t1, t1 \
	NOTQ  t1 \
	KMOVQ t1, K3 \
	KXORQ K4, K4, K4 \
	JMP   cont \
upper: \
	SUBQ  $64, t0 \
	SHLXQ t0, t1, t1 \
	NOTQ  t1 \
	KMOVQ t1, K4

// INT8_PACKINIT(t0, t1) computes the masks of a packed tail of r = CX <= 8
// groups: K1 the first r dword lanes (0(SP)), K3 and K4 the first 8r code
// dwords of rows A and B (8(SP)), K5 and K6 the lanes of rows A and B.
// Clobbers t0, t1, R8.
#define INT8_PACKINIT(t0, t1) \
	MOVL  $1, t0 \
	SHLL  CX, t0 \
	DECL  t0 \
	MOVW  t0, 0(SP) \
	MOVQ  CX, t0 \
	SHLQ  $3, t0 \
	NEGQ  t0 \
	ADDQ  $64, t0 \
	MOVQ  $-1, t1 \
	SHRXQ t0, t1, t1 \
	MOVQ  t1, 8(SP) \
	HALVES(K5, K6)

// INT8_PACKMASKS sets the masks of a packed tail kept in the frame.
#define INT8_PACKMASKS \
	KMOVW 0(SP), K1 \
	KMOVQ 8(SP), K3 \
	KMOVQ 8(SP), K4

// INT8_PAIR16 adds the products of the groups pair p of a block to acc:
// off = 64p, km:sh select the pair's lanes of the block mask, idx spreads
// the pair's two scales (Z11: d·D of the block) over their lanes.
#define INT8_PAIR16(off, km, sh, idx, acc) \
	KSHIFTRQ    $sh, km, K2 \
	VMOVDQU32.Z off(SI), K2, Z12 \
	VPXORD      Z13, Z13, Z13 \
	VPDPBUSD    off(AX), Z12, K2, Z13 \
	VCVTDQ2PS   Z13, Z13 \
	VPERMPS     Z11, idx, Z14 \
	VFMADD231PS Z14, Z13, acc

// INT8_GEMV_SCALES16 decodes the block's scales (K1 masks its groups) into
// Z11 = d·D and adds d·S to Z10.
#define INT8_GEMV_SCALES16 \
	VPMOVZXBD.Z (BX), K1, Z11 \
	VPSLLD      $20, Z11, Z11 \
	VPADDD.BCST scaleBias<>(SB), Z11, Z11 \
	VFMADD231PS (R9), Z11, K1, Z10 \
	VMULPS.Z    (R8), Z11, K1, Z11

// DOTG_IF is DOTG for group g-1 of a block, skipped (with the groups
// after it) past the last group CX.
#define DOTG_IF(g, y, n, off) \
	CMPQ CX, $g \
	JB   sums8 \
	DOTG(y, n, off)

// INT8_GEMV8 is the body of int8GEMVx8: one row at a time over blocks of
// 8 groups. DOTG(y, n, off) leaves group off/32's integer sum in y
// (register number n). Registers as in int8GEMVx16; Y0..Y7 the groups'
// sums, Y8 the row's sum, Y9 its Σ d·S, Y15 scaleBias.
#define INT8_GEMV8 \
	MOVQ         codes+0(FP), SI \
	MOVQ         scales+8(FP), BX \
	MOVQ         stride+16(FP), DX \
	MOVQ         rows+24(FP), R11 \
	MOVQ         out+64(FP), R12 \
	MOVQ         groups+32(FP), R13 \
	ADDQ         $7, R13 \
	ANDQ         $-8, R13 \
	VPBROADCASTD scaleBias<>(SB), Y15 \
row8: \
	TESTQ R11, R11 \
	JZ    done8 \
	LEAQ  (SI)(DX*1), R14 \
	VPXOR Y8, Y8, Y8 \
	VPXOR Y9, Y9, Y9 \
	MOVQ  qs+40(FP), AX \
	MOVQ  d+48(FP), R8 \
	MOVQ  s+56(FP), R9 \
	MOVQ  groups+32(FP), CX \
block8: \
	PREFETCHT0 0(R14) \
	PREFETCHT0 64(R14) \
	PREFETCHT0 128(R14) \
	PREFETCHT0 192(R14) \
	PREFETCHT0 256(R14) \
	ADDQ       $264, R14 \
	CMPQ      CX, $8 \
	JB        tail8 \
	VPMOVZXBD (BX), Y10 \
	VMOVUPS   (R8), Y13 \
	VMOVUPS   (R9), Y14 \
	JMP       groups8 \
tail8: \
	MOVQ       CX, R10 \
	SHLQ       $3, R10 \
	NEGQ       R10 \
	ADDQ       $64, R10 \
	MOVQ       -8(BX)(CX*1), DI \
	SHRXQ      R10, DI, DI \
	MOVQ       DI, X10 \
	VPMOVZXBD  X10, Y10 \
	LEAQ       dwordMasks<>(SB), DI \
	MOVQ       CX, R10 \
	SHLQ       $2, R10 \
	NEGQ       R10 \
	VMOVDQU    128(DI)(R10*1), Y12 \
	VMASKMOVPS (R8), Y12, Y13 \
	VMASKMOVPS (R9), Y12, Y14 \
groups8: \
	VPXOR Y1, Y1, Y1 \
	VPXOR Y2, Y2, Y2 \
	VPXOR Y3, Y3, Y3 \
	VPXOR Y4, Y4, Y4 \
	VPXOR Y5, Y5, Y5 \
	VPXOR Y6, Y6, Y6 \
	VPXOR Y7, Y7, Y7 \
	DOTG(Y0, 0, 0) \
	DOTG_IF(2, Y1, 1, 32) \
	DOTG_IF(3, Y2, 2, 64) \
	DOTG_IF(4, Y3, 3, 96) \
	DOTG_IF(5, Y4, 4, 128) \
	DOTG_IF(6, Y5, 5, 160) \
	DOTG_IF(7, Y6, 6, 192) \
	DOTG_IF(8, Y7, 7, 224) \
sums8: \
	VPHADDD     Y1, Y0, Y0 \
	VPHADDD     Y3, Y2, Y2 \
	VPHADDD     Y5, Y4, Y4 \
	VPHADDD     Y7, Y6, Y6 \
	VPHADDD     Y2, Y0, Y0 \
	VPHADDD     Y6, Y4, Y4 \
	VPERM2I128  $0x20, Y4, Y0, Y1 \
	VPERM2I128  $0x31, Y4, Y0, Y2 \
	VPADDD      Y2, Y1, Y1 \
	VPSLLD      $20, Y10, Y10 \
	VPADDD      Y15, Y10, Y10 \
	VCVTDQ2PS   Y1, Y1 \
	VMULPS      Y13, Y1, Y1 \
	VFMADD231PS Y1, Y10, Y8 \
	VFMADD231PS Y14, Y10, Y9 \
	ADDQ        $256, SI \
	ADDQ        $256, AX \
	ADDQ        $8, BX \
	ADDQ        $32, R8 \
	ADDQ        $32, R9 \
	SUBQ        $8, CX \
	JG          block8 \
	VBROADCASTSS minus128<>(SB), Y10 \
	VFMADD231PS Y10, Y9, Y8 \
	REDUCE1_256(Y8, X8, X9, (R12)) \
	ADDQ        $4, R12 \
	MOVQ        R13, R10 \
	SHLQ        $5, R10 \
	ADDQ        DX, SI \
	SUBQ        R10, SI \
	ADDQ        DX, BX \
	SUBQ        R13, BX \
	DECQ        R11 \
	JMP         row8 \
done8: \
	VZEROUPPER \
	RET

// func int8GEMVx16(codes, scales *byte, stride, rows, groups int, qs *int8, d, s *float32, out *float32)
//
// One row at a time over blocks of 16 groups. AX qs, SI/BX the row's
// codes/scales in the current block, R8/R9 D/S, DX stride, CX groups
// left, R11 rows left, R12 out, R13/R14 the scale/code bytes of a row's
// blocks. Z0..Z7 the pairs' scale indices, Z8, Z9 the row's sums, Z10 its
// Σ d·S, Z11 d·D. K1 masks the block's scales, K3:K4 its 128 code dwords.
TEXT ·int8GEMVx16(SB), NOSPLIT, $0-72
	MOVQ      codes+0(FP), SI
	MOVQ      scales+8(FP), BX
	MOVQ      stride+16(FP), DX
	MOVQ      rows+24(FP), R11
	MOVQ      out+64(FP), R12
	MOVQ      groups+32(FP), R13
	ADDQ      $15, R13
	ANDQ      $-16, R13
	VPMOVZXBD pairLane0<>(SB), Z0
	MOVL      $2, R8
	VPBROADCASTD R8, Z15
	VPADDD    Z15, Z0, Z1
	VPADDD    Z15, Z1, Z2
	VPADDD    Z15, Z2, Z3
	VPADDD    Z15, Z3, Z4
	VPADDD    Z15, Z4, Z5
	VPADDD    Z15, Z5, Z6
	VPADDD    Z15, Z6, Z7

row:
	TESTQ  R11, R11
	JZ     done
	LEAQ   (SI)(DX*1), R14
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	MOVQ   qs+40(FP), AX
	MOVQ   d+48(FP), R8
	MOVQ   s+56(FP), R9
	MOVQ   groups+32(FP), CX
	KXNORW K1, K1, K1
	KXNORQ K3, K3, K3
	KXNORQ K4, K4, K4

block:
	PREFETCHT0 0(R14)
	PREFETCHT0 64(R14)
	PREFETCHT0 128(R14)
	PREFETCHT0 192(R14)
	PREFETCHT0 256(R14)
	PREFETCHT0 320(R14)
	PREFETCHT0 384(R14)
	PREFETCHT0 448(R14)
	PREFETCHT0 512(R14)
	ADDQ       $528, R14
	CMPQ       CX, $16
	JB         tail
	INT8_GEMV_SCALES16
	INT8_PAIR16(0, K3, 0, Z0, Z8)
	INT8_PAIR16(64, K3, 16, Z1, Z9)
	INT8_PAIR16(128, K3, 32, Z2, Z8)
	INT8_PAIR16(192, K3, 48, Z3, Z9)
	INT8_PAIR16(256, K4, 0, Z4, Z8)
	INT8_PAIR16(320, K4, 16, Z5, Z9)
	INT8_PAIR16(384, K4, 32, Z6, Z8)
	INT8_PAIR16(448, K4, 48, Z7, Z9)
	ADDQ $512, SI
	ADDQ $512, AX
	ADDQ $16, BX
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, CX
	JG   block

rowdone:
	VADDPS      Z9, Z8, Z8
	VFMADD231PS.BCST minus128<>(SB), Z10, Z8
	REDUCE1_512(Z8, Y8, X8, Y15, X15, (R12))
	ADDQ $4, R12
	MOVQ R13, R10
	SHLQ $5, R10
	ADDQ DX, SI
	SUBQ R10, SI
	ADDQ DX, BX
	SUBQ R13, BX
	DECQ R11
	JMP  row

	// The last r = CX < 16 groups: only the pairs that hold some of them.
tail:
	INT8_TAILMASK16(R10, DI, tailmasked)

tailmasked:
	INT8_GEMV_SCALES16
	INT8_PAIR16(0, K3, 0, Z0, Z8)
	CMPQ CX, $2
	JBE  tailend
	INT8_PAIR16(64, K3, 16, Z1, Z9)
	CMPQ CX, $4
	JBE  tailend
	INT8_PAIR16(128, K3, 32, Z2, Z8)
	CMPQ CX, $6
	JBE  tailend
	INT8_PAIR16(192, K3, 48, Z3, Z9)
	CMPQ CX, $8
	JBE  tailend
	INT8_PAIR16(256, K4, 0, Z4, Z8)
	CMPQ CX, $10
	JBE  tailend
	INT8_PAIR16(320, K4, 16, Z5, Z9)
	CMPQ CX, $12
	JBE  tailend
	INT8_PAIR16(384, K4, 32, Z6, Z8)
	CMPQ CX, $14
	JBE  tailend
	INT8_PAIR16(448, K4, 48, Z7, Z9)

tailend:
	ADDQ $512, SI
	ADDQ $16, BX
	JMP  rowdone

done:
	VZEROUPPER
	RET

// AVX-VNNI: y = Σ code·activation over the group's 32 bytes, per dword.
#define DOTG(y, n, off) \
	VMOVDQU off(SI), Y11 \
	VMOVDQU off(AX), Y12 \
	VPXOR   y, y, y \
	VNNIY(n, 11, 12)

// func int8GEMVx8VNNI(codes, scales *byte, stride, rows, groups int, qs *int8, d, s *float32, out *float32)
TEXT ·int8GEMVx8VNNI(SB), NOSPLIT, $0-72
	INT8_GEMV8

#undef DOTG

// AVX2: the codes (up to 255) and activations widened to int16, multiplied
// and pair-summed by VPMADDWD (VPMADDUBSW could saturate).
#define DOTG(y, n, off) \
	VPMOVZXBW off(SI), Y11 \
	VPMOVSXBW off(AX), Y12 \
	VPMADDWD  Y12, Y11, y \
	VPMOVZXBW off+16(SI), Y11 \
	VPMOVSXBW off+16(AX), Y12 \
	VPMADDWD  Y12, Y11, Y11 \
	VPADDD    Y11, y, y

// func int8GEMVx8(codes, scales *byte, stride, rows, groups int, qs *int8, d, s *float32, out *float32)
TEXT ·int8GEMVx8(SB), NOSPLIT, $0-72
	INT8_GEMV8

// The GEMMs (int8GEMMx16 in gemm_amd64.go). A block's codes are transposed
// like the activations (TRANSPOSE8), so that each lane holds one group
// and VPDPBUSD sums a group's 32 products in its lane, as the Int2 and
// Int4 kernels do; the codes need no expansion, the transposes are done
// once per block for every token. The offset -128 is in the prepared S'.

// TRANSPOSE8_1(a0, ..., a7, s, SHUF, lo, hi) is TRANSPOSE8 of the rows
// a0..a7 with one spare register s, followed by the exchange of 128-bit
// lanes of transposeQ8x8 (SHUF VPERM2I128, lo 0x20, hi 0x31: group i in
// lane i) or transposeQ8x16 (VSHUFI64X2, 0x88, 0xdd: lane order
// int8Lanes16 for rows of groups 2j and 2j+1). Afterwards column e is in
// a5, a6, a0, s, a1, a4, a2, a7 for e = 0..7, and a3 is free.
#define TRANSPOSE8_1(a0, a1, a2, a3, a4, a5, a6, a7, s, SHUF, lo, hi) \
	VPUNPCKLDQ  a1, a0, s \
	VPUNPCKHDQ  a1, a0, a1 \
	VPUNPCKLDQ  a3, a2, a0 \
	VPUNPCKHDQ  a3, a2, a3 \
	VPUNPCKLDQ  a5, a4, a2 \
	VPUNPCKHDQ  a5, a4, a5 \
	VPUNPCKLDQ  a7, a6, a4 \
	VPUNPCKHDQ  a7, a6, a7 \
	VPUNPCKLQDQ a0, s, a6 \
	VPUNPCKHQDQ a0, s, a0 \
	VPUNPCKLQDQ a3, a1, s \
	VPUNPCKHQDQ a3, a1, a3 \
	VPUNPCKLQDQ a4, a2, a1 \
	VPUNPCKHQDQ a4, a2, a4 \
	VPUNPCKLQDQ a7, a5, a2 \
	VPUNPCKHQDQ a7, a5, a7 \
	SHUF        $lo, a1, a6, a5 \
	SHUF        $hi, a1, a6, a1 \
	SHUF        $lo, a4, a0, a6 \
	SHUF        $hi, a4, a0, a4 \
	SHUF        $lo, a2, s, a0 \
	SHUF        $hi, a2, s, a2 \
	SHUF        $lo, a7, a3, s \
	SHUF        $hi, a7, a3, a7

// INT8_LOAD16(off, km, sh, z) loads the block's code vector at off (groups
// 2j and 2j+1) into z, masked by the 16 bits of km from sh on.
#define INT8_LOAD16(off, km, sh, z) \
	KSHIFTRQ    $sh, km, K2 \
	VMOVDQU32.Z off, K2, z

// INT8_LOADS16(A, ..., H, r0, ..., r7) loads a row's code block, its 8
// vectors at A..H, into r0..r7.
#define INT8_LOADS16(A, B, C, D, E, F, G, H, r0, r1, r2, r3, r4, r5, r6, r7) \
	INT8_LOAD16(A, K3, 0, r0) \
	INT8_LOAD16(B, K3, 16, r1) \
	INT8_LOAD16(C, K3, 32, r2) \
	INT8_LOAD16(D, K3, 48, r3) \
	INT8_LOAD16(E, K4, 0, r4) \
	INT8_LOAD16(F, K4, 16, r5) \
	INT8_LOAD16(G, K4, 32, r6) \
	INT8_LOAD16(H, K4, 48, r7)

// INT8_SCALES16(sc, d) decodes a row's 16 scale codes at sc into d, in
// the lane order of the codes (Z24: int8Lanes16).
#define INT8_SCALES16(sc, d) \
	VPMOVZXBD.Z sc, K1, d \
	VPSLLD      $20, d, d \
	VPADDD.BCST scaleBias<>(SB), d, d \
	VPERMD      d, Z24, d

// INT8_DOT2(off, a, b) adds the products of the activation vector at
// off(AX) with code vector a of row A to Z29 and with b of row B to Z30.
#define INT8_DOT2(off, a, b) \
	VMOVDQU32 off(AX), Z28 \
	VPDPBUSD  Z28, a, Z29 \
	VPDPBUSD  Z28, b, Z30

// INT8_TOKEN2(base, accA, accB) adds a token's products with the
// transposed codes of rows A (Z5, Z6, Z0, Z8, Z1, Z4, Z2, Z7) and B (Z14,
// Z15, Z9, Z27, Z10, Z13, Z11, Z3) to their sums: acc += d·(float(i)·D + S'),
// d in Z25 and Z26. Clobbers Z28..Z31.
#define INT8_TOKEN2(base, accA, accB) \
	VPXORD      Z29, Z29, Z29 \
	VPXORD      Z30, Z30, Z30 \
	INT8_DOT2(base+0, Z5, Z14) \
	INT8_DOT2(base+64, Z6, Z15) \
	INT8_DOT2(base+128, Z0, Z9) \
	INT8_DOT2(base+192, Z8, Z27) \
	INT8_DOT2(base+256, Z1, Z10) \
	INT8_DOT2(base+320, Z4, Z13) \
	INT8_DOT2(base+384, Z2, Z11) \
	INT8_DOT2(base+448, Z7, Z3) \
	VMOVUPS     base+512(AX), Z31 \
	VCVTDQ2PS   Z29, Z29 \
	VCVTDQ2PS   Z30, Z30 \
	VFMADD213PS base+576(AX), Z31, Z29 \
	VFMADD213PS base+576(AX), Z31, Z30 \
	VFMADD231PS Z25, Z29, accA \
	VFMADD231PS Z26, Z30, accB

// INT8_TOKENP(base, accA, accB) is INT8_TOKEN2 for the packed tail: the
// codes of both rows transposed into Z5, Z6, Z0, Z8, Z1, Z4, Z2, Z7, their
// decoded scales in Z25, K5 and K6 the lanes of rows A and B; two sums,
// Z29 and Z30, as in GEMM_TOKENP. Clobbers Z29..Z31.
#define INT8_TOKENP(base, accA, accB) \
	VPXORD      Z29, Z29, Z29 \
	VPXORD      Z30, Z30, Z30 \
	VPDPBUSD    base+0(AX), Z5, Z29 \
	VPDPBUSD    base+64(AX), Z6, Z30 \
	VPDPBUSD    base+128(AX), Z0, Z29 \
	VPDPBUSD    base+192(AX), Z8, Z30 \
	VPDPBUSD    base+256(AX), Z1, Z29 \
	VPDPBUSD    base+320(AX), Z4, Z30 \
	VPDPBUSD    base+384(AX), Z2, Z29 \
	VPDPBUSD    base+448(AX), Z7, Z30 \
	VPADDD      Z30, Z29, Z29 \
	VMOVUPS     base+512(AX), Z31 \
	VCVTDQ2PS   Z29, Z29 \
	VFMADD213PS base+576(AX), Z31, Z29 \
	VFMADD231PS Z25, Z29, K5, accA \
	VFMADD231PS Z25, Z29, K6, accB

// func int8GEMMx16(codes, scales *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)
//
// Tiles of two rows A and B (the last row alone: B = A, not stored) over
// blocks of 16 groups, so that each activation load serves both rows.
// Registers as in int8GEMVx16, but R9 the offset of row B (stride or 0),
// R10 row A's first output, R11 4·ldo, R12 the rows left, R14 sweeps the
// next tile; Z24 int8Lanes16, Z25/Z26 the rows' decoded scales, Z16..Z19
// and Z20..Z23 the sums of rows A and B for the 4 tokens.
TEXT ·int8GEMMx16(SB), NOSPLIT, $16-72
	MOVQ      codes+0(FP), SI
	MOVQ      scales+8(FP), BX
	MOVQ      stride+16(FP), DX
	MOVQ      rows+24(FP), R12
	MOVQ      groups+32(FP), R13
	ADDQ      $15, R13
	ANDQ      $-16, R13
	MOVQ      out+56(FP), R10
	MOVQ      ldo+64(FP), R11
	SHLQ      $2, R11
	VMOVDQU32 int8Lanes16<>(SB), Z24
	MOVQ      groups+32(FP), CX
	ANDQ      $15, CX
	INT8_PACKINIT(R8, DI)

tile:
	TESTQ  R12, R12
	JZ     done
	MOVQ   DX, R9
	CMPQ   R12, $2
	JAE    pair
	XORL   R9, R9

pair:
	LEAQ   (SI)(DX*2), R14
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	MOVQ   act+40(FP), AX
	MOVQ   groups+32(FP), CX
	KXNORW K1, K1, K1
	KXNORQ K3, K3, K3
	KXNORQ K4, K4, K4

block:
	CMPQ CX, $16
	JAE  full
	CMPQ CX, $8
	JBE  pack
	INT8_TAILMASK16(R8, DI, full)

full:
	PREFETCH8(R14)
	PREFETCHT0 512(R14)
	LEAQ       (R14)(DX*1), R8
	PREFETCH8(R8)
	PREFETCHT0 512(R8)
	ADDQ       $528, R14
	INT8_LOADS16(0(SI), 64(SI), 128(SI), 192(SI), 256(SI), 320(SI), 384(SI), 448(SI), Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7)
	TRANSPOSE8_1(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, VSHUFI64X2, 0x88, 0xdd)
	INT8_LOADS16(0(SI)(R9*1), 64(SI)(R9*1), 128(SI)(R9*1), 192(SI)(R9*1), 256(SI)(R9*1), 320(SI)(R9*1), 384(SI)(R9*1), 448(SI)(R9*1), Z9, Z10, Z11, Z12, Z13, Z14, Z15, Z3)
	TRANSPOSE8_1(Z9, Z10, Z11, Z12, Z13, Z14, Z15, Z3, Z27, VSHUFI64X2, 0x88, 0xdd)
	INT8_SCALES16((BX), Z25)
	INT8_SCALES16((BX)(R9*1), Z26)
	GEMM_TOKENS2(INT8_TOKEN2, tokens+48(FP), next, Z16, Z20, Z17, Z21, Z18, Z22, Z19, Z23)

next:
	ADDQ $640, AX
	ADDQ $512, SI
	ADDQ $16, BX
	SUBQ $16, CX
	JG   block
	JMP  reduce

	// The packed tail of r = CX <= 8 groups: row A's in code vectors 0..3
	// (groups 0..7 of the block), row B's in 4..7 (8..15).
pack:
	INT8_PACKMASKS
	PREFETCH5(R14)
	LEAQ (R14)(DX*1), R8
	PREFETCH5(R8)
	INT8_LOADS16(0(SI), 64(SI), 128(SI), 192(SI), 0(SI)(R9*1), 64(SI)(R9*1), 128(SI)(R9*1), 192(SI)(R9*1), Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7)
	TRANSPOSE8_1(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, VSHUFI64X2, 0x88, 0xdd)
	VPMOVZXBD.Z  (BX), K1, Y25
	VPMOVZXBD.Z  (BX)(R9*1), K1, Y26
	VINSERTI64X4 $1, Y26, Z25, Z25
	VPSLLD       $20, Z25, Z25
	VPADDD.BCST  scaleBias<>(SB), Z25, Z25
	VPERMD       Z25, Z24, Z25
	GEMM_TOKENS2(INT8_TOKENP, tokens+48(FP), packed, Z16, Z20, Z17, Z21, Z18, Z22, Z19, Z23)

packed:
	ADDQ $640, AX
	ADDQ $512, SI
	ADDQ $16, BX

reduce:
	GEMM_REDUCE2(tokens+48(FP), rowB, 0, Z16, Y16, Z17, Y17, Z18, Y18, Z19, Y19)

rowB:
	TESTQ R9, R9
	JZ    done
	GEMM_REDUCE2(tokens+48(FP), tiledone, 4, Z20, Y20, Z21, Y21, Z22, Y22, Z23, Y23)

tiledone:
	ADDQ $8, R10
	MOVQ R13, R8
	SHLQ $5, R8
	LEAQ (SI)(DX*2), SI
	SUBQ R8, SI
	LEAQ (BX)(DX*2), BX
	SUBQ R13, BX
	SUBQ $2, R12
	JMP  tile

done:
	VZEROUPPER
	RET

// INT8_SCALE8(base, acc) folds a token's integer sums Y14 into acc:
//	acc += d · (float(i)·D + S')
// Clobbers Y15.
#define INT8_SCALE8(base, acc) \
	VMOVUPS     base+256(AX), Y15 \
	VCVTDQ2PS   Y14, Y14 \
	VFMADD213PS base+288(AX), Y15, Y14 \
	VFMADD231PS Y13, Y14, acc

// INT8_GEMM8(SPLIT, TOKEN) is the body of the AVX2 Int8 GEMMs: one row at
// a time over blocks of 8 groups, the codes transposed by TRANSPOSE8_1
// into Y5, Y6, Y0, Y12, Y1, Y4, Y2, Y7 (code vectors 0..7, group order),
// then SPLIT, then TOKEN(base, acc) for every token. Registers as in
// int8GEMMx16, but Y8..Y11 the tokens' sums, Y13 the block's decoded
// scales; Y3, Y14 and Y15 are free for SPLIT and TOKEN. When the last
// block holds r <= 4 groups, the rows go in pairs with a packed tail (row
// A's groups in code vectors 0..3, B's in 4..7), as in GROUPED_GEMV8. In
// a row's masked last block the scales past its r groups are zeroed: the
// prepared S' there (the constant offset, and with period 4 copies of
// the tail's groups) are not.
#define INT8_GEMM8(SPLIT, TOKEN) \
	MOVQ codes+0(FP), SI \
	MOVQ scales+8(FP), BX \
	MOVQ stride+16(FP), DX \
	MOVQ rows+24(FP), R12 \
	MOVQ groups+32(FP), R13 \
	ADDQ $7, R13 \
	ANDQ $-8, R13 \
	MOVQ out+56(FP), R10 \
	MOVQ ldo+64(FP), R11 \
	SHLQ $2, R11 \
	MOVQ groups+32(FP), CX \
	ANDQ $7, CX \
	JZ   row8 \
	CMPQ CX, $4 \
	JA   row8 \
	MOVQ groups+32(FP), R13 \
	ANDQ $-8, R13 \
pair8: \
	CMPQ R12, $2 \
	JB   single8 \
	INT8_FULLROW8(blockA8, nextA8, fullA8, doneA8, SPLIT, TOKEN, R10) \
	INT8_NEXTROW8 \
	LEAQ 4(R10), R9 \
	INT8_FULLROW8(blockB8, nextB8, fullB8, doneB8, SPLIT, TOKEN, R9) \
	MOVQ groups+32(FP), CX \
	ANDQ $7, CX \
	INT8_PAIRLOADS8 \
	PAIRSHIFT \
	PAIRSEC8(BX, X13, Y13, VPMOVZXBD, R8, R9) \
	INT8_DECODE8 \
	INT8_TRANSPOSE8(SPLIT) \
	GEMM_ZERO8 \
	GEMM_TOKENS8(TOKEN, tokens+48(FP), ptok8) \
ptok8: \
	GEMM_PAIRSUM8(tokens+48(FP), pdone8, R10, GEMM_PAIRSUMH) \
pdone8: \
	INT8_NEXTROW8 \
	ADDQ $8, R10 \
	SUBQ $2, R12 \
	JMP  pair8 \
single8: \
	MOVQ groups+32(FP), R13 \
	ADDQ $7, R13 \
	ANDQ $-8, R13 \
row8: \
	TESTQ R12, R12 \
	JZ    done8 \
	LEAQ  (SI)(DX*1), R14 \
	GEMM_ZERO8 \
	MOVQ  act+40(FP), AX \
	MOVQ  groups+32(FP), CX \
block8: \
	PREFETCHT0 0(R14) \
	PREFETCHT0 64(R14) \
	PREFETCHT0 128(R14) \
	PREFETCHT0 192(R14) \
	PREFETCHT0 256(R14) \
	ADDQ       $264, R14 \
	CMPQ       CX, $8 \
	JB         tail8 \
	INT8_LOADS8 \
	INT8_DECODE8 \
	JMP        loaded8 \
tail8: \
	MOVQ      CX, R8 \
	SHLQ      $3, R8 \
	NEGQ      R8 \
	ADDQ      $64, R8 \
	MOVQ      -8(BX)(CX*1), DI \
	SHRXQ     R8, DI, DI \
	MOVQ      DI, X13 \
	VPMOVZXBD X13, Y13 \
	INT8_DECODE8 \
	MOVQ      CX, DI \
	SHLQ      $2, DI \
	NEGQ      DI \
	LEAQ      dwordMasks<>(SB), R8 \
	VPAND     128(R8)(DI*1), Y13, Y13 \
	VPXOR     Y1, Y1, Y1 \
	VPXOR     Y2, Y2, Y2 \
	VPXOR     Y3, Y3, Y3 \
	VPXOR     Y4, Y4, Y4 \
	VPXOR     Y5, Y5, Y5 \
	VPXOR     Y6, Y6, Y6 \
	VPXOR     Y7, Y7, Y7 \
	VMOVDQU   0(SI), Y0 \
	CMPQ      CX, $2 \
	JB        loaded8 \
	VMOVDQU   32(SI), Y1 \
	CMPQ      CX, $3 \
	JB        loaded8 \
	VMOVDQU   64(SI), Y2 \
	CMPQ      CX, $4 \
	JB        loaded8 \
	VMOVDQU   96(SI), Y3 \
	CMPQ      CX, $5 \
	JB        loaded8 \
	VMOVDQU   128(SI), Y4 \
	CMPQ      CX, $6 \
	JB        loaded8 \
	VMOVDQU   160(SI), Y5 \
	CMPQ      CX, $7 \
	JB        loaded8 \
	VMOVDQU   192(SI), Y6 \
loaded8: \
	INT8_TRANSPOSE8(SPLIT) \
	GEMM_TOKENS8(TOKEN, tokens+48(FP), next8) \
next8: \
	ADDQ $320, AX \
	ADDQ $256, SI \
	ADDQ $8, BX \
	SUBQ $8, CX \
	JG   block8 \
	GEMM_REDUCE8(tokens+48(FP), rowdone8, R10) \
rowdone8: \
	ADDQ $4, R10 \
	INT8_NEXTROW8 \
	DECQ R12 \
	JMP  row8 \
done8: \
	VZEROUPPER \
	RET

// INT8_LOADS8 loads a full AVX2 block: its scale codes into Y13, its code
// vectors into Y0..Y7.
#define INT8_LOADS8 \
	VPMOVZXBD (BX), Y13 \
	VMOVDQU   0(SI), Y0 \
	VMOVDQU   32(SI), Y1 \
	VMOVDQU   64(SI), Y2 \
	VMOVDQU   96(SI), Y3 \
	VMOVDQU   128(SI), Y4 \
	VMOVDQU   160(SI), Y5 \
	VMOVDQU   192(SI), Y6 \
	VMOVDQU   224(SI), Y7

// INT8_DECODE8 decodes the block's scale codes in Y13.
#define INT8_DECODE8 \
	VPSLLD       $20, Y13, Y13 \
	VPBROADCASTD scaleBias<>(SB), Y14 \
	VPADDD       Y14, Y13, Y13

// INT8_TRANSPOSE8(SPLIT) transposes the block's code vectors Y0..Y7, then
// runs SPLIT.
#define INT8_TRANSPOSE8(SPLIT) \
	TRANSPOSE8_1(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y12, VPERM2I128, 0x20, 0x31) \
	SPLIT

// INT8_NEXTROW8 moves SI and BX from the end of a row's blocks (R13
// groups) to the start of the next row. Clobbers R8.
#define INT8_NEXTROW8 \
	MOVQ R13, R8 \
	SHLQ $5, R8 \
	ADDQ DX, SI \
	SUBQ R8, SI \
	ADDQ DX, BX \
	SUBQ R13, BX

// INT8_FULLROW8(block, next, full, done, SPLIT, TOKEN, out) adds the
// products of the full blocks (R13 groups) of the row at SI, BX with the
// tokens to their outputs from out on (INT8_GEMM8), leaving SI and BX at
// its last block and AX at that block's activations; the sweep of the
// next row goes on over its last r <= 4 groups.
#define INT8_FULLROW8(block, next, full, done, SPLIT, TOKEN, out) \
	GEMM_ZERO8 \
	MOVQ  act+40(FP), AX \
	MOVQ  R13, CX \
	TESTQ CX, CX \
	JZ    full \
	LEAQ  (SI)(DX*1), R14 \
block: \
	PREFETCHT0 0(R14) \
	PREFETCHT0 64(R14) \
	PREFETCHT0 128(R14) \
	PREFETCHT0 192(R14) \
	PREFETCHT0 256(R14) \
	ADDQ       $264, R14 \
	INT8_LOADS8 \
	INT8_DECODE8 \
	INT8_TRANSPOSE8(SPLIT) \
	GEMM_TOKENS8(TOKEN, tokens+48(FP), next) \
next: \
	ADDQ $320, AX \
	ADDQ $256, SI \
	ADDQ $8, BX \
	SUBQ $8, CX \
	JG   block \
	PREFETCHT0 0(R14) \
	PREFETCHT0 64(R14) \
full: \
	GEMM_REDUCE8(tokens+48(FP), done, out) \
done:

// INT8_PAIRLOADS8 loads the codes of the last r = CX <= 4 groups of rows A
// (SI - DX) and B (SI) into code vectors 0..r-1 and 4..4+r-1, zeroing the
// others. Clobbers R8.
#define INT8_PAIRLOADS8 \
	MOVQ    SI, R8 \
	SUBQ    DX, R8 \
	VPXOR   Y1, Y1, Y1 \
	VPXOR   Y2, Y2, Y2 \
	VPXOR   Y3, Y3, Y3 \
	VPXOR   Y5, Y5, Y5 \
	VPXOR   Y6, Y6, Y6 \
	VPXOR   Y7, Y7, Y7 \
	VMOVDQU 0(R8), Y0 \
	VMOVDQU 0(SI), Y4 \
	CMPQ    CX, $2 \
	JB      pairloaded8 \
	VMOVDQU 32(R8), Y1 \
	VMOVDQU 32(SI), Y5 \
	CMPQ    CX, $3 \
	JB      pairloaded8 \
	VMOVDQU 64(R8), Y2 \
	VMOVDQU 64(SI), Y6 \
	CMPQ    CX, $4 \
	JB      pairloaded8 \
	VMOVDQU 96(R8), Y3 \
	VMOVDQU 96(SI), Y7 \
pairloaded8:

// INT8_TOKEN8_VNNI(base, acc) adds a token's AVX-VNNI products with the
// transposed codes to acc. Clobbers Y14, Y15.
#define INT8_TOKEN8_VNNI(base, acc) \
	VPXOR Y14, Y14, Y14 \
	GEMM_VNNI8(base+0, 5) \
	GEMM_VNNI8(base+32, 6) \
	GEMM_VNNI8(base+64, 0) \
	GEMM_VNNI8(base+96, 12) \
	GEMM_VNNI8(base+128, 1) \
	GEMM_VNNI8(base+160, 4) \
	GEMM_VNNI8(base+192, 2) \
	GEMM_VNNI8(base+224, 7) \
	INT8_SCALE8(base, acc)

// INT8_NOSPLIT is the SPLIT of the VNNI kernel: none.
#define INT8_NOSPLIT

// func int8GEMMx8VNNI(codes, scales *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)
TEXT ·int8GEMMx8VNNI(SB), NOSPLIT, $0-72
	INT8_GEMM8(INT8_NOSPLIT, INT8_TOKEN8_VNNI)

// Without VNNI, a code q (up to 255) is split into 16h + l (nibbles), so
// that VPMADDUBSW's int16 pair sums cannot saturate (at most
// 8·2·15·128 = 30720 over a block). The low nibbles stay in the code
// registers, the high ones go to the frame, 32 bytes per code vector.

// INT8_SPLIT1(c, off) splits code vector c; Y3 holds 0x0F bytes.
#define INT8_SPLIT1(c, off) \
	VPSRLW  $4, c, Y14 \
	VPAND   Y3, Y14, Y14 \
	VMOVDQU Y14, off(SP) \
	VPAND   Y3, c, c
#define INT8_SPLIT8 \
	MOVL         $0x0f0f0f0f, R8 \
	MOVQ         R8, X3 \
	VPBROADCASTD X3, Y3 \
	INT8_SPLIT1(Y5, 0) \
	INT8_SPLIT1(Y6, 32) \
	INT8_SPLIT1(Y0, 64) \
	INT8_SPLIT1(Y12, 96) \
	INT8_SPLIT1(Y1, 128) \
	INT8_SPLIT1(Y4, 160) \
	INT8_SPLIT1(Y2, 192) \
	INT8_SPLIT1(Y7, 224)

// INT8_MADD8(off, c, hoff) adds the products of the activation vector at
// off(AX) with the low nibbles c to Y14 and with the high nibbles at
// hoff(SP) to Y3 (int16).
#define INT8_MADD8(off, c, hoff) \
	GEMM_MADD8(off, c, Y14) \
	VMOVDQU    hoff(SP), Y15 \
	VPMADDUBSW off(AX), Y15, Y15 \
	VPADDW     Y15, Y3, Y3

// INT8_TOKEN8_MADD(base, acc) is INT8_TOKEN8_VNNI with the split codes.
// Clobbers Y3, Y14, Y15.
#define INT8_TOKEN8_MADD(base, acc) \
	VPXOR    Y14, Y14, Y14 \
	VPXOR    Y3, Y3, Y3 \
	INT8_MADD8(base+0, Y5, 0) \
	INT8_MADD8(base+32, Y6, 32) \
	INT8_MADD8(base+64, Y0, 64) \
	INT8_MADD8(base+96, Y12, 96) \
	INT8_MADD8(base+128, Y1, 128) \
	INT8_MADD8(base+160, Y4, 160) \
	INT8_MADD8(base+192, Y2, 192) \
	INT8_MADD8(base+224, Y7, 224) \
	VPMADDWD wordOnes<>(SB), Y14, Y14 \
	VPMADDWD wordSixteens<>(SB), Y3, Y3 \
	VPADDD   Y3, Y14, Y14 \
	INT8_SCALE8(base, acc)

// func int8GEMMx8(codes, scales *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)
TEXT ·int8GEMMx8(SB), NOSPLIT, $256-72
	INT8_GEMM8(INT8_SPLIT8, INT8_TOKEN8_MADD)
