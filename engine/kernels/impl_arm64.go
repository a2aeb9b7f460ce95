//go:build arm64 && !purego

package kernels

import (
	"golang.org/x/sys/cpu"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// The arm64 Impls, in assembly (*_arm64.s): "neon" runs on every ARMv8 CPU
// and multiplies bytes into 16-bit lanes (SMULL/SMLAL); "neondot" needs the
// ARMv8.2 dot product (SDOT, four byte products per 32-bit lane: Cortex-A55,
// A76, X1 and later). Both share the F32 GEMV, the Int2 weight expansion of
// GEMM and the streaming sum.
func init() {
	register(arm64Impl("neon", 10, cpu.ARM64.HasASIMD, arm64GEMVs{
		int2: gemvInt2NEON, int4: gemvInt4NEON, int8: gemvInt8NEON, int2x: gemvInt2xNEON,
	}))
	register(arm64Impl("neondot", 20, cpu.ARM64.HasASIMD && cpu.ARM64.HasASIMDDP, arm64GEMVs{
		int2: gemvInt2NEONDot, int4: gemvInt4NEONDot, int8: gemvInt8NEONDot, int2x: gemvInt2xNEONDot,
	}))
}

// asmGEMV is the signature of the quantized GEMV kernels in assembly. For
// rows r in [0, rows), rows a multiple of 4, each computes the loop of the
// format's generic kernel (gemvInt2Generic, gemvInt4Generic,
// gemvInt8Generic):
//
//	row := w[r*stride:]
//	var acc float32
//	for g := 0; g < n/32; g++ {
//		d, o := row's scale and offset of group g
//		isum := Σ_j code(row, 32g+j) * int32(qs[32g+j])
//		acc += d * (D[g]*float32(isum) + o*S[g])
//	}
//	out[r] = acc
//
// with the integer sums exact and the float terms of four consecutive
// groups kept in the four lanes of a vector, added together at the end.
// stride 0 computes one row four times.
type asmGEMV func(w *byte, stride, n, rows int, qs *int8, d, s *float32, out *float32)

// gemvInt2NEON is asmGEMV for Int2 rows, with SMULL/SMLAL.
//
//go:noescape
func gemvInt2NEON(w *byte, stride, n, rows int, qs *int8, d, s *float32, out *float32)

// gemvInt4NEON is asmGEMV for Int4 rows, with SMULL/SMLAL.
//
//go:noescape
func gemvInt4NEON(w *byte, stride, n, rows int, qs *int8, d, s *float32, out *float32)

// gemvInt8NEON is asmGEMV for Int8 rows, with SMULL/SADALP.
//
//go:noescape
func gemvInt8NEON(w *byte, stride, n, rows int, qs *int8, d, s *float32, out *float32)

// gemvInt2xNEON is asmGEMV for expanded Int2 rows (see expandInt2Row), with
// SMULL/SMLAL.
//
//go:noescape
func gemvInt2xNEON(w *byte, stride, n, rows int, qs *int8, d, s *float32, out *float32)

// gemvInt2NEONDot is asmGEMV for Int2 rows, with SDOT.
//
//go:noescape
func gemvInt2NEONDot(w *byte, stride, n, rows int, qs *int8, d, s *float32, out *float32)

// gemvInt4NEONDot is asmGEMV for Int4 rows, with SDOT.
//
//go:noescape
func gemvInt4NEONDot(w *byte, stride, n, rows int, qs *int8, d, s *float32, out *float32)

// gemvInt8NEONDot is asmGEMV for Int8 rows, with SDOT.
//
//go:noescape
func gemvInt8NEONDot(w *byte, stride, n, rows int, qs *int8, d, s *float32, out *float32)

// gemvInt2xNEONDot is asmGEMV for expanded Int2 rows (see expandInt2Row),
// with SDOT.
//
//go:noescape
func gemvInt2xNEONDot(w *byte, stride, n, rows int, qs *int8, d, s *float32, out *float32)

// expandInt2 writes the 2-bit codes of groups Int2 groups as one byte per
// weight, in order:
//
//	for i := 0; i < 32*groups; i++ {
//		g, j := i/32, i%32
//		dst[i] = codes[8*g+j%8] >> (2 * (j / 8)) & 3
//	}
//
//go:noescape
func expandInt2(codes *byte, groups int, dst *byte)

// gemvF32NEON computes, for rows r in [0, rows), rows a multiple of 4,
//
//	out[r] = Σ_i float32 at w[r*stride+4i] · x[i]   (i < n)
//
// with 16 partial sums per row (FMLA), added together at the end.
//
//go:noescape
func gemvF32NEON(w *byte, stride, n, rows int, x *float32, out *float32)

// streamSumNEON returns the sum (mod 2^64) of the n/8 little-endian 64-bit
// words at b, n a multiple of 64: the loop of streamSumGeneric.
//
//go:noescape
func streamSumNEON(b *byte, n int) uint64

// arm64GEMVs are one Impl's quantized GEMV kernels; int2x is the kernel of
// expanded Int2 rows used by GEMM.
type arm64GEMVs struct{ int2, int4, int8, int2x asmGEMV }

func arm64Impl(name string, priority int, supported bool, k arm64GEMVs) *Impl {
	im := &Impl{Name: name, Supported: supported, Priority: priority,
		gemvF32: gemvF32ARM64, streamSum: streamSumARM64}
	im.gemv[quant.Int2] = wrapGEMV(k.int2, formatRowBytes(quant.Int2))
	im.gemv[quant.Int4] = wrapGEMV(k.int4, formatRowBytes(quant.Int4))
	im.gemv[quant.Int8] = wrapGEMV(k.int8, formatRowBytes(quant.Int8))
	im.gemm[quant.Int2] = gemmInt2Expanded(im.gemv[quant.Int2], wrapGEMV(k.int2x, expandedRowBytes))
	return im
}

func formatRowBytes(f quant.Format) func(n int) int {
	return func(n int) int {
		rb, _ := f.RowBytes(n)
		return rb
	}
}

// wrapGEMV makes a gemvKernel of an assembly kernel whose rows of n weights
// take rowBytes(n) bytes. The assembly does not check bounds, so the
// wrapper indexes the last byte each input must have (a Go panic on a
// caller's bug instead of a wild read).
func wrapGEMV(k asmGEMV, rowBytes func(n int) int) gemvKernel {
	return func(w []byte, stride, n int, x *quant.Q8, out []float32) {
		if len(out) == 0 {
			return
		}
		groups := n / quant.GroupSize
		_ = w[(len(out)-1)*stride+rowBytes(n)-1]
		_, _, _ = x.Qs[n-1], x.D[groups-1], x.S[groups-1]
		byFours(w, stride, out, func(w *byte, stride, rows int, out *float32) {
			k(w, stride, n, rows, &x.Qs[0], &x.D[0], &x.S[0], out)
		})
	}
}

// gemvF32ARM64 is the gemvF32Kernel of gemvF32NEON.
func gemvF32ARM64(w []byte, stride, n int, x []float32, out []float32) {
	if len(out) == 0 {
		return
	}
	_ = w[(len(out)-1)*stride+4*n-1]
	_ = x[n-1]
	byFours(w, stride, out, func(w *byte, stride, rows int, out *float32) {
		gemvF32NEON(w, stride, n, rows, &x[0], out)
	})
}

// byFours runs a kernel that computes rows in fours on the rows of out: the
// whole fours in one call, then each remaining row alone as four copies of
// itself (stride 0) into a scratch array.
func byFours(w []byte, stride int, out []float32, k func(w *byte, stride, rows int, out *float32)) {
	full := len(out) &^ 3
	if full > 0 {
		k(&w[0], stride, full, &out[0])
	}
	for r := full; r < len(out); r++ {
		var four [4]float32
		k(&w[r*stride], 0, 4, &four[0])
		out[r] = four[0]
	}
}

// streamSumARM64 is the streamSum of streamSumNEON.
func streamSumARM64(b []byte) uint64 {
	n := len(b) &^ 63
	if n == 0 {
		return 0
	}
	return streamSumNEON(&b[0], n)
}

// expandedTileBytes bounds the expanded weights GEMM keeps in the cache
// while it passes over the activation vectors.
const expandedTileBytes = 64 << 10

// expandedRowBytes is the size of an expanded Int2 row of n weights: n
// weight bytes, then the row's scale codes and offset codes.
func expandedRowBytes(n int) int { return n + 2*(n/quant.GroupSize) }

// expandInt2Row writes the Int2 row of n weights as an expanded row
// (expandedRowBytes(n) bytes): one byte per weight, in order, then the
// row's scale and offset codes unchanged.
func expandInt2Row(row []byte, n int, dst []byte) {
	groups := n / quant.GroupSize
	tail := row[n/4 : n/4+2*groups]
	copy(dst[n:n+2*groups], tail)
	expandInt2(&row[0], groups, &dst[0])
}

// gemmInt2Expanded returns an Int2 gemmKernel that expands a tile of rows
// to a byte per weight once, then runs the expanded-row kernel on the tile
// for every activation vector, so the 2-bit unpacking is not repeated per
// token. A single vector goes to gemv directly.
func gemmInt2Expanded(gemv, expanded gemvKernel) gemmKernel {
	return func(w []byte, stride, n, rows int, xs []*quant.Q8, out []float32, ldo int) {
		if len(xs) < 2 {
			gemmByGEMV(gemv)(w, stride, n, rows, xs, out, ldo)
			return
		}
		erb := expandedRowBytes(n)
		tile := min(rows, max(4, expandedTileBytes/erb&^3))
		buf := make([]byte, tile*erb)
		for lo := 0; lo < rows; lo += tile {
			hi := min(lo+tile, rows)
			for r := lo; r < hi; r++ {
				expandInt2Row(w[r*stride:r*stride+stride], n, buf[(r-lo)*erb:(r-lo+1)*erb])
			}
			for t, x := range xs {
				expanded(buf, erb, n, x, out[t*ldo+lo:t*ldo+hi])
			}
		}
	}
}
