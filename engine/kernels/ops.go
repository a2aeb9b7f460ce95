package kernels

import (
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// minParallelBytes is the weight size below which a product runs on the
// calling goroutine alone. Measured on the 2-vCPU benchmark machine with the
// AVX-512 kernels (docs/kernels.md): up to 960×2560 Int2 (768 KiB, ~15 µs
// on one core) a second thread made the product slower, not faster.
const minParallelBytes = 1 << 20

// rowChunk returns the rows per work item for a matrix: about 4 items per
// thread, so a thread that starts late or is interrupted leaves its share to
// the others, yet few enough that each item's activation preparation stays
// small; a multiple of 4, the SIMD kernels' row tile.
func (p *Pool) rowChunk(m *Matrix) int {
	if m.Bytes() < minParallelBytes {
		return m.Rows
	}
	c := (m.Rows + 4*p.threads - 1) / (4 * p.threads)
	return (c + 3) &^ 3
}

// QuantizeQ8 quantizes activations x into q with the pool's kernels.
func (p *Pool) QuantizeQ8(x []float32, q *quant.Q8) error {
	return p.impl.quantizeQ8(x, q)
}

// GEMV computes out = m·x for a quantized matrix and Q8 activations:
// out[r] = Σ_i m[r][i]·x[i], with x.N == m.Cols and len(out) == m.Rows.
func (p *Pool) GEMV(m *Matrix, x *quant.Q8, out []float32) error {
	if err := checkProduct(m, x.N, len(out), 1); err != nil {
		return err
	}
	k := p.impl.gemv[m.Format]
	p.parallelFor(m.Rows, p.rowChunk(m), func(lo, hi int) {
		k(m.Data[lo*m.RowBytes:hi*m.RowBytes], m.RowBytes, m.Cols, x, out[lo:hi])
	})
	return nil
}

// GEMM computes the products of m with several activation vectors (prompt
// tokens, image patches): out[t*m.Rows+r] = Σ_i m[r][i]·xs[t][i].
// Each weight row is read once for all vectors.
func (p *Pool) GEMM(m *Matrix, xs []*quant.Q8, out []float32) error {
	if len(xs) == 0 {
		return fmt.Errorf("kernels: tensor %s: GEMM with no activation vectors", m.Name)
	}
	for _, x := range xs {
		if err := checkProduct(m, x.N, len(out), len(xs)); err != nil {
			return err
		}
	}
	k := p.impl.gemm[m.Format]
	p.parallelFor(m.Rows, p.rowChunk(m), func(lo, hi int) {
		k(m.Data[lo*m.RowBytes:hi*m.RowBytes], m.RowBytes, m.Cols, hi-lo, xs, out[lo:], m.Rows)
	})
	return nil
}

// GEMVF32 computes out = m·x for an F32 matrix and float activations.
func (p *Pool) GEMVF32(m *Matrix, x []float32, out []float32) error {
	if m.Format != quant.F32 {
		return fmt.Errorf("kernels: tensor %s: GEMVF32 needs f32 weights, got %s", m.Name, m.Format)
	}
	if len(x) != m.Cols || len(out) != m.Rows {
		return fmt.Errorf("kernels: tensor %s: %d×%d matrix times %d activations into %d outputs",
			m.Name, m.Rows, m.Cols, len(x), len(out))
	}
	p.parallelFor(m.Rows, p.rowChunk(m), func(lo, hi int) {
		p.impl.gemvF32(m.Data[lo*m.RowBytes:hi*m.RowBytes], m.RowBytes, m.Cols, x, out[lo:hi])
	})
	return nil
}

func checkProduct(m *Matrix, n, outLen, vectors int) error {
	if !m.Format.Grouped() {
		return fmt.Errorf("kernels: tensor %s: %s weights have no Q8 product (use GEMVF32)", m.Name, m.Format)
	}
	if n != m.Cols || outLen != m.Rows*vectors {
		return fmt.Errorf("kernels: tensor %s: %d×%d matrix times %d vector(s) of %d activations into %d outputs",
			m.Name, m.Rows, m.Cols, vectors, n, outLen)
	}
	return nil
}
