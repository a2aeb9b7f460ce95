package vision

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// Tensor names of an Idefics3 mmproj file, as llama.cpp's converter writes
// them (GGUF dims ne0 first).
const (
	tensorPatch    = "v.patch_embd.weight"    // [P, P, 3, Dim]: conv weight [out][in][ky][kx]
	tensorPatchB   = "v.patch_embd.bias"      // [Dim]
	tensorPos      = "v.position_embd.weight" // [Dim, Patches]
	tensorPostW    = "v.post_ln.weight"       // [Dim]
	tensorPostB    = "v.post_ln.bias"         // [Dim]
	tensorFC       = "mm.model.fc.weight"     // [Dim·scale², ProjDim]
	blockPrefixFmt = "v.blk.%d."
)

// linear is y = W·x + b over F32 weights (b may be nil).
type linear struct {
	w *kernels.Matrix
	b []float32
}

// block is one pre-norm transformer block.
type block struct {
	ln1W, ln1B []float32
	q, k, v, o linear
	ln2W, ln2B []float32
	up, down   linear
}

// Encoder is a loaded Idefics3 vision encoder and projector. It is
// immutable: one Encoder may encode images from many goroutines.
type Encoder struct {
	Config
	patch        *kernels.Matrix // Dim × 3·P·P, values rounded to float16
	patchB       []float32
	pos          []float32 // Patches × Dim
	blocks       []block
	postW, postB []float32
	fc           *kernels.Matrix // ProjDim × Dim·scale²
}

// Load builds an Encoder from an mmproj GGUF file (general.architecture
// "clip", clip.projector_type "idefics3"). F32 weights are used in place
// (no copy of a mapped file); other float and ggml block types are decoded
// to F32 once. Errors name the file and the key or tensor at fault.
func Load(f *gguf.File) (*Encoder, error) {
	cfg, err := readConfig(f)
	if err != nil {
		return nil, fmt.Errorf("vision: %s: %w", f.Name(), err)
	}
	fcInfo, ok := f.Tensor(tensorFC)
	if !ok || len(fcInfo.Dims) != 2 {
		return nil, fmt.Errorf("vision: %s: tensor %s is missing or not 2-D", f.Name(), tensorFC)
	}
	cfg.ProjDim = int(min(fcInfo.Dims[1], math.MaxInt32))
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("vision: %s: %w", f.Name(), err)
	}
	l := loader{f: f}
	d, pp := cfg.Dim, 3*cfg.PatchSize*cfg.PatchSize
	e := &Encoder{Config: cfg}
	e.patch = l.matrixF16(tensorPatch, []int{cfg.PatchSize, cfg.PatchSize, 3, d}, d, pp)
	e.patchB = l.vector(tensorPatchB, d)
	e.pos = l.floats(tensorPos, []int{d, cfg.Patches()})
	e.blocks = make([]block, cfg.Layers)
	for i := range e.blocks {
		p := fmt.Sprintf(blockPrefixFmt, i)
		e.blocks[i] = block{
			ln1W: l.vector(p+"ln1.weight", d), ln1B: l.vector(p+"ln1.bias", d),
			q: l.linear(p+"attn_q", d, d), k: l.linear(p+"attn_k", d, d),
			v: l.linear(p+"attn_v", d, d), o: l.linear(p+"attn_out", d, d),
			ln2W: l.vector(p+"ln2.weight", d), ln2B: l.vector(p+"ln2.bias", d),
			up: l.linear(p+"ffn_up", cfg.FFN, d), down: l.linear(p+"ffn_down", d, cfg.FFN),
		}
	}
	e.postW, e.postB = l.vector(tensorPostW, d), l.vector(tensorPostB, d)
	s := cfg.ScaleFactor
	e.fc = l.matrix(tensorFC, cfg.ProjDim, d*s*s)
	if l.err != nil {
		return nil, l.err
	}
	return e, nil
}

// loader reads tensors, keeping the first error.
type loader struct {
	f   *gguf.File
	err error
}

func (l *loader) fail(name, format string, args ...any) {
	if l.err == nil {
		l.err = fmt.Errorf("vision: %s: tensor %s: %s", l.f.Name(), name, fmt.Sprintf(format, args...))
	}
}

// floats decodes a tensor of the given dims (ne0 first) to float32.
func (l *loader) floats(name string, dims []int) []float32 {
	if l.err != nil {
		return nil
	}
	info, ok := l.f.Tensor(name)
	if !ok {
		l.fail(name, "missing")
		return nil
	}
	if !slices.EqualFunc(info.Dims, dims, func(a uint64, b int) bool { return a == uint64(b) }) {
		l.fail(name, "dims %v, want %v", info.Dims, dims)
		return nil
	}
	data, err := l.f.TensorData(name)
	if err != nil {
		l.err = fmt.Errorf("vision: %w", err)
		return nil
	}
	out := make([]float32, info.Elements())
	if err := quant.DequantizeGGML(quant.GGMLType(info.Type), data, out); err != nil {
		l.fail(name, "%v", err)
		return nil
	}
	return out
}

// vector reads a 1-D tensor of n values.
func (l *loader) vector(name string, n int) []float32 { return l.floats(name, []int{n}) }

// matrix reads a 2-D tensor [cols, rows] as an F32 matrix, in place when
// it is stored as F32.
func (l *loader) matrix(name string, rows, cols int) *kernels.Matrix {
	if l.err != nil {
		return nil
	}
	info, ok := l.f.Tensor(name)
	if ok && info.Type == gguf.TypeF32 && len(info.Dims) == 2 && info.Dims[0] == uint64(cols) && info.Dims[1] == uint64(rows) {
		data, err := l.f.TensorData(name)
		if err != nil {
			l.err = fmt.Errorf("vision: %w", err)
			return nil
		}
		return l.newMatrix(name, rows, cols, data)
	}
	w := l.floats(name, []int{cols, rows})
	if w == nil {
		return nil
	}
	return l.newMatrix(name, rows, cols, f32Bytes(w))
}

// matrixF16 reads a tensor of the given dims as a rows×cols F32 matrix
// whose values are rounded to float16, as llama.cpp's F16 convolution
// sees them.
func (l *loader) matrixF16(name string, dims []int, rows, cols int) *kernels.Matrix {
	w := l.floats(name, dims)
	if w == nil {
		return nil
	}
	roundF16(w)
	return l.newMatrix(name, rows, cols, f32Bytes(w))
}

// linear reads prefix.weight [cols, rows] and prefix.bias [rows].
func (l *loader) linear(prefix string, rows, cols int) linear {
	return linear{w: l.matrix(prefix+".weight", rows, cols), b: l.vector(prefix+".bias", rows)}
}

func (l *loader) newMatrix(name string, rows, cols int, data []byte) *kernels.Matrix {
	m, err := kernels.NewMatrix(name, quant.F32, rows, cols, data)
	if err != nil && l.err == nil {
		l.err = fmt.Errorf("vision: %s: %w", l.f.Name(), err)
	}
	return m
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}
