//go:build arm64 && !purego

// The "neon" GEMV kernels: baseline ARMv8 NEON without dot product (Cortex-A53
// and other phones' little cores). Byte products are widened with SMULL /
// SMLAL into 16-bit lanes, summed only as far as 16 bits cannot overflow,
// then widened pairwise (SADDLP / SADALP) to 32 bits. The loop is
// gemvloop_arm64.h; Go declarations in impl_arm64.go.

#include "textflag.h"
#include "neon_arm64.h"

// DOT4G: weights at most 15, so a 16-bit lane sums 4 products (at most
// 4·15·128 = 7680 in size) and the two ADDPs 4 lanes (30720).
#define DOT4G \
	SMULL(12, 8, 0) \
	SMULL(13, 10, 2) \
	SMULL(14, 16, 4) \
	SMULL(15, 18, 6) \
	SMLAL2(12, 8, 0) \
	SMLAL2(13, 10, 2) \
	SMLAL2(14, 16, 4) \
	SMLAL2(15, 18, 6) \
	SMLAL(12, 9, 1) \
	SMLAL(13, 11, 3) \
	SMLAL(14, 17, 5) \
	SMLAL(15, 19, 7) \
	SMLAL2(12, 9, 1) \
	SMLAL2(13, 11, 3) \
	SMLAL2(14, 17, 5) \
	SMLAL2(15, 19, 7) \
	VADDP	V13.H8, V12.H8, V12.H8 \
	VADDP	V15.H8, V14.H8, V14.H8 \
	VADDP	V14.H8, V12.H8, V12.H8 \
	SADDLP4S(16, 12)

#define DOT1G \
	SMULL(12, 8, 0) \
	SMLAL2(12, 8, 0) \
	SMLAL(12, 9, 1) \
	SMLAL2(12, 9, 1) \
	SADDLP4S(16, 12) \
	VADDV	V16.S4, V16

// INT2_ISUM4: the low halves of a plane register are group g, the high
// halves g+1; a 16-bit lane sums 4 products (at most 1536 in size), the
// ADDPs 4 lanes.
#define INT2_ISUM4 \
	SMULL(8, 10, 0) \
	SMULL2(9, 10, 0) \
	SMULL(16, 14, 4) \
	SMULL2(17, 14, 4) \
	SMLAL(8, 11, 1) \
	SMLAL2(9, 11, 1) \
	SMLAL(16, 15, 5) \
	SMLAL2(17, 15, 5) \
	SMLAL(8, 12, 2) \
	SMLAL2(9, 12, 2) \
	SMLAL(16, 18, 6) \
	SMLAL2(17, 18, 6) \
	SMLAL(8, 13, 3) \
	SMLAL2(9, 13, 3) \
	SMLAL(16, 19, 7) \
	SMLAL2(17, 19, 7) \
	VADDP	V9.H8, V8.H8, V8.H8 \
	VADDP	V17.H8, V16.H8, V16.H8 \
	VADDP	V16.H8, V8.H8, V8.H8 \
	SADDLP4S(16, 8)

// Int8: a product (q-128)·a is up to 2^14 in size, so each is widened on
// its own. MUL8G(acc, w0, w1, a0, a1) sets the 4 lanes of Vacc to partial
// sums of one group's signed weights (w0, w1) times its activations (a0, a1).
#define MUL8G(acc, w0, w1, a0, a1) \
	SMULL(16, w0, a0) \
	SMULL2(17, w0, a0) \
	SMULL(18, w1, a1) \
	SMULL2(19, w1, a1) \
	SADDLP4S(acc, 16) \
	SADALP4S(acc, 17) \
	SADALP4S(acc, 18) \
	SADALP4S(acc, 19)

#define INT8_ISUM4(Rc) \
	VLD1.P	64(Rc), [V8.B16, V9.B16, V10.B16, V11.B16] \
	FLIP4(V8, V9, V10, V11) \
	MUL8G(12, 8, 9, 0, 1) \
	MUL8G(13, 10, 11, 2, 3) \
	VLD1.P	64(Rc), [V8.B16, V9.B16, V10.B16, V11.B16] \
	FLIP4(V8, V9, V10, V11) \
	MUL8G(14, 8, 9, 4, 5) \
	MUL8G(15, 10, 11, 6, 7) \
	VADDP	V13.S4, V12.S4, V12.S4 \
	VADDP	V15.S4, V14.S4, V14.S4 \
	VADDP	V14.S4, V12.S4, V16.S4

#define INT8_ISUM1(Rc) \
	LOAD1G(Rc) \
	FLIP2(V8, V9) \
	MUL8G(12, 8, 9, 0, 1) \
	VADDV	V12.S4, V16

#define GEMV_INT2
// func gemvInt2NEON(w *byte, stride, n, rows int, qs *int8, d, s *float32, out *float32)
TEXT ·gemvInt2NEON(SB), NOSPLIT, $0-64
#include "gemvloop_arm64.h"
#undef GEMV_INT2

#define GEMV_INT4
// func gemvInt4NEON(w *byte, stride, n, rows int, qs *int8, d, s *float32, out *float32)
TEXT ·gemvInt4NEON(SB), NOSPLIT, $0-64
#include "gemvloop_arm64.h"
#undef GEMV_INT4

#define GEMV_INT8
// func gemvInt8NEON(w *byte, stride, n, rows int, qs *int8, d, s *float32, out *float32)
TEXT ·gemvInt8NEON(SB), NOSPLIT, $0-64
#include "gemvloop_arm64.h"
#undef GEMV_INT8

#define GEMV_INT2X
// func gemvInt2xNEON(w *byte, stride, n, rows int, qs *int8, d, s *float32, out *float32)
TEXT ·gemvInt2xNEON(SB), NOSPLIT, $0-64
#include "gemvloop_arm64.h"
#undef GEMV_INT2X
