package decoder

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/generate"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/stretchr/testify/require"
)

// BenchmarkDecodeConcurrent measures the aggregate decode rate of 1, 2 and
// 4 sequences generating at once on the int2 SmolLM2-135M-shaped model
// (docs/performance.md, "Batched decoding"):
//
//	go test -run '^$' -bench DecodeConcurrent -benchtime 2x -count 3 ./engine/decoder/
//
// batched runs one DecodeBatch per step for all the sequences; unbatched
// runs each sequence's DecodeToken loop on its own goroutine (as concurrent
// requests did before the runtime's batcher), sharing one pool. tN runs
// with GOMAXPROCS = N and an N-thread pool, so both modes get the same
// cores. Each sequence starts from its own one-token prompt and generates
// 32 tokens greedily with logits at every step.
func BenchmarkDecodeConcurrent(b *testing.B) {
	const gen = 32
	m := benchModel(b, "int2")
	for _, threads := range []int{1, 2} {
		for _, seqs := range []int{1, 2, 4} {
			for _, batched := range []bool{false, true} {
				mode := "unbatched"
				if batched {
					mode = "batched"
				}
				b.Run(fmt.Sprintf("t%d/seqs%d/%s", threads, seqs, mode), func(b *testing.B) {
					defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
					p := kernels.NewPool(threads, nil)
					defer p.Close()
					states := make([]*State, seqs)
					for i := range states {
						s, err := m.NewState(gen + 1)
						require.NoError(b, err)
						states[i] = s
					}
					run := decodeSeparately
					if batched {
						run = decodeBatched
					}
					run(b, p, states, gen) // warm-up
					for b.Loop() {
						run(b, p, states, gen)
					}
					b.ReportMetric(float64(seqs*(gen+1)*b.N)/b.Elapsed().Seconds(), "tokens/s")
				})
			}
		}
	}
}

// decodeSeparately resets the states, feeds state i the token i+1 and
// decodes gen greedy tokens on each, every state on its own goroutine.
func decodeSeparately(b *testing.B, p *kernels.Pool, states []*State, gen int) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, len(states))
	for i, s := range states {
		wg.Go(func() {
			s.Reset()
			tok := i + 1
			for range gen + 1 {
				if errs[i] = s.DecodeToken(ctx, p, tok, true); errs[i] != nil {
					return
				}
				tok = generate.Argmax(s.Logits)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(b, err)
	}
}

// decodeBatched is decodeSeparately with one DecodeBatch per step.
func decodeBatched(b *testing.B, p *kernels.Pool, states []*State, gen int) {
	ctx := context.Background()
	tokens := make([]int, len(states))
	for i, s := range states {
		s.Reset()
		tokens[i] = i + 1
	}
	for range gen + 1 {
		require.NoError(b, DecodeBatch(ctx, p, states, tokens, true))
		for i, s := range states {
			tokens[i] = generate.Argmax(s.Logits)
		}
	}
}
