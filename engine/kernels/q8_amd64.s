//go:build amd64 && !purego

#include "textflag.h"
#include "kernels_amd64.h"

// Activation transposes: a block of groups of 32 int8 activations (8
// dwords each, rows) becomes 8 vectors (columns) with one group per lane,
// followed by the groups' D and S·unit (layout: gemv_amd64.go).

// TRANSPOSE8 is in kernels_amd64.h.

// LOADPAIR16 loads the groups at order[off] and order[off+8] into the low
// and high 256 bits of z.
#define LOADPAIR16(off, z, y) \
	MOVQ         off(R8), R9 \
	MOVQ         off+64(R8), R10 \
	VMOVDQU      (SI)(R9*1), y \
	VINSERTI64X4 $1, (SI)(R10*1), z, z

// LOAD8 loads the group at order[off] into y.
#define LOAD8(off, z, y) \
	MOVQ    off(R8), R9 \
	VMOVDQU (SI)(R9*1), y

// ROWS8(LOAD) loads the 8 rows of a transpose, row j with order[j].
#define ROWS8(LOAD) \
	LOAD(0, Z0, Y0) \
	LOAD(8, Z1, Y1) \
	LOAD(16, Z2, Y2) \
	LOAD(24, Z3, Y3) \
	LOAD(32, Z4, Y4) \
	LOAD(40, Z5, Y5) \
	LOAD(48, Z6, Y6) \
	LOAD(56, Z7, Y7)

// func transposeQ8x16(dst *byte, qs *int8, d, s *float32, blocks int, unit float32, order *[16]int)
TEXT ·transposeQ8x16(SB), NOSPLIT, $0-56
	MOVQ         dst+0(FP), DI
	MOVQ         qs+8(FP), SI
	MOVQ         d+16(FP), BX
	MOVQ         s+24(FP), DX
	MOVQ         blocks+32(FP), CX
	VBROADCASTSS unit+40(FP), Z31
	MOVQ         order+48(FP), R8

block16:
	ROWS8(LOADPAIR16)
	TRANSPOSE8(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)

	// Column e: 128-bit lanes 0 and 2 of Z(e) and of Z(e+4) (e < 4), or
	// lanes 1 and 3 (column e+4); lane order 0..3, 8..11, 4..7, 12..15 of
	// the loads, which loadOrder16 accounts for.
	VSHUFI64X2 $0x88, Z4, Z0, Z16
	VSHUFI64X2 $0x88, Z5, Z1, Z17
	VSHUFI64X2 $0x88, Z6, Z2, Z18
	VSHUFI64X2 $0x88, Z7, Z3, Z19
	VSHUFI64X2 $0xdd, Z4, Z0, Z20
	VSHUFI64X2 $0xdd, Z5, Z1, Z21
	VSHUFI64X2 $0xdd, Z6, Z2, Z22
	VSHUFI64X2 $0xdd, Z7, Z3, Z23
	VMOVDQU32  Z16, 0(DI)
	VMOVDQU32  Z17, 64(DI)
	VMOVDQU32  Z18, 128(DI)
	VMOVDQU32  Z19, 192(DI)
	VMOVDQU32  Z20, 256(DI)
	VMOVDQU32  Z21, 320(DI)
	VMOVDQU32  Z22, 384(DI)
	VMOVDQU32  Z23, 448(DI)
	VMOVUPS    (BX), Z24
	VMOVUPS    Z24, 512(DI)
	VMULPS     (DX), Z31, Z25
	VMOVUPS    Z25, 576(DI)

	ADDQ $512, SI
	ADDQ $64, BX
	ADDQ $64, DX
	ADDQ $640, DI
	DECQ CX
	JNZ  block16
	VZEROUPPER
	RET

// func transposeQ8x8(dst *byte, qs *int8, d, s *float32, blocks int, unit float32, order *[16]int)
TEXT ·transposeQ8x8(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ qs+8(FP), SI
	MOVQ d+16(FP), BX
	MOVQ s+24(FP), DX
	MOVQ blocks+32(FP), CX
	MOVQ order+48(FP), R8

block8:
	ROWS8(LOAD8)
	TRANSPOSE8(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15)

	// Column e: the low (e < 4) or high 128 bits of Y(e%4) and Y(e%4+4).
	VPERM2I128 $0x20, Y4, Y0, Y8
	VPERM2I128 $0x20, Y5, Y1, Y9
	VPERM2I128 $0x20, Y6, Y2, Y10
	VPERM2I128 $0x20, Y7, Y3, Y11
	VMOVDQU    Y8, 0(DI)
	VMOVDQU    Y9, 32(DI)
	VMOVDQU    Y10, 64(DI)
	VMOVDQU    Y11, 96(DI)
	VPERM2I128 $0x31, Y4, Y0, Y8
	VPERM2I128 $0x31, Y5, Y1, Y9
	VPERM2I128 $0x31, Y6, Y2, Y10
	VPERM2I128 $0x31, Y7, Y3, Y11
	VMOVDQU    Y8, 128(DI)
	VMOVDQU    Y9, 160(DI)
	VMOVDQU    Y10, 192(DI)
	VMOVDQU    Y11, 224(DI)
	VMOVUPS    (BX), Y12
	VMOVUPS    Y12, 256(DI)
	VBROADCASTSS unit+40(FP), Y13
	VMULPS     (DX), Y13, Y13
	VMOVUPS    Y13, 288(DI)

	ADDQ $256, SI
	ADDQ $32, BX
	ADDQ $32, DX
	ADDQ $320, DI
	DECQ CX
	JNZ  block8
	VZEROUPPER
	RET
