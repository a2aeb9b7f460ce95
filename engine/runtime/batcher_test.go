package runtime

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/decoder"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/generate"
	"github.com/stretchr/testify/require"
)

// TestBatcherServesConcurrentStepsInOneBatch has three generating
// sequences ask for their next logits at once: one DecodeBatch serves all
// three, and each gets the logits DecodeToken gives it alone.
func TestBatcherServesConcurrentStepsInOneBatch(t *testing.T) {
	r := openText(t, Options{Threads: 1, Sequences: 3, Context: 64})
	b := cpuBatcher(r.pool)
	defer b.close()
	b.window = time.Minute // wait for every active sequence
	ctx := context.Background()
	prompts := [][]int{{1, 2, 3}, {4, 5}, {6, 7, 8, 9}}
	states := make([]*decoder.State, len(prompts))
	want := make([][]float32, len(prompts))
	for i, p := range prompts {
		s, err := r.model.NewState(16)
		require.NoError(t, err)
		require.NoError(t, s.Prefill(ctx, r.pool, decoder.TokenInputs(p)))
		states[i] = s
		ref, err := r.model.NewState(16)
		require.NoError(t, err)
		require.NoError(t, ref.Prefill(ctx, r.pool, decoder.TokenInputs(p)))
		require.NoError(t, ref.DecodeToken(ctx, r.pool, generate.Argmax(ref.Logits), true))
		want[i] = ref.Logits
		b.begin()
	}
	var wg sync.WaitGroup
	errs := make([]error, len(states))
	for i, s := range states {
		wg.Go(func() { errs[i] = b.next(ctx, s, generate.Argmax(s.Logits)) })
	}
	wg.Wait()
	for i, s := range states {
		require.NoError(t, errs[i])
		require.Equal(t, want[i], s.Logits, "sequence %d", i)
		require.Equal(t, len(prompts[i])+1, s.Pos)
	}
	require.EqualValues(t, 1, b.batches.Load())
	require.EqualValues(t, 3, b.served.Load())

	// A sequence whose context is full is refused alone, before batching.
	full, err := r.model.NewState(1)
	require.NoError(t, err)
	require.NoError(t, full.DecodeToken(ctx, r.pool, 1, true))
	require.ErrorContains(t, b.next(ctx, full, 1), "context full")
	require.ErrorContains(t, b.next(ctx, states[0], -1), "token -1 out of range")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, b.next(cancelled, states[0], 1), context.Canceled)
	require.EqualValues(t, 1, b.batches.Load(), "refused steps never reach a batch")
}

// TestBatchedRequestsMatchUnbatched runs the same mix of concurrent
// requests on a runtime that batches their decode steps and on one that
// does not: every answer is the same (the tiny model's F32 weights are
// multiplied one vector at a time in both), and the batched runtime did
// serve several sequences per step.
func TestBatchedRequestsMatchUnbatched(t *testing.T) {
	reqs := []Request{chat("Hello world", 12), chat("The quick brown fox", 7), chat("Hello world", 12),
		chat("What is two plus two?", 3)}
	run := func(r *Runtime) []string {
		// Each request waits at its first streamed piece until every
		// request has reached its own (or a few seconds have passed), so
		// that they all generate at once whatever the scheduling.
		var arrived sync.WaitGroup
		arrived.Add(len(reqs))
		all := make(chan struct{})
		go func() { arrived.Wait(); close(all) }()
		var wg sync.WaitGroup
		out := make([]string, len(reqs))
		for i, req := range reqs {
			wg.Go(func() {
				first := true
				res, err := r.Generate(context.Background(), req, func(string) error {
					if first {
						first = false
						arrived.Done()
						select {
						case <-all:
						case <-time.After(5 * time.Second):
						}
					}
					return nil
				})
				require.NoError(t, err)
				if first {
					arrived.Done() // nothing was streamed
				}
				out[i] = res.Text
			})
		}
		wg.Wait()
		return out
	}
	unbatched := openText(t, Options{Threads: 1, Sequences: 4, Context: 128, Unbatched: true})
	require.Nil(t, unbatched.batch)
	batched := openText(t, Options{Threads: 1, Sequences: 4, Context: 128})
	require.NotNil(t, batched.batch)
	bb := batched.batch.(*batcher[*decoder.State])
	bb.window = time.Minute // every generating request joins every step
	require.Equal(t, run(unbatched), run(batched))
	served, batches := bb.served.Load(), bb.batches.Load()
	t.Logf("%d decode steps in %d batches", served, batches)
	require.Greater(t, served, batches, "some steps ran together")
}

// TestSingleSequenceIsNotBatched: with one sequence there is nothing to
// batch with, so there is no batcher.
func TestSingleSequenceIsNotBatched(t *testing.T) {
	require.Nil(t, openText(t, Options{Threads: 1, Sequences: 1, Context: 32}).batch)
}
