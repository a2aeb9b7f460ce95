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
	CMPQ  CX, $16
	JAE   full
	MOVL  $1, R10
	SHLL  CX, R10
	DECL  R10
	KMOVW R10, K1
	MOVQ  CX, R10
	SHLQ  $3, R10
	MOVQ  $-1, DI
	CMPQ  CX, $8
	JAE   upper
	SHLXQ R10, DI, DI
	NOTQ  DI
	KMOVQ DI, K3
	KXORQ K4, K4, K4
	JMP   full

upper:
	SUBQ  $64, R10
	SHLXQ R10, DI, DI
	NOTQ  DI
	KMOVQ DI, K4

full:
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
	VPMOVZXBD.Z (BX), K1, Z11
	VPSLLD      $20, Z11, Z11
	VPADDD.BCST scaleBias<>(SB), Z11, Z11
	VFMADD231PS (R9), Z11, K1, Z10
	VMULPS.Z    (R8), Z11, K1, Z11
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
