package cuda

import (
	_ "embed"
	"fmt"
)

// kernelSource is the CUDA source of every kernel, compiled at run time.
//
//go:embed kernels.cu
var kernelSource string

// kernelFile names the source in compiler messages.
const kernelFile = "mmllm_kernels.cu"

// compileOptions returns the NVRTC options for an architecture (e.g. 90):
// PTX for that virtual architecture, or with cubin a cubin for the real
// one; no contraction of multiplies and adds into FMAs (so results round
// as the Go emulation does); and the launch constants the host computes
// geometry with.
func compileOptions(arch int, cubin bool, t mmTuning) []string {
	target := fmt.Sprintf("--gpu-architecture=compute_%d", arch)
	if cubin {
		target = fmt.Sprintf("--gpu-architecture=sm_%d", arch)
	}
	return []string{
		target,
		"--fmad=false",
		fmt.Sprintf("-DMM_WARPS=%d", t.Warps),
		fmt.Sprintf("-DMM_UNROLL=%d", t.Unroll),
		fmt.Sprintf("-DMV_ROWS=%d", t.VecRows),
		fmt.Sprintf("-DMM_STREAM=%d", boolInt(t.Stream)),
		fmt.Sprintf("-DMM_MAX_TOKENS=%d", mmMaxTokens),
		fmt.Sprintf("-DQ8_WARPS=%d", q8Warps),
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
