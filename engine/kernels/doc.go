// Package kernels computes matrix-vector (GEMV) and matrix-matrix (GEMM)
// products of the engine's quantized weights (quant.Int2, Int4, Int8) with
// Q8 activations, and of F32 weights with float activations.
//
// Each product has a portable Go implementation (generic, the reference
// every other path is tested against: bit-identical to quant.DotRef) and
// SIMD implementations per architecture (amd64 AVX2 and AVX-512 VNNI,
// arm64 NEON) registered in a small table of Impls. The best Impl the CPU
// supports is chosen when a Pool is made; the environment variable
// MMLLM_KERNELS (generic, avx2, avx512, neon, neondot) forces one.
//
// Work is spread over a Pool's persistent worker goroutines: a call hands
// out row ranges to the workers and the caller, and starts no goroutine.
package kernels
