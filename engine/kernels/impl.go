package kernels

import (
	"fmt"
	"os"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// EnvKernels names the environment variable that forces an Impl by name.
const EnvKernels = "MMLLM_KERNELS"

// gemvKernel computes out[r] for rows r in [0, len(out)) of a matrix whose
// rows start every stride bytes of w and hold n weights (n a multiple of 32),
// against the activations x.
type gemvKernel func(w []byte, stride, n int, x *quant.Q8, out []float32)

// gemmKernel computes out[t*ldo+r] for rows r in [0, rows) and activation
// vectors t in [0, len(xs)).
type gemmKernel func(w []byte, stride, n, rows int, xs []*quant.Q8, out []float32, ldo int)

// gemvF32Kernel is gemvKernel for F32 weights and float activations.
type gemvF32Kernel func(w []byte, stride, n int, x []float32, out []float32)

// Impl is one set of kernels: the portable Go one or a SIMD one. A nil
// entry falls back to the generic kernel for that product.
type Impl struct {
	// Name is how MMLLM_KERNELS and benchmarks refer to the Impl.
	Name string
	// Supported reports whether this CPU can run the Impl.
	Supported bool
	// Priority orders the supported Impls; the highest is the default.
	Priority int

	gemv    [quant.Int2 + 1]gemvKernel
	gemm    [quant.Int2 + 1]gemmKernel
	gemvF32 gemvF32Kernel
	// gemmF32 multiplies F32 rows with several vectors; nil means one
	// gemvF32 per vector.
	gemmF32 gemmF32Kernel
	// softmax is SoftmaxF32's kernel; nil means softmaxGeneric.
	softmax softmaxKernel
	// quantizeQ8 quantizes activations; nil means quantizeQ8Fast.
	quantizeQ8 func(x []float32, q *quant.Q8) error
	// streamSum adds the 64-bit words of a buffer (a multiple of 64 bytes);
	// it measures read bandwidth.
	streamSum func(b []byte) uint64
}

// registry lists every Impl compiled into this binary; architecture files
// add theirs in init functions.
var registry = []*Impl{genericImpl()}

func genericImpl() *Impl {
	im := &Impl{Name: "generic", Supported: true, Priority: 0, gemvF32: gemvF32Generic, streamSum: streamSumGeneric}
	im.gemv[quant.Int2] = gemvInt2Generic
	im.gemv[quant.Int4] = gemvInt4Generic
	im.gemv[quant.Int8] = gemvInt8Generic
	return im.complete(nil)
}

// complete fills the Impl's missing kernels from base (or itself for GEMM
// by repeated GEMV) and returns it.
func (im *Impl) complete(base *Impl) *Impl {
	for f := range im.gemv {
		if im.gemv[f] == nil && base != nil {
			im.gemv[f] = base.gemv[f]
		}
		if im.gemm[f] == nil && im.gemv[f] != nil {
			im.gemm[f] = gemmByGEMV(im.gemv[f])
		}
	}
	if im.gemvF32 == nil && base != nil {
		im.gemvF32 = base.gemvF32
	}
	if im.gemmF32 == nil {
		im.gemmF32 = gemmF32ByGEMV(im.gemvF32)
	}
	if im.streamSum == nil && base != nil {
		im.streamSum = base.streamSum
	}
	if im.quantizeQ8 == nil {
		im.quantizeQ8 = quantizeQ8Fast
	}
	return im
}

// register adds a SIMD Impl, completing it from the generic one.
func register(im *Impl) { registry = append(registry, im.complete(registry[0])) }

// Impls returns the Impls compiled into this binary, supported or not.
func Impls() []*Impl { return append([]*Impl(nil), registry...) }

// Lookup returns the Impl with the given name, or an error if it is unknown
// or this CPU cannot run it.
func Lookup(name string) (*Impl, error) {
	var names []string
	for _, im := range registry {
		if im.Name == name {
			if !im.Supported {
				return nil, fmt.Errorf("kernels: %s kernels are not supported on this CPU", name)
			}
			return im, nil
		}
		names = append(names, im.Name)
	}
	return nil, fmt.Errorf("kernels: unknown kernels %q (have %s)", name, strings.Join(names, ", "))
}

// Best returns the supported Impl with the highest priority.
func Best() *Impl {
	best := registry[0]
	for _, im := range registry[1:] {
		if im.Supported && im.Priority > best.Priority {
			best = im
		}
	}
	return best
}

// Default returns the Impl named by MMLLM_KERNELS, or Best when it is unset.
func Default() (*Impl, error) {
	if name := os.Getenv(EnvKernels); name != "" {
		im, err := Lookup(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvKernels, err)
		}
		return im, nil
	}
	return Best(), nil
}
