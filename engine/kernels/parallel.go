package kernels

// ParallelFor calls fn on the consecutive ranges [lo, hi) of chunk indices
// (the last one shorter) that cover [0, n), spread over the pool's worker
// threads and the calling goroutine (chunk < 1 counts as 1); it returns
// when every call has returned. Calls run concurrently, in no particular
// order. fn may use the single-goroutine methods (GEMVF32Strided,
// GEMMF32Strided, SoftmaxF32) but must not call the parallel ones (GEMV,
// GEMM, GEMVF32, GEMMF32, ParallelFor): the workers they would wait for
// may be busy running fn.
func (p *Pool) ParallelFor(n, chunk int, fn func(lo, hi int)) {
	chunk = max(chunk, 1)
	if p.threads > 1 && n > chunk {
		p.parallelFor(n, chunk, fn)
		return
	}
	for lo := 0; lo < n; lo += chunk {
		fn(lo, min(lo+chunk, n))
	}
}
