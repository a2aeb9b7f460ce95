//go:build amd64 && !purego

package kernels

import (
	"unsafe"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// Prepared activations. The Int2 and Int4 kernels multiply a block of 16
// (AVX-512) or 8 (AVX2) groups at once, group i of the block in int32
// lane i, so the activations of a call are transposed once into act: a
// block of bg groups occupies bg·actGroupBytes bytes,
//
//	[0, 32·bg)       8 vectors of bg dwords; lane i of vector e holds the
//	                 activation codes 4e..4e+3 of the block's group p(i)
//	[32·bg, 36·bg)   the bg groups' D, in group order
//	[36·bg, 40·bg)   the bg groups' S·unit (unit: the format's offset step)
//
// (the GEMMs reorder D and S·unit, see gemm_amd64.go)
//
// and groups past the end of the activations are zero. p is the lane
// order in which the kernel's code shuffles leave the groups (see the
// *Lanes tables); the kernel restores group order before the scales.
//
// A partial last block of r groups that the kernel packs (the rows of a
// tile share one block's lanes, see GROUPED_GEMV16 in kernels_amd64.h) is
// prepared with a period: the block's group i (a virtual group) is group
// i mod period of the last r, zero where i mod period >= r.
const actGroupBytes = 40

const (
	// gemvColGroups is the number of groups a GEMV prepares at once
	// (16384 columns: every model width in one pass).
	gemvColGroups = 512
	// gemmTokens is the number of activation vectors a GEMM pass
	// multiplies each expanded weight row with.
	gemmTokens = 4
	// gemmColGroups is the number of groups per token a GEMM pass
	// prepares, each token's gemmActBytes apart (GEMM_TOKEN_BYTES in
	// int2_amd64.s).
	gemmColGroups = 128
	gemmActBytes  = gemmColGroups * actGroupBytes
)

// actScratch holds one GEMV pass or the gemmTokens vectors of a GEMM pass,
// with room to align them to a cache line (aligned); it lives on the
// kernel's stack.
type actScratch [gemvColGroups*actGroupBytes + 64]byte

// aligned returns the 64-byte aligned part of s, so that the kernels'
// 64-byte loads of prepared activations never straddle two cache lines
// (on the 2-vCPU AMD EPYC, the alignment that a build's stack layout
// happened to give moved large GEMVs and GEMMs by up to 20%). Goroutine
// stacks are allocated aligned to at least 2 KiB and their size is a
// power of two, so a stack copy keeps the alignment.
func (s *actScratch) aligned() []byte {
	off := -uintptr(unsafe.Pointer(&s[0])) & 63
	return s[off : off+gemvColGroups*actGroupBytes]
}

// Lane orders p (lane i holds group p(i) of a block) of the code shuffles.
var (
	// int2Lanes16: VPERMI2D of even and odd code dwords keeps group order.
	int2Lanes16 = [16]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	// int4Lanes16: the in-lane 4×4 transposes of four vectors of four
	// groups leave group 4j+l (vector j, 128-bit lane l) in lane 4l+j.
	int4Lanes16 = [16]int{0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15}
	// int2Lanes8: VSHUFPS of the even and odd code dwords of groups 0..3
	// and 4..7 interleaves the 128-bit lanes.
	int2Lanes8 = [16]int{0, 1, 4, 5, 2, 3, 6, 7}
	// int4Lanes8: the in-lane 4×4 transposes of four vectors of two groups
	// leave group 2j+l in lane 4l+j.
	int4Lanes8 = [16]int{0, 2, 4, 6, 1, 3, 5, 7}
)

// Load orders (byte offsets of the groups, in the order the transposes
// load them) that produce the lane orders above.
var (
	int2Order16 = loadOrder16(int2Lanes16)
	int4Order16 = loadOrder16(int4Lanes16)
	int2Order8  = loadOrder8(int2Lanes8)
	int4Order8  = loadOrder8(int4Lanes8)
)

// loadOrder16 returns transposeQ8x16's load order for lane order p: its
// 8×8 transposes of 256-bit halves put the group loaded j-th in lane
// tau(j), where tau swaps lanes 4..7 with 8..11 (an involution).
func loadOrder16(p [16]int) [16]int {
	var o [16]int
	for j := range o {
		tau := j
		if j >= 4 && j < 12 {
			tau = j ^ 12
		}
		o[j] = quant.GroupSize * p[tau]
	}
	return o
}

// loadOrder8 returns transposeQ8x8's load order for lane order p: the
// group loaded j-th lands in lane j.
func loadOrder8(p [16]int) [16]int {
	var o [16]int
	for j := range 8 {
		o[j] = quant.GroupSize * p[j]
	}
	return o
}

// prepareAct writes groups [g0, g0+cg) of x into act in the layout of a
// kernel with blocks of bg (16 or 8) groups that packs up to pack rows
// into a partial last block (1: none); that block is copied, with its
// period (tailPeriod), to a zeroed buffer first.
func prepareAct(act []byte, x *quant.Q8, g0, cg, bg, pack int, unit float32, order *[16]int) {
	full := cg / bg
	if full > 0 {
		transposeQ8(bg, &act[0], &x.Qs[quant.GroupSize*g0], &x.D[g0], &x.S[g0], full, unit, order)
	}
	if r := cg - full*bg; r > 0 {
		var qs [16 * quant.GroupSize]int8
		var d, s [16]float32
		g := g0 + full*bg
		period := tailPeriod(r, bg, pack)
		for v := 0; v < bg; v += period {
			copy(qs[quant.GroupSize*v:], x.Qs[quant.GroupSize*g:quant.GroupSize*(g+r)])
			copy(d[v:], x.D[g:g+r])
			copy(s[v:], x.S[g:g+r])
		}
		transposeQ8(bg, &act[full*bg*actGroupBytes], &qs[0], &d[0], &s[0], 1, unit, order)
	}
}

// tailPeriod returns the period of a partial last block of r groups for a
// kernel with blocks of bg groups that packs up to pack rows into it: the
// fewest groups per row, bg/pack at the least, that hold the r groups. The
// kernels pack rows on the same condition (tailPack).
func tailPeriod(r, bg, pack int) int {
	period := bg
	for period/2 >= r && period/2 >= bg/pack {
		period /= 2
	}
	return period
}

func transposeQ8(bg int, dst *byte, qs *int8, d, s *float32, blocks int, unit float32, order *[16]int) {
	if bg == 16 {
		transposeQ8x16(dst, qs, d, s, blocks, unit, order)
	} else {
		transposeQ8x8(dst, qs, d, s, blocks, unit, order)
	}
}

// gemvGrouped is the GEMV of Int2 and Int4 rows with the AVX-512 (bg =
// 16) or the AVX2 (bg = 8) kernels; ext selects their GFNI or AVX-VNNI
// variant.
func gemvGrouped(w []byte, stride, n int, x *quant.Q8, out []float32, f quant.Format, bg int, ext bool) {
	var scratch actScratch
	act := scratch.aligned()
	groups := n / quant.GroupSize
	codeBytes := n * f.Bits() / 8
	clear(out)
	for g0 := 0; g0 < groups; g0 += gemvColGroups {
		cg := min(gemvColGroups, groups-g0)
		prepareAct(act, x, g0, cg, bg, tailPack(f, bg, true), f.OffsetUnit(), actOrder(f, bg))
		groupedGEMV(f, bg, ext, &w[g0*codeBytes/groups], &w[codeBytes+g0], &w[codeBytes+groups+g0],
			stride, len(out), cg, &act[0], &out[0])
	}
}

// tailPack returns how many rows the Int2 and Int4 GEMVs (gemv) or the
// GEMMs of format f with blocks of bg groups pack into a partial last
// block: two (AVX-512: of r <= 8 groups, AVX2: of r <= 4), four in the
// AVX-512 Int2 GEMV, whose tiles have 4 rows (of r <= 4).
func tailPack(f quant.Format, bg int, gemv bool) int {
	if gemv && bg == 16 && f == quant.Int2 {
		return 4
	}
	return 2
}

// actOrder returns the load order of the activations for the kernels of
// format f with blocks of bg groups.
func actOrder(f quant.Format, bg int) *[16]int {
	switch {
	case bg == 16 && f == quant.Int2:
		return &int2Order16
	case bg == 16:
		return &int4Order16
	case f == quant.Int2:
		return &int2Order8
	}
	return &int4Order8
}

// groupedGEMV calls the assembly GEMV for format f, block size bg and
// extension ext (direct calls, so that act stays on the caller's stack).
func groupedGEMV(f quant.Format, bg int, ext bool, codes, scales, offs *byte, stride, rows, groups int, act *byte, out *float32) {
	switch {
	case bg == 16 && f == quant.Int2 && ext:
		int2GEMVx16GFNI(codes, scales, offs, stride, rows, groups, act, out)
	case bg == 16 && f == quant.Int2:
		int2GEMVx16(codes, scales, offs, stride, rows, groups, act, out)
	case bg == 16 && ext:
		int4GEMVx16GFNI(codes, scales, offs, stride, rows, groups, act, out)
	case bg == 16:
		int4GEMVx16(codes, scales, offs, stride, rows, groups, act, out)
	case f == quant.Int2 && ext:
		int2GEMVx8VNNI(codes, scales, offs, stride, rows, groups, act, out)
	case f == quant.Int2:
		int2GEMVx8(codes, scales, offs, stride, rows, groups, act, out)
	case ext:
		int4GEMVx8VNNI(codes, scales, offs, stride, rows, groups, act, out)
	default:
		int4GEMVx8(codes, scales, offs, stride, rows, groups, act, out)
	}
}

// gemvInt8AVX512 is the AVX-512 GEMV of Int8 rows.
func gemvInt8AVX512(w []byte, stride, n int, x *quant.Q8, out []float32) {
	clear(out)
	int8GEMVx16(&w[0], &w[n], stride, len(out), n/quant.GroupSize, &x.Qs[0], &x.D[0], &x.S[0], &out[0])
}

// gemvInt8AVX2 is the AVX2 GEMV of Int8 rows.
func gemvInt8AVX2(w []byte, stride, n int, x *quant.Q8, out []float32, vnni bool) {
	clear(out)
	if vnni {
		int8GEMVx8VNNI(&w[0], &w[n], stride, len(out), n/quant.GroupSize, &x.Qs[0], &x.D[0], &x.S[0], &out[0])
	} else {
		int8GEMVx8(&w[0], &w[n], stride, len(out), n/quant.GroupSize, &x.Qs[0], &x.D[0], &x.S[0], &out[0])
	}
}

// gemvF32AVX512 is the AVX-512 GEMV of F32 rows.
func gemvF32AVX512(w []byte, stride, n int, x []float32, out []float32) {
	clear(out)
	gemvF32x16(&w[0], stride, len(out), n, &x[0], &out[0])
}

// gemvF32AVX2 is the AVX2 GEMV of F32 rows.
func gemvF32AVX2(w []byte, stride, n int, x []float32, out []float32) {
	clear(out)
	gemvF32x8(&w[0], stride, len(out), n, &x[0], &out[0])
}
