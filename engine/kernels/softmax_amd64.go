//go:build amd64 && !purego

package kernels

// softmaxF32x16 is softmaxGeneric for AVX-512 on the n > 0 floats at x:
// 16 values per step, the exponentials as expF32 computes them, their sum
// in one 8-lane float64 accumulator (lanes 0..7 of a step, then 8..15).
//
//go:noescape
func softmaxF32x16(x *float32, n int, scale float32)

// softmaxAVX512 is the softmaxKernel of the avx512 Impl.
func softmaxAVX512(x []float32, scale float32) { softmaxF32x16(&x[0], len(x), scale) }
