package kernels

import (
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// F32Product describes one product of F32 rows with several float vectors:
//
//	Out[t*LdOut+r] = Σ_{i<K} w_r[i]·X[t*LdX+i]   for r < Rows, t < N,
//
// where the row w_r is the K little-endian float32 at W[r*Stride:]. Stride
// (bytes), LdX and LdOut (floats) may exceed the row lengths, so every
// operand can be a block of columns of a wider matrix: the keys of one
// attention head, or one head's slice of the output.
type F32Product struct {
	W      []byte // the rows, little-endian float32
	Stride int    // bytes from one row of W to the next, at least 4·K
	Rows   int    // rows of W: the outputs per vector
	K      int    // the length of the rows and vectors
	X      []float32
	LdX    int // floats from one vector of X to the next, at least K
	N      int // number of vectors
	Out    []float32
	LdOut  int // floats from one vector's outputs to the next, at least Rows
}

// gemmF32Kernel computes a checked F32Product with K > 0, Rows > 0, N > 0.
type gemmF32Kernel func(pr *F32Product)

// minParallelF32MACs is the size (Rows·K·N multiply-adds) under which
// GEMMF32 runs on the calling goroutine: about 30 µs of work on one core.
const minParallelF32MACs = 1 << 21

// gemmF32RowChunk is the rows per work item of a parallel GEMMF32: a
// multiple of the amd64 kernels' panel width (gemmF32NR) and small enough
// to balance 768-row matrices over a few threads.
const gemmF32RowChunk = 64

// GEMMF32 computes the products of an F32 matrix with the n vectors of
// xs (token-major: vector t is xs[t*m.Cols : (t+1)*m.Cols]):
// out[t*m.Rows+r] = Σ_i m[r][i]·xs[t*m.Cols+i]. Large products are split
// by rows over the pool's threads. The generic kernel is one GEMVF32 per
// vector, a float32 sum in index order; the amd64 kernels read each weight
// once per call into a cache-resident panel and give the same bits (see
// gemmF32Packed); other Impls run their GEMVF32 kernel per vector.
func (p *Pool) GEMMF32(m *Matrix, xs []float32, n int, out []float32) error {
	if m.Format != quant.F32 {
		return fmt.Errorf("kernels: tensor %s: GEMMF32 needs f32 weights, got %s", m.Name, m.Format)
	}
	if n <= 0 || len(xs) != n*m.Cols || len(out) != n*m.Rows {
		return fmt.Errorf("kernels: tensor %s: %d×%d matrix times %d vector(s) from %d activations into %d outputs",
			m.Name, m.Rows, m.Cols, n, len(xs), len(out))
	}
	pr := F32Product{W: m.Data, Stride: m.RowBytes, Rows: m.Rows, K: m.Cols, X: xs, LdX: m.Cols, N: n, Out: out, LdOut: m.Rows}
	if err := pr.check(); err != nil {
		return fmt.Errorf("kernels: tensor %s: %w", m.Name, err)
	}
	p.runF32(&pr, m.Rows*m.Cols*n >= minParallelF32MACs)
	return nil
}

// GEMMF32Strided computes pr on the calling goroutine with the pool's
// kernels, for products that callers spread over threads themselves (one
// attention head per work item, with ParallelFor). It returns an error if
// an operand is too short for its rows, vectors and strides.
func (p *Pool) GEMMF32Strided(pr *F32Product) error {
	if err := pr.check(); err != nil {
		return fmt.Errorf("kernels: strided f32 product: %w", err)
	}
	p.runF32(pr, false)
	return nil
}

// runF32 computes a checked product, split by rows over the pool's
// threads when parallel is set.
func (p *Pool) runF32(pr *F32Product, parallel bool) {
	switch {
	case pr.Rows == 0 || pr.N == 0:
	case pr.K == 0:
		for t := range pr.N {
			clear(pr.Out[t*pr.LdOut : t*pr.LdOut+pr.Rows])
		}
	case !parallel:
		p.impl.gemmF32(pr)
	default:
		p.parallelFor(pr.Rows, gemmF32RowChunk, func(lo, hi int) {
			part := *pr
			part.W, part.Rows, part.Out = pr.W[lo*pr.Stride:], hi-lo, pr.Out[lo:]
			p.impl.gemmF32(&part)
		})
	}
}

// check validates the shape of pr against its slices.
func (pr *F32Product) check() error {
	switch {
	case pr.Rows < 0 || pr.K < 0 || pr.N < 0:
		return fmt.Errorf("negative size: %d rows, %d columns, %d vectors", pr.Rows, pr.K, pr.N)
	case pr.K > pr.Stride/4 || pr.K > pr.LdX || pr.Rows > pr.LdOut:
		return fmt.Errorf("strides (%d bytes, %d, %d floats) shorter than %d rows of %d floats",
			pr.Stride, pr.LdX, pr.LdOut, pr.Rows, pr.K)
	case !spans(len(pr.W), pr.Rows, pr.Stride, 4*pr.K):
		return fmt.Errorf("%d rows of %d floats, %d bytes apart, need more than the %d bytes given",
			pr.Rows, pr.K, pr.Stride, len(pr.W))
	case !spans(len(pr.X), pr.N, pr.LdX, pr.K):
		return fmt.Errorf("%d vectors of %d floats, %d apart, need more than the %d floats given",
			pr.N, pr.K, pr.LdX, len(pr.X))
	case !spans(len(pr.Out), pr.N, pr.LdOut, pr.Rows):
		return fmt.Errorf("%d vectors of %d outputs, %d apart, need more than the %d floats given",
			pr.N, pr.Rows, pr.LdOut, len(pr.Out))
	}
	return nil
}

// spans reports whether count blocks of width elements, stride apart
// (stride ≥ width ≥ 0), fit in length elements, without overflow.
func spans(length, count, stride, width int) bool {
	if count == 0 {
		return true
	}
	if width > length {
		return false
	}
	return stride == 0 || count-1 <= (length-width)/stride
}

// gemmF32ByGEMV returns a gemmF32Kernel that runs gemv once per vector;
// with gemvF32Generic it is the reference: every output a float32 sum in
// index order.
func gemmF32ByGEMV(gemv gemvF32Kernel) gemmF32Kernel {
	return func(pr *F32Product) {
		for t := range pr.N {
			gemv(pr.W, pr.Stride, pr.K, pr.X[t*pr.LdX:t*pr.LdX+pr.K], pr.Out[t*pr.LdOut:t*pr.LdOut+pr.Rows])
		}
	}
}
