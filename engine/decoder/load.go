package decoder

import (
	"errors"
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// Load builds a decoder from a GGUF file with llama.cpp's `llama`
// architecture keys and tensor names. Weights in the engine's formats, F32
// and ggml Q8_0 are used in place (no copy of a mapped file); F16 and the
// other ggml block types are decoded to F32 once, at load.
func Load(f *gguf.File) (*Model, error) {
	arch, err := f.String("general.architecture")
	if err != nil {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	if arch != "llama" {
		return nil, fmt.Errorf("decoder: %s: architecture %q is not supported (want llama)", f.Name(), arch)
	}
	u := func(key string, dst *int) {
		if err != nil {
			return
		}
		var v uint32
		if v, err = f.Uint32("llama." + key); err == nil {
			*dst = int(v)
		}
	}
	var cfg Config
	u("embedding_length", &cfg.Dim)
	u("block_count", &cfg.Layers)
	u("attention.head_count", &cfg.Heads)
	u("feed_forward_length", &cfg.FFN)
	u("context_length", &cfg.Context)
	if err != nil {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	cfg.KVHeads = cfg.Heads
	if v, err := f.Uint32("llama.attention.head_count_kv"); err == nil {
		cfg.KVHeads = int(v)
	} else if !errors.Is(err, gguf.ErrKeyNotFound) {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	if v, err := f.Uint32("llama.rope.dimension_count"); err == nil {
		cfg.RopeDim = int(v)
	} else if !errors.Is(err, gguf.ErrKeyNotFound) {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	cfg.RopeBase = 10000
	if v, err := f.Float32("llama.rope.freq_base"); err == nil {
		cfg.RopeBase = float64(v)
	} else if !errors.Is(err, gguf.ErrKeyNotFound) {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	eps, err := f.Float32("llama.attention.layer_norm_rms_epsilon")
	if err != nil {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	cfg.NormEps = eps
	embdInfo, ok := f.Tensor("token_embd.weight")
	if !ok {
		return nil, fmt.Errorf("decoder: %s: missing tensor token_embd.weight", f.Name())
	}
	cfg.Vocab = int(embdInfo.Dims[len(embdInfo.Dims)-1])

	l := loader{f: f}
	embed := l.linear("token_embd.weight")
	var output *Linear
	if _, ok := f.Tensor("output.weight"); ok {
		output = l.linear("output.weight")
	}
	layers := make([]Layer, cfg.Layers)
	for i := range layers {
		p := fmt.Sprintf("blk.%d.", i)
		layers[i] = Layer{
			AttnNorm: l.vector(p + "attn_norm.weight"),
			Q:        l.linear(p + "attn_q.weight"), K: l.linear(p + "attn_k.weight"),
			V: l.linear(p + "attn_v.weight"), O: l.linear(p + "attn_output.weight"),
			FFNNorm: l.vector(p + "ffn_norm.weight"),
			Gate:    l.linear(p + "ffn_gate.weight"), Up: l.linear(p + "ffn_up.weight"),
			Down: l.linear(p + "ffn_down.weight"),
		}
	}
	outNorm := l.vector("output_norm.weight")
	if l.err != nil {
		return nil, l.err
	}
	return NewModel(cfg, embed, layers, outNorm, output)
}

// loader reads tensors, keeping the first error.
type loader struct {
	f   *gguf.File
	err error
}

func (l *loader) fail(name string, format string, args ...any) {
	if l.err == nil {
		l.err = fmt.Errorf("decoder: %s: tensor %s: %s", l.f.Name(), name, fmt.Sprintf(format, args...))
	}
}

func (l *loader) tensor(name string) (gguf.TensorInfo, []byte, bool) {
	if l.err != nil {
		return gguf.TensorInfo{}, nil, false
	}
	info, ok := l.f.Tensor(name)
	if !ok {
		l.fail(name, "missing")
		return info, nil, false
	}
	data, err := l.f.TensorData(name)
	if err != nil {
		l.err = fmt.Errorf("decoder: %w", err)
		return info, nil, false
	}
	return info, data, true
}

// vector reads a 1-D F32 tensor (a norm's weights).
func (l *loader) vector(name string) []float32 {
	info, data, ok := l.tensor(name)
	if !ok {
		return nil
	}
	if len(info.Dims) != 1 || info.Type != gguf.TypeF32 {
		l.fail(name, "want a 1-D f32 vector, got %v %s", info.Dims, info.Type)
		return nil
	}
	v := make([]float32, info.Dims[0])
	quant.DecodeF32(data, v)
	return v
}

// linear reads a 2-D matrix [cols, rows] in GGUF order.
func (l *loader) linear(name string) *Linear {
	info, data, ok := l.tensor(name)
	if !ok {
		return nil
	}
	if len(info.Dims) != 2 {
		l.fail(name, "want a 2-D matrix, got dims %v", info.Dims)
		return nil
	}
	cols, rows := int(info.Dims[0]), int(info.Dims[1])
	if f, ok := info.Type.Format(); ok && (f == quant.F32 || f.Grouped()) {
		m, err := kernels.NewMatrix(name, f, rows, cols, data)
		if err != nil {
			l.err = fmt.Errorf("decoder: %s: %w", l.f.Name(), err)
			return nil
		}
		return NewLinear(m)
	}
	gt := quant.GGMLType(info.Type)
	if gt == quant.GGMLQ8_0 {
		lin, err := NewLinearQ8_0(name, rows, cols, data)
		if err != nil {
			l.err = err
		}
		return lin
	}
	w := make([]float32, rows*cols)
	if err := quant.DequantizeGGML(gt, data, w); err != nil {
		l.fail(name, "%v", err)
		return nil
	}
	m, err := kernels.NewMatrix(name, quant.F32, rows, cols, f32Bytes(w))
	if err != nil {
		l.err = fmt.Errorf("decoder: %s: %w", l.f.Name(), err)
		return nil
	}
	return NewLinear(m)
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		putF32(b[4*i:], f)
	}
	return b
}
