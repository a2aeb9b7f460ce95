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

// SCALE16P is SCALE16 for a packed pair of rows A and B (see
// GROUPED_GEMV16): their last r = CX <= 8 groups, A's in lanes 0..7 and
// B's in lanes 8..15 of i, K1 masking the first r of 8; their scale and
// offset codes are at scA, scB and offA, offB, and kA, kB select the
// lanes of each row's sum. t0, t1 have the Y views y0, y1; yt is one more
// Y temporary. Clobbers i, t0, t1, yt.
#define SCALE16P(scA, scB, offA, offB, accA, accB, kA, kB, i, t0, y0, t1, y1, yt) \
	VPMOVZXBD.Z  scA, K1, y0 \
	VPMOVZXBD.Z  scB, K1, yt \
	VINSERTI64X4 $1, yt, t0, t0 \
	VPSLLD       $20, t0, t0 \
	VPADDD.BCST  scaleBias<>(SB), t0, t0 \
	VPMOVSXBD.Z  offA, K1, y1 \
	VPMOVSXBD.Z  offB, K1, yt \
	VINSERTI64X4 $1, yt, t1, t1 \
	VCVTDQ2PS    t1, t1 \
	VCVTDQ2PS    i, i \
	VMULPS       512(AX), i, i \
	VFMADD231PS  576(AX), t1, i \
	VFMADD231PS  t0, i, kA, accA \
	VFMADD231PS  t0, i, kB, accB

// HALVES(ka, kb) sets ka to lanes 0..7 and kb to lanes 8..15 (the rows of
// a packed tail). Clobbers R8.
#define HALVES(ka, kb) \
	MOVL  $0xff, R8 \
	KMOVW R8, ka \
	KNOTW ka, kb

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

// PREFETCH2(p) .. PREFETCH6(p) request 2 .. 6 cache lines from p on: the
// rest of the next tile at a packed tail.
#define PREFETCH2(p) \
	PREFETCHT0 0(p) \
	PREFETCHT0 64(p)
#define PREFETCH3(p) \
	PREFETCH2(p) \
	PREFETCHT0 128(p)
#define PREFETCH5(p) \
	PREFETCH3(p) \
	PREFETCHT0 192(p) \
	PREFETCHT0 256(p)
#define PREFETCH6(p) \
	PREFETCH5(p) \
	PREFETCHT0 320(p)

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
// groups of cbytes = 16<<cshift code bytes. A tile's last block, when it
// holds r <= 8 groups, is the packed tail: one block for several rows,
// two rows A and B with A's r groups in lanes 0..7 and B's in lanes
// 8..15, against activations prepared with period 8 (prepareAct), or in
// the Int2 GEMV, when r <= 4, all four rows of its tile (period 4), so
// that it costs a half or a quarter block per row. The format supplies:
//	G16_SETUP     its constants (Z8..Z11)
//	G16_ZERO      zeroes the tile's sums (Z12..)
//	G16_MASKS     sets the masks of a full block
//	G16_TAILMASK  sets those of the last r = CX < 16 groups
//	G16_PACKINIT  computes the masks of a packed tail of r = CX = groups
//	              mod 16 (any r; used when r <= 8) once per call: those
//	              no other block changes in K registers, the others in
//	              the frame, from 0(SP) on
//	G16_PACKMASKS sets the masks of a packed tail from the frame
//	G16_PREFETCH  sweeps R14 over the next tile (PREFETCH8)
//	G16_TILE      adds the tile's rows' blocks to their sums
//	G16_PACKTILE  adds the tile's rows' packed tails to their sums (the
//	              activations are used once or twice: memory operands),
//	              and sweeps R14 over the rest of the next tile
//	G16_REDUCE    adds the tile's sums to out[0..tile) (R12)
//	G16_ROW       adds one row's block to Z12 (temporaries from Z16)
// AX walks the prepared activations, CX counts the groups left, R8..R10
// and Z16..Z31 are free for the format.
#define GROUPED_GEMV16(tile, cbytes, cshift) \
	GROUPED_ARGS(16) \
	MOVQ rows+32(FP), R11 \
	MOVQ out+56(FP), R12 \
	G16_SETUP \
	MOVQ groups+40(FP), CX \
	ANDQ $15, CX \
	G16_PACKINIT \
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
	CMPQ CX, $8 \
	JBE  tpack \
	G16_TAILMASK \
tfull: \
	G16_PREFETCH \
	LOADACT16 \
	G16_TILE \
	NEXTBLOCK(640, cbytes, 16) \
	JG   tblock \
	JMP  treduce \
tpack: \
	G16_PACKMASKS \
	G16_PACKTILE \
	NEXTBLOCK(640, cbytes, 16) \
treduce: \
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

// GROUPED_GEMV8(cbytes, cshift, isum, isumx) is the body of the AVX2 Int2
// and Int4 GEMVs: one row at a time over blocks of 8 groups of cbytes =
// 8<<cshift code bytes. When the last block holds r <= 4 groups, the rows
// go in pairs A, B: each row's full blocks, then their last r groups
// packed into one block (A's in lanes 0..3, B's in 4..7, against
// activations prepared with period 4), whose halves go to the two
// outputs; a last unpaired row runs alone. The format supplies:
//	G8_SETUP      its constants: Y0 the code mask, Y2 the lane order fix
//	G8_CODES      loads a full block's codes
//	G8_TAILCODES  loads those of the last r = CX < 8 groups with
//	              VPMASKMOVD (R8: dwordMasks, R10: 64-8r)
//	G8_PAIRCODES  loads those of the last r = CX <= 4 groups of rows A
//	              (SI - DX) and B (SI) as one block (R8: dwordMasks;
//	              temporaries R9, R10)
//	G8_DOTS       leaves the block's integer sums in group order in isum
//	              (view isumx)
// Y1 is scaleBias, Y3 int16 ones, Y4 the row's sum, Y12/Y13 the block's
// scale/offset codes; R14 sweeps the next row (3 cache lines a block).
#define GROUPED_GEMV8(cbytes, cshift, isum, isumx) \
	GROUPED_ARGS(8) \
	MOVQ         rows+32(FP), R11 \
	MOVQ         out+56(FP), R12 \
	VPBROADCASTD scaleBias<>(SB), Y1 \
	MOVL         $0x00010001, R8 \
	MOVQ         R8, X3 \
	VPBROADCASTD X3, Y3 \
	G8_SETUP \
	MOVQ         groups+40(FP), CX \
	ANDQ         $7, CX \
	JZ           row8 \
	CMPQ         CX, $4 \
	JA           row8 \
	MOVQ         groups+40(FP), R13 \
	ANDQ         $-8, R13 \
pair8: \
	CMPQ R11, $2 \
	JB   single8 \
	G8_FULLROW(blockA8, fullA8, cbytes, isum, (R12)) \
	NEXTROWS(1, cshift) \
	G8_FULLROW(blockB8, fullB8, cbytes, isum, 4(R12)) \
	MOVQ groups+40(FP), CX \
	ANDQ $7, CX \
	LEAQ dwordMasks<>(SB), R8 \
	G8_PAIRCODES \
	PAIRSHIFT \
	PAIRSEC8(BX, X12, Y12, VPMOVZXBD, R9, R10) \
	PAIRSEC8(DI, X13, Y13, VPMOVSXBD, R9, R10) \
	G8_DOTS \
	VPSLLD      $20, Y12, Y12 \
	VPADDD      Y1, Y12, Y12 \
	VCVTDQ2PS   Y13, Y13 \
	VCVTDQ2PS   isum, isum \
	VMULPS      256(AX), isum, isum \
	VFMADD231PS 288(AX), Y13, isum \
	VMULPS      Y12, isum, isum \
	VEXTRACTF128 $1, isum, X5 \
	VHADDPS     X5, isumx, isumx \
	PAIRSUM8(isumx, X5, (R12)) \
	NEXTROWS(1, cshift) \
	ADDQ $8, R12 \
	SUBQ $2, R11 \
	JMP  pair8 \
single8: \
	MOVQ groups+40(FP), R13 \
	ADDQ $7, R13 \
	ANDQ $-8, R13 \
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

// G8_FULLROW(block, full, cbytes, isum, dst) adds the full blocks (R13
// groups) of the row at SI, BX, DI to the float32 at dst, leaving SI, BX,
// DI at its last block and AX at that block's activations (GROUPED_GEMV8).
#define G8_FULLROW(block, full, cbytes, isum, dst) \
	VPXOR Y4, Y4, Y4 \
	MOVQ  act+48(FP), AX \
	MOVQ  R13, CX \
	TESTQ CX, CX \
	JZ    full \
	LEAQ  (SI)(DX*1), R14 \
block: \
	PREFETCHT0 0(R14) \
	PREFETCHT0 64(R14) \
	PREFETCHT0 128(R14) \
	ADDQ       $(cbytes+16), R14 \
	G8_CODES \
	VPMOVZXBD  (BX), Y12 \
	VPMOVSXBD  (DI), Y13 \
	G8_DOTS \
	SCALE8(Y12, Y13, Y4, isum) \
	NEXTBLOCK(320, cbytes, 8) \
	JG   block \
full: \
	REDUCE1_256(Y4, X4, X5, dst)

// PAIRSEC8(p, x, y, EXT, t0, t1) loads the codes of the last r = CX <= 4
// groups of a section of rows A (ending at p - DX + r) and B (p + r), A's
// in bytes 0..3 of x and B's in bytes 4..7, the others zero, and widens
// them into y with EXT. Each section is preceded by at least 4 bytes of
// its row (the codes); R14 holds 32-8r. Clobbers t0, t1.
#define PAIRSEC8(p, x, y, EXT, t0, t1) \
	MOVQ  p, t0 \
	SUBQ  DX, t0 \
	MOVL  -4(t0)(CX*1), t0 \
	SHRXL R14, t0, t0 \
	MOVL  -4(p)(CX*1), t1 \
	SHRXL R14, t1, t1 \
	SHLQ  $32, t1 \
	ORQ   t1, t0 \
	VMOVQ t0, x \
	EXT   x, y

// PAIRSHIFT sets R14 to 32-8r for PAIRSEC8 (r = CX). Clobbers R8.
#define PAIRSHIFT \
	MOVL $32, R14 \
	LEAL (CX*8), R8 \
	SUBL R8, R14

// PAIRSUM8(x, t, dst) adds the pair sums [a0, a1, b0, b1] in x, the
// halves of the two rows A and B of a packed AVX2 tail, to the float32 of
// rows A and B at dst. Clobbers x, t.
#define PAIRSUM8(x, t, dst) \
	VHADDPS x, x, x \
	VMOVQ   dst, t \
	VADDPS  t, x, x \
	VMOVQ   x, dst

// TRANSPOSE8 transposes the 8×8 dword matrices held in each 256-bit half
// (each 128-bit lane pair) of r0..r7 (one row per register). Afterwards,
// per 256-bit half, r(e) (e < 4) holds column e of rows 0..3 in its low
// 128 bits and column e+4 in its high 128 bits, and r(e+4) the same for
// rows 4..7.
#define TRANSPOSE8(r0, r1, r2, r3, r4, r5, r6, r7, t0, t1, t2, t3, t4, t5, t6, t7) \
	VPUNPCKLDQ  r1, r0, t0 \
	VPUNPCKHDQ  r1, r0, t1 \
	VPUNPCKLDQ  r3, r2, t2 \
	VPUNPCKHDQ  r3, r2, t3 \
	VPUNPCKLDQ  r5, r4, t4 \
	VPUNPCKHDQ  r5, r4, t5 \
	VPUNPCKLDQ  r7, r6, t6 \
	VPUNPCKHDQ  r7, r6, t7 \
	VPUNPCKLQDQ t2, t0, r0 \
	VPUNPCKHQDQ t2, t0, r1 \
	VPUNPCKLQDQ t3, t1, r2 \
	VPUNPCKHQDQ t3, t1, r3 \
	VPUNPCKLQDQ t6, t4, r4 \
	VPUNPCKHQDQ t6, t4, r5 \
	VPUNPCKLQDQ t7, t5, r6 \
	VPUNPCKHQDQ t7, t5, r7

// The GEMM kernels (int2GEMMx16 in impl_amd64.go) multiply rows with up
// to 4 tokens, whose prepared activations lie GEMM_TOKEN_BYTES
// (gemmActBytes in gemv_amd64.go) apart from AX on; a row's block of
// codes is expanded once and multiplied with every token.
// Their D and S' are in the lane order of the codes (laneScales), so the
// kernels put the row's scales and offsets in that order too.
#define GEMM_TOKEN_BYTES 5120

// GEMM_TOKENS2(TOKEN, tok, next, a0, b0, a1, b1, a2, b2, a3, b3) runs
// TOKEN(base, accA, accB) for each token of an AVX-512 tile of two rows A
// and B (tok: their count, 1 to 4) with the sums a(t) and b(t), then goes
// on at next.
#define GEMM_TOKENS2(TOKEN, tok, next, a0, b0, a1, b1, a2, b2, a3, b3) \
	TOKEN(0, a0, b0) \
	CMPQ tok, $2 \
	JB   next \
	TOKEN(GEMM_TOKEN_BYTES, a1, b1) \
	CMPQ tok, $3 \
	JB   next \
	TOKEN(2*GEMM_TOKEN_BYTES, a2, b2) \
	CMPQ tok, $4 \
	JB   next \
	TOKEN(3*GEMM_TOKEN_BYTES, a3, b3)

// GEMM_REDUCE1(z, y, dst) adds the 16 floats of z (view y, Z16 or above)
// to the float32 at dst. Clobbers Y0, Y1.
#define GEMM_REDUCE1(z, y, dst) \
	VEXTRACTF64X4 $1, z, Y1 \
	VADDPS        Y1, y, Y0 \
	REDUCE1_256(Y0, X0, X1, dst)

// GEMM_REDUCE2(tok, done, off, z0, y0, z1, y1, z2, y2, z3, y3) adds the
// sums z(t) of a row's tokens (Z16 or above) to their outputs at off(R10)
// + t·R11, then goes on at done. Clobbers Y0, Y1, R8.
#define GEMM_REDUCE2(tok, done, off, z0, y0, z1, y1, z2, y2, z3, y3) \
	GEMM_REDUCE1(z0, y0, off(R10)) \
	CMPQ tok, $2 \
	JB   done \
	GEMM_REDUCE1(z1, y1, off(R10)(R11*1)) \
	CMPQ tok, $3 \
	JB   done \
	GEMM_REDUCE1(z2, y2, off(R10)(R11*2)) \
	CMPQ tok, $4 \
	JB   done \
	LEAQ (R10)(R11*1), R8 \
	GEMM_REDUCE1(z3, y3, off(R8)(R11*2))

// GEMM_TOKENS8(TOKEN, tok, next) is GEMM_TOKENS2 for the AVX2 GEMMs, which
// multiply one row at a time: TOKEN(base, acc) with the sums Y8..Y11.
#define GEMM_TOKENS8(TOKEN, tok, next) \
	TOKEN(0, Y8) \
	CMPQ tok, $2 \
	JB   next \
	TOKEN(GEMM_TOKEN_BYTES, Y9) \
	CMPQ tok, $3 \
	JB   next \
	TOKEN(2*GEMM_TOKEN_BYTES, Y10) \
	CMPQ tok, $4 \
	JB   next \
	TOKEN(3*GEMM_TOKEN_BYTES, Y11)

// GEMM_ZERO8 zeroes the AVX2 tokens' sums Y8..Y11.
#define GEMM_ZERO8 \
	VPXOR Y8, Y8, Y8 \
	VPXOR Y9, Y9, Y9 \
	VPXOR Y10, Y10, Y10 \
	VPXOR Y11, Y11, Y11

// GEMM_REDUCE8(tok, done, out) adds the sums Y8..Y11 of the tokens to
// their outputs at out + t·R11, then goes on at done. Clobbers X0, R8.
#define GEMM_REDUCE8(tok, done, out) \
	REDUCE1_256(Y8, X8, X0, (out)) \
	CMPQ tok, $2 \
	JB   done \
	REDUCE1_256(Y9, X9, X0, (out)(R11*1)) \
	CMPQ tok, $3 \
	JB   done \
	REDUCE1_256(Y10, X10, X0, (out)(R11*2)) \
	CMPQ tok, $4 \
	JB   done \
	LEAQ (out)(R11*1), R8 \
	REDUCE1_256(Y11, X11, X0, (R8)(R11*2))

// GEMM_SCALES2(sc, off, d, o) decodes a row's block of 16 scale codes at
// sc into d and converts its offset codes at off to floats in o (K1
// masks the groups of a partial block), then puts both in the lane order
// of the codes (GM16_PERM).
#define GEMM_SCALES2(sc, off, d, o) \
	VPMOVZXBD.Z sc, K1, d \
	VPSLLD      $20, d, d \
	VPADDD.BCST scaleBias<>(SB), d, d \
	VPMOVSXBD.Z off, K1, o \
	VCVTDQ2PS   o, o \
	GM16_PERM(d, o)

// GEMM_DOT2(off, a, b) adds the products of the activation vector at
// off(AX) with code vector a of row A to Z9 and with b of row B to Z10.
#define GEMM_DOT2(off, a, b) \
	VMOVDQU32 off(AX), Z8 \
	VPDPBUSD  Z8, a, Z9 \
	VPDPBUSD  Z8, b, Z10

// GEMM_TOKEN2(base, accA, accB) adds a token's products with the expanded
// codes of rows A (Z0..Z7) and B (Z12..Z19) to their sums:
//	acc += d · (float(i)·D + o·S')
// d and o in Z28, Z29 (A) and Z30, Z31 (B). Clobbers Z8..Z11.
#define GEMM_TOKEN2(base, accA, accB) \
	VPXORD      Z9, Z9, Z9 \
	VPXORD      Z10, Z10, Z10 \
	GEMM_DOT2(base+0, Z0, Z12) \
	GEMM_DOT2(base+64, Z1, Z13) \
	GEMM_DOT2(base+128, Z2, Z14) \
	GEMM_DOT2(base+192, Z3, Z15) \
	GEMM_DOT2(base+256, Z4, Z16) \
	GEMM_DOT2(base+320, Z5, Z17) \
	GEMM_DOT2(base+384, Z6, Z18) \
	GEMM_DOT2(base+448, Z7, Z19) \
	VCVTDQ2PS   Z9, Z9 \
	VCVTDQ2PS   Z10, Z10 \
	VMOVUPS     base+512(AX), Z8 \
	VMULPS      Z8, Z9, Z9 \
	VMULPS      Z8, Z10, Z10 \
	VMOVUPS     base+576(AX), Z11 \
	VFMADD231PS Z11, Z29, Z9 \
	VFMADD231PS Z11, Z31, Z10 \
	VFMADD231PS Z28, Z9, accA \
	VFMADD231PS Z30, Z10, accB

// GEMM_SCALESP(d, yd, o, yo, yt) is GEMM_SCALES2 for the packed tail of
// rows A and B (SCALE16P: A's r groups in lanes 0..7, B's in 8..15, K1
// masking the first r of 8), whose sections are at BX, DI and DX further.
// Clobbers yt.
#define GEMM_SCALESP(d, yd, o, yo, yt) \
	VPMOVZXBD.Z  (BX), K1, yd \
	VPMOVZXBD.Z  (BX)(DX*1), K1, yt \
	VINSERTI64X4 $1, yt, d, d \
	VPSLLD       $20, d, d \
	VPADDD.BCST  scaleBias<>(SB), d, d \
	VPMOVSXBD.Z  (DI), K1, yo \
	VPMOVSXBD.Z  (DI)(DX*1), K1, yt \
	VINSERTI64X4 $1, yt, o, o \
	VCVTDQ2PS    o, o \
	GM16_PERM(d, o)

// GEMM_TOKENP(base, accA, accB) is GEMM_TOKEN2 for the packed tail: the
// codes of both rows in Z0..Z7, K6 and K7 the lanes of rows A and B. The
// products go to two sums, Z9 and Z10, so that a token's chain of
// dependent VPDPBUSD is as long as in a full block. Clobbers Z9, Z10.
#define GEMM_TOKENP(base, accA, accB) \
	VPXORD      Z9, Z9, Z9 \
	VPXORD      Z10, Z10, Z10 \
	VPDPBUSD    base+0(AX), Z0, Z9 \
	VPDPBUSD    base+64(AX), Z1, Z10 \
	VPDPBUSD    base+128(AX), Z2, Z9 \
	VPDPBUSD    base+192(AX), Z3, Z10 \
	VPDPBUSD    base+256(AX), Z4, Z9 \
	VPDPBUSD    base+320(AX), Z5, Z10 \
	VPDPBUSD    base+384(AX), Z6, Z9 \
	VPDPBUSD    base+448(AX), Z7, Z10 \
	VPADDD      Z10, Z9, Z9 \
	VCVTDQ2PS   Z9, Z9 \
	VMULPS      base+512(AX), Z9, Z9 \
	VFMADD231PS base+576(AX), Z29, Z9 \
	VFMADD231PS Z28, Z9, K6, accA \
	VFMADD231PS Z28, Z9, K7, accB

// GROUPED_GEMM16(cbytes, cshift) is the body of the AVX-512 Int2 and Int4
// GEMMs (see int2GEMMx16): tiles of two rows A and B (the last row alone:
// B = A with DX = 0, not stored) over blocks of 16 groups of cbytes =
// 16<<cshift code bytes, each block expanded once and multiplied with
// every token by GEMM_TOKEN2, so that each activation load serves both
// rows. A last block of r <= 8 groups is the packed tail of both rows
// (as in GROUPED_GEMV16), multiplied with every token by GEMM_TOKENP.
// The format supplies G16_SETUP, G16_MASKS and G16_TAILMASK (as for
// GROUPED_GEMV16; G16_SETUP runs every block, as its constants Z8..Z11
// become the tokens' temporaries) and
//	GM16_PREFETCH(p)  requests a row's block (cbytes+32 bytes) from p on
//	GM16_EXPAND(a0, a1, a2, a3, c0, ..., c7, t0, ..., t3)
//	                  expands a row's block of codes (64-byte vectors at
//	                  a0..a3) into c0..c7 (code vector k pairs with
//	                  prepared activation vector k); temporaries t0..t3
//	GM16_PERM(d, o)   puts the scales and offsets in the codes' lane order
//	GM16_PACKINIT     as G16_PACKINIT: the masks of a packed tail of r
//	                  <= 8 groups, K1 its first r of 8 lanes, the code
//	                  masks, K6 and K7 the lanes of rows A and B
//	GM16_PACKMASKS    sets those that the other blocks change
//	GM16_PACKEXPAND   expands the packed tail's codes into Z0..Z7
//	GM16_PACKPREFETCH(p)  requests the rest of a row (its last r <= 8
//	                  groups) from p on
// Registers as in GROUPED_GEMV16, but R10 row A's first output, R11
// 4·ldo, R12 the rows left, R14 sweeps the next tile, Z20..Z23 and
// Z24..Z27 the sums of rows A and B for the 4 tokens.
#define GROUPED_GEMM16(cbytes, cshift) \
	GROUPED_ARGS(16) \
	MOVQ rows+32(FP), R12 \
	MOVQ out+64(FP), R10 \
	MOVQ ldo+72(FP), R11 \
	SHLQ $2, R11 \
	MOVQ groups+40(FP), CX \
	ANDQ $15, CX \
	GM16_PACKINIT \
tile: \
	TESTQ R12, R12 \
	JZ    done \
	CMPQ  R12, $2 \
	JAE   pair \
	XORL  DX, DX \
pair: \
	LEAQ   (SI)(DX*2), R14 \
	VPXORD Z20, Z20, Z20 \
	VPXORD Z21, Z21, Z21 \
	VPXORD Z22, Z22, Z22 \
	VPXORD Z23, Z23, Z23 \
	VPXORD Z24, Z24, Z24 \
	VPXORD Z25, Z25, Z25 \
	VPXORD Z26, Z26, Z26 \
	VPXORD Z27, Z27, Z27 \
	MOVQ   act+48(FP), AX \
	MOVQ   groups+40(FP), CX \
	G16_MASKS \
block: \
	CMPQ CX, $16 \
	JAE  full \
	CMPQ CX, $8 \
	JBE  pack \
	G16_TAILMASK \
full: \
	GM16_PREFETCH(R14) \
	LEAQ (R14)(DX*1), R8 \
	GM16_PREFETCH(R8) \
	ADDQ $(cbytes+32), R14 \
	G16_SETUP \
	GM16_EXPAND(0(SI), 64(SI), 128(SI), 192(SI), Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z12, Z13, Z14, Z15) \
	GM16_EXPAND(0(SI)(DX*1), 64(SI)(DX*1), 128(SI)(DX*1), 192(SI)(DX*1), Z12, Z13, Z14, Z15, Z16, Z17, Z18, Z19, Z28, Z29, Z30, Z31) \
	GEMM_SCALES2((BX), (DI), Z28, Z29) \
	GEMM_SCALES2((BX)(DX*1), (DI)(DX*1), Z30, Z31) \
	GEMM_TOKENS2(GEMM_TOKEN2, tokens+56(FP), next, Z20, Z24, Z21, Z25, Z22, Z26, Z23, Z27) \
next: \
	NEXTBLOCK(640, cbytes, 16) \
	JG   block \
	JMP  reduce \
pack: \
	GM16_PACKMASKS \
	GM16_PACKPREFETCH(R14) \
	LEAQ (R14)(DX*1), R8 \
	GM16_PACKPREFETCH(R8) \
	G16_SETUP \
	GM16_PACKEXPAND \
	GEMM_SCALESP(Z28, Y28, Z29, Y29, Y12) \
	GEMM_TOKENS2(GEMM_TOKENP, tokens+56(FP), packed, Z20, Z24, Z21, Z25, Z22, Z26, Z23, Z27) \
packed: \
	NEXTBLOCK(640, cbytes, 16) \
reduce: \
	GEMM_REDUCE2(tokens+56(FP), rowB, 0, Z20, Y20, Z21, Y21, Z22, Y22, Z23, Y23) \
rowB: \
	CMPQ R12, $2 \
	JB   done \
	GEMM_REDUCE2(tokens+56(FP), tiledone, 4, Z24, Y24, Z25, Y25, Z26, Y26, Z27, Y27) \
tiledone: \
	ADDQ $8, R10 \
	NEXTROWS(2, cshift) \
	SUBQ $2, R12 \
	JMP  tile \
done: \
	VZEROUPPER \
	RET

// GEMM_TOKEN8_VNNI(base, acc) is GEMM_TOKEN2 for one row and AVX2 with
// AVX-VNNI: the expanded codes in Y0..Y7, the decoded scales in Y12, the
// offsets in Y13. Clobbers Y14, Y15.
#define GEMM_TOKEN8_VNNI(base, acc) \
	VPXOR Y14, Y14, Y14 \
	GEMM_VNNI8(base+0, 0) \
	GEMM_VNNI8(base+32, 1) \
	GEMM_VNNI8(base+64, 2) \
	GEMM_VNNI8(base+96, 3) \
	GEMM_VNNI8(base+128, 4) \
	GEMM_VNNI8(base+160, 5) \
	GEMM_VNNI8(base+192, 6) \
	GEMM_VNNI8(base+224, 7) \
	GEMM_SCALE8(base, acc)

// GEMM_VNNI8(off, c) adds the products of the activation vector at off(AX)
// with the codes in Y(c) to Y14. Clobbers Y15.
#define GEMM_VNNI8(off, c) \
	VMOVDQU off(AX), Y15 \
	VNNIY(14, c, 15)

// GEMM_TOKEN8_MADD(base, acc) is GEMM_TOKEN8_VNNI with VPMADDUBSW int16
// pair sums (codes of at most 15: at most 8·2·15·128 = 30720, no
// saturation), widened by VPMADDWD.
#define GEMM_TOKEN8_MADD(base, acc) \
	VPMADDUBSW base+0(AX), Y0, Y14 \
	GEMM_MADD8(base+32, Y1, Y14) \
	GEMM_MADD8(base+64, Y2, Y14) \
	GEMM_MADD8(base+96, Y3, Y14) \
	GEMM_MADD8(base+128, Y4, Y14) \
	GEMM_MADD8(base+160, Y5, Y14) \
	GEMM_MADD8(base+192, Y6, Y14) \
	GEMM_MADD8(base+224, Y7, Y14) \
	VPMADDWD   wordOnes<>(SB), Y14, Y14 \
	GEMM_SCALE8(base, acc)

// GEMM_MADD8(off, c, acc) adds the int16 pair sums of the products of the
// activation vector at off(AX) with the codes c to acc. Clobbers Y15.
#define GEMM_MADD8(off, c, acc) \
	VPMADDUBSW off(AX), c, Y15 \
	VPADDW     Y15, acc, acc

// GEMM_SCALE8(base, acc) folds a token's integer sums Y14 into acc:
//	acc += d · (float(i)·D + o·S')
#define GEMM_SCALE8(base, acc) \
	VCVTDQ2PS   Y14, Y14 \
	VMULPS      base+256(AX), Y14, Y14 \
	VFMADD231PS base+288(AX), Y13, Y14 \
	VFMADD231PS Y12, Y14, acc

// wordOnes<> is 16 int16 ones (VPMADDWD widening).
DATA wordOnes<>+0(SB)/8, $0x0001000100010001
DATA wordOnes<>+8(SB)/8, $0x0001000100010001
DATA wordOnes<>+16(SB)/8, $0x0001000100010001
DATA wordOnes<>+24(SB)/8, $0x0001000100010001
GLOBL wordOnes<>(SB), RODATA|NOPTR, $32

// GROUPED_GEMM8(cbytes, cshift, TOKEN, lanes) is GROUPED_GEMM16 for AVX2:
// blocks of 8 groups of cbytes = 8<<cshift code bytes, one row at a time,
// multiplied with every token by TOKEN (GEMM_TOKEN8_VNNI or
// GEMM_TOKEN8_MADD); lanes is the VPERMD index (8 dwords) that puts the
// row's scales and offsets in the codes' lane order. When the last block
// holds r <= 4 groups, the rows go in pairs with a packed tail, as in
// GROUPED_GEMV8. The format supplies
//	GM8_CODES      loads a full block's codes
//	GM8_TAILCODES  loads those of the last r = CX < 8 groups with
//	               VPMASKMOVD (R8: dwordMasks, R10: 64-8r)
//	GM8_PAIRCODES  loads those of the last r = CX <= 4 groups of rows A
//	               (SI - DX) and B (SI) as one block (R8: dwordMasks;
//	               temporaries R10, R14)
//	GM8_EXPAND     expands them into Y0..Y7 (code vector k pairs with
//	               prepared activation vector k); temporaries Y12..Y15, R8
// Registers as in GROUPED_GEMM16, but R9 the first token's output (TAIL8
// takes R10), Y8..Y11 the tokens' sums, Y12 the block's decoded scales,
// Y13 its offsets; R14 sweeps the next row (3 cache lines a block). In
// the lane order of the codes (int2Lanes8, int4Lanes8), each 128-bit
// half of a packed tail holds two groups of row A, then two of row B.
#define GROUPED_GEMM8(cbytes, cshift, TOKEN, lanes) \
	GROUPED_ARGS(8) \
	MOVQ rows+32(FP), R12 \
	MOVQ out+64(FP), R9 \
	MOVQ ldo+72(FP), R11 \
	SHLQ $2, R11 \
	MOVQ groups+40(FP), CX \
	ANDQ $7, CX \
	JZ   row8 \
	CMPQ CX, $4 \
	JA   row8 \
	MOVQ groups+40(FP), R13 \
	ANDQ $-8, R13 \
pair8: \
	CMPQ R12, $2 \
	JB   single8 \
	GM8_FULLROW(blockA8, nextA8, fullA8, doneA8, cbytes, TOKEN, lanes, R9) \
	NEXTROWS(1, cshift) \
	LEAQ 4(R9), R10 \
	GM8_FULLROW(blockB8, nextB8, fullB8, doneB8, cbytes, TOKEN, lanes, R10) \
	MOVQ groups+40(FP), CX \
	ANDQ $7, CX \
	LEAQ dwordMasks<>(SB), R8 \
	GM8_PAIRCODES \
	GM8_EXPAND \
	PAIRSHIFT \
	PAIRSEC8(BX, X12, Y12, VPMOVZXBD, R8, R10) \
	PAIRSEC8(DI, X13, Y13, VPMOVSXBD, R8, R10) \
	GM8_SCALES(lanes) \
	GEMM_ZERO8 \
	GEMM_TOKENS8(TOKEN, tokens+56(FP), ptok8) \
ptok8: \
	GEMM_PAIRSUM8(tokens+56(FP), pdone8, R9, GEMM_PAIRSUM1) \
pdone8: \
	NEXTROWS(1, cshift) \
	ADDQ $8, R9 \
	SUBQ $2, R12 \
	JMP  pair8 \
single8: \
	MOVQ groups+40(FP), R13 \
	ADDQ $7, R13 \
	ANDQ $-8, R13 \
row8: \
	TESTQ R12, R12 \
	JZ    done8 \
	LEAQ  (SI)(DX*1), R14 \
	GEMM_ZERO8 \
	MOVQ  act+48(FP), AX \
	MOVQ  groups+40(FP), CX \
block8: \
	PREFETCHT0 0(R14) \
	PREFETCHT0 64(R14) \
	PREFETCHT0 128(R14) \
	ADDQ       $(cbytes+16), R14 \
	CMPQ       CX, $8 \
	JB         tail8 \
	GM8_CODES \
	GM8_EXPAND \
	VPMOVZXBD  (BX), Y12 \
	VPMOVSXBD  (DI), Y13 \
	JMP        scales8 \
tail8: \
	MOVQ CX, R10 \
	SHLQ $3, R10 \
	NEGQ R10 \
	ADDQ $64, R10 \
	LEAQ dwordMasks<>(SB), R8 \
	GM8_TAILCODES \
	GM8_EXPAND \
	TAIL8(Y12, X12, Y13, X13) \
scales8: \
	GM8_SCALES(lanes) \
	GEMM_TOKENS8(TOKEN, tokens+56(FP), next8) \
next8: \
	NEXTBLOCK(320, cbytes, 8) \
	JG   block8 \
	GEMM_REDUCE8(tokens+56(FP), rowdone8, R9) \
rowdone8: \
	ADDQ $4, R9 \
	NEXTROWS(1, cshift) \
	DECQ R12 \
	JMP  row8 \
done8: \
	VZEROUPPER \
	RET

// GM8_SCALES(lanes) decodes the block's scale codes (Y12) and converts
// its offset codes (Y13) to floats, both put in the codes' lane order.
#define GM8_SCALES(lanes) \
	VPSLLD       $20, Y12, Y12 \
	VPBROADCASTD scaleBias<>(SB), Y14 \
	VPADDD       Y14, Y12, Y12 \
	VCVTDQ2PS    Y13, Y13 \
	VMOVDQU      lanes, Y14 \
	VPERMD       Y12, Y14, Y12 \
	VPERMD       Y13, Y14, Y13

// GM8_FULLROW(block, next, full, done, cbytes, TOKEN, lanes, out) adds the
// products of the full blocks (R13 groups) of the row at SI, BX, DI with
// the tokens to their outputs from out on (GROUPED_GEMM8), leaving SI,
// BX, DI at its last block and AX at that block's activations.
#define GM8_FULLROW(block, next, full, done, cbytes, TOKEN, lanes, out) \
	GEMM_ZERO8 \
	MOVQ  act+48(FP), AX \
	MOVQ  R13, CX \
	TESTQ CX, CX \
	JZ    full \
	LEAQ  (SI)(DX*1), R14 \
block: \
	PREFETCHT0 0(R14) \
	PREFETCHT0 64(R14) \
	PREFETCHT0 128(R14) \
	ADDQ       $(cbytes+16), R14 \
	GM8_CODES \
	GM8_EXPAND \
	VPMOVZXBD  (BX), Y12 \
	VPMOVSXBD  (DI), Y13 \
	GM8_SCALES(lanes) \
	GEMM_TOKENS8(TOKEN, tokens+56(FP), next) \
next: \
	NEXTBLOCK(320, cbytes, 8) \
	JG   block \
full: \
	GEMM_REDUCE8(tokens+56(FP), done, out) \
done:

// GEMM_PAIRSUM1(y, x, dst) adds the sums of rows A and B in the token sum
// y (view x) of a packed AVX2 tail, in the codes' lane order, to the two
// float32 at dst. Clobbers X0.
#define GEMM_PAIRSUM1(y, x, dst) \
	VEXTRACTF128 $1, y, X0 \
	VADDPS       X0, x, x \
	PAIRSUM8(x, X0, dst)

// GEMM_PAIRSUMH(y, x, dst) is GEMM_PAIRSUM1 for codes in group order:
// row A's groups in the low half of y, B's in the high half.
#define GEMM_PAIRSUMH(y, x, dst) \
	VEXTRACTF128 $1, y, X0 \
	VHADDPS      X0, x, x \
	PAIRSUM8(x, X0, dst)

// GEMM_PAIRSUM8(tok, done, out, SUM1) adds the tokens' sums Y8..Y11 of a
// packed AVX2 tail to the outputs of rows A and B at out + t·R11 with
// SUM1 (GEMM_PAIRSUM1 or GEMM_PAIRSUMH), then goes on at done. Clobbers
// X0, R8.
#define GEMM_PAIRSUM8(tok, done, out, SUM1) \
	SUM1(Y8, X8, (out)) \
	CMPQ tok, $2 \
	JB   done \
	SUM1(Y9, X9, (out)(R11*1)) \
	CMPQ tok, $3 \
	JB   done \
	SUM1(Y10, X10, (out)(R11*2)) \
	CMPQ tok, $4 \
	JB   done \
	LEAQ (out)(R11*1), R8 \
	SUM1(Y11, X11, (R8)(R11*2))
