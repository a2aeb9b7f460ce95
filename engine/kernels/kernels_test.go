package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

var grouped = []quant.Format{quant.Int2, quant.Int4, quant.Int8}

// shapes cover one row, row counts around the 4-row tile, widths of one and
// an odd number of groups, and real model widths.
var shapes = [][2]int{{1, 32}, {1, 64}, {3, 96}, {4, 32}, {5, 160}, {7, 576}, {8, 1056}, {13, 64}, {33, 960}, {64, 1536}}

// tolerance bounds the difference between a SIMD result and the reference:
// the integer sums are exact, only the float32 accumulation order differs,
// so the error is a few ulps of the sum of the group terms' magnitudes.
func tolerance(m *Matrix, r int, x *quant.Q8) float64 {
	row := m.Row(r)
	var mag float64
	for g := 0; g < row.Groups(); g++ {
		d, o := row.GroupScale(g)
		mag += math.Abs(float64(d)) * (math.Abs(float64(x.D[g]))*float64(quant.GroupSize)*255*127 + math.Abs(float64(o*x.S[g])))
	}
	return 1e-6*mag + 1e-30
}

func TestGenericMatchesReferenceExactly(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	im, err := Lookup("generic")
	require.NoError(t, err)
	for _, f := range grouped {
		for _, s := range shapes {
			m := randomMatrix(t, rng, f, s[0], s[1])
			x := randomQ8(t, rng, s[1], 3)
			out := make([]float32, s[0])
			im.gemv[f](m.Data, m.RowBytes, m.Cols, x, out)
			for r := range out {
				require.Equal(t, quant.DotRef(m.Row(r), x), out[r], "%s %v row %d", f, s, r)
			}
		}
	}
}

// TestReferenceDotMatchesDequantized checks the reference dot product
// against a float64 dot of the dequantized weights and activations.
func TestReferenceDotMatchesDequantized(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, f := range grouped {
		m := randomMatrix(t, rng, f, 4, 576)
		x := randomQ8(t, rng, 576, 2)
		w := make([]float32, 576)
		for r := 0; r < m.Rows; r++ {
			quant.DequantizeRowRef(m.Row(r), w)
			var want float64
			for i := range w {
				want += float64(w[i]) * float64(x.D[i/32]) * float64(x.Qs[i])
			}
			require.InDelta(t, want, float64(quant.DotRef(m.Row(r), x)), tolerance(m, r, x), "%s row %d", f, r)
		}
	}
}

func TestGEMVAllImpls(t *testing.T) {
	supportedImpls(t, func(t *testing.T, im *Impl) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, threads := range []int{1, 2} {
			p := NewPool(threads, im)
			defer p.Close()
			for _, f := range grouped {
				for _, s := range shapes {
					cases := []struct {
						name string
						m    *Matrix
						x    *quant.Q8
					}{
						{"random", randomMatrix(t, rng, f, s[0], s[1]), randomQ8(t, rng, s[1], 5)},
						{"extreme", extremeMatrix(t, f, s[0], s[1]), extremeQ8(t, s[1], false)},
						{"extreme-alternating", extremeMatrix(t, f, s[0], s[1]), extremeQ8(t, s[1], true)},
					}
					for _, c := range cases {
						out := make([]float32, s[0])
						require.NoError(t, p.GEMV(c.m, c.x, out))
						for r := range out {
							want := quant.DotRef(c.m.Row(r), c.x)
							require.InDelta(t, want, out[r], tolerance(c.m, r, c.x),
								"%s %s %v threads %d row %d", c.name, f, s, threads, r)
						}
					}
				}
			}
		}
	})
}

func TestGEMMAllImpls(t *testing.T) {
	supportedImpls(t, func(t *testing.T, im *Impl) {
		rng := rand.New(rand.NewPCG(7, 8))
		p := NewPool(2, im)
		defer p.Close()
		for _, f := range grouped {
			for _, s := range shapes {
				for _, tokens := range []int{1, 2, 3, 4, 5, 9} {
					m := randomMatrix(t, rng, f, s[0], s[1])
					xs := make([]*quant.Q8, tokens)
					for i := range xs {
						xs[i] = randomQ8(t, rng, s[1], 4)
					}
					out := make([]float32, tokens*s[0])
					require.NoError(t, p.GEMM(m, xs, out))
					for tk, x := range xs {
						for r := 0; r < s[0]; r++ {
							require.InDelta(t, quant.DotRef(m.Row(r), x), out[tk*s[0]+r], tolerance(m, r, x),
								"%s %v tokens %d token %d row %d", f, s, tokens, tk, r)
						}
					}
				}
			}
		}
	})
}

func TestGEMVF32AllImpls(t *testing.T) {
	supportedImpls(t, func(t *testing.T, im *Impl) {
		rng := rand.New(rand.NewPCG(9, 10))
		p := NewPool(2, im)
		defer p.Close()
		for _, s := range [][2]int{{1, 1}, {1, 7}, {3, 33}, {5, 576}, {17, 1000}, {4, 15}, {5, 16}, {7, 17}, {4, 31}, {9, 32}} {
			w := make([]float32, s[0]*s[1])
			for i := range w {
				w[i] = rng.Float32()*2 - 1
			}
			x := make([]float32, s[1])
			for i := range x {
				x[i] = rng.Float32()*2 - 1
			}
			m, err := NewMatrix("f32", quant.F32, s[0], s[1], f32Bytes(w))
			require.NoError(t, err)
			out := make([]float32, s[0])
			require.NoError(t, p.GEMVF32(m, x, out))
			for r := range out {
				var want, mag float64
				for i := range x {
					want += float64(w[r*s[1]+i]) * float64(x[i])
					mag += math.Abs(float64(w[r*s[1]+i]) * float64(x[i]))
				}
				require.InDelta(t, want, float64(out[r]), 1e-6*mag+1e-7, "%v row %d", s, r)
			}
		}
	})
}

func TestQuantizeQ8AllImpls(t *testing.T) {
	supportedImpls(t, func(t *testing.T, im *Impl) {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, n := range []int{32, 64, 576, 1056} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64() * 3)
			}
			x[n/2] = 0
			want, _ := quant.NewQ8(n)
			got, _ := quant.NewQ8(n)
			require.NoError(t, quant.QuantizeQ8Ref(x, want))
			require.NoError(t, im.quantizeQ8(x, got))
			require.Equal(t, want, got)
		}
	})
}

func TestBadInput(t *testing.T) {
	_, err := NewMatrix("blk.0.attn_q.weight", quant.Int2, 4, 100, make([]byte, 4*40))
	require.ErrorContains(t, err, "blk.0.attn_q.weight")
	require.ErrorContains(t, err, "multiple of the group size")

	_, err = NewMatrix("blk.0.ffn_up.weight", quant.Int2, 4, 64, make([]byte, 4*20-1))
	require.ErrorContains(t, err, "blk.0.ffn_up.weight")
	require.ErrorContains(t, err, "truncated")

	m, err := NewMatrix("w", quant.Int4, 2, 64, make([]byte, 2*36))
	require.NoError(t, err)
	p := NewPool(1, nil)
	defer p.Close()
	x, _ := quant.NewQ8(32)
	require.ErrorContains(t, p.GEMV(m, x, make([]float32, 2)), "w: 2×64 matrix times 1 vector(s) of 32")
	x, _ = quant.NewQ8(64)
	require.Error(t, p.GEMV(m, x, make([]float32, 3)))
	require.Error(t, p.GEMM(m, nil, nil))
	require.Error(t, p.GEMVF32(m, make([]float32, 64), make([]float32, 2)))

	_, err = quant.NewQ8(33)
	require.Error(t, err)
	q, _ := quant.NewQ8(32)
	bad := make([]float32, 32)
	bad[3] = float32(math.NaN())
	require.ErrorContains(t, p.QuantizeQ8(bad, q), "activation 3")
}

func TestLookup(t *testing.T) {
	_, err := Lookup("no-such")
	require.ErrorContains(t, err, "unknown kernels")
	t.Setenv(EnvKernels, "generic")
	im, err := Default()
	require.NoError(t, err)
	require.Equal(t, "generic", im.Name)
	t.Setenv(EnvKernels, "bogus")
	_, err = Default()
	require.ErrorContains(t, err, EnvKernels)
	for _, im := range Impls() {
		if !im.Supported {
			_, err := Lookup(im.Name)
			require.ErrorContains(t, err, "not supported", fmt.Sprint(im.Name))
		}
	}
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		u := math.Float32bits(f)
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
	return b
}

// TestGEMVExactAllImpls makes every float operation of the products exact:
// unit scales and activation scales, offsets of a few steps and widths that
// keep every partial sum a float32 integer (or sixteenth). Any order of the
// additions then gives the reference's result exactly, so a wrong integer
// sum cannot hide in the tolerance. Codes and activations reach their
// extremes, activation -128 included (QuantizeQ8Ref never produces it).
func TestGEMVExactAllImpls(t *testing.T) {
	supportedImpls(t, func(t *testing.T, im *Impl) {
		rng := rand.New(rand.NewPCG(13, 14))
		p := NewPool(2, im)
		defer p.Close()
		random := func(int) int8 { return int8(rng.Uint32()) }
		cases := []struct {
			name string
			code func() byte
			act  func(i int) int8
		}{
			{"random", func() byte { return byte(rng.Uint32()) }, random},
			{"max-codes", func() byte { return 0xff }, func(int) int8 { return -128 }},
			{"zero-codes", func() byte { return 0 }, func(int) int8 { return -128 }},
			{"alternating", func() byte { return 0xff }, func(i int) int8 { return int8(-128 + 255*(i%2)) }},
		}
		for _, f := range grouped {
			for _, s := range [][2]int{{1, 32}, {4, 64}, {3, 96}, {5, 160}, {8, 128}, {7, 576}, {13, 288}} {
				for _, c := range cases {
					m := unitScaleMatrix(t, rng, f, s[0], s[1], c.code)
					xs := []*quant.Q8{unitQ8(t, s[1], c.act), unitQ8(t, s[1], random), unitQ8(t, s[1], random)}
					out := make([]float32, len(xs)*s[0])
					require.NoError(t, p.GEMV(m, xs[0], out[:s[0]]))
					for r := 0; r < s[0]; r++ {
						require.Equal(t, quant.DotRef(m.Row(r), xs[0]), out[r], "%s %s %v GEMV row %d", c.name, f, s, r)
					}
					require.NoError(t, p.GEMM(m, xs, out))
					for tk, x := range xs {
						for r := 0; r < s[0]; r++ {
							require.Equal(t, quant.DotRef(m.Row(r), x), out[tk*s[0]+r], "%s %s %v GEMM token %d row %d", c.name, f, s, tk, r)
						}
					}
				}
			}
		}
	})
}

// unitScaleMatrix fills a matrix with codes from code, every scale 1 and
// offsets of at most 8 steps.
func unitScaleMatrix(t testing.TB, rng *rand.Rand, f quant.Format, rows, cols int, code func() byte) *Matrix {
	rb, err := f.RowBytes(cols)
	require.NoError(t, err)
	data := make([]byte, rows*rb)
	for r := 0; r < rows; r++ {
		row := quant.Row{Format: f, N: cols, Data: data[r*rb : (r+1)*rb]}
		for i := range row.Codes() {
			row.Codes()[i] = code()
		}
		for g := range row.Scales() {
			row.Scales()[g] = 24 << 3 // 2^(24-24) = 1
		}
		for g := range row.Offsets() {
			row.Offsets()[g] = byte(rng.IntN(17) - 8)
		}
	}
	m, err := NewMatrix("unit", f, rows, cols, data)
	require.NoError(t, err)
	return m
}

// unitQ8 returns activations with codes act(i), every D 1 and S the code sum.
func unitQ8(t testing.TB, n int, act func(i int) int8) *quant.Q8 {
	q, err := quant.NewQ8(n)
	require.NoError(t, err)
	for i := range q.Qs {
		q.Qs[i] = act(i)
		q.D[i/quant.GroupSize] = 1
		q.S[i/quant.GroupSize] += float32(q.Qs[i])
	}
	return q
}

func TestStreamSumAllImpls(t *testing.T) {
	supportedImpls(t, func(t *testing.T, im *Impl) {
		rng := rand.New(rand.NewPCG(15, 16))
		for _, n := range []int{0, 64, 128, 192, 4160} { // multiples of 64, as streamSum requires
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			var want uint64 // the sum of the 64-bit words, mod 2^64
			for i := 0; i < n; i += 8 {
				want += uint64(b[i]) | uint64(b[i+1])<<8 | uint64(b[i+2])<<16 | uint64(b[i+3])<<24 |
					uint64(b[i+4])<<32 | uint64(b[i+5])<<40 | uint64(b[i+6])<<48 | uint64(b[i+7])<<56
			}
			require.Equal(t, want, im.streamSum(b), "%d bytes", n)
		}
	})
}
