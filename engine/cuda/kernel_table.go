package cuda

import (
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// argKind is the type of one kernel parameter, as the kernel declares it.
type argKind uint8

const (
	argPtr argKind = iota + 1 // a device pointer (any T*)
	argI32                    // int
	argF32                    // float
)

func (k argKind) String() string {
	switch k {
	case argPtr:
		return "pointer"
	case argI32:
		return "int"
	case argF32:
		return "float"
	}
	return fmt.Sprintf("argKind(%d)", uint8(k))
}

// param is one kernel parameter: its type and its name in kernels.cu.
type param struct {
	kind argKind
	name string
}

func (p param) String() string { return p.kind.String() + " " + p.name }

// kernelSpec names a kernel of kernels.cu and lists its parameters; a
// launch must pack exactly these, in order.
type kernelSpec struct {
	name   string
	params []param
}

// Parameter lists, written as kernels.cu declares them.
func ptrParams(names ...string) []param {
	ps := make([]param, len(names))
	for i, n := range names {
		ps[i] = param{argPtr, n}
	}
	return ps
}

func intParams(names ...string) []param {
	ps := make([]param, len(names))
	for i, n := range names {
		ps[i] = param{argI32, n}
	}
	return ps
}

func paramList(lists ...[]param) []param {
	var ps []param
	for _, l := range lists {
		ps = append(ps, l...)
	}
	return ps
}

// mmParams are the parameters of every gemv_* and gemm_* kernel: weights,
// rows, cols, row bytes, activation codes, scales and sums, vector count,
// output and output stride.
var mmParams = paramList(ptrParams("w"), intParams("rows", "cols", "row_bytes"), ptrParams("xq", "xd", "xs"), intParams("ntok"),
	ptrParams("out"), intParams("ldo"))

// opSpecs are the kernels other than the matrix products.
var opSpecs = []kernelSpec{
	{"quantize_q8", paramList(ptrParams("x", "qs", "d", "s"), intParams("groups"))},
	{"rmsnorm", paramList(ptrParams("dst", "x", "w"), intParams("n"), []param{{argF32, "eps"}})},
	{"rmsnorm_q8", paramList(ptrParams("dst", "x", "res", "w"), intParams("n"), []param{{argF32, "eps"}}, ptrParams("qs", "d", "s"))},
	{"rope", paramList(ptrParams("x", "freqs"), intParams("heads", "head_dim", "dims", "pos0", "neox"))},
	{"rope_at", paramList(ptrParams("x", "freqs"), intParams("heads", "head_dim", "dims"), ptrParams("pos"), intParams("neox"))},
	{"softmax", paramList(ptrParams("x"), intParams("n"))},
	{"attention", paramList(ptrParams("out", "q", "k", "v"), intParams("group", "head_dim", "kv_stride", "npos"),
		[]param{{argF32, "scale"}})},
	{"attention_at", paramList(ptrParams("out", "q", "k", "v"), intParams("group", "head_dim", "kv_stride"), ptrParams("pos"),
		[]param{{argF32, "scale"}})},
	{"kv_store", paramList(ptrParams("k_cache", "v_cache", "k_new", "v_new"), intParams("n"), ptrParams("pos"))},
	{"swiglu", paramList(ptrParams("dst", "gate", "up"), intParams("n"))},
	{"swiglu_q8", paramList(ptrParams("dst", "gate", "up"), intParams("groups"), ptrParams("qs", "d", "s"))},
	{"add", paramList(ptrParams("dst", "a", "b"), intParams("n"))},
}

// mmFormats are the weight formats with GPU matrix kernels.
var mmFormats = []quant.Format{quant.Int2, quant.Int4, quant.Int8}

// groupCodeBytes returns the code bytes of one group of GroupSize weights.
func groupCodeBytes(f quant.Format) int { return quant.GroupSize * f.Bits() / 8 }

// mmAligns returns the code alignments the kernels are compiled for, widest
// first: the group's code size capped at 16 (one vector load), 4, and 1.
func mmAligns(f quant.Format) []int { return []int{min(groupCodeBytes(f), 16), 4, 1} }

// codeAlign returns the widest alignment in mmAligns(f) that every row's
// groups have when rows start every rowBytes bytes of a 256-byte aligned
// buffer (the kernels load a group's codes with loads that wide).
func codeAlign(f quant.Format, rowBytes int) int {
	aligns := mmAligns(f)
	for _, a := range aligns {
		if rowBytes%a == 0 {
			return a
		}
	}
	return aligns[len(aligns)-1]
}

// mmKernelName returns the kernel for format f at code alignment align,
// the GEMV one (one activation vector) or the GEMM one (up to mmMaxTokens).
func mmKernelName(f quant.Format, align int, batched bool) string {
	kind := "gemv"
	if batched {
		kind = "gemm"
	}
	return fmt.Sprintf("%s_%s_a%d", kind, f, align)
}

// kernelSpecs lists every kernel the host may launch.
func kernelSpecs() []kernelSpec {
	var specs []kernelSpec
	for _, batched := range []bool{false, true} {
		for _, f := range mmFormats {
			for _, a := range mmAligns(f) {
				specs = append(specs, kernelSpec{mmKernelName(f, a, batched), mmParams})
			}
		}
	}
	return append(specs, opSpecs...)
}

// kernelIndex maps kernel names to their specs; it is built once and never
// changed.
var kernelIndex = func() map[string]kernelSpec {
	idx := make(map[string]kernelSpec)
	for _, s := range kernelSpecs() {
		idx[s.name] = s
	}
	return idx
}()
