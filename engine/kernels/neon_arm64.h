// Macros shared by the arm64 NEON kernels (gemv_neon_arm64.s,
// gemv_neondot_arm64.s, neon_arm64.s).

// Instructions the Go assembler does not know, encoded by hand. d, n and m
// are vector register numbers (Vd, Vn, Vm); each line gives the instruction
// in ARM syntax. The kernels' tests run every one of them.

// sdot vd.4s, vn.16b, vm.16b (ARMv8.2 dotprod)
#define SDOT(d, n, m) WORD $(0x4e809400 | (m)<<16 | (n)<<5 | (d))
// smull vd.8h, vn.8b, vm.8b
#define SMULL(d, n, m) WORD $(0x0e20c000 | (m)<<16 | (n)<<5 | (d))
// smull2 vd.8h, vn.16b, vm.16b
#define SMULL2(d, n, m) WORD $(0x4e20c000 | (m)<<16 | (n)<<5 | (d))
// smlal vd.8h, vn.8b, vm.8b
#define SMLAL(d, n, m) WORD $(0x0e208000 | (m)<<16 | (n)<<5 | (d))
// smlal2 vd.8h, vn.16b, vm.16b
#define SMLAL2(d, n, m) WORD $(0x4e208000 | (m)<<16 | (n)<<5 | (d))
// saddlp vd.8h, vn.16b
#define SADDLP8H(d, n) WORD $(0x4e202800 | (n)<<5 | (d))
// sadalp vd.8h, vn.16b
#define SADALP8H(d, n) WORD $(0x4e206800 | (n)<<5 | (d))
// saddlp vd.4s, vn.8h
#define SADDLP4S(d, n) WORD $(0x4e602800 | (n)<<5 | (d))
// sadalp vd.4s, vn.8h
#define SADALP4S(d, n) WORD $(0x4e606800 | (n)<<5 | (d))
// scvtf vd.4s, vn.4s
#define SCVTF4S(d, n) WORD $(0x4e21d800 | (n)<<5 | (d))
// scvtf vd.4s, vn.4s, #fbits (fixed point: the result is divided by 2^fbits)
#define SCVTFX4S(d, n, fbits) WORD $(0x4f00e400 | (64-(fbits))<<16 | (n)<<5 | (d))
// fmul vd.4s, vn.4s, vm.4s
#define FMUL4S(d, n, m) WORD $(0x6e20dc00 | (m)<<16 | (n)<<5 | (d))
// fadd vd.4s, vn.4s, vm.4s
#define FADD4S(d, n, m) WORD $(0x4e20d400 | (m)<<16 | (n)<<5 | (d))
// faddp vd.4s, vn.4s, vm.4s
#define FADDP4S(d, n, m) WORD $(0x6e20d400 | (m)<<16 | (n)<<5 | (d))

// Registers of the quantized GEMV kernels (see gemvloop_arm64.h):
//
//	V0-V7    the activations of the current four groups (or one group: V0, V1)
//	V8-V19   per-row scratch; a row's integer group sums end in V16
//	V20      byte mask (0x03, 0x0f or 0x80)
//	V21      TBL index moving 4 offset bytes to the top byte of 4 lanes
//	         (Int8: the constant offset -128.0 in 4 lanes)
//	V22      TBL index moving 4 scale bytes to byte 2 of 4 lanes
//	V23      the scale exponent bias 103<<23 in 4 lanes
//	V24, V25 D[g..g+3] and S[g..g+3] of the activations
//	V26      Int8: 128·Σ Qs per group
//	V28-V31  the four rows' float accumulators, one lane per group phase
//
//	R8-R11   the four rows' code pointers, R12-R15 their scale pointers
//	         (offsets are R21 = G bytes further), R16, R17, R19 Qs, D, S
//	R24, R25 scratch

// SCALE_ACC adds d·V16 to ACC, d decoded from the scale codes in V18's low
// bytes: a ScaleCode's float32 bits are code<<20 + 103<<23.
#define SCALE_ACC(ACC) \
	VTBL	V22.B16, [V18.B16], V18.B16 \
	VSHL	$4, V18.S4, V18.S4 \
	VADD	V23.S4, V18.S4, V18.S4 \
	VFMLA	V18.S4, V16.S4, ACC

// FINISH_OFF turns the group sums in V16 into D·isum + o·S, o = m/2^(fbits-24)
// from the offset codes m in V17's low bytes, and adds it times d to ACC.
#define FINISH_OFF(FBITS, ACC) \
	SCVTF4S(16, 16) \
	FMUL4S(16, 16, 24) \
	VTBL	V21.B16, [V17.B16], V17.B16 \
	SCVTFX4S(17, 17, FBITS) \
	VFMLA	V25.S4, V17.S4, V16.S4 \
	SCALE_ACC(ACC)

// FINISH_OFF4 / FINISH_OFF1 load the scale and offset codes of four groups
// (one group) of the row whose scales are at Rs, then FINISH_OFF.
#define FINISH_OFF4(Rs, FBITS, ACC) \
	FMOVS	(Rs)(R21), F17 \
	FMOVS.P	4(Rs), F18 \
	FINISH_OFF(FBITS, ACC)

#define FINISH_OFF1(Rs, FBITS, ACC) \
	MOVBU	(Rs)(R21), R24 \
	MOVBU.P	1(Rs), R25 \
	FMOVS	R24, F17 \
	FMOVS	R25, F18 \
	FINISH_OFF(FBITS, ACC)

// FINISH_Q8 is FINISH_OFF for Int8, whose offset is the constant -128 (V21).
#define FINISH_Q8(ACC) \
	SCVTF4S(16, 16) \
	FMUL4S(16, 16, 24) \
	VFMLA	V25.S4, V21.S4, V16.S4 \
	SCALE_ACC(ACC)

#define FINISH_Q8_4(Rs, ACC) \
	FMOVS.P	4(Rs), F18 \
	FINISH_Q8(ACC)

#define FINISH_Q8_1(Rs, ACC) \
	MOVBU.P	1(Rs), R25 \
	FMOVS	R25, F18 \
	FINISH_Q8(ACC)

// The constants of the offset formats: byte masks and the offset TBL index.
#define INT2_SETUP \
	VMOVI	$3, V20.B16 \
	OFFSET_SETUP

#define INT4_SETUP \
	VMOVI	$15, V20.B16 \
	OFFSET_SETUP

#define OFFSET_SETUP \
	VMOVQ	$0x01ffffff00ffffff, $0x03ffffff02ffffff, V21

// INT8_SETUP: the mask that turns a code q into the signed q-128, and -128.0.
#define INT8_SETUP \
	VMOVI	$128, V20.B16 \
	VMOVQ	$0xc3000000c3000000, $0xc3000000c3000000, V21

// ACTS4 / ACTS1 load the activations of four groups (one group) in order.
#define ACTS4 \
	VLD1.P	64(R16), [V0.B16, V1.B16, V2.B16, V3.B16] \
	VLD1.P	64(R16), [V4.B16, V5.B16, V6.B16, V7.B16]

#define ACTS1 \
	VLD1.P	32(R16), [V0.B16, V1.B16]

// INT2_ACTS4 loads the activations of groups g..g+3 rearranged to match the
// Int2 code bytes: V0 = a_g[0..8) a_g+1[0..8), V1 = a_g[8..16) a_g+1[8..16),
// V2, V3 the same for [16..24) and [24..32); V4-V7 for groups g+2, g+3.
#define INT2_ACTS4 \
	VLD1.P	64(R16), [V8.B16, V9.B16, V10.B16, V11.B16] \
	VZIP1	V10.D2, V8.D2, V0.D2 \
	VZIP2	V10.D2, V8.D2, V1.D2 \
	VZIP1	V11.D2, V9.D2, V2.D2 \
	VZIP2	V11.D2, V9.D2, V3.D2 \
	VLD1.P	64(R16), [V8.B16, V9.B16, V10.B16, V11.B16] \
	VZIP1	V10.D2, V8.D2, V4.D2 \
	VZIP2	V10.D2, V8.D2, V5.D2 \
	VZIP1	V11.D2, V9.D2, V6.D2 \
	VZIP2	V11.D2, V9.D2, V7.D2

// INT2_PLANES loads the 32 code bytes of four Int2 groups and splits each of
// its two registers into its four 2-bit planes: V10-V13 from groups g, g+1
// (plane k of byte j is weight j+8k), V14, V15, V18, V19 from g+2, g+3.
#define INT2_PLANES(Rc) \
	VLD1.P	32(Rc), [V8.B16, V9.B16] \
	VAND	V20.B16, V8.B16, V10.B16 \
	VUSHR	$2, V8.B16, V11.B16 \
	VUSHR	$4, V8.B16, V12.B16 \
	VUSHR	$6, V8.B16, V13.B16 \
	VAND	V20.B16, V11.B16, V11.B16 \
	VAND	V20.B16, V12.B16, V12.B16 \
	VAND	V20.B16, V9.B16, V14.B16 \
	VUSHR	$2, V9.B16, V15.B16 \
	VUSHR	$4, V9.B16, V18.B16 \
	VUSHR	$6, V9.B16, V19.B16 \
	VAND	V20.B16, V15.B16, V15.B16 \
	VAND	V20.B16, V18.B16, V18.B16

// INT2_PLANES1 loads the 8 code bytes of one Int2 group and leaves its 32
// weights in order in V8 (weights 0..15) and V9 (16..31).
#define INT2_PLANES1(Rc) \
	FMOVD.P	8(Rc), F8 \
	VUSHR	$2, V8.B16, V9.B16 \
	VUSHR	$4, V8.B16, V10.B16 \
	VUSHR	$6, V8.B16, V11.B16 \
	VZIP1	V9.D2, V8.D2, V8.D2 \
	VZIP1	V11.D2, V10.D2, V9.D2 \
	VAND	V20.B16, V8.B16, V8.B16 \
	VAND	V20.B16, V9.B16, V9.B16

// INT4_UNPACK4 loads the 64 code bytes of four Int4 groups and leaves their
// weights in order in (V8, V9), (V10, V11), (V16, V17), (V18, V19).
#define INT4_UNPACK4(Rc) \
	VLD1.P	64(Rc), [V12.B16, V13.B16, V14.B16, V15.B16] \
	VAND	V20.B16, V12.B16, V8.B16 \
	VUSHR	$4, V12.B16, V9.B16 \
	VAND	V20.B16, V13.B16, V10.B16 \
	VUSHR	$4, V13.B16, V11.B16 \
	VAND	V20.B16, V14.B16, V16.B16 \
	VUSHR	$4, V14.B16, V17.B16 \
	VAND	V20.B16, V15.B16, V18.B16 \
	VUSHR	$4, V15.B16, V19.B16

// INT4_UNPACK1 does the same for one group, into V8, V9.
#define INT4_UNPACK1(Rc) \
	VLD1.P	16(Rc), [V12.B16] \
	VAND	V20.B16, V12.B16, V8.B16 \
	VUSHR	$4, V12.B16, V9.B16

// LOAD4G / LOAD1G load byte weights stored in order (Int8 codes, expanded
// Int2 weights) into the registers INT4_UNPACK4 / INT4_UNPACK1 fill.
#define LOAD4G(Rc) \
	VLD1.P	64(Rc), [V8.B16, V9.B16, V10.B16, V11.B16] \
	VLD1.P	64(Rc), [V16.B16, V17.B16, V18.B16, V19.B16]

#define LOAD1G(Rc) \
	VLD1.P	32(Rc), [V8.B16, V9.B16]

// FLIP4 / FLIP2 turn the Int8 codes q in the given registers into the
// signed bytes q-128.
#define FLIP4(a, b, c, d) \
	FLIP2(a, b) \
	FLIP2(c, d)

#define FLIP2(a, b) \
	VEOR	V20.B16, a.B16, a.B16 \
	VEOR	V20.B16, b.B16, b.B16

// INT8_ASUM4 / INT8_ASUM1 set V26 to 128·Σ a of each of the four groups in
// V0-V7 (of the group in V0, V1 in lane 0, lanes 1..3 zero): pairwise sums
// in 16-bit lanes (at most 4·128 each, then 2048 after the ADDPs), widened.
#define INT8_ASUM4 \
	SADDLP8H(12, 0) \
	SADDLP8H(13, 2) \
	SADDLP8H(14, 4) \
	SADDLP8H(15, 6) \
	SADALP8H(12, 1) \
	SADALP8H(13, 3) \
	SADALP8H(14, 5) \
	SADALP8H(15, 7) \
	VADDP	V13.H8, V12.H8, V12.H8 \
	VADDP	V15.H8, V14.H8, V14.H8 \
	VADDP	V14.H8, V12.H8, V12.H8 \
	SADDLP4S(26, 12) \
	VSHL	$7, V26.S4, V26.S4

#define INT8_ASUM1 \
	SADDLP8H(26, 0) \
	SADALP8H(26, 1) \
	SADDLP4S(26, 26) \
	VADDV	V26.S4, V26 \
	VSHL	$7, V26.S4, V26.S4
