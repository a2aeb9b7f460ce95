//go:build amd64 && !purego

#include "textflag.h"
#include "kernels_amd64.h"

// F32 GEMM micro kernels (see gemmF32x16 in gemmf32_amd64.go). A group is
// 6 vectors: R8 walks vectors 0..2 (at R8, R8+DX, R8+2·DX) and R9 vectors
// 3..5, DX the vector stride in bytes; SI walks the panel (256 bytes per
// column), CX counts columns. DI and R10 point at the group's first vector
// and output row, R11 is the output stride in bytes, R12 counts groups.

// GEMM_ARGS loads the arguments shared by both kernels and leaves the
// flags of the group count.
#define GEMM_ARGS \
	MOVQ  x+16(FP), DI \
	MOVQ  ldx+24(FP), DX \
	SHLQ  $2, DX \
	MOVQ  c+40(FP), R10 \
	MOVQ  ldc+48(FP), R11 \
	SHLQ  $2, R11 \
	MOVQ  groups+32(FP), R12 \
	TESTQ R12, R12

// GEMM_XROWS points R8 and R9 at the group's vectors 0 and 3.
#define GEMM_XROWS \
	MOVQ DI, R8 \
	LEAQ (DI)(DX*2), R9 \
	ADDQ DX, R9

// GEMM_NEXT moves DI and R10 to the next group and counts it off R12,
// leaving the flags for a JNZ to the next group.
#define GEMM_NEXT \
	LEAQ (DI)(DX*4), DI \
	LEAQ (DI)(DX*2), DI \
	LEAQ (R10)(R11*4), R10 \
	LEAQ (R10)(R11*2), R10 \
	DECQ R12

// GEMM_PREFETCH requests the first 512 bytes (the columns of a full
// panel) of each of the next group's vectors, which the hardware
// prefetchers do not foresee: a group reads 6 short runs, a row apart.
// Clobbers R13.
#define GEMM_PREFETCH \
	LEAQ (DI)(DX*4), R13 \
	LEAQ (R13)(DX*2), R13 \
	PREFETCH8(R13) \
	ADDQ DX, R13 \
	PREFETCH8(R13) \
	ADDQ DX, R13 \
	PREFETCH8(R13) \
	ADDQ DX, R13 \
	PREFETCH8(R13) \
	ADDQ DX, R13 \
	PREFETCH8(R13) \
	ADDQ DX, R13 \
	PREFETCH8(R13)

// GEMM_COLS(step) runs step over the kc panel columns, 4 at a time
// (step(woff, xoff): the column at woff(SI), the vectors' values at xoff),
// moving SI, R8 and R9 along. Clobbers CX.
#define GEMM_COLS(step) \
	MOVQ kc+8(FP), CX \
	SHRQ $2, CX \
	JZ   rest \
cols4: \
	step(0, 0) \
	step(256, 4) \
	step(512, 8) \
	step(768, 12) \
	ADDQ $1024, SI \
	ADDQ $16, R8 \
	ADDQ $16, R9 \
	DECQ CX \
	JNZ  cols4 \
rest: \
	MOVQ kc+8(FP), CX \
	ANDQ $3, CX \
	JZ   store \
col1: \
	step(0, 0) \
	ADDQ $256, SI \
	ADDQ $4, R8 \
	ADDQ $4, R9 \
	DECQ CX \
	JNZ  col1

// MULADD16(b, a0, a1, a2, a3) adds the products of the panel column in
// Z24..Z27 and the broadcast value b to one vector's sums a0..a3: a
// rounded multiply, then a rounded add (no fused multiply-add, so that the
// sums are the generic kernel's), the products in Z29..Z31.
#define MULADD16(b, a0, a1, a2, a3) \
	VMULPS Z24, b, Z29 \
	VMULPS Z25, b, Z30 \
	VMULPS Z26, b, Z31 \
	VADDPS Z29, a0, a0 \
	VMULPS Z27, b, Z29 \
	VADDPS Z30, a1, a1 \
	VADDPS Z31, a2, a2 \
	VADDPS Z29, a3, a3

// STEP16(woff, xoff) multiplies the panel column at woff(SI) with the
// values at xoff of the 6 vectors into Z0..Z23 (vector t in Z4t..Z4t+3).
#define STEP16(woff, xoff) \
	VMOVUPS      woff(SI), Z24 \
	VMOVUPS      woff+64(SI), Z25 \
	VMOVUPS      woff+128(SI), Z26 \
	VMOVUPS      woff+192(SI), Z27 \
	VBROADCASTSS xoff(R8), Z28 \
	MULADD16(Z28, Z0, Z1, Z2, Z3) \
	VBROADCASTSS xoff(R8)(DX*1), Z28 \
	MULADD16(Z28, Z4, Z5, Z6, Z7) \
	VBROADCASTSS xoff(R8)(DX*2), Z28 \
	MULADD16(Z28, Z8, Z9, Z10, Z11) \
	VBROADCASTSS xoff(R9), Z28 \
	MULADD16(Z28, Z12, Z13, Z14, Z15) \
	VBROADCASTSS xoff(R9)(DX*1), Z28 \
	MULADD16(Z28, Z16, Z17, Z18, Z19) \
	VBROADCASTSS xoff(R9)(DX*2), Z28 \
	MULADD16(Z28, Z20, Z21, Z22, Z23)

// ROW16(op, a0, a1, a2, a3) moves one vector's 64 outputs at AX to or from
// a0..a3 (op: LOAD16 or STORE16), then moves AX to the next vector's.
#define ROW16(op, a0, a1, a2, a3) \
	op(0, a0) \
	op(64, a1) \
	op(128, a2) \
	op(192, a3) \
	ADDQ R11, AX

#define LOAD16(off, a) VMOVUPS off(AX), a
#define STORE16(off, a) VMOVUPS a, off(AX)

// ROWS16(op) moves all 6 vectors' outputs from R10 on.
#define ROWS16(op) \
	MOVQ R10, AX \
	ROW16(op, Z0, Z1, Z2, Z3) \
	ROW16(op, Z4, Z5, Z6, Z7) \
	ROW16(op, Z8, Z9, Z10, Z11) \
	ROW16(op, Z12, Z13, Z14, Z15) \
	ROW16(op, Z16, Z17, Z18, Z19) \
	ROW16(op, Z20, Z21, Z22, Z23)

#define ZERO4(a, b, c, d) \
	VPXORD a, a, a \
	VPXORD b, b, b \
	VPXORD c, c, c \
	VPXORD d, d, d

// func gemmF32x16(panel *float32, kc int, x *float32, ldx, groups int, c *float32, ldc, acc int)
TEXT ·gemmF32x16(SB), NOSPLIT, $0-64
	GEMM_ARGS
	JZ done

group:
	CMPQ acc+56(FP), $0
	JNE  load
	ZERO4(Z0, Z1, Z2, Z3)
	ZERO4(Z4, Z5, Z6, Z7)
	ZERO4(Z8, Z9, Z10, Z11)
	ZERO4(Z12, Z13, Z14, Z15)
	ZERO4(Z16, Z17, Z18, Z19)
	ZERO4(Z20, Z21, Z22, Z23)
	JMP  cols

load:
	ROWS16(LOAD16)

cols:
	MOVQ panel+0(FP), SI
	GEMM_XROWS
	GEMM_PREFETCH
	GEMM_COLS(STEP16)

store:
	ROWS16(STORE16)
	GEMM_NEXT
	JNZ group

done:
	VZEROUPPER
	RET

// MULADD8(b, a0, a1) adds the products of the 16 panel values in Y12,
// Y13 and the broadcast value b to one vector's sums a0, a1 (rounded
// multiplies and adds, as MULADD16), the products in Y15.
#define MULADD8(b, a0, a1) \
	VMULPS Y12, b, Y15 \
	VADDPS Y15, a0, a0 \
	VMULPS Y13, b, Y15 \
	VADDPS Y15, a1, a1

// STEP8(woff, xoff) multiplies 16 values of the panel column at woff(SI)
// with the values at xoff of the 6 vectors into Y0..Y11 (vector t in Y2t,
// Y2t+1).
#define STEP8(woff, xoff) \
	VMOVUPS      woff(SI), Y12 \
	VMOVUPS      woff+32(SI), Y13 \
	VBROADCASTSS xoff(R8), Y14 \
	MULADD8(Y14, Y0, Y1) \
	VBROADCASTSS xoff(R8)(DX*1), Y14 \
	MULADD8(Y14, Y2, Y3) \
	VBROADCASTSS xoff(R8)(DX*2), Y14 \
	MULADD8(Y14, Y4, Y5) \
	VBROADCASTSS xoff(R9), Y14 \
	MULADD8(Y14, Y6, Y7) \
	VBROADCASTSS xoff(R9)(DX*1), Y14 \
	MULADD8(Y14, Y8, Y9) \
	VBROADCASTSS xoff(R9)(DX*2), Y14 \
	MULADD8(Y14, Y10, Y11)

// ROW8(op, a0, a1) moves one vector's 16 outputs at AX to or from a0, a1
// (op: LOAD8 or STORE8), then moves AX to the next vector's.
#define ROW8(op, a0, a1) \
	op(0, a0) \
	op(32, a1) \
	ADDQ R11, AX

#define LOAD8(off, a) VMOVUPS off(AX), a
#define STORE8(off, a) VMOVUPS a, off(AX)

// ROWS8(op) moves the 6 vectors' outputs of the strip at R10+BX.
#define ROWS8(op) \
	LEAQ (R10)(BX*1), AX \
	ROW8(op, Y0, Y1) \
	ROW8(op, Y2, Y3) \
	ROW8(op, Y4, Y5) \
	ROW8(op, Y6, Y7) \
	ROW8(op, Y8, Y9) \
	ROW8(op, Y10, Y11)

// func gemmF32x8(panel *float32, kc int, x *float32, ldx, groups int, c *float32, ldc, acc int)
//
// The 64 rows of the panel go in 4 strips of 16 (BX: the strip's byte
// offset in a panel column and in an output row).
TEXT ·gemmF32x8(SB), NOSPLIT, $0-64
	GEMM_ARGS
	JZ done

group:
	XORQ BX, BX
	GEMM_PREFETCH

strip:
	CMPQ  acc+56(FP), $0
	JNE   load
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	VPXOR Y8, Y8, Y8
	VPXOR Y9, Y9, Y9
	VPXOR Y10, Y10, Y10
	VPXOR Y11, Y11, Y11
	JMP   cols

load:
	ROWS8(LOAD8)

cols:
	MOVQ panel+0(FP), SI
	ADDQ BX, SI
	GEMM_XROWS
	GEMM_COLS(STEP8)

store:
	ROWS8(STORE8)
	ADDQ $64, BX
	CMPQ BX, $256
	JB   strip
	GEMM_NEXT
	JNZ  group

done:
	VZEROUPPER
	RET
