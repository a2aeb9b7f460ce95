package decoder

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/cuda"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/cuda/cudatest"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/generate"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quantize"
	"github.com/stretchr/testify/require"
)

// TestUploadRefusesUnsupportedWeights checks, without a GPU, that a model
// whose matrices have no GPU kernels is refused by name before any device
// call (the zero Device would fail any).
func TestUploadRefusesUnsupportedWeights(t *testing.T) {
	m := loadModel(t, "tiny-llama-gpt2vocab-q8_0.gguf")
	_, err := m.Upload(&cuda.Device{})
	require.ErrorContains(t, err, "tensor token_embd.weight: ggml q8_0 weights have no GPU kernels")
	m = loadModel(t, "tiny-llama-gpt2vocab-f32.gguf")
	_, err = m.Upload(&cuda.Device{})
	require.ErrorContains(t, err, "tensor token_embd.weight: f32 weights have no GPU kernels")
	_, err = m.Upload(nil)
	require.ErrorContains(t, err, "nil device")
	empty := *quantizedModel(t, "int2")
	empty.Layers = nil
	_, err = empty.Upload(&cuda.Device{})
	require.ErrorContains(t, err, "without layers")
}

// TestGPUDecoderMatchesCPU runs a prompt of tokens and embeddings, then
// greedy decoding, on the device and on the CPU with the generic kernels,
// for the tiny model under each recipe and a two-layer model of the
// SmolLM2-135M widths: the logits after every position agree within
// prefillTolerance of the largest logit (the device sums products and
// quantizes activations in its own order), and the greedy tokens agree.
func TestGPUDecoderMatchesCPU(t *testing.T) {
	d := cudatest.Device(t)
	wide := smolLM2
	wide.Layers, wide.Vocab, wide.Context = 2, 1024, 256
	int2, err := quantize.RecipeByName("int2")
	require.NoError(t, err)
	ctx := context.Background()
	p := kernels.NewPool(1, mustImpl(t, "generic"))
	defer p.Close()
	for _, c := range []struct {
		name string
		m    *Model
	}{
		{"tiny-int2", quantizedModel(t, "int2")},
		{"tiny-int4", quantizedModel(t, "int4")},
		{"tiny-int8", quantizedModel(t, "int8")},
		{"wide-int2", randomModel(t, wide, int2, 5)},
	} {
		t.Run(c.name, func(t *testing.T) {
			const steps = 8
			inputs := mixedPrompt(c.m, 40)
			g, err := c.m.Upload(d)
			require.NoError(t, err)
			defer func() { require.NoError(t, g.Close()) }()
			gs, err := g.NewState(len(inputs) + steps)
			require.NoError(t, err)
			defer func() { require.NoError(t, gs.Close()) }()
			// ds launches kernel by kernel what gs runs as CUDA graphs.
			ds, err := g.NewState(len(inputs) + steps)
			require.NoError(t, err)
			defer func() { require.NoError(t, ds.Close()) }()
			ds.direct = true
			cs, err := c.m.NewState(len(inputs) + steps)
			require.NoError(t, err)
			var worst, scale float64
			compare := func(what string) {
				for _, v := range cs.Logits {
					scale = math.Max(scale, math.Abs(float64(v)))
				}
				worst = math.Max(worst, maxDiff(cs.Logits, gs.Logits))
				require.LessOrEqual(t, maxDiff(cs.Logits, gs.Logits), prefillTolerance*scale, what)
				require.Equal(t, ds.Logits, gs.Logits, "%s: graph and direct launches differ", what)
			}
			require.NoError(t, gs.Prefill(ctx, inputs[:30]))
			require.NoError(t, ds.Prefill(ctx, inputs[:30]))
			require.NoError(t, cs.Prefill(ctx, p, inputs[:30]))
			compare("after the first prefill")
			require.NoError(t, gs.Prefill(ctx, inputs[30:]))
			require.NoError(t, ds.Prefill(ctx, inputs[30:]))
			require.NoError(t, cs.Prefill(ctx, p, inputs[30:]))
			compare("after the second prefill")
			for step := range steps {
				want := generate.Argmax(cs.Logits)
				require.Equal(t, want, generate.Argmax(gs.Logits), "greedy step %d", step)
				require.NoError(t, gs.DecodeToken(ctx, want, true))
				require.NoError(t, ds.DecodeToken(ctx, want, true))
				require.NoError(t, cs.DecodeToken(ctx, p, want, true))
				compare(fmt.Sprintf("greedy step %d", step))
			}
			require.Equal(t, cs.Pos, gs.Pos)
			t.Logf("max |gpu - cpu| = %.2e (%.2e of the largest logit %.2f); weights %d bytes on %s",
				worst, worst/scale, scale, g.Bytes(), d.Name)
		})
	}
}

// TestGPUStateRejectsBadInput checks the device state's argument errors,
// which leave the sequence unchanged.
func TestGPUStateRejectsBadInput(t *testing.T) {
	d := cudatest.Device(t)
	m := quantizedModel(t, "int2")
	g, err := m.Upload(d)
	require.NoError(t, err)
	defer func() { require.NoError(t, g.Close()) }()
	_, err = g.NewState(m.Context + 1)
	require.ErrorContains(t, err, "out of range")
	s, err := g.NewState(4)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	ctx := context.Background()
	require.ErrorContains(t, s.Prefill(ctx, nil), "no positions")
	require.ErrorContains(t, s.Prefill(ctx, TokenInputs([]int{1, m.Vocab})), "input 1: token")
	require.ErrorContains(t, s.DecodeEmbedding(ctx, make([]float32, 3), true), "embedding of 3 values")
	require.ErrorContains(t, s.Prefill(ctx, TokenInputs(make([]int, 5))), "context full")
	require.Zero(t, s.Pos)
	require.NoError(t, s.Prefill(ctx, TokenInputs(make([]int, 4))))
	require.ErrorContains(t, s.DecodeToken(ctx, 1, true), "context full")
	s.Reset()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, s.DecodeToken(cancelled, 1, true), context.Canceled)
	require.Zero(t, s.Pos)
}

// TestGPUDecodeBatchMatchesDecodeToken decodes sets of sequences together
// (in changing compositions and orders, more than one pass's worth too)
// and the same sequences one at a time: the logits are equal bit for bit.
func TestGPUDecodeBatchMatchesDecodeToken(t *testing.T) {
	d := cudatest.Device(t)
	ctx := context.Background()
	for _, recipe := range []string{"int2", "int8"} {
		t.Run(recipe, func(t *testing.T) {
			m := quantizedModel(t, recipe)
			g, err := m.Upload(d)
			require.NoError(t, err)
			defer func() { require.NoError(t, g.Close()) }()
			const n = 10
			batched, single := make([]*GPUState, n), make([]*GPUState, n)
			for i := range n {
				for _, s := range []*[]*GPUState{&batched, &single} {
					st, err := g.NewState(64)
					require.NoError(t, err)
					defer func() { require.NoError(t, st.Close()) }()
					(*s)[i] = st
				}
				prompt := mixedPrompt(m, 3+i)[:3+i]
				require.NoError(t, batched[i].Prefill(ctx, prompt))
				require.NoError(t, single[i].Prefill(ctx, prompt))
			}
			for step, set := range [][]int{{0, 1, 2, 3}, {3, 1, 0, 2}, {4, 9}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {7, 2, 5}, {1, 6}} {
				states, tokens := make([]*GPUState, len(set)), make([]int, len(set))
				for k, i := range set {
					states[k], tokens[k] = batched[i], generate.Argmax(batched[i].Logits)
					require.NoError(t, single[i].DecodeToken(ctx, tokens[k], true))
				}
				require.NoError(t, g.DecodeBatch(ctx, states, tokens, true))
				for _, i := range set {
					require.Equal(t, single[i].Pos, batched[i].Pos)
					require.Equal(t, single[i].Logits, batched[i].Logits, "step %d, sequence %d", step, i)
				}
			}
			// Without logits, then with: the cache was written all the same.
			set := []int{0, 2, 4}
			states, tokens := []*GPUState{batched[0], batched[2], batched[4]}, []int{5, 6, 7}
			require.NoError(t, g.DecodeBatch(ctx, states, tokens, false))
			for k, i := range set {
				require.NoError(t, single[i].DecodeToken(ctx, tokens[k], false))
			}
			require.NoError(t, g.DecodeBatch(ctx, states, tokens, true))
			for k, i := range set {
				require.NoError(t, single[i].DecodeToken(ctx, tokens[k], true))
				require.Equal(t, single[i].Logits, batched[i].Logits, "sequence %d after a step without logits", i)
			}
		})
	}
}

// TestGPUDecodeBatchRejectsBadInput checks the arguments before anything
// reaches a device.
func TestGPUDecodeBatchRejectsBadInput(t *testing.T) {
	m := quantizedModel(t, "int2")
	g, other := &GPUModel{m: m}, &GPUModel{m: m}
	state := func(g *GPUModel, pos int) *GPUState {
		return &GPUState{g: g, ctxLen: 4, Pos: pos, acts: &gpuActs{}, Logits: make([]float32, m.Vocab)}
	}
	a, b := state(g, 0), state(g, 0)
	ctx := context.Background()
	for _, c := range []struct {
		states []*GPUState
		tokens []int
		want   string
	}{
		{nil, nil, "batch of 0 states"},
		{[]*GPUState{a, b}, []int{1}, "batch of 2 states and 1 tokens"},
		{[]*GPUState{a, a}, []int{1, 2}, "batch states 0 and 1 are the same state"},
		{[]*GPUState{a, state(other, 0)}, []int{1, 2}, "batch state 1 is nil, closed or another model's"},
		{[]*GPUState{a, {g: g, ctxLen: 4}}, []int{1, 2}, "batch state 1 is nil, closed"},
		{[]*GPUState{a, state(g, 4)}, []int{1, 2}, "batch state 1: context full"},
		{[]*GPUState{a, b}, []int{1, m.Vocab}, "batch state 1: token"},
	} {
		require.ErrorContains(t, g.DecodeBatch(ctx, c.states, c.tokens, true), c.want)
	}
	require.Zero(t, a.Pos, "nothing ran")
}
