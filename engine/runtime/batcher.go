package runtime

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/decoder"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
)

// gatherWindow is how long a decode step waits, after its first sequence
// asks for it, for the other generating sequences to ask too. Sequences
// that were batched together get their logits together and, after
// sampling (well under a millisecond), ask again within a fraction of
// this; a sequence that is slower (a slow streaming client, a prefill just
// ending) joins the next step instead of holding the others.
const gatherWindow = time.Millisecond

// batcher runs the decode steps of concurrent requests together: each
// generating sequence asks for its next token's logits, and one batched
// decode (decoder.DecodeBatch on the CPU, GPUModel.DecodeBatch on a GPU)
// serves every sequence that asked, multiplying each weight matrix once
// for all of them (continuous batching: requests join and leave between
// steps). Measured on the int2 SmolLM2-135M-shaped model
// (docs/performance.md), four sequences decode at about 1.8× the
// aggregate rate of four unbatched ones (one CPU thread). S is the
// decoder state type.
type batcher[S comparable] struct {
	// run decodes one token of each state, leaving their logits; check
	// refuses what run would refuse for a whole batch, for one state.
	run    func(ctx context.Context, states []S, tokens []int) error
	check  func(s S, token int) error
	window time.Duration // gatherWindow, longer in tests
	steps  chan step[S]
	active atomic.Int32  // sequences between the end of their prefill and the end of their generation
	ended  chan struct{} // a sequence stopped generating: fewer to wait for
	stop   chan struct{}
	done   sync.WaitGroup
	// batches and served count the DecodeBatch calls and the sequence
	// steps they served.
	batches, served atomic.Int64
}

// step is one sequence's request for its next logits.
type step[S comparable] struct {
	s     S
	token int
	reply chan error
}

func newBatcher[S comparable](run func(ctx context.Context, states []S, tokens []int) error, check func(s S, token int) error) *batcher[S] {
	b := &batcher[S]{run: run, check: check, window: gatherWindow, steps: make(chan step[S]),
		ended: make(chan struct{}, 1), stop: make(chan struct{})}
	b.done.Add(1)
	go b.loop()
	return b
}

// close stops the batcher once no sequence is waiting on it.
func (b *batcher[S]) close() {
	close(b.stop)
	b.done.Wait()
}

// begin and end bracket a sequence's generation, so that a step knows how
// many sequences to wait for.
func (b *batcher[S]) begin() { b.active.Add(1) }

func (b *batcher[S]) end() {
	b.active.Add(-1)
	select {
	case b.ended <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// next appends token to s and leaves the next logits in s.Logits, in a
// batch with whatever other sequences ask at the same time. A cancelled
// ctx stops the request before it joins a batch; once in a batch, the
// step (a few milliseconds) completes, as s cannot be released while the
// batch uses it.
func (b *batcher[S]) next(ctx context.Context, s S, token int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// What the batched decode would refuse for the whole batch is refused
	// here for this sequence alone.
	if err := b.check(s, token); err != nil {
		return err
	}
	reply := make(chan error, 1)
	select {
	case b.steps <- step[S]{s: s, token: token, reply: reply}:
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-reply
}

func (b *batcher[S]) loop() {
	defer b.done.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var batch []step[S]
	var states []S
	var tokens []int
	for {
		select {
		case first := <-b.steps:
			batch = append(batch[:0], first)
		case <-b.stop:
			return
		}
		timer.Reset(b.window)
	gather:
		for len(batch) < int(b.active.Load()) {
			select {
			case st := <-b.steps:
				batch = append(batch, st)
			case <-b.ended: // check the count again
			case <-timer.C:
				break gather
			}
		}
		timer.Stop()
		states, tokens = states[:0], tokens[:0]
		for _, st := range batch {
			states, tokens = append(states, st.s), append(tokens, st.token)
		}
		// next checked each sequence's own arguments, so an error here
		// is one the whole batch shares.
		err := b.run(context.Background(), states, tokens)
		b.batches.Add(1)
		b.served.Add(int64(len(batch)))
		for _, st := range batch {
			st.reply <- err
		}
	}
}

// checkNext returns the error a decode step of a state at pos of capacity
// positions with vocab logits would give token.
func checkNext(pos, capacity, vocab, token int) error {
	switch {
	case pos >= capacity:
		return fmt.Errorf("decoder: context full: %d positions cached, capacity %d", pos, capacity)
	case token < 0 || token >= vocab:
		return fmt.Errorf("decoder: token %d out of range [0, %d)", token, vocab)
	}
	return nil
}

// cpuBatcher batches the CPU decoder's steps on the pool's threads.
func cpuBatcher(p *kernels.Pool) *batcher[*decoder.State] {
	return newBatcher(func(ctx context.Context, states []*decoder.State, tokens []int) error {
		return decoder.DecodeBatch(ctx, p, states, tokens, true)
	}, func(s *decoder.State, token int) error {
		return checkNext(s.Pos, s.Capacity(), len(s.Logits), token)
	})
}

// gpuBatcher batches the GPU decoder's steps.
func gpuBatcher(g *decoder.GPUModel) *batcher[*decoder.GPUState] {
	return newBatcher(func(ctx context.Context, states []*decoder.GPUState, tokens []int) error {
		return g.DecodeBatch(ctx, states, tokens, true)
	}, func(s *decoder.GPUState, token int) error {
		return checkNext(s.Pos, s.Capacity(), len(s.Logits), token)
	})
}
