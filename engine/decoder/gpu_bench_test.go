package decoder

import (
	"context"
	"fmt"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/cuda/cudatest"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/generate"
	"github.com/stretchr/testify/require"
)

// BenchmarkGPUDecodeTG64 is BenchmarkDecodeTG64 with the decoder on the
// GPU: 64 greedy tokens one at a time after a one-token prompt, logits
// copied back at every step, at the SmolLM2-135M shape for each recipe;
// each position's kernels run as a CUDA graph (graph) or are launched one
// by one (direct). It needs an NVIDIA GPU (scripts/gpu-check.sh runs it)
// and skips without.
func BenchmarkGPUDecodeTG64(b *testing.B) {
	const gen = 64
	d := cudatest.Device(b)
	for _, recipe := range []string{"int2", "int4", "int8"} {
		for _, direct := range []bool{false, true} {
			mode := "graph"
			if direct {
				mode = "direct"
			}
			b.Run(recipe+"/"+mode, func(b *testing.B) {
				g, err := benchModel(b, recipe).Upload(d)
				require.NoError(b, err)
				defer func() { require.NoError(b, g.Close()) }()
				s, err := g.NewState(gen + 1)
				require.NoError(b, err)
				defer func() { require.NoError(b, s.Close()) }()
				s.direct = direct
				ctx := context.Background()
				require.NoError(b, s.DecodeToken(ctx, 1, true)) // warm-up
				for b.Loop() {
					b.StopTimer()
					s.Reset()
					require.NoError(b, s.DecodeToken(ctx, 1, true))
					b.StartTimer()
					for range gen {
						require.NoError(b, s.DecodeToken(ctx, generate.Argmax(s.Logits), true))
					}
				}
				b.ReportMetric(float64(gen*b.N)/b.Elapsed().Seconds(), "tokens/s")
				b.ReportMetric(float64(g.Bytes())/1e6, "weight-MB")
			})
		}
	}
}

// BenchmarkGPUDecodeBatch decodes 32 greedy tokens on each of 1, 2, 4 and
// 8 sequences together (GPUModel.DecodeBatch) at the SmolLM2-135M shape,
// int2 recipe: aggregate tokens/s.
func BenchmarkGPUDecodeBatch(b *testing.B) {
	const gen = 32
	d := cudatest.Device(b)
	g, err := benchModel(b, "int2").Upload(d)
	require.NoError(b, err)
	defer func() { require.NoError(b, g.Close()) }()
	ctx := context.Background()
	for _, seqs := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("seqs%d", seqs), func(b *testing.B) {
			states, tokens := make([]*GPUState, seqs), make([]int, seqs)
			for i := range states {
				s, err := g.NewState(gen + 2)
				require.NoError(b, err)
				defer func() { require.NoError(b, s.Close()) }()
				states[i] = s
			}
			run := func() {
				for i, s := range states {
					s.Reset()
					tokens[i] = 1 + i
				}
				for range gen {
					require.NoError(b, g.DecodeBatch(ctx, states, tokens, true))
					for i, s := range states {
						tokens[i] = generate.Argmax(s.Logits)
					}
				}
			}
			run() // builds the pass's graph
			for b.Loop() {
				run()
			}
			b.ReportMetric(float64(seqs*gen*b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
