package cuda

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// preprocess joins continued lines, drops comments and #define lines, and
// expands the source's object-like macros (MM_PARAMS, MM_BOUNDS ...), so
// kernel signatures written through macros can be read.
func preprocess(src string) string {
	src = strings.ReplaceAll(src, "\\\n", " ")
	defines := map[string]string{}
	defRe := regexp.MustCompile(`^#define\s+(\w+)(\s.*)?$`)
	var lines []string
	for _, l := range strings.Split(src, "\n") {
		if i := strings.Index(l, "//"); i >= 0 {
			l = l[:i]
		}
		if m := defRe.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			defines[m[1]] = strings.TrimSpace(m[2])
			continue
		}
		lines = append(lines, l)
	}
	out := strings.Join(lines, "\n")
	for range 4 {
		for name, body := range defines {
			out = regexp.MustCompile(`\b`+name+`\b`).ReplaceAllLiteralString(out, body)
		}
	}
	return out
}

// sourceKernels returns the extern "C" kernels of the source with their
// parameters.
func sourceKernels(t *testing.T, src string) map[string][]param {
	re := regexp.MustCompile(`extern\s+"C"\s+__global__\s+void\s+(?:__launch_bounds__\([^)]*\)\s*)?(\w+)\s*\(([^)]*)\)`)
	kernels := map[string][]param{}
	for _, m := range re.FindAllStringSubmatch(preprocess(src), -1) {
		var ps []param
		for _, p := range strings.Split(m[2], ",") {
			fields := strings.Fields(strings.NewReplacer("*", " * ", "__restrict__", "").Replace(p))
			if len(fields) < 2 {
				t.Fatalf("kernel %s: parameter %q has no name", m[1], p)
			}
			name := fields[len(fields)-1]
			switch {
			case slices.Contains(fields, "*"):
				ps = append(ps, param{argPtr, name})
			case slices.Contains(fields, "int"):
				ps = append(ps, param{argI32, name})
			case slices.Contains(fields, "float"):
				ps = append(ps, param{argF32, name})
			default:
				t.Fatalf("kernel %s: parameter %q of a type the host cannot pack", m[1], p)
			}
		}
		_, dup := kernels[m[1]]
		require.False(t, dup, "kernel %s defined twice", m[1])
		kernels[m[1]] = ps
	}
	return kernels
}

// TestSourceDefinesEveryLaunchedKernel: the embedded source defines every
// kernel the host can launch, with the parameters (types, names, order)
// the host packs, and nothing the host does not know about.
func TestSourceDefinesEveryLaunchedKernel(t *testing.T) {
	require.Contains(t, kernelSource, "mm_rows", "kernels.cu is embedded")
	defined := sourceKernels(t, kernelSource)
	specs := kernelSpecs()
	require.Len(t, specs, 30)
	for _, s := range specs {
		params, ok := defined[s.name]
		require.True(t, ok, "kernels.cu has no extern \"C\" __global__ %s", s.name)
		require.Equal(t, s.params, params, "parameters of %s", s.name)
		require.Equal(t, s, kernelIndex[s.name])
	}
	require.Len(t, defined, len(specs), "kernels.cu defines kernels the host does not list")
}

// TestCompileOptionsDefineRequiredMacros: every constant the source
// requires from the host (#ifndef X / #error) is passed as -DX=.
func TestCompileOptionsDefineRequiredMacros(t *testing.T) {
	require.Contains(t, compileOptions(90, true, defaultTuning()), "--gpu-architecture=sm_90")
	opts := compileOptions(90, false, mmTuning{Warps: 8, Unroll: 2, VecRows: 3, Stream: true})
	require.Subset(t, opts, []string{"-DMM_WARPS=8", "-DMM_UNROLL=2", "-DMV_ROWS=3", "-DMM_STREAM=1"})
	require.Contains(t, opts, "--gpu-architecture=compute_90")
	require.Contains(t, opts, "--fmad=false", "the emulated order assumes no FMA contraction")
	required := regexp.MustCompile(`#ifndef (\w+)\s*\n#error`).FindAllStringSubmatch(kernelSource, -1)
	require.Len(t, required, 6)
	for _, m := range required {
		found := slices.ContainsFunc(opts, func(o string) bool { return strings.HasPrefix(o, "-D"+m[1]+"=") })
		require.True(t, found, "no -D%s= among %v", m[1], opts)
	}
}

// TestPreprocessExpandsMacros checks the test's own source reader on a
// made-up kernel, so a parser bug cannot hide a signature mismatch.
func TestPreprocessExpandsMacros(t *testing.T) {
	src := "#define P const float* __restrict__ a, \\\n int n\n" +
		"#define B __launch_bounds__(32 * W)\n" +
		"extern \"C\" __global__ void B k1(P, float s) { } // k9(int)\n" +
		"extern \"C\" __global__ void k2(double* d) { }\n"
	got := sourceKernels(t, src)
	require.Equal(t, map[string][]param{
		"k1": {{argPtr, "a"}, {argI32, "n"}, {argF32, "s"}},
		"k2": {{argPtr, "d"}},
	}, got)
}
