package decoder

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quantize"
	"github.com/stretchr/testify/require"
)

// smolLM2 is the SmolLM2-135M shape of the llama.cpp anchor
// (../shared/anchors/llamacpp.md, section b): tied embeddings, rope theta
// 100000, RMSNorm eps 1e-5.
var smolLM2 = Config{Dim: 576, Layers: 30, Heads: 9, KVHeads: 3, FFN: 1536, Vocab: 49152,
	Context: 8192, RopeBase: 100000, NormEps: 1e-5}

// randomModel builds a model of shape cfg in memory with random weights
// drawn as the anchor's model was: every matrix N(0, 0.02), every norm
// weight 1 + N(0, 0.1), from a PCG seeded with seed. Each matrix is stored
// in the format the recipe plans for its tensor name (as engine/quantize
// would convert a GGUF file), quantized with quant's MinMax method: the
// method changes the weights' error, not the products' speed, and MinMax is
// much quicker to run than Search at this size. Embeddings are tied.
func randomModel(tb testing.TB, cfg Config, recipe quantize.Recipe, seed uint64) *Model {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	norm := func() []float32 {
		v := make([]float32, cfg.Dim)
		for i := range v {
			v[i] = float32(1 + 0.1*rng.NormFloat64())
		}
		return v
	}
	matrix := func(name string, rows, cols int) *Linear {
		plans, err := recipe.Plan([]gguf.TensorInfo{{Name: name, Dims: []uint64{uint64(cols), uint64(rows)}, Type: gguf.TypeF32}})
		require.NoError(tb, err)
		f, ok := plans[0].Out.Format()
		require.True(tb, ok, "%s: recipe %s planned %s", name, recipe.Name, plans[0].Out)
		w := make([]float32, rows*cols)
		for i := range w {
			w[i] = float32(0.02 * rng.NormFloat64())
		}
		var data []byte
		if f == quant.F32 {
			data = f32Bytes(w)
		} else {
			rb, err := f.RowBytes(cols)
			require.NoError(tb, err)
			data = make([]byte, rows*rb)
			require.NoError(tb, quant.QuantizeMatrix(name, f, w, rows, cols, data, quant.Options{Method: quant.MinMax}))
		}
		m, err := kernels.NewMatrix(name, f, rows, cols, data)
		require.NoError(tb, err)
		return NewLinear(m)
	}
	require.NoError(tb, cfg.Validate())
	embed := matrix("token_embd.weight", cfg.Vocab, cfg.Dim)
	layers := make([]Layer, cfg.Layers)
	for i := range layers {
		p := fmt.Sprintf("blk.%d.", i)
		layers[i] = Layer{
			AttnNorm: norm(),
			Q:        matrix(p+"attn_q.weight", cfg.Dim, cfg.Dim),
			K:        matrix(p+"attn_k.weight", cfg.KVDim, cfg.Dim),
			V:        matrix(p+"attn_v.weight", cfg.KVDim, cfg.Dim),
			O:        matrix(p+"attn_output.weight", cfg.Dim, cfg.Dim),
			FFNNorm:  norm(),
			Gate:     matrix(p+"ffn_gate.weight", cfg.FFN, cfg.Dim),
			Up:       matrix(p+"ffn_up.weight", cfg.FFN, cfg.Dim),
			Down:     matrix(p+"ffn_down.weight", cfg.Dim, cfg.FFN),
		}
	}
	m, err := NewModel(cfg, embed, layers, norm(), nil)
	require.NoError(tb, err)
	return m
}

// modelBits returns the model's weight bits per parameter, the tied
// embedding counted once.
func modelBits(m *Model) float64 {
	bytes, params := m.Embed.Bytes(), m.Embed.Rows()*m.Embed.Cols()
	for _, l := range m.Layers {
		for _, lin := range []*Linear{l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down} {
			bytes += lin.Bytes()
			params += lin.Rows() * lin.Cols()
		}
	}
	return 8 * float64(bytes) / float64(params)
}
