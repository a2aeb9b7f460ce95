package decoder

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/generate"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quantize"
	"github.com/stretchr/testify/require"
)

// TestDecodeBatchMatchesDecodeToken runs sequences whose prompts differ in
// content and length (so each attends over a cache of its own length)
// through greedy decoding twice: each sequence alone with DecodeToken, and
// all of them together with one DecodeBatch per step. With the generic
// kernels every sequence's logits and tokens must be equal; with the best
// SIMD kernels the logits stay within prefillTolerance (the GEMM sums in
// another order than the GEMV). Batches of 1, 3 and maxBatch+2 sequences
// (the last runs in two passes), at 1 and 2 threads.
func TestDecodeBatchMatchesDecodeToken(t *testing.T) {
	const steps = 6
	wide := smolLM2
	wide.Layers, wide.Vocab, wide.Context = 2, 1024, 256
	int2, err := quantize.RecipeByName("int2")
	require.NoError(t, err)
	generic, best := mustImpl(t, "generic"), kernels.Best()
	ctx := context.Background()
	for _, c := range []struct {
		name string
		m    *Model
		seqs []int
	}{
		{"tiny-int2", quantizedModel(t, "int2"), []int{1, 3, maxBatch + 2}},
		{"wide-int2", randomModel(t, wide, int2, 5), []int{1, 3}},
	} {
		prompts := func(n int) [][]Input {
			all := mixedPrompt(c.m, 40+n)
			out := make([][]Input, n)
			for i := range out {
				out[i] = all[i : i+1+(7*i)%37] // lengths 1 to 37, some with embeddings
			}
			return out
		}
		for _, im := range []*kernels.Impl{generic, best} {
			for _, threads := range []int{1, 2} {
				for _, n := range c.seqs {
					t.Run(fmt.Sprintf("%s/%s/t%d/seqs%d", c.name, im.Name, threads, n), func(t *testing.T) {
						p := kernels.NewPool(threads, im)
						defer p.Close()
						ps := prompts(n)
						// The reference: each sequence on its own.
						want := make([][][]float32, n)
						for i, pr := range ps {
							s, err := c.m.NewState(len(pr) + steps)
							require.NoError(t, err)
							require.NoError(t, s.Prefill(ctx, p, pr))
							for range steps {
								tok := generate.Argmax(s.Logits)
								require.NoError(t, s.DecodeToken(ctx, p, tok, true))
								want[i] = append(want[i], append([]float32(nil), s.Logits...))
							}
						}
						states := make([]*State, n)
						tokens := make([]int, n)
						for i, pr := range ps {
							s, err := c.m.NewState(len(pr) + steps)
							require.NoError(t, err)
							require.NoError(t, s.Prefill(ctx, p, pr))
							states[i], tokens[i] = s, generate.Argmax(s.Logits)
						}
						var worst, scale float64
						for step := range steps {
							require.NoError(t, DecodeBatch(ctx, p, states, tokens, true))
							for i, s := range states {
								require.Equal(t, len(ps[i])+step+1, s.Pos)
								w := want[i][step]
								if im == generic {
									require.Equal(t, w, s.Logits, "sequence %d step %d", i, step)
								}
								for _, v := range w {
									scale = math.Max(scale, math.Abs(float64(v)))
								}
								worst = math.Max(worst, maxDiff(w, s.Logits))
								tokens[i] = generate.Argmax(s.Logits)
							}
						}
						t.Logf("max |batched - alone| = %.2e (%.2e of the largest logit %.2f)", worst, worst/scale, scale)
						require.LessOrEqual(t, worst, prefillTolerance*scale)
					})
				}
			}
		}
	}
}

// TestDecodeBatchRejectsBadInput checks every argument error, and that a
// rejected or cancelled batch leaves every state unchanged.
func TestDecodeBatchRejectsBadInput(t *testing.T) {
	m := loadModel(t, "tiny-llama-gpt2vocab-f32.gguf")
	other := loadModel(t, "tiny-llama-gpt2vocab-q8_0.gguf")
	p := kernels.NewPool(2, nil)
	defer p.Close()
	ctx := context.Background()
	newState := func(ctxLen, prompt int) *State {
		s, err := m.NewState(ctxLen)
		require.NoError(t, err)
		require.NoError(t, s.Prefill(ctx, p, TokenInputs(make([]int, prompt))))
		return s
	}
	a, b, full := newState(8, 3), newState(8, 5), newState(4, 4)
	o, err := other.NewState(8)
	require.NoError(t, err)
	for _, c := range []struct {
		states []*State
		tokens []int
		want   string
	}{
		{nil, nil, "batch of 0 states and 0 tokens"},
		{[]*State{a, b}, []int{1}, "batch of 2 states and 1 tokens"},
		{[]*State{a, nil}, []int{1, 2}, "batch state 1 is nil"},
		{[]*State{a, o}, []int{1, 2}, "batch state 1 belongs to another model"},
		{[]*State{a, full}, []int{1, 2}, "batch state 1: context full: 4 positions cached, capacity 4"},
		{[]*State{a, b}, []int{1, m.Vocab}, "batch state 1: token 50257 out of range"},
		{[]*State{a, b}, []int{-1, 2}, "batch state 0: token -1 out of range"},
		{[]*State{a, b, a}, []int{1, 2, 3}, "batch states 0 and 2 are the same state"},
	} {
		require.ErrorContains(t, DecodeBatch(ctx, p, c.states, c.tokens, true), c.want)
		require.Equal(t, 3, a.Pos)
		require.Equal(t, 5, b.Pos)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, DecodeBatch(cancelled, p, []*State{a, b}, []int{1, 2}, true), context.Canceled)
	require.Equal(t, 3, a.Pos)
	require.Equal(t, 5, b.Pos)
	require.NoError(t, DecodeBatch(ctx, p, []*State{b, a}, []int{1, 2}, false))
	require.Equal(t, 4, a.Pos)
	require.Equal(t, 6, b.Pos)
}
