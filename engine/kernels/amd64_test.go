//go:build amd64 && !purego

package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

// amd64Variant is one code path: an Impl built with or without its
// optional extension (AVX-VNNI, GFNI), whatever this CPU would pick.
type amd64Variant struct {
	name string
	im   *Impl
}

// amd64Variants are the Impls of every code path, not only the ones this
// CPU would pick: AVX2 with and without AVX-VNNI, AVX-512 with shifts and
// with GFNI.
func amd64Variants() []amd64Variant {
	vs := []amd64Variant{
		{"avx2", newAVX2Impl(false)}, {"avx2-vnni", newAVX2Impl(true)},
		{"avx512", newAVX512Impl(false)}, {"avx512-gfni", newAVX512Impl(true)},
	}
	for _, v := range vs {
		v.im.complete(registry[0])
	}
	return vs
}

// forVariants runs fn for every code path this CPU supports.
func forVariants(t *testing.T, fn func(t *testing.T, im *Impl)) {
	for _, v := range amd64Variants() {
		t.Run(v.name, func(t *testing.T) {
			if !v.im.Supported {
				t.Skipf("%s kernels: this CPU lacks the instructions", v.name)
			}
			fn(t, v.im)
		})
	}
}

// guarded returns a slice of n floats inside a NaN-filled buffer and a
// function that checks the padding is untouched.
func guarded(n int) ([]float32, func(t *testing.T)) {
	const pad = 16
	buf := make([]float32, n+2*pad)
	for i := range buf {
		buf[i] = float32(math.NaN())
	}
	return buf[pad : pad+n : pad+n], func(t *testing.T) {
		for i := range pad {
			require.True(t, math.IsNaN(float64(buf[i])), "write before out[0] at %d", i-pad)
			require.True(t, math.IsNaN(float64(buf[pad+n+i])), "write after out[%d] at %d", n-1, n+i)
		}
	}
}

// amd64Shapes add to shapes rows past two GEMV and GEMM column passes
// (gemvColGroups, gemmColGroups), with partial last blocks.
var amd64Shapes = append(append([][2]int(nil), shapes...), [2]int{5, 32 * (gemvColGroups + 1)},
	[2]int{3, 32 * (2*gemmColGroups + 5)}, [2]int{6, 32 * 17})

func TestAMD64GEMVVariants(t *testing.T) {
	forVariants(t, func(t *testing.T, im *Impl) {
		rng := rand.New(rand.NewPCG(21, 22))
		for _, f := range grouped {
			for _, s := range amd64Shapes {
				// Activation code -128 too (QuantizeQ8Ref never produces it): the
				// int16 sums of the AVX2 path must not saturate.
				minus128 := unitQ8(t, s[1], func(i int) int8 { return int8(-128 + 255*(i%3/2)) })
				xs := []*quant.Q8{randomQ8(t, rng, s[1], 2), extremeQ8(t, s[1], true), minus128}
				for _, m := range []*Matrix{randomMatrix(t, rng, f, s[0], s[1]), extremeMatrix(t, f, s[0], s[1])} {
					for i, x := range xs {
						out, check := guarded(s[0])
						im.gemv[f](m.Data, m.RowBytes, m.Cols, x, out)
						check(t)
						for r := range out {
							require.InDelta(t, quant.DotRef(m.Row(r), x), out[r], tolerance(m, r, x),
								"%s %s %v activations %d row %d", m.Name, f, s, i, r)
						}
					}
				}
			}
		}
	})
}

// TestAMD64GEMMVariants runs every GEMM code path on 1 to 9 tokens (passes
// of 2 to 4 and the GEMV), odd row counts, one group to two column passes
// and partial blocks, against the reference, with the outputs of the
// tokens ldo apart and guarded on both sides.
func TestAMD64GEMMVariants(t *testing.T) {
	forVariants(t, func(t *testing.T, im *Impl) {
		rng := rand.New(rand.NewPCG(23, 24))
		for _, f := range grouped {
			for _, s := range amd64Shapes {
				m := randomMatrix(t, rng, f, s[0], s[1])
				for tokens := 1; tokens <= 9; tokens++ {
					xs := make([]*quant.Q8, tokens)
					for i := range xs {
						xs[i] = randomQ8(t, rng, s[1], 3)
					}
					// Leave a gap between the tokens' outputs (ldo > rows).
					ldo := s[0] + 3
					out, check := guarded(tokens * ldo)
					for i := range out {
						out[i] = 7
					}
					im.gemm[f](m.Data, m.RowBytes, m.Cols, s[0], xs, out, ldo)
					check(t)
					for tk, x := range xs {
						for r := 0; r < s[0]; r++ {
							require.InDelta(t, quant.DotRef(m.Row(r), x), out[tk*ldo+r], tolerance(m, r, x),
								"%s %v tokens %d token %d row %d", f, s, tokens, tk, r)
						}
						for r := s[0]; r < ldo && tk*ldo+r < len(out); r++ {
							require.Equal(t, float32(7), out[tk*ldo+r], "%s: write to the gap after token %d", f, tk)
						}
					}
				}
			}
		}
	})
}

// TestAMD64TailWidths runs every GEMV and GEMM code path on every width of
// 1 to 40 groups, so that each size of a partial last block (the packed
// tails of r <= 8 groups, the masked ones of 9..15) meets full tiles and
// the rows left over after them, against the reference: exactly on
// exact-arithmetic inputs (a group multiplied with the wrong activations
// or scales, or added to the wrong row, shows), within the tolerance on
// random ones.
func TestAMD64TailWidths(t *testing.T) {
	forVariants(t, func(t *testing.T, im *Impl) {
		rng := rand.New(rand.NewPCG(27, 28))
		random := func(int) int8 { return int8(rng.Uint32()) }
		code := func() byte { return byte(rng.Uint32()) }
		for _, f := range grouped {
			for k := 1; k <= 40; k++ {
				n := 32 * k
				for _, rows := range []int{5, 10} {
					exact := unitScaleMatrix(t, rng, f, rows, n, code)
					m := randomMatrix(t, rng, f, rows, n)
					xs := make([]*quant.Q8, 3)
					ys := make([]*quant.Q8, len(xs))
					for i := range xs {
						xs[i] = unitQ8(t, n, random)
						ys[i] = randomQ8(t, rng, n, 2)
					}
					out := make([]float32, len(xs)*rows)
					im.gemv[f](exact.Data, exact.RowBytes, n, xs[0], out[:rows])
					for r := 0; r < rows; r++ {
						require.Equal(t, quant.DotRef(exact.Row(r), xs[0]), out[r], "%s GEMV %d×%d row %d", f, rows, n, r)
					}
					im.gemm[f](exact.Data, exact.RowBytes, n, rows, xs, out, rows)
					for tk, x := range xs {
						for r := 0; r < rows; r++ {
							require.Equal(t, quant.DotRef(exact.Row(r), x), out[tk*rows+r], "%s GEMM %d×%d token %d row %d", f, rows, n, tk, r)
						}
					}
					im.gemv[f](m.Data, m.RowBytes, n, ys[0], out[:rows])
					for r := 0; r < rows; r++ {
						require.InDelta(t, quant.DotRef(m.Row(r), ys[0]), out[r], tolerance(m, r, ys[0]), "%s GEMV %d×%d row %d", f, rows, n, r)
					}
					im.gemm[f](m.Data, m.RowBytes, n, rows, ys, out, rows)
					for tk, x := range ys {
						for r := 0; r < rows; r++ {
							require.InDelta(t, quant.DotRef(m.Row(r), x), out[tk*rows+r], tolerance(m, r, x), "%s GEMM %d×%d token %d row %d", f, rows, n, tk, r)
						}
					}
				}
			}
		}
	})
}

// TestAMD64GEMMExactVariants is TestGEMVExactAllImpls for the GEMM of every
// code path: with exact float arithmetic, extreme codes and activations
// (-128 included) show any wrong or saturated integer sum.
func TestAMD64GEMMExactVariants(t *testing.T) {
	forVariants(t, func(t *testing.T, im *Impl) {
		rng := rand.New(rand.NewPCG(25, 26))
		random := func(int) int8 { return int8(rng.Uint32()) }
		codes := []func() byte{func() byte { return byte(rng.Uint32()) }, func() byte { return 0xff }}
		acts := []func(i int) int8{random, func(int) int8 { return -128 }, func(i int) int8 { return int8(-128 + 255*(i%2)) }}
		for _, f := range grouped {
			for _, s := range [][2]int{{1, 32}, {3, 96}, {5, 160}, {7, 576}, {2, 544}} {
				for ci, code := range codes {
					m := unitScaleMatrix(t, rng, f, s[0], s[1], code)
					xs := make([]*quant.Q8, 4)
					for i := range xs {
						xs[i] = unitQ8(t, s[1], acts[(i+ci)%len(acts)])
					}
					out := make([]float32, len(xs)*s[0])
					im.gemm[f](m.Data, m.RowBytes, m.Cols, s[0], xs, out, s[0])
					for tk, x := range xs {
						for r := 0; r < s[0]; r++ {
							require.Equal(t, quant.DotRef(m.Row(r), x), out[tk*s[0]+r], "%s %v codes %d token %d row %d", f, s, ci, tk, r)
						}
					}
				}
			}
		}
	})
}

// TestPrepareActLayout checks the transposed activations against the
// layout documented in gemv_amd64.go, for every block size and lane order.
func TestPrepareActLayout(t *testing.T) {
	if !hasAVX2 {
		t.Skip("the transposes need AVX2")
	}
	cases := []struct {
		name  string
		bg    int
		lanes [16]int
		order *[16]int
	}{
		{"int2x16", 16, int2Lanes16, &int2Order16},
		{"int4x16", 16, int4Lanes16, &int4Order16},
		{"int2x8", 8, int2Lanes8, &int2Order8},
		{"int4x8", 8, int4Lanes8, &int4Order8},
		{"int8x16", 16, int8Lanes16, &int8Order16},
		{"int8x8", 8, int8Lanes8, &int8Order8},
	}
	rng := rand.New(rand.NewPCG(29, 30))
	x := randomQ8(t, rng, 32*45, 2)
	for _, c := range cases {
		if c.bg == 16 && !hasAVX512 {
			continue
		}
		for _, span := range [][2]int{{0, 45}, {3, 40}, {16, 7}} {
			g0, cg := span[0], span[1]
			var scratch actScratch
			act := scratch.aligned()
			prepareAct(act, x, g0, cg, c.bg, 1, 0.25, c.order)
			for b := 0; b < (cg+c.bg-1)/c.bg; b++ {
				blk := act[b*c.bg*actGroupBytes:]
				for i := 0; i < c.bg; i++ {
					g := b*c.bg + c.lanes[i]
					for e := range 8 {
						for k := range 4 {
							want := int8(0)
							if g < cg {
								want = x.Qs[32*(g0+g)+4*e+k]
							}
							require.Equal(t, want, int8(blk[4*(e*c.bg+i)+k]), "%s %v block %d lane %d vector %d", c.name, span, b, i, e)
						}
					}
					var d, s float32
					if b*c.bg+i < cg {
						d, s = x.D[g0+b*c.bg+i], x.S[g0+b*c.bg+i]*0.25
					}
					require.Equal(t, d, math.Float32frombits(binary.LittleEndian.Uint32(blk[4*(8*c.bg+i):])), "%s D of group %d", c.name, b*c.bg+i)
					require.Equal(t, s, math.Float32frombits(binary.LittleEndian.Uint32(blk[4*(9*c.bg+i):])), "%s S of group %d", c.name, b*c.bg+i)
				}
			}
		}
	}
}

// BenchmarkAMD64Variants compares the code paths on the Int2 GEMV
// (shifts against GFNI, VPMADDUBSW against AVX-VNNI).
func BenchmarkAMD64Variants(b *testing.B) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, s := range benchShapes {
		if s.name != "2560x960" && s.name != "4096x14336" {
			continue
		}
		m := randomMatrix(b, rng, quant.Int2, s.rows, s.cols)
		x := randomQ8(b, rng, s.cols, 1)
		out := make([]float32, s.rows)
		for _, v := range amd64Variants() {
			if !v.im.Supported {
				continue
			}
			b.Run(fmt.Sprintf("int2/%s/t1/%s", v.name, s.name), func(b *testing.B) {
				p := NewPool(1, v.im)
				defer p.Close()
				for b.Loop() {
					_ = p.GEMV(m, x, out)
				}
				reportWeights(b, m, 1)
			})
		}
	}
}
