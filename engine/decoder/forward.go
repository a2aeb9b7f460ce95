package decoder

import (
	"context"
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/nn"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// activations holds the vectors of the positions of one pass, position t
// of a vector of width w at [t·w, (t+1)·w).
type activations struct {
	n    int       // positions in the current pass
	size int       // positions the buffers hold
	x    []float32 // residual stream (Dim)
	h    []float32 // normalized input, then a block's output (Dim)
	q    []float32 // queries (Dim)
	att  []float32 // attention output (Dim)
	k, v []float32 // the pass's keys and values (KVDim)
	gate []float32 // FFN gate, then its activation (FFN)
	up   []float32 // FFN up projection (FFN)
	// qDim and qFFN are one quantized vector per position of width Dim and
	// FFN, nil when the width is not a multiple of quant.GroupSize (then
	// every matrix of that width is F32).
	qDim, qFFN []*quant.Q8
	// slots are the sequence and position of each position of the pass.
	slots []slot
	// logits holds the logits of a batch of sequences (Vocab per position),
	// allocated by the first DecodeBatch that asks for them.
	logits []float32
}

// slot says where a position of a pass goes: the sequence whose cache it
// extends and its position in that sequence. A Prefill pass has one
// sequence at consecutive positions; a DecodeBatch pass one position of
// each of several sequences.
type slot struct {
	s   *State
	pos int
}

// grow makes the activation buffers hold at least n positions.
func (s *State) grow(n int) error {
	if s.act != nil && s.act.size >= n {
		return nil
	}
	m := s.m
	f := func(w int) []float32 { return make([]float32, n*w) }
	a := &activations{size: n, x: f(m.Dim), h: f(m.Dim), q: f(m.Dim), att: f(m.Dim),
		k: f(m.KVDim), v: f(m.KVDim), gate: f(m.FFN), up: f(m.FFN), slots: make([]slot, n)}
	var err error
	if a.qDim, err = newQ8s(n, m.Dim); err != nil {
		return err
	}
	if a.qFFN, err = newQ8s(n, m.FFN); err != nil {
		return err
	}
	s.act = a
	return nil
}

// newQ8s allocates n quantized vectors of width w, or none if w is not a
// multiple of quant.GroupSize.
func newQ8s(n, w int) ([]*quant.Q8, error) {
	if w%quant.GroupSize != 0 {
		return nil, nil
	}
	qs := make([]*quant.Q8, n)
	for i := range qs {
		q, err := quant.NewQ8(w)
		if err != nil {
			return nil, fmt.Errorf("decoder: %w", err)
		}
		qs[i] = q
	}
	return qs, nil
}

// rows returns positions [lo, hi) of a vector of width w.
func rows(v []float32, w, lo, hi int) []float32 { return v[lo*w : hi*w] }

// q8Rows returns positions [lo, hi) of quantized vectors, nil if there
// are none.
func q8Rows(qs []*quant.Q8, lo, hi int) []*quant.Q8 {
	if qs == nil {
		return nil
	}
	return qs[lo:hi]
}

// pass runs inputs (at most maxBatch positions) through every layer with
// s's scratch space. With seqs nil the inputs extend s at positions s.Pos
// onwards; otherwise input t is the next position of seqs[t] (distinct
// states of s's model, s among them or not). Each state's Pos advances
// past its positions once every layer has run.
func (s *State) pass(ctx context.Context, p *kernels.Pool, inputs []Input, seqs []*State) error {
	m := s.m
	if err := s.grow(len(inputs)); err != nil {
		return err
	}
	a := s.act
	a.n = len(inputs)
	for t := range inputs {
		if seqs == nil {
			a.slots[t] = slot{s, s.Pos + t}
		} else {
			a.slots[t] = slot{seqs[t], seqs[t].Pos}
		}
	}
	for t, in := range inputs {
		x := rows(a.x, m.Dim, t, t+1)
		if in.Embedding != nil {
			copy(x, in.Embedding)
		} else if err := m.Embed.Row(in.Token, x); err != nil {
			return err
		}
	}
	s.startWorkers(p, a.n)
	defer s.stopWorkers()
	for li := range m.Layers {
		if err := ctx.Err(); err != nil {
			return err
		}
		for st := projectStage; st <= feedForwardStage; st++ {
			if err := s.runStage(st, li); err != nil {
				return err
			}
		}
	}
	for _, sl := range a.slots[:a.n] {
		sl.s.Pos = sl.pos + 1
	}
	return nil
}

// stage is one step of a layer that its positions go through
// independently; between stages every position has finished the previous
// one (attention reads the keys and values of the earlier positions).
type stage int

const (
	projectStage     stage = iota // norm, Q/K/V, rotation, cache
	attendStage                   // attention
	feedForwardStage              // output projection, residual, norm, MLP, residual
)

// stage runs positions [lo, hi) of the pass through stage st of layer li
// with worker w's pool and scratch space.
func (s *State) stage(st stage, li int, w *worker, lo, hi int) error {
	l := &s.m.Layers[li]
	switch {
	case lo >= hi:
		return nil
	case st == projectStage:
		return s.project(w.pool, l, li, lo, hi)
	case st == attendStage:
		a, d := s.act, s.m.Dim
		for t := lo; t < hi; t++ {
			sl := a.slots[t]
			if err := sl.s.attend(w.pool, &sl.s.cache[li], rows(a.q, d, t, t+1), sl.pos, w.scores, rows(a.att, d, t, t+1)); err != nil {
				return err
			}
		}
		return nil
	}
	return s.feedForward(w.pool, l, lo, hi)
}

// project normalizes positions [lo, hi), computes their queries, keys and
// values, rotates the queries and keys and appends keys and values to
// layer li's cache of each position's sequence.
func (s *State) project(p *kernels.Pool, l *Layer, li, lo, hi int) error {
	m, a := s.m, s.act
	d, kvd := m.Dim, m.KVDim
	for t := lo; t < hi; t++ {
		nn.RMSNorm(rows(a.h, d, t, t+1), rows(a.x, d, t, t+1), l.AttnNorm, m.NormEps)
	}
	h, qs := rows(a.h, d, lo, hi), q8Rows(a.qDim, lo, hi)
	if err := QuantizeBatch(p, h, qs, l.Q, l.K, l.V); err != nil {
		return err
	}
	if err := firstErr(l.Q.MulBatch(p, h, qs, rows(a.q, d, lo, hi)),
		l.K.MulBatch(p, h, qs, rows(a.k, kvd, lo, hi)), l.V.MulBatch(p, h, qs, rows(a.v, kvd, lo, hi))); err != nil {
		return err
	}
	for t := lo; t < hi; t++ {
		sl, k := a.slots[t], rows(a.k, kvd, t, t+1)
		m.rope.Apply(rows(a.q, d, t, t+1), sl.pos)
		m.rope.Apply(k, sl.pos)
		sl.s.store(&sl.s.cache[li], sl.pos, k, rows(a.v, kvd, t, t+1))
	}
	return nil
}

// feedForward finishes the layer for positions [lo, hi): the attention
// output projection and residual, then the SwiGLU MLP and its residual.
func (s *State) feedForward(p *kernels.Pool, l *Layer, lo, hi int) error {
	m, a := s.m, s.act
	d, f := m.Dim, m.FFN
	x, h, qs := rows(a.x, d, lo, hi), rows(a.h, d, lo, hi), q8Rows(a.qDim, lo, hi)
	att := rows(a.att, d, lo, hi)
	if err := QuantizeBatch(p, att, qs, l.O); err != nil {
		return err
	}
	if err := l.O.MulBatch(p, att, qs, h); err != nil {
		return err
	}
	nn.Add(x, x, h)
	for t := lo; t < hi; t++ {
		nn.RMSNorm(rows(a.h, d, t, t+1), rows(a.x, d, t, t+1), l.FFNNorm, m.NormEps)
	}
	if err := QuantizeBatch(p, h, qs, l.Gate, l.Up); err != nil {
		return err
	}
	gate, up := rows(a.gate, f, lo, hi), rows(a.up, f, lo, hi)
	if err := firstErr(l.Gate.MulBatch(p, h, qs, gate), l.Up.MulBatch(p, h, qs, up)); err != nil {
		return err
	}
	nn.SwiGLU(gate, gate, up)
	qf := q8Rows(a.qFFN, lo, hi)
	if err := QuantizeBatch(p, gate, qf, l.Down); err != nil {
		return err
	}
	if err := l.Down.MulBatch(p, gate, qf, h); err != nil {
		return err
	}
	nn.Add(x, x, h)
	return nil
}
