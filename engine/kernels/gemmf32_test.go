package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

// randomF32s returns n uniform values in [-1, 1).
func randomF32s(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = rng.Float32()*2 - 1
	}
	return v
}

// checkF32Product compares every output of a product with a float64
// reference. The tolerance is the classic bound of a float32 sum of k
// products, (k+1)·2^-24·Σ|w_i·x_i|, whatever the order of the sum. The
// generic Impl, on every architecture, and the amd64 SIMD kernels must
// equal a float32 sum in index order with every product rounded (unfused)
// exactly.
func checkF32Product(t *testing.T, im *Impl, w []float32, ldw int, x []float32, ldx int, out []float32, ldo, rows, k, n int, msg string) {
	t.Helper()
	for v := range n {
		for r := range rows {
			var want, mag float64
			var unfused float32
			for i := range k {
				a, b := w[r*ldw+i], x[v*ldx+i]
				want += float64(a) * float64(b)
				mag += math.Abs(float64(a) * float64(b))
				unfused += float32(a * b)
			}
			got := out[v*ldo+r]
			require.InDelta(t, want, float64(got), float64(k+1)*0x1p-24*mag, "%s: vector %d row %d", msg, v, r)
			if im.Name == "generic" || runtime.GOARCH == "amd64" {
				require.Equal(t, unfused, got, "%s: vector %d row %d", msg, v, r)
			}
		}
	}
}

// TestGEMMF32AllImpls multiplies matrices of odd shapes (partial panels of
// rows, several column blocks with a partial one, partial groups of
// vectors) with every Impl on 1 and 2 threads, the larger shapes taking
// the parallel path.
func TestGEMMF32AllImpls(t *testing.T) {
	supportedImpls(t, func(t *testing.T, im *Impl) {
		rng := rand.New(rand.NewPCG(31, 32))
		for _, threads := range []int{1, 2} {
			p := NewPool(threads, im)
			defer p.Close()
			for _, s := range []struct{ rows, cols, n int }{
				{1, 1, 1}, {3, 5, 7}, {64, 128, 6}, {65, 129, 13}, {130, 257, 1}, {7, 300, 20},
				{128, 33, 12}, {64, 1, 7}, {200, 260, 50}, {192, 384, 31},
			} {
				w := randomF32s(rng, s.rows*s.cols)
				m, err := NewMatrix("w", quant.F32, s.rows, s.cols, f32Bytes(w))
				require.NoError(t, err)
				xs := randomF32s(rng, s.n*s.cols)
				out := make([]float32, s.n*s.rows)
				for i := range out {
					out[i] = 99 // overwritten, not accumulated into
				}
				require.NoError(t, p.GEMMF32(m, xs, s.n, out))
				checkF32Product(t, im, w, s.cols, xs, s.cols, out, s.rows, s.rows, s.cols, s.n, fmt.Sprintf("t%d %+v", threads, s))
			}
		}
	})
}

// TestGEMMF32SameBitsForAnyBatch: a vector's outputs do not depend on how
// many vectors are multiplied with it nor on its place among them (full
// group or zero-padded last group), for every vector count 1..14.
func TestGEMMF32SameBitsForAnyBatch(t *testing.T) {
	supportedImpls(t, func(t *testing.T, im *Impl) {
		rng := rand.New(rand.NewPCG(33, 34))
		p := NewPool(1, im)
		defer p.Close()
		const rows, cols = 70, 131
		m, err := NewMatrix("w", quant.F32, rows, cols, f32Bytes(randomF32s(rng, rows*cols)))
		require.NoError(t, err)
		xs := randomF32s(rng, 14*cols)
		single := make([]float32, 14*rows)
		for v := range 14 {
			require.NoError(t, p.GEMMF32(m, xs[v*cols:(v+1)*cols], 1, single[v*rows:(v+1)*rows]))
		}
		for n := 1; n <= 14; n++ {
			out := make([]float32, n*rows)
			require.NoError(t, p.GEMMF32(m, xs[:n*cols], n, out))
			require.Equal(t, single[:n*rows], out, "%d vectors", n)
		}
	})
}

// TestGEMMF32StridedBlocks multiplies column blocks of wider matrices
// (rows further apart than their length, as one attention head's keys)
// with vectors and into outputs that are blocks of wider arrays, and
// checks that nothing outside the output block is written.
func TestGEMMF32StridedBlocks(t *testing.T) {
	supportedImpls(t, func(t *testing.T, im *Impl) {
		rng := rand.New(rand.NewPCG(35, 36))
		p := NewPool(1, im)
		defer p.Close()
		for _, c := range []struct{ rows, k, n, wWidth, wCol, xWidth, xCol, oWidth, oCol int }{
			{1, 1, 1, 1, 0, 1, 0, 1, 0},
			{64, 16, 64, 32, 16, 32, 16, 80, 8},
			{67, 64, 13, 768, 64, 768, 128, 100, 30},
			{16, 200, 9, 200, 0, 1024, 300, 768, 700},
			{130, 129, 7, 140, 11, 129, 0, 130, 0},
		} {
			wide := randomF32s(rng, c.rows*c.wWidth)
			// Each operand ends with its block's last element, so an
			// overrun reads or writes past the slice.
			w := f32Bytes(wide)[4*c.wCol : 4*((c.rows-1)*c.wWidth+c.wCol+c.k)]
			xWide := randomF32s(rng, c.n*c.xWidth)
			x := xWide[c.xCol : (c.n-1)*c.xWidth+c.xCol+c.k]
			oWide := make([]float32, c.n*c.oWidth)
			for i := range oWide {
				oWide[i] = 99
			}
			out := oWide[c.oCol : (c.n-1)*c.oWidth+c.oCol+c.rows]
			pr := &F32Product{W: w, Stride: 4 * c.wWidth, Rows: c.rows, K: c.k, X: x, LdX: c.xWidth, N: c.n, Out: out, LdOut: c.oWidth}
			require.NoError(t, p.GEMMF32Strided(pr))
			checkF32Product(t, im, wide[c.wCol:], c.wWidth, x, c.xWidth, out, c.oWidth, c.rows, c.k, c.n, fmt.Sprintf("%+v", c))
			for i, v := range oWide {
				if col := i % c.oWidth; col < c.oCol || col >= c.oCol+c.rows {
					require.Equal(t, float32(99), v, "%+v: written outside the block at %d", c, i)
				}
			}
		}
	})
}

func TestGEMMF32RejectsBadShapes(t *testing.T) {
	p := NewPool(1, nil)
	defer p.Close()
	m, err := NewMatrix("w", quant.F32, 3, 4, make([]byte, 48))
	require.NoError(t, err)
	require.ErrorContains(t, p.GEMMF32(m, make([]float32, 8), 2, make([]float32, 5)), "tensor w: 3×4 matrix times 2 vector(s)")
	require.ErrorContains(t, p.GEMMF32(m, make([]float32, 7), 2, make([]float32, 6)), "from 7 activations")
	require.ErrorContains(t, p.GEMMF32(m, nil, 0, nil), "0 vector(s)")
	q := randomMatrix(t, rand.New(rand.NewPCG(1, 2)), quant.Int2, 3, 32)
	require.ErrorContains(t, p.GEMMF32(q, make([]float32, 32), 1, make([]float32, 3)), "needs f32 weights")

	ok := func() *F32Product {
		return &F32Product{W: make([]byte, 4*11), Stride: 16, Rows: 3, K: 3, X: make([]float32, 7), LdX: 4, N: 2,
			Out: make([]float32, 8), LdOut: 5}
	}
	require.NoError(t, p.GEMMF32Strided(ok()))
	for _, c := range []struct {
		edit func(*F32Product)
		want string
	}{
		{func(pr *F32Product) { pr.W = pr.W[:43] }, "need more than the 43 bytes"},
		{func(pr *F32Product) { pr.X = pr.X[:6] }, "need more than the 6 floats"},
		{func(pr *F32Product) { pr.Out = pr.Out[:7] }, "need more than the 7 floats"},
		{func(pr *F32Product) { pr.Stride = 8 }, "strides (8 bytes, 4, 5 floats) shorter"},
		{func(pr *F32Product) { pr.LdX = 2 }, "shorter than 3 rows of 3 floats"},
		{func(pr *F32Product) { pr.LdOut = 2 }, "shorter than 3 rows"},
		{func(pr *F32Product) { pr.N = -1 }, "negative size"},
		{func(pr *F32Product) { pr.Stride = math.MaxInt }, "need more than the 44 bytes"},
	} {
		pr := ok()
		c.edit(pr)
		require.ErrorContains(t, p.GEMMF32Strided(pr), c.want)
	}
	// No columns: the outputs are zero sums; no rows or vectors: nothing.
	pr := ok()
	pr.K, pr.Stride, pr.W = 0, 0, nil
	for i := range pr.Out {
		pr.Out[i] = 7
	}
	require.NoError(t, p.GEMMF32Strided(pr))
	require.Equal(t, []float32{0, 0, 0, 7, 7, 0, 0, 0}, pr.Out)
	pr = ok()
	pr.N, pr.X, pr.Out = 0, nil, nil
	require.NoError(t, p.GEMMF32Strided(pr))
}

// BenchmarkGEMMF32 multiplies 1024 vectors (one SigLIP image's patches)
// with the encoder's 768×768 and 3072×768 matrices, as one GEMMF32 and as
// 1024 GEMVF32s, with the default Impl.
func BenchmarkGEMMF32(b *testing.B) {
	rng := rand.New(rand.NewPCG(37, 38))
	const n = 1024
	for _, s := range []struct{ rows, cols int }{{768, 768}, {3072, 768}} {
		m, err := NewMatrix("w", quant.F32, s.rows, s.cols, f32Bytes(randomF32s(rng, s.rows*s.cols)))
		if err != nil {
			b.Fatal(err)
		}
		xs := randomF32s(rng, n*s.cols)
		out := make([]float32, n*s.rows)
		for _, threads := range []int{1, 2} {
			p := NewPool(threads, nil)
			name := fmt.Sprintf("%s/t%d/%dx%d/n%d", p.Impl().Name, threads, s.rows, s.cols, n)
			b.Run("gemm/"+name, func(b *testing.B) {
				for b.Loop() {
					if err := p.GEMMF32(m, xs, n, out); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(s.rows*s.cols*n)*float64(b.N)/b.Elapsed().Seconds(), "MAC/s")
			})
			b.Run("gemv/"+name, func(b *testing.B) {
				for b.Loop() {
					for t := range n {
						if err := p.GEMVF32(m, xs[t*s.cols:(t+1)*s.cols], out[t*s.rows:(t+1)*s.rows]); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(s.rows*s.cols*n)*float64(b.N)/b.Elapsed().Seconds(), "MAC/s")
			})
			p.Close()
		}
	}
}
