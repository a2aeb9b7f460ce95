//go:build arm64 && !purego

// The "neondot" GEMV kernels: integer products with SDOT (ARMv8.2 dotprod),
// four byte products per 32-bit lane. The loop is gemvloop_arm64.h; Go
// declarations in impl_arm64.go. Weights are at most 127 and activations
// 128 in size, so the 32-bit sums are exact.

#include "textflag.h"
#include "neon_arm64.h"

#define DOT4G \
	VEOR	V12.B16, V12.B16, V12.B16 \
	VEOR	V13.B16, V13.B16, V13.B16 \
	VEOR	V14.B16, V14.B16, V14.B16 \
	VEOR	V15.B16, V15.B16, V15.B16 \
	SDOT(12, 8, 0) \
	SDOT(13, 10, 2) \
	SDOT(14, 16, 4) \
	SDOT(15, 18, 6) \
	SDOT(12, 9, 1) \
	SDOT(13, 11, 3) \
	SDOT(14, 17, 5) \
	SDOT(15, 19, 7) \
	VADDP	V13.S4, V12.S4, V12.S4 \
	VADDP	V15.S4, V14.S4, V14.S4 \
	VADDP	V14.S4, V12.S4, V16.S4

#define DOT1G \
	VEOR	V16.B16, V16.B16, V16.B16 \
	SDOT(16, 8, 0) \
	SDOT(16, 9, 1) \
	VADDV	V16.S4, V16

// INT2_ISUM4: lanes 0, 1 of V16 sum group g, lanes 2, 3 group g+1 (the
// low and high halves of the planes); V17 the same for g+2, g+3.
#define INT2_ISUM4 \
	VEOR	V16.B16, V16.B16, V16.B16 \
	VEOR	V17.B16, V17.B16, V17.B16 \
	SDOT(16, 10, 0) \
	SDOT(17, 14, 4) \
	SDOT(16, 11, 1) \
	SDOT(17, 15, 5) \
	SDOT(16, 12, 2) \
	SDOT(17, 18, 6) \
	SDOT(16, 13, 3) \
	SDOT(17, 19, 7) \
	VADDP	V17.S4, V16.S4, V16.S4

#define INT8_ISUM4(Rc) \
	LOAD4G(Rc) \
	FLIP4(V8, V9, V10, V11) \
	FLIP4(V16, V17, V18, V19) \
	DOT4G

#define INT8_ISUM1(Rc) \
	LOAD1G(Rc) \
	FLIP2(V8, V9) \
	DOT1G

#define GEMV_INT2
// func gemvInt2NEONDot(w *byte, stride, n, rows int, qs *int8, d, s *float32, out *float32)
TEXT ·gemvInt2NEONDot(SB), NOSPLIT, $0-64
#include "gemvloop_arm64.h"
#undef GEMV_INT2

#define GEMV_INT4
// func gemvInt4NEONDot(w *byte, stride, n, rows int, qs *int8, d, s *float32, out *float32)
TEXT ·gemvInt4NEONDot(SB), NOSPLIT, $0-64
#include "gemvloop_arm64.h"
#undef GEMV_INT4

#define GEMV_INT8
// func gemvInt8NEONDot(w *byte, stride, n, rows int, qs *int8, d, s *float32, out *float32)
TEXT ·gemvInt8NEONDot(SB), NOSPLIT, $0-64
#include "gemvloop_arm64.h"
#undef GEMV_INT8

#define GEMV_INT2X
// func gemvInt2xNEONDot(w *byte, stride, n, rows int, qs *int8, d, s *float32, out *float32)
TEXT ·gemvInt2xNEONDot(SB), NOSPLIT, $0-64
#include "gemvloop_arm64.h"
#undef GEMV_INT2X
