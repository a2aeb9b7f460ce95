package decoder

import (
	"context"
	"errors"
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/nn"
)

// DecodeBatch appends tokens[i] to states[i], for every i, in one pass
// through the layers, and, if logits is true, leaves each state's
// next-token logits in its Logits. Each weight matrix is multiplied once
// for all the sequences (a GEMM over their current positions, as Prefill
// multiplies a prompt's positions); each sequence attends over its own KV
// cache. The results equal a DecodeToken on each state up to the
// summation order of the GEMM kernels (identical with the generic kernels;
// docs/performance.md gives the measured difference with the SIMD ones),
// and one sequence's results do not depend on the others in the batch
// beyond that order.
//
// The states must be distinct states of one model, used by no other
// goroutine during the call; the pass runs in the first state's scratch
// space. Inputs are checked before anything runs: a bad token, a full
// context or a repeated state return an error and leave every state
// unchanged. More than maxBatch states run in several passes. If ctx is
// cancelled during the call, DecodeBatch returns its error; the states of
// the passes not completed are unchanged.
func DecodeBatch(ctx context.Context, p *kernels.Pool, states []*State, tokens []int, logits bool) error {
	if err := checkBatch(states, tokens); err != nil {
		return err
	}
	s := states[0]
	for start := 0; start < len(states); start += maxBatch {
		end := min(start+maxBatch, len(states))
		s.batchIn = s.batchIn[:0]
		for _, id := range tokens[start:end] {
			s.batchIn = append(s.batchIn, Input{Token: id})
		}
		if err := s.pass(ctx, p, s.batchIn, states[start:end]); err != nil {
			return err
		}
		if logits {
			if err := s.logitsOf(p, 0, states[start:end]); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkBatch validates DecodeBatch's arguments.
func checkBatch(states []*State, tokens []int) error {
	if len(states) == 0 {
		return checkSteps(states, tokens, 0, nil, nil)
	}
	m := states[0].m // a nil first state is reported before m is used
	return checkSteps(states, tokens, m.Vocab, func(s *State) error {
		switch {
		case s == nil:
			return errors.New("is nil")
		case s.m != m:
			return errors.New("belongs to another model")
		}
		return nil
	}, func(s *State) (int, int) { return s.Pos, s.Capacity() })
}

// checkSteps validates one decode step of each of states before anything
// runs: as many tokens as states, every state usable (unusable says why
// one is not), with room for one more position and a token below vocab,
// and no state twice.
func checkSteps[S comparable](states []S, tokens []int, vocab int, unusable func(S) error, room func(S) (pos, capacity int)) error {
	if len(states) == 0 || len(states) != len(tokens) {
		return fmt.Errorf("decoder: batch of %d states and %d tokens", len(states), len(tokens))
	}
	for i, s := range states {
		if err := unusable(s); err != nil {
			return fmt.Errorf("decoder: batch state %d %w", i, err)
		}
		switch pos, capacity := room(s); {
		case pos+1 > capacity:
			return fmt.Errorf("decoder: batch state %d: context full: %d positions cached, capacity %d", i, pos, capacity)
		case tokens[i] < 0 || tokens[i] >= vocab:
			return fmt.Errorf("decoder: batch state %d: token %d out of range [0, %d)", i, tokens[i], vocab)
		}
		for j := range i {
			if states[j] == s {
				return fmt.Errorf("decoder: batch states %d and %d are the same state", j, i)
			}
		}
	}
	return nil
}

// logitsOf computes the logits of the pass's positions from, from+1, …
// (one per sequence of seqs) into each sequence's Logits: the final norm,
// the activations quantized once, and the output head multiplied once for
// all of them.
func (s *State) logitsOf(p *kernels.Pool, from int, seqs []*State) error {
	m, a, n := s.m, s.act, len(seqs)
	for t := range n {
		nn.RMSNorm(rows(a.h, m.Dim, t, t+1), rows(a.x, m.Dim, from+t, from+t+1), m.OutNorm, m.NormEps)
	}
	h, qs := rows(a.h, m.Dim, 0, n), q8Rows(a.qDim, 0, n)
	if err := QuantizeBatch(p, h, qs, m.Output); err != nil {
		return err
	}
	if n == 1 {
		return m.Output.MulBatch(p, h, qs, seqs[0].Logits)
	}
	if len(a.logits) < n*m.Vocab {
		a.logits = make([]float32, n*m.Vocab)
	}
	out := a.logits[:n*m.Vocab]
	if err := m.Output.MulBatch(p, h, qs, out); err != nil {
		return err
	}
	for t, q := range seqs {
		copy(q.Logits, rows(out, m.Vocab, t, t+1))
	}
	return nil
}
