// Package generate turns next-token logits into text: samplers (greedy,
// temperature, top-k, top-p with a seed) and the generation loop with stop
// strings, a token budget, streaming and cancellation.
package generate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// SamplerOptions choose how the next token is picked.
type SamplerOptions struct {
	// Temperature 0 means greedy decoding (argmax, ties to the lowest id).
	Temperature float32
	// TopK keeps the K most likely tokens (0: all).
	TopK int
	// TopP keeps the smallest set of most likely tokens whose probability
	// reaches P (0 or 1: all).
	TopP float32
	// Seed makes sampling reproducible.
	Seed uint64
}

// Validate reports options outside their ranges.
func (o SamplerOptions) Validate() error {
	switch {
	case math.IsNaN(float64(o.Temperature)) || o.Temperature < 0 || o.Temperature > 100:
		return fmt.Errorf("generate: temperature %v outside [0, 100]", o.Temperature)
	case o.TopK < 0:
		return fmt.Errorf("generate: top_k %d is negative", o.TopK)
	case math.IsNaN(float64(o.TopP)) || o.TopP < 0 || o.TopP > 1:
		return fmt.Errorf("generate: top_p %v outside [0, 1]", o.TopP)
	}
	return nil
}

// Greedy reports whether the options pick the argmax deterministically.
func (o SamplerOptions) Greedy() bool { return o.Temperature == 0 }

// Sampler picks tokens from logits. It is not safe for concurrent use.
type Sampler struct {
	opt  SamplerOptions
	rng  *rand.Rand
	cand []candidate
}

type candidate struct {
	id int
	p  float64
}

// NewSampler returns a sampler for the options.
func NewSampler(opt SamplerOptions) (*Sampler, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	return &Sampler{opt: opt, rng: rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15))}, nil
}

// Argmax returns the index of the largest logit, the lowest on ties.
func Argmax(logits []float32) int {
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	return best
}

// Sample returns the next token id.
func (s *Sampler) Sample(logits []float32) int {
	if s.opt.Greedy() {
		return Argmax(logits)
	}
	c := s.cand[:0]
	for i, v := range logits {
		c = append(c, candidate{id: i, p: float64(v) / float64(s.opt.Temperature)})
	}
	// Most likely first; ties to the lowest id, so sampling is reproducible.
	slices.SortFunc(c, func(a, b candidate) int {
		if a.p != b.p {
			if a.p > b.p {
				return -1
			}
			return 1
		}
		return a.id - b.id
	})
	if k := s.opt.TopK; k > 0 && k < len(c) {
		c = c[:k]
	}
	top, sum := c[0].p, 0.0
	for i := range c {
		c[i].p = math.Exp(c[i].p - top)
		sum += c[i].p
	}
	if p := float64(s.opt.TopP); p > 0 && p < 1 {
		acc := 0.0
		for i := range c {
			acc += c[i].p / sum
			if acc >= p {
				c = c[:i+1]
				break
			}
		}
		sum = 0
		for _, v := range c {
			sum += v.p
		}
	}
	s.cand = c
	r := s.rng.Float64() * sum
	for _, v := range c {
		if r < v.p {
			return v.id
		}
		r -= v.p
	}
	return c[len(c)-1].id
}
