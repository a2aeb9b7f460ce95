package cuda

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNVRTCCompilesKernels compiles the embedded kernels with NVRTC, which
// needs no GPU, and checks the PTX: every kernel the host launches is an
// entry with its parameter count, and the matrix kernels use dp4a. It
// skips where no NVRTC library is found (MMLLM_NVRTC names one).
func TestNVRTCCompilesKernels(t *testing.T) {
	nv, err := loadNVRTC()
	if errors.Is(err, ErrNoCompiler) {
		t.Skipf("no NVRTC library: %v", err)
	}
	require.NoError(t, err)
	archs := nv.supportedArchs()
	t.Logf("NVRTC %s from %s, architectures %v", nv.versionString(), nv.lib.name, archs)
	// The oldest architecture this NVRTC targets (6.1, the kernels' floor,
	// until NVRTC 12; 7.5 from NVRTC 13) and Hopper.
	lowest := 61
	if len(archs) > 0 {
		lowest = max(lowest, slices.Min(archs))
	}
	for _, cc := range [][2]int{{lowest / 10, lowest % 10}, {9, 0}} {
		arch, err := chooseArch(cc[0], cc[1], archs)
		require.NoError(t, err)
		ptx, err := nv.compile(kernelSource, kernelFile, compileOptions(arch, false, defaultTuning()), false)
		require.NoError(t, err, "compute_%d", arch)
		require.Zero(t, ptx[len(ptx)-1], "PTX is NUL-terminated for cuModuleLoadData")
		text := strings.TrimRight(string(ptx), "\x00")
		require.Contains(t, text, fmt.Sprintf(".target sm_%d", arch))
		entries := ptxEntries(text)
		for name, spec := range kernelIndex {
			params, ok := entries[name]
			require.True(t, ok, "compute_%d PTX has no entry %s", arch, name)
			require.Equal(t, len(spec.params), params, "parameters of %s", name)
		}
		require.Len(t, entries, len(kernelIndex))
		require.Contains(t, text, "dp4a.s32.s32")
		require.Contains(t, text, "dp4a.u32.s32")
		require.NotContains(t, text, "fma.rn.f32", "--fmad=false leaves no contracted float multiply-adds")
		if arch >= 70 {
			require.Contains(t, text, "ld.global.nc.L1::no_allocate", "streamed weights skip L1 from sm_70")
		} else {
			require.NotContains(t, text, "L1::no_allocate", "sm_%d has no L1 eviction hints", arch)
		}
	}
	plain, err := nv.compile(kernelSource, kernelFile, compileOptions(90, false, mmTuning{Warps: 8, Unroll: 2, VecRows: 1}), false)
	require.NoError(t, err, "a tuning without streaming and one row per warp")
	require.NotContains(t, string(plain), "L1::no_allocate")
	if !nv.canCUBIN() {
		t.Logf("NVRTC %s cannot produce cubins", nv.versionString())
		return
	}
	// The fallback for drivers older than NVRTC: a cubin for the device.
	bin, err := nv.compile(kernelSource, kernelFile, compileOptions(90, true, defaultTuning()), true)
	require.NoError(t, err)
	require.Equal(t, "\x7fELF", string(bin[:4]), "a cubin is an ELF image")
}

// ptxEntries returns the .entry functions of PTX with their parameter
// counts.
func ptxEntries(ptx string) map[string]int {
	re := regexp.MustCompile(`\.entry\s+(\w+)\s*\(([^)]*)\)`)
	out := map[string]int{}
	for _, m := range re.FindAllStringSubmatch(ptx, -1) {
		out[m[1]] = strings.Count(m[2], ".param")
	}
	return out
}

func TestNVRTCReportsCompileErrors(t *testing.T) {
	nv, err := loadNVRTC()
	if errors.Is(err, ErrNoCompiler) {
		t.Skipf("no NVRTC library: %v", err)
	}
	require.NoError(t, err)
	_, err = nv.compile("extern \"C\" __global__ void k() { undefined_thing(); }", "broken.cu", []string{"--gpu-architecture=compute_75"}, false)
	var ne *NVRTCError
	require.ErrorAs(t, err, &ne)
	require.Equal(t, int32(6), ne.Code)
	require.Contains(t, ne.Log, "undefined_thing", "the compiler's log names the problem")
	require.ErrorContains(t, err, "nvrtcCompileProgram(broken.cu) failed: error 6 NVRTC_ERROR_COMPILATION")
}
