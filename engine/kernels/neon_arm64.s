//go:build arm64 && !purego

// The NEON kernels both arm64 Impls share: Int2 weight expansion (for GEMM),
// the F32 GEMV and the streaming-read sum. Go declarations and loops in
// impl_arm64.go.

#include "textflag.h"
#include "neon_arm64.h"

// func expandInt2(codes *byte, groups int, dst *byte)
TEXT ·expandInt2(SB), NOSPLIT, $0-24
	MOVD	codes+0(FP), R0
	MOVD	groups+8(FP), R1
	MOVD	dst+16(FP), R2
	VMOVI	$3, V20.B16
	LSR	$2, R1, R3
	CBZ	R3, tail

groups4:
	INT2_PLANES(R0)
	VZIP1	V11.D2, V10.D2, V0.D2
	VZIP1	V13.D2, V12.D2, V1.D2
	VZIP2	V11.D2, V10.D2, V2.D2
	VZIP2	V13.D2, V12.D2, V3.D2
	VZIP1	V15.D2, V14.D2, V4.D2
	VZIP1	V19.D2, V18.D2, V5.D2
	VZIP2	V15.D2, V14.D2, V6.D2
	VZIP2	V19.D2, V18.D2, V7.D2
	VST1.P	[V0.B16, V1.B16, V2.B16, V3.B16], 64(R2)
	VST1.P	[V4.B16, V5.B16, V6.B16, V7.B16], 64(R2)
	SUB	$1, R3, R3
	CBNZ	R3, groups4

tail:
	AND	$3, R1, R3
	CBZ	R3, done

groups1:
	INT2_PLANES1(R0)
	VST1.P	[V8.B16, V9.B16], 32(R2)
	SUB	$1, R3, R3
	CBNZ	R3, groups1

done:
	RET

// FMLA_ROW(w0, w1, w2, w3, a0, a1, a2, a3) adds the products of one row's
// 16 floats w0-w3 with the activations V0-V3 to the row's accumulators a0-a3.
#define FMLA_ROW(w0, w1, w2, w3, a0, a1, a2, a3) \
	VFMLA	w0.S4, V0.S4, a0.S4 \
	VFMLA	w1.S4, V1.S4, a1.S4 \
	VFMLA	w2.S4, V2.S4, a2.S4 \
	VFMLA	w3.S4, V3.S4, a3.S4

// SUM_ROW(a, b, c, d) leaves Va + Vb + Vc + Vd in Va.
#define SUM_ROW(a, b, c, d) \
	FADD4S(a, a, b) \
	FADD4S(c, c, d) \
	FADD4S(a, a, c)

// func gemvF32NEON(w *byte, stride, n, rows int, x *float32, out *float32)
TEXT ·gemvF32NEON(SB), NOSPLIT, $0-48
	MOVD	w+0(FP), R0
	MOVD	stride+8(FP), R1
	MOVD	n+16(FP), R2
	MOVD	rows+24(FP), R3
	MOVD	out+40(FP), R7

rows4:
	MOVD	R0, R8
	ADD	R1, R8, R9
	ADD	R1, R9, R10
	ADD	R1, R10, R11
	MOVD	x+32(FP), R16
	VEOR	V16.B16, V16.B16, V16.B16
	VEOR	V17.B16, V17.B16, V17.B16
	VEOR	V18.B16, V18.B16, V18.B16
	VEOR	V19.B16, V19.B16, V19.B16
	VEOR	V20.B16, V20.B16, V20.B16
	VEOR	V21.B16, V21.B16, V21.B16
	VEOR	V22.B16, V22.B16, V22.B16
	VEOR	V23.B16, V23.B16, V23.B16
	VEOR	V24.B16, V24.B16, V24.B16
	VEOR	V25.B16, V25.B16, V25.B16
	VEOR	V26.B16, V26.B16, V26.B16
	VEOR	V27.B16, V27.B16, V27.B16
	VEOR	V28.B16, V28.B16, V28.B16
	VEOR	V29.B16, V29.B16, V29.B16
	VEOR	V30.B16, V30.B16, V30.B16
	VEOR	V31.B16, V31.B16, V31.B16
	LSR	$4, R2, R20
	CBZ	R20, tail4

floats16:
	VLD1.P	64(R16), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD1.P	64(R8), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P	64(R9), [V8.S4, V9.S4, V10.S4, V11.S4]
	FMLA_ROW(V4, V5, V6, V7, V16, V17, V18, V19)
	FMLA_ROW(V8, V9, V10, V11, V20, V21, V22, V23)
	VLD1.P	64(R10), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P	64(R11), [V8.S4, V9.S4, V10.S4, V11.S4]
	FMLA_ROW(V4, V5, V6, V7, V24, V25, V26, V27)
	FMLA_ROW(V8, V9, V10, V11, V28, V29, V30, V31)
	SUB	$1, R20, R20
	CBNZ	R20, floats16

tail4:
	LSR	$2, R2, R20
	AND	$3, R20, R20
	CBZ	R20, tail1

floats4:
	VLD1.P	16(R16), [V0.S4]
	VLD1.P	16(R8), [V4.S4]
	VLD1.P	16(R9), [V5.S4]
	VLD1.P	16(R10), [V6.S4]
	VLD1.P	16(R11), [V7.S4]
	VFMLA	V4.S4, V0.S4, V16.S4
	VFMLA	V5.S4, V0.S4, V20.S4
	VFMLA	V6.S4, V0.S4, V24.S4
	VFMLA	V7.S4, V0.S4, V28.S4
	SUB	$1, R20, R20
	CBNZ	R20, floats4

tail1:
	AND	$3, R2, R20
	CBZ	R20, store

floats1:
	// Scalar loads zero lanes 1..3, whose products are then 0.
	FMOVS.P	4(R16), F0
	FMOVS.P	4(R8), F4
	FMOVS.P	4(R9), F5
	FMOVS.P	4(R10), F6
	FMOVS.P	4(R11), F7
	VFMLA	V4.S4, V0.S4, V17.S4
	VFMLA	V5.S4, V0.S4, V21.S4
	VFMLA	V6.S4, V0.S4, V25.S4
	VFMLA	V7.S4, V0.S4, V29.S4
	SUB	$1, R20, R20
	CBNZ	R20, floats1

store:
	SUM_ROW(16, 17, 18, 19)
	SUM_ROW(20, 21, 22, 23)
	SUM_ROW(24, 25, 26, 27)
	SUM_ROW(28, 29, 30, 31)
	FADDP4S(16, 16, 20)
	FADDP4S(24, 24, 28)
	FADDP4S(16, 16, 24)
	VST1.P	[V16.S4], 16(R7)
	ADD	R1<<2, R0, R0
	SUBS	$4, R3, R3
	BNE	rows4
	RET

// func streamSumNEON(b *byte, n int) uint64
TEXT ·streamSumNEON(SB), NOSPLIT, $0-24
	MOVD	b+0(FP), R0
	MOVD	n+8(FP), R1
	VEOR	V4.B16, V4.B16, V4.B16
	VEOR	V5.B16, V5.B16, V5.B16
	VEOR	V6.B16, V6.B16, V6.B16
	VEOR	V7.B16, V7.B16, V7.B16
	CBZ	R1, sum

bytes64:
	VLD1.P	64(R0), [V0.D2, V1.D2, V2.D2, V3.D2]
	VADD	V0.D2, V4.D2, V4.D2
	VADD	V1.D2, V5.D2, V5.D2
	VADD	V2.D2, V6.D2, V6.D2
	VADD	V3.D2, V7.D2, V7.D2
	SUBS	$64, R1, R1
	BNE	bytes64

sum:
	VADD	V5.D2, V4.D2, V4.D2
	VADD	V7.D2, V6.D2, V6.D2
	VADD	V6.D2, V4.D2, V4.D2
	VADDP	V4.D2, V4.D2, V4.D2
	VMOV	V4.D[0], R0
	MOVD	R0, ret+16(FP)
	RET
