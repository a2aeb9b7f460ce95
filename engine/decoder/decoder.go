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

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/nn"
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

// State is one sequence's KV cache and scratch space. A State serves one
// sequence at a time; it must not be used by several goroutines at once.
type State struct {
	m      *Model
	Pos    int // positions in the cache
	ctxLen int
	cache  []kvCache // per layer
	Logits []float32
	act    *activations // the positions of the pass being run
	work   []worker     // the threads of the pass being run
	one    [1]Input     // DecodeToken's and DecodeEmbedding's input
	// batchIn is DecodeBatch's inputs when the state's scratch space runs
	// the batch.
	batchIn []Input
}

// NewState allocates a sequence state holding up to ctxLen tokens (at most
// the model's context; 0 means the model's context). Activation scratch
// space grows with the longest pass run (at most maxBatch positions).
func (m *Model) NewState(ctxLen int) (*State, error) {
	if ctxLen <= 0 || ctxLen > m.Context {
		ctxLen = m.Context
	}
	s := &State{m: m, ctxLen: ctxLen, Logits: make([]float32, m.Vocab)}
	for range m.Layers {
		s.cache = append(s.cache, newKVCache(&m.Config, ctxLen))
	}
	if err := s.grow(1); err != nil {
		return nil, err
	}
	return s, nil
}

// Reset empties the KV cache so the state can serve a new sequence.
func (s *State) Reset() { s.Pos = 0 }

// Capacity returns how many tokens the state can hold.
func (s *State) Capacity() int { return s.ctxLen }

// DecodeToken appends one token and, if logits is true, leaves the
// next-token logits in s.Logits.
func (s *State) DecodeToken(ctx context.Context, p *kernels.Pool, token int, logits bool) error {
	s.one[0] = Input{Token: token}
	return s.run(ctx, p, s.one[:], logits)
}

// DecodeEmbedding appends one position whose input is an embedding (an
// image token from the vision projector) rather than a token id.
func (s *State) DecodeEmbedding(ctx context.Context, p *kernels.Pool, embd []float32, logits bool) error {
	s.one[0] = Input{Embedding: embd}
	err := s.run(ctx, p, s.one[:], logits)
	s.one[0] = Input{}
	return err
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
