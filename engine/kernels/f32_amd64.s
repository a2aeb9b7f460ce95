//go:build amd64 && !purego

#include "textflag.h"
#include "kernels_amd64.h"

// F32 GEMV: tiles of 4 rows (at SI, R13, R14, R10), then single rows. BX
// is the column byte offset, R9 the columns left, R8 x, R12 out, R11 the
// rows left, DX the stride.

// F32_ARGS loads the arguments shared by the F32 kernels.
#define F32_ARGS \
	MOVQ w+0(FP), SI \
	MOVQ stride+8(FP), DX \
	MOVQ rows+16(FP), R11 \
	MOVQ x+32(FP), R8 \
	MOVQ out+40(FP), R12

// F32_ROWS points R13, R14, R10 at rows 1..3 of a tile and BX, R9 at the
// first column.
#define F32_ROWS \
	LEAQ (SI)(DX*1), R13 \
	LEAQ (SI)(DX*2), R14 \
	LEAQ (R13)(DX*2), R10 \
	XORQ BX, BX \
	MOVQ n+24(FP), R9

// ZERO8 zeroes 8 vector registers with the instruction op.
#define ZERO8(op, a, b, c, d, e, f, g, h) \
	op a, a, a \
	op b, b, b \
	op c, c, c \
	op d, d, d \
	op e, e, e \
	op f, f, f \
	op g, g, g \
	op h, h, h

// F32ROWS16 multiplies 16 activations (in x, masked by k) with the same
// columns of the tile's rows into accumulators a0..a3.
#define F32ROWS16(off, x, k, a0, a1, a2, a3) \
	VFMADD231PS off(SI)(BX*1), x, k, a0 \
	VFMADD231PS off(R13)(BX*1), x, k, a1 \
	VFMADD231PS off(R14)(BX*1), x, k, a2 \
	VFMADD231PS off(R10)(BX*1), x, k, a3

// F32_MASK16 sets K1 to the first R9 < 16 lanes. Clobbers AX, CX.
#define F32_MASK16 \
	MOVQ  R9, CX \
	MOVL  $1, AX \
	SHLL  CX, AX \
	DECL  AX \
	KMOVW AX, K1

// F32ROWS8 is F32ROWS16 for AVX2: 8 columns, no mask.
#define F32ROWS8(off, x, a0, a1, a2, a3) \
	VFMADD231PS off(SI)(BX*1), x, a0 \
	VFMADD231PS off(R13)(BX*1), x, a1 \
	VFMADD231PS off(R14)(BX*1), x, a2 \
	VFMADD231PS off(R10)(BX*1), x, a3

// F32_LAST8 loads the last R9 < 8 activations into Y8 and their VMASKMOVPS
// mask into Y10. Clobbers CX, DI.
#define F32_LAST8 \
	LEAQ       dwordMasks<>(SB), CX \
	MOVQ       R9, DI \
	SHLQ       $2, DI \
	NEGQ       DI \
	VMOVDQU    128(CX)(DI*1), Y10 \
	VMASKMOVPS (R8)(BX*1), Y10, Y8

// F32MASK8 adds the products of the last columns (F32_LAST8) of the row at
// r to a.
#define F32MASK8(r, a) \
	VMASKMOVPS  (r)(BX*1), Y10, Y11 \
	VFMADD231PS Y11, Y8, a

// SUMQ leaves the sum of the 4 qwords of Y0 in AX (the stream sums).
#define SUMQ \
	VEXTRACTI128 $1, Y0, X1 \
	VPADDQ       X1, X0, X0 \
	VPSHUFD      $0x4e, X0, X1 \
	VPADDQ       X1, X0, X0 \
	MOVQ         X0, AX

// func gemvF32x16(w *byte, stride, rows, n int, x *float32, out *float32)
//
// Z12..Z15 and Z16..Z19 hold two sums per row of a tile.
TEXT ·gemvF32x16(SB), NOSPLIT, $0-48
	F32_ARGS

tile4:
	CMPQ   R11, $4
	JB     rows1
	F32_ROWS
	ZERO8(VPXORD, Z12, Z13, Z14, Z15, Z16, Z17, Z18, Z19)
	KXNORW K1, K1, K1

cols32:
	CMPQ    R9, $32
	JB      cols16
	VMOVUPS (R8)(BX*1), Z0
	VMOVUPS 64(R8)(BX*1), Z1
	F32ROWS16(0, Z0, K1, Z12, Z13, Z14, Z15)
	F32ROWS16(64, Z1, K1, Z16, Z17, Z18, Z19)
	ADDQ    $128, BX
	SUBQ    $32, R9
	JMP     cols32

cols16:
	TESTQ R9, R9
	JZ    sum4
	CMPQ  R9, $16
	JAE   mask16
	F32_MASK16

mask16:
	VMOVUPS.Z (R8)(BX*1), K1, Z0
	F32ROWS16(0, Z0, K1, Z12, Z13, Z14, Z15)
	ADDQ      $64, BX
	SUBQ      $16, R9
	JA        cols16

sum4:
	VADDPS Z16, Z12, Z12
	VADDPS Z17, Z13, Z13
	VADDPS Z18, Z14, Z14
	VADDPS Z19, Z15, Z15
	REDUCE4_512((R12))
	ADDQ   $16, R12
	LEAQ   (SI)(DX*4), SI
	SUBQ   $4, R11
	JMP    tile4

rows1:
	TESTQ  R11, R11
	JZ     done
	VPXORD Z12, Z12, Z12
	XORQ   BX, BX
	MOVQ   n+24(FP), R9
	KXNORW K1, K1, K1

col1:
	CMPQ R9, $16
	JAE  mask1
	F32_MASK16

mask1:
	VMOVUPS.Z   (R8)(BX*1), K1, Z0
	VFMADD231PS (SI)(BX*1), Z0, K1, Z12
	ADDQ        $64, BX
	SUBQ        $16, R9
	JA          col1
	REDUCE1_512(Z12, Y12, X12, Y13, X13, (R12))
	ADDQ        $4, R12
	ADDQ        DX, SI
	DECQ        R11
	JMP         rows1

done:
	VZEROUPPER
	RET

// func gemvF32x8(w *byte, stride, rows, n int, x *float32, out *float32)
//
// Y0..Y3 and Y4..Y7 hold two sums per row of a tile.
TEXT ·gemvF32x8(SB), NOSPLIT, $0-48
	F32_ARGS

tile4:
	CMPQ R11, $4
	JB   rows1
	F32_ROWS
	ZERO8(VPXOR, Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7)

cols16:
	CMPQ    R9, $16
	JB      cols8
	VMOVUPS (R8)(BX*1), Y8
	VMOVUPS 32(R8)(BX*1), Y9
	F32ROWS8(0, Y8, Y0, Y1, Y2, Y3)
	F32ROWS8(32, Y9, Y4, Y5, Y6, Y7)
	ADDQ    $64, BX
	SUBQ    $16, R9
	JMP     cols16

cols8:
	CMPQ    R9, $8
	JB      tail4
	VMOVUPS (R8)(BX*1), Y8
	F32ROWS8(0, Y8, Y0, Y1, Y2, Y3)
	ADDQ    $32, BX
	SUBQ    $8, R9

tail4:
	TESTQ R9, R9
	JZ    sum4
	F32_LAST8
	F32MASK8(SI, Y0)
	F32MASK8(R13, Y1)
	F32MASK8(R14, Y2)
	F32MASK8(R10, Y3)

sum4:
	VADDPS       Y4, Y0, Y0
	VADDPS       Y5, Y1, Y1
	VADDPS       Y6, Y2, Y2
	VADDPS       Y7, Y3, Y3
	VHADDPS      Y1, Y0, Y0
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VADDPS       (R12), X0, X0
	VMOVUPS      X0, (R12)
	ADDQ         $16, R12
	LEAQ         (SI)(DX*4), SI
	SUBQ         $4, R11
	JMP          tile4

rows1:
	TESTQ R11, R11
	JZ    done
	VPXOR Y0, Y0, Y0
	XORQ  BX, BX
	MOVQ  n+24(FP), R9

col8:
	CMPQ        R9, $8
	JB          tail1
	VMOVUPS     (R8)(BX*1), Y8
	VFMADD231PS (SI)(BX*1), Y8, Y0
	ADDQ        $32, BX
	SUBQ        $8, R9
	JMP         col8

tail1:
	TESTQ R9, R9
	JZ    sum1
	F32_LAST8
	F32MASK8(SI, Y0)

sum1:
	REDUCE1_256(Y0, X0, X1, (R12))
	ADDQ DX, SI
	ADDQ $4, R12
	DECQ R11
	JMP  rows1

done:
	VZEROUPPER
	RET

// STREAMPF is how far ahead the stream sums request cache lines.
#define STREAMPF 2048

// func streamSumX16(b []byte) uint64
TEXT ·streamSumX16(SB), NOSPLIT, $0-32
	MOVQ   b_base+0(FP), SI
	MOVQ   b_len+8(FP), CX
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3

loop256:
	CMPQ       CX, $256
	JB         loop64
	PREFETCHT0 STREAMPF(SI)
	PREFETCHT0 STREAMPF+64(SI)
	PREFETCHT0 STREAMPF+128(SI)
	PREFETCHT0 STREAMPF+192(SI)
	VPADDQ     (SI), Z0, Z0
	VPADDQ     64(SI), Z1, Z1
	VPADDQ     128(SI), Z2, Z2
	VPADDQ     192(SI), Z3, Z3
	ADDQ       $256, SI
	SUBQ       $256, CX
	JMP        loop256

loop64:
	TESTQ  CX, CX
	JZ     sum
	VPADDQ (SI), Z0, Z0
	ADDQ   $64, SI
	SUBQ   $64, CX
	JMP    loop64

sum:
	VPADDQ        Z1, Z0, Z0
	VPADDQ        Z3, Z2, Z2
	VPADDQ        Z2, Z0, Z0
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDQ        Y1, Y0, Y0
	SUMQ
	MOVQ AX, ret+24(FP)
	VZEROUPPER
	RET

// func streamSumX8(b []byte) uint64
TEXT ·streamSumX8(SB), NOSPLIT, $0-32
	MOVQ  b_base+0(FP), SI
	MOVQ  b_len+8(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3

loop128:
	CMPQ       CX, $128
	JB         loop64
	PREFETCHT0 STREAMPF(SI)
	PREFETCHT0 STREAMPF+64(SI)
	VPADDQ     (SI), Y0, Y0
	VPADDQ     32(SI), Y1, Y1
	VPADDQ     64(SI), Y2, Y2
	VPADDQ     96(SI), Y3, Y3
	ADDQ       $128, SI
	SUBQ       $128, CX
	JMP        loop128

loop64:
	TESTQ  CX, CX
	JZ     sum
	VPADDQ (SI), Y0, Y0
	VPADDQ 32(SI), Y1, Y1
	ADDQ   $64, SI
	SUBQ   $64, CX
	JMP    loop64

sum:
	VPADDQ       Y1, Y0, Y0
	VPADDQ       Y3, Y2, Y2
	VPADDQ       Y2, Y0, Y0
	SUMQ
	MOVQ AX, ret+24(FP)
	VZEROUPPER
	RET
