package runtime

import (
	"context"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/decoder"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
)

// sequence is one request's decoder state, on the CPU or on a GPU: what
// Generate needs of it. It is also the generate.Model that feeds generated
// tokens back.
type sequence interface {
	// prefill runs the prompt and leaves the logits after it in logits.
	prefill(ctx context.Context, inputs []decoder.Input) error
	// Next feeds a token and returns the logits after it.
	Next(ctx context.Context, token int) ([]float32, error)
	// logits returns the logits of the last position run.
	logits() []float32
	// pos returns the positions cached; capacity the most it holds.
	pos() int
	capacity() int
	// reset empties the sequence for the next request.
	reset()
	// close frees what the sequence holds (device memory).
	close() error
}

// cpuSequence runs on the CPU kernels; its decode steps go through the
// batcher when there is one.
type cpuSequence struct {
	s *decoder.State
	p *kernels.Pool
	b *batcher[*decoder.State]
}

func (c cpuSequence) prefill(ctx context.Context, in []decoder.Input) error {
	return c.s.Prefill(ctx, c.p, in)
}

func (c cpuSequence) Next(ctx context.Context, token int) ([]float32, error) {
	var err error
	if c.b != nil {
		err = c.b.next(ctx, c.s, token)
	} else {
		err = c.s.DecodeToken(ctx, c.p, token, true)
	}
	if err != nil {
		return nil, err
	}
	return c.s.Logits, nil
}

func (c cpuSequence) logits() []float32 { return c.s.Logits }
func (c cpuSequence) pos() int          { return c.s.Pos }
func (c cpuSequence) capacity() int     { return c.s.Capacity() }
func (c cpuSequence) reset()            { c.s.Reset() }
func (c cpuSequence) close() error      { return nil }

// gpuSequence runs on a CUDA device; its decode steps go through the
// batcher when there is one.
type gpuSequence struct {
	s *decoder.GPUState
	b *batcher[*decoder.GPUState]
}

func (g gpuSequence) prefill(ctx context.Context, in []decoder.Input) error {
	return g.s.Prefill(ctx, in)
}

func (g gpuSequence) Next(ctx context.Context, token int) ([]float32, error) {
	var err error
	if g.b != nil {
		err = g.b.next(ctx, g.s, token)
	} else {
		err = g.s.DecodeToken(ctx, token, true)
	}
	if err != nil {
		return nil, err
	}
	return g.s.Logits, nil
}

func (g gpuSequence) logits() []float32 { return g.s.Logits }
func (g gpuSequence) pos() int          { return g.s.Pos }
func (g gpuSequence) capacity() int     { return g.s.Capacity() }
func (g gpuSequence) reset()            { g.s.Reset() }
func (g gpuSequence) close() error      { return g.s.Close() }
