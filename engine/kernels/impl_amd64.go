//go:build amd64 && !purego

package kernels

import (
	"golang.org/x/sys/cpu"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// The x86 features the kernels need, read once at start-up.
var (
	// hasAVX2 gates the avx2 Impl: AVX2 and FMA for the arithmetic, BMI2
	// (SHRX) for the row tails.
	hasAVX2 = cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasBMI2
	// hasAVXVNNI selects the VEX-encoded VPDPBUSD in the avx2 Impl.
	hasAVXVNNI = hasAVX2 && cpu.X86.HasAVXVNNI
	// hasAVX512 gates the avx512 Impl: F, BW (byte masks), VL and VNNI.
	hasAVX512 = hasAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL &&
		cpu.X86.HasAVX512VNNI
	// hasGFNI selects the GF2P8AFFINEQB code extraction in the avx512 Impl.
	hasGFNI = hasAVX512 && cpu.X86.HasAVX512GFNI
)

func init() {
	register(newAVX2Impl(hasAVXVNNI))
	register(newAVX512Impl(hasGFNI))
}

// newAVX2Impl returns the AVX2 kernels, using AVX-VNNI dot products when
// vnni is set and VPMADDUBSW/VPMADDWD otherwise.
func newAVX2Impl(vnni bool) *Impl {
	im := &Impl{Name: "avx2", Supported: hasAVX2 && (hasAVXVNNI || !vnni), Priority: 10,
		gemvF32: gemvF32AVX2, gemmF32: gemmF32AVX2, streamSum: streamSumX8}
	setGrouped(im, 8, vnni)
	im.gemv[quant.Int8] = func(w []byte, stride, n int, x *quant.Q8, out []float32) {
		gemvInt8AVX2(w, stride, n, x, out, vnni)
	}
	setGEMMs(im, 8, vnni)
	return im
}

// newAVX512Impl returns the AVX-512 VNNI kernels, extracting the 2- and
// 4-bit codes with GF2P8AFFINEQB when gfni is set and shifts otherwise.
func newAVX512Impl(gfni bool) *Impl {
	im := &Impl{Name: "avx512", Supported: hasAVX512 && (hasGFNI || !gfni), Priority: 20,
		gemvF32: gemvF32AVX512, gemmF32: gemmF32AVX512, softmax: softmaxAVX512,
		streamSum: streamSumX16}
	setGrouped(im, 16, gfni)
	im.gemv[quant.Int8] = gemvInt8AVX512
	setGEMMs(im, 16, gfni)
	return im
}

// setGrouped sets the Int2 and Int4 GEMVs of im to the kernels with blocks
// of bg groups and extension ext (see gemvGrouped).
func setGrouped(im *Impl, bg int, ext bool) {
	for _, f := range []quant.Format{quant.Int2, quant.Int4} {
		im.gemv[f] = func(w []byte, stride, n int, x *quant.Q8, out []float32) {
			gemvGrouped(w, stride, n, x, out, f, bg, ext)
		}
	}
}

// The assembly kernels (*_amd64.s). Each Int2/Int4 kernel computes, for
// rows r in [0, rows) whose code, scale and offset sections (quant's row
// layouts) start at codes, scales and offs plus r·stride, over their
// first groups groups:
//
//	for r := 0; r < rows; r++ {
//		for g := 0; g < groups; g++ {
//			isum := int32(0)
//			for j := 0; j < 32; j++ {
//				isum += int32(q[r][g][j]) * int32(Qs[32g+j])
//			}
//			out[r] += d[r][g] * (D[g]*float32(isum) + o[r][g]*S[g])
//		}
//	}
//
// with the integer sums exact and the float sums in an order of their
// own; Qs, D and S·unit come from act, prepared by prepareAct for the
// kernel's block size and lane order (see actGroupBytes).

// int2GEMVx16 is the Int2 kernel for AVX-512 (blocks of 16 groups, 4 rows
// at a time), extracting the codes with shifts.
//
//go:noescape
func int2GEMVx16(codes, scales, offs *byte, stride, rows, groups int, act *byte, out *float32)

// int2GEMVx16GFNI is int2GEMVx16 extracting the codes with GF2P8AFFINEQB.
//
//go:noescape
func int2GEMVx16GFNI(codes, scales, offs *byte, stride, rows, groups int, act *byte, out *float32)

// int4GEMVx16 is the Int4 kernel for AVX-512 (blocks of 16 groups, 2 rows
// at a time), extracting the high nibbles with shifts.
//
//go:noescape
func int4GEMVx16(codes, scales, offs *byte, stride, rows, groups int, act *byte, out *float32)

// int4GEMVx16GFNI is int4GEMVx16 extracting the high nibbles with
// GF2P8AFFINEQB.
//
//go:noescape
func int4GEMVx16GFNI(codes, scales, offs *byte, stride, rows, groups int, act *byte, out *float32)

// int2GEMVx8 is the Int2 kernel for AVX2 (blocks of 8 groups, one row at
// a time), with VPMADDUBSW/VPMADDWD dot products.
//
//go:noescape
func int2GEMVx8(codes, scales, offs *byte, stride, rows, groups int, act *byte, out *float32)

// int2GEMVx8VNNI is int2GEMVx8 with AVX-VNNI VPDPBUSD dot products.
//
//go:noescape
func int2GEMVx8VNNI(codes, scales, offs *byte, stride, rows, groups int, act *byte, out *float32)

// int4GEMVx8 is the Int4 kernel for AVX2 (blocks of 8 groups, one row at
// a time), with VPMADDUBSW/VPMADDWD dot products.
//
//go:noescape
func int4GEMVx8(codes, scales, offs *byte, stride, rows, groups int, act *byte, out *float32)

// int4GEMVx8VNNI is int4GEMVx8 with AVX-VNNI VPDPBUSD dot products.
//
//go:noescape
func int4GEMVx8VNNI(codes, scales, offs *byte, stride, rows, groups int, act *byte, out *float32)

// int2GEMMx16 is int2GEMVx16 for tokens (1 to 4) activation vectors
// prepared gemmActBytes apart in act (D and S' in the codes' lane order,
// laneScales), two rows at a time, each block's expanded codes reused
// for every token:
//
//	for t := 0; t < tokens; t++ {
//		for r := 0; r < rows; r++ {
//			out[t*ldo+r] += (row r times token t, as int2GEMVx16)
//		}
//	}
//
//go:noescape
func int2GEMMx16(codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)

// int2GEMMx16GFNI is int2GEMMx16 extracting the codes with GF2P8AFFINEQB.
//
//go:noescape
func int2GEMMx16GFNI(codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)

// int8GEMVx16 is the Int8 kernel for AVX-512 (blocks of 16 groups, one row
// at a time). It reads the activations as they are (the codes are in
// activation order), and the offset of every group is -128:
//
//	for r := 0; r < rows; r++ {
//		for g := 0; g < groups; g++ {
//			isum := int32(0)
//			for j := 0; j < 32; j++ {
//				isum += int32(codes[r][32g+j]) * int32(qs[32g+j])
//			}
//			out[r] += d[r][g] * (D[g]*float32(isum) - 128*S[g])
//		}
//	}
//
//go:noescape
func int8GEMVx16(codes, scales *byte, stride, rows, groups int, qs *int8, d, s *float32, out *float32)

// int8GEMVx8 is int8GEMVx16 for AVX2 (blocks of 8 groups), with the codes
// widened to int16 for VPMADDWD.
//
//go:noescape
func int8GEMVx8(codes, scales *byte, stride, rows, groups int, qs *int8, d, s *float32, out *float32)

// int8GEMVx8VNNI is int8GEMVx8 with AVX-VNNI VPDPBUSD dot products.
//
//go:noescape
func int8GEMVx8VNNI(codes, scales *byte, stride, rows, groups int, qs *int8, d, s *float32, out *float32)

// transposeQ8x16 writes blocks blocks of 16 groups of activations in the
// AVX-512 layout (see actGroupBytes). order holds the byte offsets
// (32·group) of a block's groups in the order the transpose loads them
// (loadOrder16), p(i) the group it leaves in lane i:
//
//	for b := 0; b < blocks; b++ {
//		for e := 0; e < 8; e++ {
//			for i := 0; i < 16; i++ {
//				dst[b].Y[e][i] = qs[32·(16b+p(i)) + 4e : +4]
//			}
//		}
//		for i := 0; i < 16; i++ {
//			dst[b].D[i], dst[b].S[i] = d[16b+i], s[16b+i]*unit
//		}
//	}
//
//go:noescape
func transposeQ8x16(dst *byte, qs *int8, d, s *float32, blocks int, unit float32, order *[16]int)

// transposeQ8x8 is transposeQ8x16 for the AVX2 layout: blocks of 8 groups
// (order[:8], loadOrder8).
//
//go:noescape
func transposeQ8x8(dst *byte, qs *int8, d, s *float32, blocks int, unit float32, order *[16]int)

// gemvF32x16 computes F32 rows times float activations with AVX-512, 4
// rows at a time:
//
//	for r := 0; r < rows; r++ {
//		for i := 0; i < n; i++ {
//			out[r] += w[r][i] * x[i]
//		}
//	}
//
//go:noescape
func gemvF32x16(w *byte, stride, rows, n int, x *float32, out *float32)

// gemvF32x8 is gemvF32x16 for AVX2.
//
//go:noescape
func gemvF32x8(w *byte, stride, rows, n int, x *float32, out *float32)

// streamSumX16 adds the 64-bit words of b (its length a multiple of 64)
// with AVX-512 loads:
//
//	for i := 0; i < len(b); i += 8 {
//		s += binary.LittleEndian.Uint64(b[i:])
//	}
//
//go:noescape
func streamSumX16(b []byte) uint64

// streamSumX8 is streamSumX16 with AVX2 loads.
//
//go:noescape
func streamSumX8(b []byte) uint64
