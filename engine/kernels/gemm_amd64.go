//go:build amd64 && !purego

package kernels

import (
	"encoding/binary"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// The GEMMs of the avx2 and avx512 Impls. A pass multiplies each row with
// up to gemmTokens activation vectors: the kernel expands a block of the
// row's codes once (Int2, Int4: the codes unpacked to bytes; Int8: the
// codes transposed like the activations, one group per lane) and
// multiplies it with every token, so each weight byte comes from memory
// once per pass instead of once per token. The tokens' prepared
// activations (gemv_amd64.go) lie gemmActBytes apart, with their D and S'
// in the lane order of the expanded codes (laneScales); the kernels put
// the row's scales and offsets in that order too.

// Lane orders of the Int8 GEMMs' code transposes: AVX-512 loads groups 2j
// and 2j+1 into the halves of vector j, which transposeQ8x16's shuffles
// leave in this order; AVX2 loads group j into vector j and keeps group
// order.
var (
	int8Lanes16 = [16]int{0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15}
	int8Lanes8  = [16]int{0, 1, 2, 3, 4, 5, 6, 7}
	int8Order16 = loadOrder16(int8Lanes16)
	int8Order8  = loadOrder8(int8Lanes8)
)

// setGEMMs sets the GEMMs of im to the kernels with blocks of bg groups
// (16: AVX-512, 8: AVX2) and extension ext (GFNI for AVX-512, AVX-VNNI for
// AVX2).
func setGEMMs(im *Impl, bg int, ext bool) {
	for _, f := range []quant.Format{quant.Int2, quant.Int4, quant.Int8} {
		im.gemm[f] = func(w []byte, stride, n, rows int, xs []*quant.Q8, out []float32, ldo int) {
			gemmGrouped(im, w, stride, n, rows, xs, out, ldo, f, bg, ext)
		}
	}
}

// gemmGrouped is the GEMM of rows of format f. The tokens are spread
// evenly over the fewest passes of at most gemmTokens (5 tokens: 3 and
// 2), so that no pass has one token; one token alone is a GEMV.
func gemmGrouped(im *Impl, w []byte, stride, n, rows int, xs []*quant.Q8, out []float32, ldo int, f quant.Format, bg int, ext bool) {
	if len(xs) == 1 {
		im.gemv[f](w, stride, n, xs[0], out[:rows])
		return
	}
	var scratch actScratch
	act := scratch.aligned()
	groups := n / quant.GroupSize
	groupCodes := quant.GroupSize * f.Bits() / 8
	order, lanes := gemmLayout(f, bg)
	unit := f.OffsetUnit()
	if f == quant.Int8 {
		unit = -128 // the constant offset of every Int8 group
	}
	for t := range xs {
		clear(out[t*ldo : t*ldo+rows])
	}
	passes := (len(xs) + gemmTokens - 1) / gemmTokens
	for t0 := 0; t0 < len(xs); passes-- {
		tokens := (len(xs) - t0 + passes - 1) / passes
		for g0 := 0; g0 < groups; g0 += gemmColGroups {
			cg := min(gemmColGroups, groups-g0)
			for t := range tokens {
				a := act[t*gemmActBytes : (t+1)*gemmActBytes]
				prepareAct(a, xs[t0+t], g0, cg, bg, tailPack(f, bg, false), unit, order)
				if lanes != nil {
					laneScales(a, cg, bg, lanes)
				}
			}
			var offs *byte
			if f != quant.Int8 {
				offs = &w[groups*groupCodes+groups+g0]
			}
			groupedGEMM(f, bg, ext, &w[g0*groupCodes], &w[groups*groupCodes+g0], offs,
				stride, rows, cg, &act[0], tokens, &out[t0*ldo], ldo)
		}
		t0 += tokens
	}
}

// gemmLayout returns the load order of the activations for the GEMM of
// format f with blocks of bg groups, and the lane order of its codes (nil
// when it is group order).
func gemmLayout(f quant.Format, bg int) (order, lanes *[16]int) {
	switch {
	case f == quant.Int8 && bg == 16:
		return &int8Order16, &int8Lanes16
	case f == quant.Int8:
		return &int8Order8, nil
	case f == quant.Int2 && bg == 16:
		return &int2Order16, nil
	case f == quant.Int2:
		return &int2Order8, &int2Lanes8
	case bg == 16:
		return &int4Order16, &int4Lanes16
	}
	return &int4Order8, &int4Lanes8
}

// laneScales puts the D and S' of each prepared block of bg groups (cg
// groups in all) in the lane order p: lane i gets those of group p(i).
func laneScales(act []byte, cg, bg int, p *[16]int) {
	var t [2 * 16]uint32
	for b := 0; b < (cg+bg-1)/bg; b++ {
		s := act[b*bg*actGroupBytes+32*bg : (b+1)*bg*actGroupBytes]
		for i := range 2 * bg {
			t[i] = binary.LittleEndian.Uint32(s[4*i:])
		}
		for i := range bg {
			binary.LittleEndian.PutUint32(s[4*i:], t[p[i]])
			binary.LittleEndian.PutUint32(s[4*(bg+i):], t[bg+p[i]])
		}
	}
}

// groupedGEMM calls the assembly GEMM for format f, block size bg and
// extension ext (direct calls, so that act stays on the caller's stack).
func groupedGEMM(f quant.Format, bg int, ext bool, codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int) {
	switch {
	case f == quant.Int8 && bg == 16:
		int8GEMMx16(codes, scales, stride, rows, groups, act, tokens, out, ldo)
	case f == quant.Int8 && ext:
		int8GEMMx8VNNI(codes, scales, stride, rows, groups, act, tokens, out, ldo)
	case f == quant.Int8:
		int8GEMMx8(codes, scales, stride, rows, groups, act, tokens, out, ldo)
	case bg == 16 && f == quant.Int2 && ext:
		int2GEMMx16GFNI(codes, scales, offs, stride, rows, groups, act, tokens, out, ldo)
	case bg == 16 && f == quant.Int2:
		int2GEMMx16(codes, scales, offs, stride, rows, groups, act, tokens, out, ldo)
	case bg == 16 && ext:
		int4GEMMx16GFNI(codes, scales, offs, stride, rows, groups, act, tokens, out, ldo)
	case bg == 16:
		int4GEMMx16(codes, scales, offs, stride, rows, groups, act, tokens, out, ldo)
	case f == quant.Int2 && ext:
		int2GEMMx8VNNI(codes, scales, offs, stride, rows, groups, act, tokens, out, ldo)
	case f == quant.Int2:
		int2GEMMx8(codes, scales, offs, stride, rows, groups, act, tokens, out, ldo)
	case ext:
		int4GEMMx8VNNI(codes, scales, offs, stride, rows, groups, act, tokens, out, ldo)
	default:
		int4GEMMx8(codes, scales, offs, stride, rows, groups, act, tokens, out, ldo)
	}
}

// int4GEMMx16 is int2GEMMx16 (impl_amd64.go) for Int4 rows: int4GEMVx16
// for 1 to 4 tokens, two rows at a time, each block's codes expanded once.
//
//go:noescape
func int4GEMMx16(codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)

// int4GEMMx16GFNI is int4GEMMx16 extracting the high nibbles with
// GF2P8AFFINEQB.
//
//go:noescape
func int4GEMMx16GFNI(codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)

// int2GEMMx8 is int2GEMMx16 for AVX2 (blocks of 8 groups, one row at a
// time), with VPMADDUBSW/VPMADDWD dot products.
//
//go:noescape
func int2GEMMx8(codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)

// int2GEMMx8VNNI is int2GEMMx8 with AVX-VNNI VPDPBUSD dot products.
//
//go:noescape
func int2GEMMx8VNNI(codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)

// int4GEMMx8 is int4GEMMx16 for AVX2 (blocks of 8 groups, one row at a
// time), with VPMADDUBSW/VPMADDWD dot products.
//
//go:noescape
func int4GEMMx8(codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)

// int4GEMMx8VNNI is int4GEMMx8 with AVX-VNNI VPDPBUSD dot products.
//
//go:noescape
func int4GEMMx8VNNI(codes, scales, offs *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)

// int8GEMMx16 is int8GEMVx16 for 1 to 4 tokens prepared gemmActBytes apart
// in act (blocks of 16 groups, the offset -128 in S'), two rows at a time,
// each block's codes transposed once:
//
//	for t := 0; t < tokens; t++ {
//		for r := 0; r < rows; r++ {
//			out[t*ldo+r] += (row r times token t, as int8GEMVx16)
//		}
//	}
//
//go:noescape
func int8GEMMx16(codes, scales *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)

// int8GEMMx8 is int8GEMMx16 for AVX2 (blocks of 8 groups, one row at a
// time), with each code split into nibbles for VPMADDUBSW.
//
//go:noescape
func int8GEMMx8(codes, scales *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)

// int8GEMMx8VNNI is int8GEMMx8 with AVX-VNNI VPDPBUSD dot products.
//
//go:noescape
func int8GEMMx8VNNI(codes, scales *byte, stride, rows, groups int, act *byte, tokens int, out *float32, ldo int)
