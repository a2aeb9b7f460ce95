// Package decoder runs LLaMA-style decoder-only language models (SmolLM2,
// the text half of SmolVLM): RMSNorm, rotary position embeddings,
// grouped-query attention with a KV cache, and a SwiGLU MLP.
//
// A Model holds the immutable weights and can serve many sequences; each
// sequence has its own State (KV cache and scratch buffers).
package decoder

import (
	"context"
	"fmt"
	"math"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/nn"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// Config is the shape of a decoder, as GGUF's llama.* keys give it.
type Config struct {
	Dim       int     // embedding length
	Layers    int     // block count
	Heads     int     // attention heads
	KVHeads   int     // key/value heads (grouped-query attention)
	FFN       int     // feed-forward length
	Vocab     int     // vocabulary size
	Context   int     // maximum sequence length
	RopeBase  float64 // rope frequency base
	RopeDim   int     // rotated dimensions per head
	RopeNeox  bool    // rotate (x[i], x[i+d/2]) pairs instead of adjacent ones
	NormEps   float32 // RMSNorm epsilon
	HeadDim   int     // Dim / Heads
	KVDim     int     // KVHeads * HeadDim
	GroupSize int     // Heads / KVHeads
}

// Validate checks the shape and fills the derived fields.
func (c *Config) Validate() error {
	switch {
	case c.Dim <= 0 || c.Layers <= 0 || c.Heads <= 0 || c.FFN <= 0 || c.Vocab <= 0 || c.Context <= 0:
		return fmt.Errorf("decoder: config has a non-positive size: %+v", *c)
	case c.Dim%c.Heads != 0:
		return fmt.Errorf("decoder: embedding length %d is not a multiple of the head count %d", c.Dim, c.Heads)
	case c.KVHeads <= 0 || c.Heads%c.KVHeads != 0:
		return fmt.Errorf("decoder: head count %d is not a multiple of the key/value head count %d", c.Heads, c.KVHeads)
	}
	c.HeadDim = c.Dim / c.Heads
	c.KVDim = c.KVHeads * c.HeadDim
	c.GroupSize = c.Heads / c.KVHeads
	if c.RopeDim == 0 {
		c.RopeDim = c.HeadDim
	}
	return nil
}

// Layer holds one transformer block's weights.
type Layer struct {
	AttnNorm       []float32
	Q, K, V, O     *Linear
	FFNNorm        []float32
	Gate, Up, Down *Linear
}

// Model is a loaded decoder.
type Model struct {
	Config
	Embed   *Linear // Vocab rows of Dim: the token embedding table
	Layers  []Layer
	OutNorm []float32
	Output  *Linear // Vocab rows of Dim; the same as Embed when tied
	rope    *nn.Rope
}

// NewModel checks that the weights have the config's shapes.
func NewModel(cfg Config, embed *Linear, layers []Layer, outNorm []float32, output *Linear) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if output == nil {
		output = embed
	}
	m := &Model{Config: cfg, Embed: embed, Layers: layers, OutNorm: outNorm, Output: output}
	if len(layers) != cfg.Layers {
		return nil, fmt.Errorf("decoder: %d layers given, config says %d", len(layers), cfg.Layers)
	}
	check := func(name string, l *Linear, rows, cols int) error {
		if l == nil {
			return fmt.Errorf("decoder: missing tensor %s", name)
		}
		if l.Rows() != rows || l.Cols() != cols {
			return fmt.Errorf("decoder: tensor %s is %d×%d, want %d×%d", name, l.Rows(), l.Cols(), rows, cols)
		}
		return nil
	}
	vec := func(name string, v []float32, n int) error {
		if len(v) != n {
			return fmt.Errorf("decoder: tensor %s has %d values, want %d", name, len(v), n)
		}
		return nil
	}
	errs := []error{check("token_embd", embed, cfg.Vocab, cfg.Dim), check("output", output, cfg.Vocab, cfg.Dim),
		vec("output_norm", outNorm, cfg.Dim)}
	for i, l := range layers {
		p := fmt.Sprintf("blk.%d.", i)
		errs = append(errs,
			vec(p+"attn_norm", l.AttnNorm, cfg.Dim), vec(p+"ffn_norm", l.FFNNorm, cfg.Dim),
			check(p+"attn_q", l.Q, cfg.Dim, cfg.Dim), check(p+"attn_k", l.K, cfg.KVDim, cfg.Dim),
			check(p+"attn_v", l.V, cfg.KVDim, cfg.Dim), check(p+"attn_output", l.O, cfg.Dim, cfg.Dim),
			check(p+"ffn_gate", l.Gate, cfg.FFN, cfg.Dim), check(p+"ffn_up", l.Up, cfg.FFN, cfg.Dim),
			check(p+"ffn_down", l.Down, cfg.Dim, cfg.FFN))
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	rope, err := nn.NewRope(cfg.HeadDim, cfg.RopeDim, cfg.RopeBase, cfg.RopeNeox)
	if err != nil {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	m.rope = rope
	return m, nil
}

// State is one sequence's KV cache and scratch space.
type State struct {
	m      *Model
	Pos    int         // tokens in the cache
	k, v   [][]float32 // per layer: Context × KVDim
	x, h   []float32
	q, att []float32
	kv     []float32 // scratch for one token's K and V
	gate   []float32
	up     []float32
	scores []float32
	Logits []float32
	qDim   *quant.Q8
	qFFN   *quant.Q8
}

// NewState allocates a sequence state holding up to ctxLen tokens (at most
// the model's context; 0 means the model's context).
func (m *Model) NewState(ctxLen int) (*State, error) {
	if ctxLen <= 0 || ctxLen > m.Context {
		ctxLen = m.Context
	}
	s := &State{m: m,
		x: make([]float32, m.Dim), h: make([]float32, m.Dim), q: make([]float32, m.Dim),
		att: make([]float32, m.Dim), kv: make([]float32, 2*m.KVDim),
		gate: make([]float32, m.FFN), up: make([]float32, m.FFN),
		scores: make([]float32, ctxLen), Logits: make([]float32, m.Vocab),
	}
	for range m.Layers {
		s.k = append(s.k, make([]float32, ctxLen*m.KVDim))
		s.v = append(s.v, make([]float32, ctxLen*m.KVDim))
	}
	var err error
	if m.Dim%quant.GroupSize == 0 {
		if s.qDim, err = quant.NewQ8(m.Dim); err != nil {
			return nil, err
		}
	}
	if m.FFN%quant.GroupSize == 0 {
		if s.qFFN, err = quant.NewQ8(m.FFN); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Reset empties the KV cache so the state can serve a new sequence.
func (s *State) Reset() { s.Pos = 0 }

// Capacity returns how many tokens the state can hold.
func (s *State) Capacity() int { return len(s.scores) }

// DecodeToken appends one token and, if logits is true, leaves the
// next-token logits in s.Logits.
func (s *State) DecodeToken(ctx context.Context, p *kernels.Pool, token int, logits bool) error {
	if err := s.m.Embed.Row(token, s.x); err != nil {
		return err
	}
	return s.forward(ctx, p, logits)
}

// DecodeEmbedding appends one position whose input is an embedding (an
// image token from the vision projector) rather than a token id.
func (s *State) DecodeEmbedding(ctx context.Context, p *kernels.Pool, embd []float32, logits bool) error {
	if len(embd) != s.m.Dim {
		return fmt.Errorf("decoder: embedding of %d values, model dimension is %d", len(embd), s.m.Dim)
	}
	copy(s.x, embd)
	return s.forward(ctx, p, logits)
}

func (s *State) forward(ctx context.Context, p *kernels.Pool, logits bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m := s.m
	if s.Pos >= s.Capacity() {
		return fmt.Errorf("decoder: context full (%d tokens)", s.Capacity())
	}
	pos := s.Pos
	scale := float32(1 / math.Sqrt(float64(m.HeadDim)))
	for li := range m.Layers {
		l := &m.Layers[li]
		nn.RMSNorm(s.h, s.x, l.AttnNorm, m.NormEps)
		k := s.k[li][pos*m.KVDim : (pos+1)*m.KVDim]
		v := s.v[li][pos*m.KVDim : (pos+1)*m.KVDim]
		if err := firstErr(l.Q.Mul(p, s.h, s.q, s.qDim), l.K.Mul(p, s.h, k, s.qDim), l.V.Mul(p, s.h, v, s.qDim)); err != nil {
			return err
		}
		m.rope.Apply(s.q, pos)
		m.rope.Apply(k, pos)
		for h := 0; h < m.Heads; h++ {
			q := s.q[h*m.HeadDim : (h+1)*m.HeadDim]
			off := (h / m.GroupSize) * m.HeadDim
			sc := s.scores[:pos+1]
			for t := range sc {
				kt := s.k[li][t*m.KVDim+off : t*m.KVDim+off+m.HeadDim]
				var d float32
				for i, qv := range q {
					d += qv * kt[i]
				}
				sc[t] = d * scale
			}
			nn.Softmax(sc)
			out := s.att[h*m.HeadDim : (h+1)*m.HeadDim]
			clear(out)
			for t, w := range sc {
				vt := s.v[li][t*m.KVDim+off : t*m.KVDim+off+m.HeadDim]
				for i := range out {
					out[i] += w * vt[i]
				}
			}
		}
		if err := l.O.Mul(p, s.att, s.h, s.qDim); err != nil {
			return err
		}
		nn.Add(s.x, s.x, s.h)
		nn.RMSNorm(s.h, s.x, l.FFNNorm, m.NormEps)
		if err := firstErr(l.Gate.Mul(p, s.h, s.gate, s.qDim), l.Up.Mul(p, s.h, s.up, s.qDim)); err != nil {
			return err
		}
		nn.SwiGLU(s.gate, s.gate, s.up)
		if err := l.Down.Mul(p, s.gate, s.h, s.qFFN); err != nil {
			return err
		}
		nn.Add(s.x, s.x, s.h)
	}
	s.Pos++
	if !logits {
		return nil
	}
	nn.RMSNorm(s.h, s.x, m.OutNorm, m.NormEps)
	return m.Output.Mul(p, s.h, s.Logits, s.qDim)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
