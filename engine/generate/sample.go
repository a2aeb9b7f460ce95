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
	w    []float64   // per-token weights exp((logit-max)/T)
	cand []candidate // the candidates kept by top-k / top-p
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

// Sample returns the next token id. Without top-k or top-p it draws from
// all tokens in one pass; top-k keeps the k largest with a bounded heap and
// top-p finds the nucleus's smallest weight by bisection, so only the kept
// candidates are ever sorted (most likely first, ties to the lowest id).
func (s *Sampler) Sample(logits []float32) int {
	if s.opt.Greedy() || len(logits) == 1 {
		return Argmax(logits)
	}
	m := logits[Argmax(logits)]
	if cap(s.w) < len(logits) {
		s.w = make([]float64, len(logits))
	}
	w := s.w[:len(logits)]
	inv := 1 / float64(s.opt.Temperature)
	total := 0.0
	for i, v := range logits {
		w[i] = math.Exp(float64(v-m) * inv)
		total += w[i]
	}
	k, p := s.opt.TopK, float64(s.opt.TopP)
	if (k <= 0 || k >= len(w)) && (p <= 0 || p >= 1) {
		return drawAll(w, total, s.rng.Float64())
	}
	c := s.cand[:0]
	if k > 0 && k < len(w) {
		c = topK(c, w, k)
	} else {
		t := nucleusFloor(w, p*total)
		for i, v := range w {
			if v >= t {
				c = append(c, candidate{i, v})
			}
		}
	}
	sortCandidates(c)
	sum := total // top-p alone measures the nucleus against all tokens
	if k > 0 && k < len(w) {
		sum = 0 // after top-k, against the k kept
		for _, v := range c {
			sum += v.p
		}
	}
	if p > 0 && p < 1 {
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

// drawAll draws index i with probability w[i]/total.
func drawAll(w []float64, total, u float64) int {
	r := u * total
	for i, v := range w {
		if r < v {
			return i
		}
		r -= v
	}
	return len(w) - 1
}

// topK appends the k largest weights (ties to the lowest id) to c using a
// min-heap of size k.
func topK(c []candidate, w []float64, k int) []candidate {
	less := func(a, b candidate) bool { return a.p < b.p || (a.p == b.p && a.id > b.id) } // a is "worse"
	h := c[:0]
	down := func(i int) {
		for {
			l, small := 2*i+1, i
			if l < len(h) && less(h[l], h[small]) {
				small = l
			}
			if r := l + 1; r < len(h) && less(h[r], h[small]) {
				small = r
			}
			if small == i {
				return
			}
			h[i], h[small] = h[small], h[i]
			i = small
		}
	}
	for i, v := range w {
		cd := candidate{i, v}
		if len(h) < k {
			h = append(h, cd)
			for j := len(h) - 1; j > 0 && less(h[j], h[(j-1)/2]); j = (j - 1) / 2 {
				h[j], h[(j-1)/2] = h[(j-1)/2], h[j]
			}
		} else if less(h[0], cd) {
			h[0] = cd
			down(0)
		}
	}
	return h
}

// nucleusFloor returns a weight t such that the tokens weighing at least t
// hold at least target of the mass and include every token of the top-p
// nucleus: the largest such t found by bisection (weights are in (0, 1]).
func nucleusFloor(w []float64, target float64) float64 {
	lo, hi := 0.0, 1.0 // mass(lo) >= target always
	for range 40 {
		mid := (lo + hi) / 2
		mass := 0.0
		for _, v := range w {
			if v >= mid {
				mass += v
			}
		}
		if mass >= target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// sortCandidates orders most likely first, ties to the lowest id.
func sortCandidates(c []candidate) {
	slices.SortFunc(c, func(a, b candidate) int {
		if a.p != b.p {
			if a.p > b.p {
				return -1
			}
			return 1
		}
		return a.id - b.id
	})
}
