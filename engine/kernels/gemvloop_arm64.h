// The body of every quantized GEMV kernel (included right after its TEXT
// line, whose Go declaration is
//
//	func(w *byte, stride, n, rows int, qs *int8, d, s *float32, out *float32)
//
// and registers in neon_arm64.h). It computes rows in fours (rows is a
// multiple of 4), and each row four groups at a time, then one at a time:
//
//	for r := 0; r < rows; r += 4 {
//		acc[0..4) = 0 (four lanes each)
//		for g := 0; g+4 <= G; g += 4 { GEMV_ACTS4; for each row i: GEMV_ROW4 }
//		for g := G &^ 3; g < G; g++  { GEMV_ACTS1; for each row i: GEMV_ROW1 }
//		out[r+i] = Σ lanes of acc[i]
//	}
//
// The including file defines one of GEMV_INT2, GEMV_INT4, GEMV_INT2X
// (expanded Int2 rows, see expandInt2Row) or GEMV_INT8 to pick the format,
// and the integer products of its variant (SDOT or SMULL):
//
//	DOT4G          V16 = [g..g+3] sums of the byte weights (V8, V9),
//	               (V10, V11), (V16, V17), (V18, V19), each at most 15,
//	               times the activations V0-V7
//	DOT1G          V16 = [g, 0, 0, 0] sum of (V8, V9) times (V0, V1)
//	INT2_ISUM4     V16 = [g..g+3] sums of INT2_PLANES times INT2_ACTS4
//	INT8_ISUM4(Rc) V16 = [g..g+3] sums of Σ (q-128)·a of the Int8 codes at Rc
//	INT8_ISUM1(Rc) V16 = [g, 0, 0, 0] the same for one group
//
// From these the format's pieces of the loop are:
//
//	GEMV_CODEBYTES          sets R22 to the code bytes of a row of R2 weights
//	GEMV_SETUP              loads the kernel's constants (V20, V21)
//	GEMV_ACTS4, GEMV_ACTS1  load the activations of four groups / one group
//	GEMV_ROW4(Rc, Rs, ACC)  adds the row's four group terms to ACC's lanes
//	GEMV_ROW1(Rc, Rs, ACC)  adds the row's one group term to ACC's lane 0
//
// where Rc walks the row's codes and Rs its scale codes.

#ifdef GEMV_INT2
#define GEMV_CODEBYTES LSR $2, R2, R22
#define GEMV_SETUP INT2_SETUP
#define GEMV_ACTS4 INT2_ACTS4
#define GEMV_ACTS1 ACTS1
#define GEMV_ROW4(Rc, Rs, ACC) \
	INT2_PLANES(Rc) \
	INT2_ISUM4 \
	FINISH_OFF4(Rs, 28, ACC)
#define GEMV_ROW1(Rc, Rs, ACC) \
	INT2_PLANES1(Rc) \
	DOT1G \
	FINISH_OFF1(Rs, 28, ACC)
#endif

#ifdef GEMV_INT4
#define GEMV_CODEBYTES LSR $1, R2, R22
#define GEMV_SETUP INT4_SETUP
#define GEMV_ACTS4 ACTS4
#define GEMV_ACTS1 ACTS1
#define GEMV_ROW4(Rc, Rs, ACC) \
	INT4_UNPACK4(Rc) \
	DOT4G \
	FINISH_OFF4(Rs, 26, ACC)
#define GEMV_ROW1(Rc, Rs, ACC) \
	INT4_UNPACK1(Rc) \
	DOT1G \
	FINISH_OFF1(Rs, 26, ACC)
#endif

#ifdef GEMV_INT2X
#define GEMV_CODEBYTES MOVD R2, R22
#define GEMV_SETUP OFFSET_SETUP
#define GEMV_ACTS4 ACTS4
#define GEMV_ACTS1 ACTS1
#define GEMV_ROW4(Rc, Rs, ACC) \
	LOAD4G(Rc) \
	DOT4G \
	FINISH_OFF4(Rs, 28, ACC)
#define GEMV_ROW1(Rc, Rs, ACC) \
	LOAD1G(Rc) \
	DOT1G \
	FINISH_OFF1(Rs, 28, ACC)
#endif

// Int8: Σ q·a = Σ (q-128)·a + 128·Σ a, both sums exact; V26 holds 128·Σ a
// of the current groups, computed once for the four rows.
#ifdef GEMV_INT8
#define GEMV_CODEBYTES MOVD R2, R22
#define GEMV_SETUP INT8_SETUP
#define GEMV_ACTS4 \
	ACTS4 \
	INT8_ASUM4
#define GEMV_ACTS1 \
	ACTS1 \
	INT8_ASUM1
#define GEMV_ROW4(Rc, Rs, ACC) \
	INT8_ISUM4(Rc) \
	VADD	V26.S4, V16.S4, V16.S4 \
	FINISH_Q8_4(Rs, ACC)
#define GEMV_ROW1(Rc, Rs, ACC) \
	INT8_ISUM1(Rc) \
	VADD	V26.S4, V16.S4, V16.S4 \
	FINISH_Q8_1(Rs, ACC)
#endif

	MOVD	w+0(FP), R0
	MOVD	stride+8(FP), R1
	MOVD	n+16(FP), R2
	MOVD	rows+24(FP), R3
	MOVD	out+56(FP), R7
	LSR	$5, R2, R21
	GEMV_CODEBYTES
	GEMV_SETUP
	VMOVQ	$0xff01ffffff00ffff, $0xff03ffffff02ffff, V22
	VMOVQ	$0x3380000033800000, $0x3380000033800000, V23

rows4:
	MOVD	R0, R8
	ADD	R1, R8, R9
	ADD	R1, R9, R10
	ADD	R1, R10, R11
	ADD	R22, R8, R12
	ADD	R22, R9, R13
	ADD	R22, R10, R14
	ADD	R22, R11, R15
	MOVD	qs+32(FP), R16
	MOVD	d+40(FP), R17
	MOVD	s+48(FP), R19
	VEOR	V28.B16, V28.B16, V28.B16
	VEOR	V29.B16, V29.B16, V29.B16
	VEOR	V30.B16, V30.B16, V30.B16
	VEOR	V31.B16, V31.B16, V31.B16
	LSR	$2, R21, R20
	CBZ	R20, tail

groups4:
	GEMV_ACTS4
	VLD1.P	16(R17), [V24.S4]
	VLD1.P	16(R19), [V25.S4]
	GEMV_ROW4(R8, R12, V28.S4)
	GEMV_ROW4(R9, R13, V29.S4)
	GEMV_ROW4(R10, R14, V30.S4)
	GEMV_ROW4(R11, R15, V31.S4)
	SUB	$1, R20, R20
	CBNZ	R20, groups4

tail:
	AND	$3, R21, R20
	CBZ	R20, store

groups1:
	GEMV_ACTS1
	FMOVS.P	4(R17), F24
	FMOVS.P	4(R19), F25
	GEMV_ROW1(R8, R12, V28.S4)
	GEMV_ROW1(R9, R13, V29.S4)
	GEMV_ROW1(R10, R14, V30.S4)
	GEMV_ROW1(R11, R15, V31.S4)
	SUB	$1, R20, R20
	CBNZ	R20, groups1

store:
	FADDP4S(28, 28, 29)
	FADDP4S(30, 30, 31)
	FADDP4S(28, 28, 30)
	VST1.P	[V28.S4], 16(R7)
	ADD	R1<<2, R0, R0
	SUBS	$4, R3, R3
	BNE	rows4
	RET

#undef GEMV_CODEBYTES
#undef GEMV_SETUP
#undef GEMV_ACTS4
#undef GEMV_ACTS1
#undef GEMV_ROW4
#undef GEMV_ROW1
