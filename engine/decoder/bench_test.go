package decoder

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/generate"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quantize"
	"github.com/stretchr/testify/require"
)

// Whole-model benchmarks at the SmolLM2-135M shape, set against llama.cpp's
// llama-bench tg64 and pp128 (docs/performance.md):
//
//	go test -run '^$' -bench 'DecodeTG64|PrefillPP128' -benchtime 3x -count 3 ./engine/decoder/
//
// Each reports tokens/s and the model's bits per weight, for engine/quantize's
// recipes (int2: token_embd Int8, attention Int4, FFN Int2; int4; int8) at
// 1 and 2 threads.

// benchModels builds each recipe's random SmolLM2-135M-shaped model once per
// test binary (a few seconds each), so -count runs do not rebuild it.
var benchModels sync.Map // recipe name → func(testing.TB) *Model

func benchModel(b *testing.B, recipe string) *Model {
	build, _ := benchModels.LoadOrStore(recipe, sync.OnceValue(func() *Model {
		r, err := quantize.RecipeByName(recipe)
		require.NoError(b, err)
		return randomModel(b, smolLM2, r, 1)
	}))
	m := build.(func() *Model)()
	require.NotNil(b, m, "building the %s model failed", recipe)
	return m
}

// benchCases runs fn for each recipe and thread count as sub-benchmarks
// recipe/tN.
func benchCases(b *testing.B, fn func(b *testing.B, m *Model, p *kernels.Pool)) {
	for _, recipe := range []string{"int2", "int4", "int8"} {
		b.Run(recipe, func(b *testing.B) {
			m := benchModel(b, recipe)
			for _, threads := range []int{1, 2} {
				b.Run(fmt.Sprintf("t%d", threads), func(b *testing.B) {
					p := kernels.NewPool(threads, nil)
					defer p.Close()
					fn(b, m, p)
					b.ReportMetric(modelBits(m), "bits/weight")
				})
			}
		})
	}
}

// BenchmarkDecodeTG64 generates 64 tokens one at a time (greedy, logits at
// every step) after a one-token prompt, as llama-bench's tg64 does from an
// almost empty context. One untimed run warms the state up.
func BenchmarkDecodeTG64(b *testing.B) {
	const gen = 64
	benchCases(b, func(b *testing.B, m *Model, p *kernels.Pool) {
		s, err := m.NewState(gen + 1)
		require.NoError(b, err)
		ctx := context.Background()
		require.NoError(b, s.DecodeToken(ctx, p, 1, true)) // warm-up
		for b.Loop() {
			b.StopTimer()
			s.Reset()
			require.NoError(b, s.DecodeToken(ctx, p, 1, true))
			b.StartTimer()
			for range gen {
				require.NoError(b, s.DecodeToken(ctx, p, generate.Argmax(s.Logits), true))
			}
		}
		b.ReportMetric(float64(gen*b.N)/b.Elapsed().Seconds(), "tokens/s")
	})
}

// BenchmarkPrefillPP128 runs a 128-token prompt through Prefill into an
// empty cache, logits for the last position only, as llama-bench's pp128.
// One untimed run warms the state up.
func BenchmarkPrefillPP128(b *testing.B) {
	const prompt = 128
	benchCases(b, func(b *testing.B, m *Model, p *kernels.Pool) {
		rng := rand.New(rand.NewPCG(3, 4))
		ids := make([]int, prompt)
		for i := range ids {
			ids[i] = rng.IntN(m.Vocab)
		}
		inputs := TokenInputs(ids)
		s, err := m.NewState(prompt)
		require.NoError(b, err)
		ctx := context.Background()
		require.NoError(b, s.Prefill(ctx, p, inputs)) // warm-up
		for b.Loop() {
			s.Reset()
			require.NoError(b, s.Prefill(ctx, p, inputs))
		}
		b.ReportMetric(float64(prompt*b.N)/b.Elapsed().Seconds(), "tokens/s")
	})
}
