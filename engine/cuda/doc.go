// Package cuda runs the engine's kernels on NVIDIA GPUs without needing
// CUDA at build time. At run time it loads the driver (libcuda.so.1) and
// the NVRTC compiler (libnvrtc.so) with github.com/ebitengine/purego, so
// binaries build with CGO_ENABLED=0 and run on machines without a GPU;
// there Open fails with an error wrapping ErrNoDriver or ErrNoDevice and
// callers keep the CPU kernels (Select does that and logs why).
//
// The kernels (kernels.cu, embedded) are compiled by NVRTC the first time a
// Device needs them (or at Prepare), to PTX for the device's compute
// capability, and loaded through the driver API; a driver too old for the
// NVRTC's PTX gets a cubin for the device instead. MMLLM_NVRTC gives
// NVRTC's path when it is not in the loader's. They compute, on the engine's own formats with
// the row layout unchanged (engine/quant/rows.go):
//
//   - Int2/Int4/Int8 weight × Q8 activation matrix-vector products (four
//     rows per warp, weights read past L1, dp4a integer dot products) and
//     small-batch products (up to 8 activation vectors per pass over the
//     weights);
//   - Q8 activation quantization, RMSNorm, RoPE, softmax, SwiGLU, residual
//     add and one decode step of grouped-query attention over a KV cache,
//     with fused forms (rmsnorm_q8, swiglu_q8) and forms that read the
//     sequence position from device memory (Position).
//
// A Batch collects operations; a Graph runs a batch as a CUDA graph, one
// driver call for hundreds of small kernels, replayed unchanged when its
// kernels read their position from a Position.
//
// The kernels are compiled with --fmad=false, so the float operations of a
// row product round exactly as written: results equal a Go emulation of the
// kernels' summation order bit for bit, and quant.DotRef (which adds the
// same group terms in group order) within 2·G·2⁻²⁴·Σ|term| for G groups.
//
// A Device serializes its calls and binds its CUDA context to the calling
// OS thread for the duration of each, so it may be shared by goroutines.
// Build with the nocuda tag to leave the loader (and purego) out.
package cuda
