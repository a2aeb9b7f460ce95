package kernels

import "fmt"

// GEMVF32Strided computes out[r] = Σ_{i<n} w_r[i]·x[i], n = len(x), for
// the len(out) F32 rows w_r of n little-endian floats that start every
// stride bytes of w (row r at w[r*stride]). stride may exceed 4n: the rows
// can be a block of columns of a wider matrix, as one head of an attention
// cache is (keys by position, or values transposed). It runs on the
// calling goroutine with the pool's F32 kernel (the generic one sums in
// index order), for products too small to split, such as attention over
// a short context; callers parallelize over heads or tokens themselves.
func (p *Pool) GEMVF32Strided(w []byte, stride int, x, out []float32) error {
	n, rows := len(x), len(out)
	if rows == 0 {
		return nil
	}
	if stride < 4*n {
		return fmt.Errorf("kernels: strided f32 product: stride %d bytes is shorter than a row of %d floats", stride, n)
	}
	if need := (rows-1)*stride + 4*n; len(w) < need {
		return fmt.Errorf("kernels: strided f32 product: %d rows of %d floats, %d bytes apart, need %d bytes, got %d",
			rows, n, stride, need, len(w))
	}
	if n == 0 {
		clear(out)
		return nil
	}
	p.impl.gemvF32(w, stride, n, x, out)
	return nil
}
