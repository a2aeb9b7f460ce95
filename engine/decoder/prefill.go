package decoder

import (
	"context"
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
)

// maxBatch is the most positions a pass runs through the layers together;
// a longer prompt is run in passes of maxBatch, which bounds the scratch
// space (about 3 MiB at the SmolLM2-135M shape) while keeping every
// thread's share of a pass large enough for the GEMMs to reuse each weight
// row across tokens.
const maxBatch = 128

// Input is one prompt position: the token Token, or, when Embedding is not
// nil, that embedding (Dim values, an image position from the vision
// projector).
type Input struct {
	Token     int
	Embedding []float32
}

// TokenInputs returns the inputs of a run of token ids.
func TokenInputs(ids []int) []Input {
	in := make([]Input, len(ids))
	for i, id := range ids {
		in[i].Token = id
	}
	return in
}

// Prefill appends the prompt positions inputs to the cache and leaves the
// logits of the last one in s.Logits. Unlike a DecodeToken per position, it
// runs the positions through each layer together (up to maxBatch at a
// time): one GEMM per weight matrix, each position's activations quantized
// once per matrix input, causal attention over the cache and the batch, the
// positions shared among the pool's threads, and logits only for the last
// position. The results equal DecodeToken's up to the summation order of
// the GEMM kernels (see docs/performance.md for the measured difference).
//
// Inputs are checked before anything runs: a bad token or embedding, or
// more positions than the cache has room for, return an error and leave
// the state unchanged. If ctx is cancelled during the run, Prefill returns
// its error with s.Pos counting the positions of the passes completed.
func (s *State) Prefill(ctx context.Context, p *kernels.Pool, inputs []Input) error {
	if len(inputs) == 0 {
		return fmt.Errorf("decoder: prefill of no positions")
	}
	return s.run(ctx, p, inputs, true)
}

// run appends inputs in passes of at most maxBatch positions and computes
// the last position's logits if logits is true.
func (s *State) run(ctx context.Context, p *kernels.Pool, inputs []Input, logits bool) error {
	if err := s.check(inputs); err != nil {
		return err
	}
	for start := 0; start < len(inputs); start += maxBatch {
		if err := s.pass(ctx, p, inputs[start:min(start+maxBatch, len(inputs))], nil); err != nil {
			return err
		}
	}
	if !logits {
		return nil
	}
	return s.logitsOf(p, s.act.n-1, []*State{s})
}

// check validates inputs against the model and the room left in the cache.
func (s *State) check(inputs []Input) error {
	if s.Pos+len(inputs) > s.Capacity() {
		return fmt.Errorf("decoder: context full: %d positions cached, %d more do not fit in %d",
			s.Pos, len(inputs), s.Capacity())
	}
	for i, in := range inputs {
		switch {
		case in.Embedding != nil && len(in.Embedding) != s.m.Dim:
			return fmt.Errorf("decoder: input %d: embedding of %d values, model dimension is %d", i, len(in.Embedding), s.m.Dim)
		case in.Embedding == nil && (in.Token < 0 || in.Token >= s.m.Vocab):
			return fmt.Errorf("decoder: input %d: token %d out of range [0, %d)", i, in.Token, s.m.Vocab)
		}
	}
	return nil
}
