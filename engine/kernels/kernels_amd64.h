// Macros and constants shared by the amd64 kernels (*_amd64.s). The
// constants are file-static, so each including file gets its own copy.

// scaleBias<> is 103<<23: a scale code c decodes to the float32 with bits
// c<<20 + scaleBias (quant.ScaleCode).
DATA scaleBias<>+0(SB)/4, $0x33800000
GLOBL scaleBias<>(SB), RODATA|NOPTR, $4

// dwordMasks<> is 32 all-ones dwords followed by 32 zero dwords: the 8
// dwords at dword index 32-k are a VPMASKMOVD mask of the first k lanes.
DATA dwordMasks<>+0(SB)/8, $-1
DATA dwordMasks<>+8(SB)/8, $-1
DATA dwordMasks<>+16(SB)/8, $-1
DATA dwordMasks<>+24(SB)/8, $-1
DATA dwordMasks<>+32(SB)/8, $-1
DATA dwordMasks<>+40(SB)/8, $-1
DATA dwordMasks<>+48(SB)/8, $-1
DATA dwordMasks<>+56(SB)/8, $-1
DATA dwordMasks<>+64(SB)/8, $-1
DATA dwordMasks<>+72(SB)/8, $-1
DATA dwordMasks<>+80(SB)/8, $-1
DATA dwordMasks<>+88(SB)/8, $-1
DATA dwordMasks<>+96(SB)/8, $-1
DATA dwordMasks<>+104(SB)/8, $-1
DATA dwordMasks<>+112(SB)/8, $-1
DATA dwordMasks<>+120(SB)/8, $-1
DATA dwordMasks<>+128(SB)/8, $0
DATA dwordMasks<>+136(SB)/8, $0
DATA dwordMasks<>+144(SB)/8, $0
DATA dwordMasks<>+152(SB)/8, $0
DATA dwordMasks<>+160(SB)/8, $0
DATA dwordMasks<>+168(SB)/8, $0
DATA dwordMasks<>+176(SB)/8, $0
DATA dwordMasks<>+184(SB)/8, $0
DATA dwordMasks<>+192(SB)/8, $0
DATA dwordMasks<>+200(SB)/8, $0
DATA dwordMasks<>+208(SB)/8, $0
DATA dwordMasks<>+216(SB)/8, $0
DATA dwordMasks<>+224(SB)/8, $0
DATA dwordMasks<>+232(SB)/8, $0
DATA dwordMasks<>+240(SB)/8, $0
DATA dwordMasks<>+248(SB)/8, $0
GLOBL dwordMasks<>(SB), RODATA|NOPTR, $256

// VNNIY encodes the AVX-VNNI (VEX) VPDPBUSD Y(dst) += Y(u8)·Y(s8) for
// register numbers 0..15, which the Go assembler only knows in its EVEX
// (AVX-512 VL) form.
#define VNNIY(dst, u8, s8) \
	BYTE $0xC4 \
	BYTE $(0x42 | ((1-((dst)>>3))<<7) | ((1-((s8)>>3))<<5)) \
	BYTE $(((15-(u8))<<3) | 0x05) \
	BYTE $0x50 \
	BYTE $(0xC0 | (((dst)&7)<<3) | ((s8)&7))

// SCALE16 folds a row's block of 16 groups into acc (AVX-512):
//	acc += d · (float(i)·D + o·S')
// d decoded from the scale codes at sc, o the int8 offset codes at off
// (K1 masks the groups of a partial block), D and S' the prepared
// activations' at 512(AX) and 576(AX). Clobbers i, t0, t1.
#define SCALE16(sc, off, acc, i, t0, t1) \
	VPMOVZXBD.Z sc, K1, t0 \
	VPSLLD      $20, t0, t0 \
	VPADDD.BCST scaleBias<>(SB), t0, t0 \
	VPMOVSXBD.Z off, K1, t1 \
	VCVTDQ2PS   t1, t1 \
	VCVTDQ2PS   i, i \
	VMULPS      512(AX), i, i \
	VFMADD231PS 576(AX), t1, i \
	VFMADD231PS t0, i, acc

// SCALE8 is SCALE16 for AVX2 blocks of 8 groups: d holds the zero-extended
// scale codes, o the sign-extended offset codes, Y1 scaleBias, D and S'
// are at 256(AX) and 288(AX). Clobbers i, d, o.
#define SCALE8(d, o, acc, i) \
	VPSLLD      $20, d, d \
	VPADDD      Y1, d, d \
	VCVTDQ2PS   o, o \
	VCVTDQ2PS   i, i \
	VMULPS      256(AX), i, i \
	VFMADD231PS 288(AX), o, i \
	VFMADD231PS d, i, acc

// TAIL8 loads the scale and offset codes of the last r = CX < 8 groups of
// an AVX2 block from the 8 bytes that end each section (a section is
// preceded by at least 8 bytes of its row), shifted down: d and o get
// them zero- and sign-extended. R10 is left at 64-8r. Clobbers R8, xd, xo.
#define TAIL8(d, xd, o, xo) \
	MOVQ      CX, R10 \
	SHLQ      $3, R10 \
	NEGQ      R10 \
	ADDQ      $64, R10 \
	MOVQ      -8(BX)(CX*1), R8 \
	SHRXQ     R10, R8, R8 \
	MOVQ      R8, xd \
	VPMOVZXBD xd, d \
	MOVQ      -8(DI)(CX*1), R8 \
	SHRXQ     R10, R8, R8 \
	MOVQ      R8, xo \
	VPMOVSXBD xo, o

// REDUCE1_512 adds the 16 floats of z (views y, x) to the float32 at dst.
// Clobbers z and the temporaries ty, tx (tx below X16).
#define REDUCE1_512(z, y, x, ty, tx, dst) \
	VEXTRACTF64X4 $1, z, ty \
	VADDPS        ty, y, y \
	REDUCE1_256(y, x, tx, dst)

// REDUCE4_512 adds the sums of Z12, Z13, Z14, Z15 to the 4 float32 at dst.
// Clobbers Z12..Z19.
#define REDUCE4_512(dst) \
	VEXTRACTF64X4 $1, Z12, Y16 \
	VEXTRACTF64X4 $1, Z13, Y17 \
	VEXTRACTF64X4 $1, Z14, Y18 \
	VEXTRACTF64X4 $1, Z15, Y19 \
	VADDPS        Y16, Y12, Y12 \
	VADDPS        Y17, Y13, Y13 \
	VADDPS        Y18, Y14, Y14 \
	VADDPS        Y19, Y15, Y15 \
	VHADDPS       Y13, Y12, Y12 \
	VHADDPS       Y15, Y14, Y14 \
	VHADDPS       Y14, Y12, Y12 \
	VEXTRACTF128  $1, Y12, X13 \
	VADDPS        X13, X12, X12 \
	VADDPS        dst, X12, X12 \
	VMOVUPS       X12, dst

// REDUCE1_256 adds the 8 floats of y (view x) to the float32 at dst.
// Clobbers y and tx (both below X16).
#define REDUCE1_256(y, x, tx, dst) \
	VEXTRACTF128 $1, y, tx \
	VADDPS       tx, x, x \
	VHADDPS      x, x, x \
	VHADDPS      x, x, x \
	VADDSS       dst, x, x \
	VMOVSS       x, dst

// GROUPED_ARGS(bg) loads the arguments of an Int2/Int4 kernel (see
// int2GEMVx16) that all of them share: SI, BX, DI the first row's codes,
// scales and offsets, DX stride, R13 the scale bytes the row's blocks of
// bg groups span (groups rounded up to bg).
#define GROUPED_ARGS(bg) \
	MOVQ codes+0(FP), SI \
	MOVQ scales+8(FP), BX \
	MOVQ offs+16(FP), DI \
	MOVQ stride+24(FP), DX \
	MOVQ groups+40(FP), R13 \
	ADDQ $(bg-1), R13 \
	ANDQ $(-bg), R13

// NEXTROWS(n, shift) moves SI, BX, DI from the end of the blocks of a tile
// of n rows to the start of the next tile; a row's blocks span R13 scale
// bytes and R13<<shift code bytes. Clobbers R8.
#define NEXTROWS(n, shift) \
	MOVQ R13, R8 \
	SHLQ $shift, R8 \
	LEAQ (SI)(DX*n), SI \
	SUBQ R8, SI \
	LEAQ (BX)(DX*n), BX \
	SUBQ R13, BX \
	LEAQ (DI)(DX*n), DI \
	SUBQ R13, DI

// NEXTBLOCK(act, cbytes, bg) moves AX, SI, BX, DI to the next block of bg
// groups (act prepared bytes, cbytes code bytes), counts its groups off
// CX and leaves the flags for a JG to the next block.
#define NEXTBLOCK(act, cbytes, bg) \
	ADDQ $act, AX \
	ADDQ $cbytes, SI \
	ADDQ $bg, BX \
	ADDQ $bg, DI \
	SUBQ $bg, CX

// PREFETCH8 requests the 8 cache lines from p on. The kernels sweep the
// next tile of rows with it, as many bytes per block as they consume: a
// tile reads its rows' sections as several interleaved streams, which the
// hardware prefetchers do not follow far enough ahead when the matrix
// comes from DRAM.
#define PREFETCH8(p) \
	PREFETCHT0 0(p) \
	PREFETCHT0 64(p) \
	PREFETCHT0 128(p) \
	PREFETCHT0 192(p) \
	PREFETCHT0 256(p) \
	PREFETCHT0 320(p) \
	PREFETCHT0 384(p) \
	PREFETCHT0 448(p)

// LOADACT16 loads the current block's 8 prepared activation vectors.
#define LOADACT16 \
	VMOVDQU32 0(AX), Z0 \
	VMOVDQU32 64(AX), Z1 \
	VMOVDQU32 128(AX), Z2 \
	VMOVDQU32 192(AX), Z3 \
	VMOVDQU32 256(AX), Z4 \
	VMOVDQU32 320(AX), Z5 \
	VMOVDQU32 384(AX), Z6 \
	VMOVDQU32 448(AX), Z7

// GROUPED_GEMV16(tile, cbytes, cshift) is the body of the AVX-512 Int2 and
// Int4 GEMVs: tiles of tile rows, then single rows, over blocks of 16
// groups of cbytes = 16<<cshift code bytes. The format supplies:
//	G16_SETUP     its constants (Z8..Z11)
//	G16_ZERO      zeroes the tile's sums (Z12..)
//	G16_MASKS     sets the masks of a full block
//	G16_TAILMASK  sets those of the last r = CX < 16 groups
//	G16_PREFETCH  sweeps R14 over the next tile (PREFETCH8)
//	G16_TILE      adds the tile's rows' blocks to their sums
//	G16_REDUCE    adds the tile's sums to out[0..tile) (R12)
//	G16_ROW       adds one row's block to Z12 (temporaries from Z16)
// AX walks the prepared activations, CX counts the groups left, R8..R10
// and Z16..Z31 are free for the format.
#define GROUPED_GEMV16(tile, cbytes, cshift) \
	GROUPED_ARGS(16) \
	MOVQ rows+32(FP), R11 \
	MOVQ out+56(FP), R12 \
	G16_SETUP \
tiles: \
	CMPQ R11, $tile \
	JB   rows1 \
	LEAQ (SI)(DX*tile), R14 \
	G16_ZERO \
	MOVQ act+48(FP), AX \
	MOVQ groups+40(FP), CX \
	G16_MASKS \
tblock: \
	CMPQ CX, $16 \
	JAE  tfull \
	G16_TAILMASK \
tfull: \
	G16_PREFETCH \
	LOADACT16 \
	G16_TILE \
	NEXTBLOCK(640, cbytes, 16) \
	JG   tblock \
	G16_REDUCE \
	NEXTROWS(tile, cshift) \
	SUBQ $tile, R11 \
	JMP  tiles \
rows1: \
	TESTQ  R11, R11 \
	JZ     done \
	VPXORD Z12, Z12, Z12 \
	MOVQ   act+48(FP), AX \
	MOVQ   groups+40(FP), CX \
	G16_MASKS \
rblock: \
	CMPQ CX, $16 \
	JAE  rfull \
	G16_TAILMASK \
rfull: \
	LOADACT16 \
	G16_ROW \
	NEXTBLOCK(640, cbytes, 16) \
	JG   rblock \
	REDUCE1_512(Z12, Y12, X12, Y13, X13, (R12)) \
	ADDQ $4, R12 \
	NEXTROWS(1, cshift) \
	DECQ R11 \
	JMP  rows1 \
done: \
	VZEROUPPER \
	RET

// GROUPED_GEMV8(cbytes, cshift, isum) is the body of the AVX2 Int2 and
// Int4 GEMVs: one row at a time over blocks of 8 groups of cbytes =
// 8<<cshift code bytes. The format supplies:
//	G8_SETUP      its constants: Y0 the code mask, Y2 the lane order fix
//	G8_CODES      loads a full block's codes
//	G8_TAILCODES  loads those of the last r = CX < 8 groups with
//	              VPMASKMOVD (R8: dwordMasks, R10: 64-8r)
//	G8_DOTS       leaves the block's integer sums in group order in isum
// Y1 is scaleBias, Y3 int16 ones, Y4 the row's sum, Y12/Y13 the block's
// scale/offset codes; R14 sweeps the next row (3 cache lines a block).
#define GROUPED_GEMV8(cbytes, cshift, isum) \
	GROUPED_ARGS(8) \
	MOVQ         rows+32(FP), R11 \
	MOVQ         out+56(FP), R12 \
	VPBROADCASTD scaleBias<>(SB), Y1 \
	MOVL         $0x00010001, R8 \
	MOVQ         R8, X3 \
	VPBROADCASTD X3, Y3 \
	G8_SETUP \
row8: \
	TESTQ R11, R11 \
	JZ    done8 \
	LEAQ  (SI)(DX*1), R14 \
	VPXOR Y4, Y4, Y4 \
	MOVQ  act+48(FP), AX \
	MOVQ  groups+40(FP), CX \
block8: \
	PREFETCHT0 0(R14) \
	PREFETCHT0 64(R14) \
	PREFETCHT0 128(R14) \
	ADDQ       $(cbytes+16), R14 \
	CMPQ       CX, $8 \
	JB         tail8 \
	G8_CODES \
	VPMOVZXBD  (BX), Y12 \
	VPMOVSXBD  (DI), Y13 \
	JMP        dots8 \
tail8: \
	TAIL8(Y12, X12, Y13, X13) \
	LEAQ dwordMasks<>(SB), R8 \
	G8_TAILCODES \
dots8: \
	G8_DOTS \
	SCALE8(Y12, Y13, Y4, isum) \
	NEXTBLOCK(320, cbytes, 8) \
	JG   block8 \
	REDUCE1_256(Y4, X4, X5, (R12)) \
	ADDQ $4, R12 \
	NEXTROWS(1, cshift) \
	DECQ R11 \
	JMP  row8 \
done8: \
	VZEROUPPER \
	RET
