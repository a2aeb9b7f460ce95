//go:build amd64 && !purego

#include "textflag.h"

// The float32 constants of expF32 (softmax.go), then 127 (the exponent
// bias, an int32) and -Inf, then 1.0 as a float64.
DATA smx<>+0(SB)/4, $0x3fb8aa3b  // log2(e)
DATA smx<>+4(SB)/4, $0x3f000000  // 0.5
DATA smx<>+8(SB)/4, $0x3f318000  // ln2Hi
DATA smx<>+12(SB)/4, $0xb95e8083 // ln2Lo
DATA smx<>+16(SB)/4, $0x39500d01 // 1/5040
DATA smx<>+20(SB)/4, $0x3ab60b61 // 1/720
DATA smx<>+24(SB)/4, $0x3c088889 // 1/120
DATA smx<>+28(SB)/4, $0x3d2aaaab // 1/24
DATA smx<>+32(SB)/4, $0x3e2aaaab // 1/6
DATA smx<>+36(SB)/4, $0x3f800000 // 1
DATA smx<>+40(SB)/4, $0xc2ae0000 // -87
DATA smx<>+44(SB)/4, $127
DATA smx<>+48(SB)/4, $0xff800000 // -Inf
DATA smx<>+56(SB)/8, $0x3ff0000000000000 // 1.0
GLOBL smx<>(SB), RODATA|NOPTR, $64

// SMX_TAIL sets K1 to the first DX < 16 lanes. Clobbers AX, CX.
#define SMX_TAIL \
	MOVQ  DX, CX \
	MOVL  $1, AX \
	SHLL  CX, AX \
	DECL  AX \
	KMOVW AX, K1

// SMX_EXP sets Z3 to expF32(Z2 - Z30), Z2 to Z2 - Z30. Z16..Z28 hold the
// constants; clobbers Z4..Z7, K2, K3. Lanes with t = Z2 - Z30 below -87
// give 0, NaN lanes t; the others are computed from max(t, -87), which is
// t.
#define SMX_EXP \
	VSUBPS     Z30, Z2, Z2 \
	VCMPPS     $0x1d, Z26, Z2, K2 \
	VCMPPS     $3, Z2, Z2, K3 \
	VMAXPS     Z26, Z2, Z4 \
	VMULPS     Z16, Z4, Z5 \
	VSUBPS     Z17, Z5, Z5 \
	VCVTTPS2DQ Z5, Z5 \
	VCVTDQ2PS  Z5, Z6 \
	VMULPS     Z18, Z6, Z7 \
	VSUBPS     Z7, Z4, Z4 \
	VMULPS     Z19, Z6, Z7 \
	VSUBPS     Z7, Z4, Z4 \
	VMULPS     Z20, Z4, Z3 \
	VADDPS     Z21, Z3, Z3 \
	VMULPS     Z4, Z3, Z3 \
	VADDPS     Z22, Z3, Z3 \
	VMULPS     Z4, Z3, Z3 \
	VADDPS     Z23, Z3, Z3 \
	VMULPS     Z4, Z3, Z3 \
	VADDPS     Z24, Z3, Z3 \
	VMULPS     Z4, Z3, Z3 \
	VADDPS     Z17, Z3, Z3 \
	VMULPS     Z4, Z3, Z3 \
	VADDPS     Z25, Z3, Z3 \
	VMULPS     Z4, Z3, Z3 \
	VADDPS     Z25, Z3, Z3 \
	VPADDD     Z27, Z5, Z5 \
	VPSLLD     $23, Z5, Z5 \
	VMULPS     Z5, Z3, Z3 \
	VMOVAPS.Z  Z3, K2, Z3 \
	VMOVAPS    Z2, K3, Z3

// SMX_SUM adds the 16 floats of Z3 to the float64 lanes of Z0: lanes 0..7,
// then 8..15. Clobbers Z4, Z5.
#define SMX_SUM \
	VCVTPS2PD     Y3, Z4 \
	VADDPD        Z4, Z0, Z0 \
	VEXTRACTF32X8 $1, Z3, Y5 \
	VCVTPS2PD     Y5, Z5 \
	VADDPD        Z5, Z0, Z0

// func softmaxF32x16(x *float32, n int, scale float32)
//
// SI is x, R10 n; DI walks x and DX counts the values left in each pass.
TEXT ·softmaxF32x16(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), R10
	VBROADCASTSS scale+16(FP), Z29
	VBROADCASTSS smx<>+48(SB), Z1

	// Pass 1: scale the values, Z1 their running maximum.
	MOVQ SI, DI
	MOVQ R10, DX

max16:
	CMPQ    DX, $16
	JB      maxtail
	VMULPS  (DI), Z29, Z2
	VMOVUPS Z2, (DI)
	VMAXPS  Z2, Z1, Z1
	ADDQ    $64, DI
	SUBQ    $16, DX
	JMP     max16

maxtail:
	TESTQ     DX, DX
	JZ        maxred
	SMX_TAIL
	VMOVUPS.Z (DI), K1, Z2
	VMULPS    Z2, Z29, Z2
	VMOVUPS   Z2, K1, (DI)
	VMAXPS    Z2, Z1, K1, Z1

maxred:
	VEXTRACTF32X8 $1, Z1, Y2
	VMAXPS        Y2, Y1, Y1
	VEXTRACTF128  $1, Y1, X2
	VMAXPS        X2, X1, X1
	VPERMILPS     $0x4e, X1, X2
	VMAXPS        X2, X1, X1
	VPERMILPS     $0xb1, X1, X2
	VMAXPS        X2, X1, X1
	VBROADCASTSS  X1, Z30

	// Pass 2: exponentials, summed in Z0.
	VBROADCASTSS smx<>+0(SB), Z16
	VBROADCASTSS smx<>+4(SB), Z17
	VBROADCASTSS smx<>+8(SB), Z18
	VBROADCASTSS smx<>+12(SB), Z19
	VBROADCASTSS smx<>+16(SB), Z20
	VBROADCASTSS smx<>+20(SB), Z21
	VBROADCASTSS smx<>+24(SB), Z22
	VBROADCASTSS smx<>+28(SB), Z23
	VBROADCASTSS smx<>+32(SB), Z24
	VBROADCASTSS smx<>+36(SB), Z25
	VBROADCASTSS smx<>+40(SB), Z26
	VPBROADCASTD smx<>+44(SB), Z27
	VXORPD       Z0, Z0, Z0
	MOVQ         SI, DI
	MOVQ         R10, DX

exp16:
	CMPQ    DX, $16
	JB      exptail
	VMOVUPS (DI), Z2
	SMX_EXP
	VMOVUPS Z3, (DI)
	SMX_SUM
	ADDQ    $64, DI
	SUBQ    $16, DX
	JMP     exp16

exptail:
	TESTQ     DX, DX
	JZ        sumred
	SMX_TAIL
	VMOVUPS.Z (DI), K1, Z2
	SMX_EXP
	VMOVAPS.Z Z3, K1, Z3
	VMOVUPS   Z3, K1, (DI)
	SMX_SUM

sumred:
	// ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)), then 1/sum as a float32.
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPD        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPD        X1, X0, X0
	VPERMILPD     $1, X0, X1
	VADDSD        X1, X0, X0
	VMOVSD        smx<>+56(SB), X1
	VDIVSD        X0, X1, X1
	VCVTSD2SS     X1, X1, X1
	VBROADCASTSS  X1, Z1

	// Pass 3: scale by 1/sum.
	MOVQ SI, DI
	MOVQ R10, DX

mul16:
	CMPQ    DX, $16
	JB      multail
	VMULPS  (DI), Z1, Z2
	VMOVUPS Z2, (DI)
	ADDQ    $64, DI
	SUBQ    $16, DX
	JMP     mul16

multail:
	TESTQ     DX, DX
	JZ        done
	SMX_TAIL
	VMOVUPS.Z (DI), K1, Z2
	VMULPS    Z2, Z1, Z2
	VMOVUPS   Z2, K1, (DI)

done:
	VZEROUPPER
	RET
