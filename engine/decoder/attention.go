package decoder

import (
	"fmt"
	"math"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/nn"
)

// kvCache is one layer's keys and values, little-endian float32, laid out
// so that both products of attention are GEMVs over rows of the cache
// (kernels.Pool.GEMVF32Strided):
//
//	k: KVHeads blocks of ctx rows of HeadDim: key head g of position t at
//	   row g·ctx + t (a head's keys are consecutive rows);
//	v: KVHeads blocks of HeadDim rows of ctx: component i of value head g
//	   of position t at (g·HeadDim + i)·ctx + t (values transposed).
type kvCache struct {
	k, v []byte
}

func newKVCache(c *Config, ctxLen int) kvCache {
	return kvCache{k: make([]byte, 4*ctxLen*c.KVDim), v: make([]byte, 4*ctxLen*c.KVDim)}
}

// store writes the key and value vectors (KVDim each) of position pos.
func (s *State) store(c *kvCache, pos int, k, v []float32) {
	hd, ctx := s.m.HeadDim, s.ctxLen
	for g := 0; g < s.m.KVHeads; g++ {
		row := c.k[4*(g*ctx+pos)*hd : 4*(g*ctx+pos+1)*hd]
		for i, x := range k[g*hd : (g+1)*hd] {
			putF32(row[4*i:], x)
		}
		for i, x := range v[g*hd : (g+1)*hd] {
			putF32(c.v[4*((g*hd+i)*ctx+pos):], x)
		}
	}
}

// attend computes the attention output (Dim values) of the query q (Dim
// values, rotated) at position pos over the cached positions 0..pos,
// head by head: softmax(q_h·K_g / √HeadDim) · V_g, g the key/value head of
// query head h. scores is scratch space of at least pos+1 values.
func (s *State) attend(p *kernels.Pool, c *kvCache, q []float32, pos int, scores, out []float32) error {
	m := s.m
	hd, ctx := m.HeadDim, s.ctxLen
	scale := float32(1 / math.Sqrt(float64(hd)))
	sc := scores[:pos+1]
	for h := 0; h < m.Heads; h++ {
		g := h / m.GroupSize
		keys := c.k[4*g*ctx*hd : 4*(g*ctx+pos+1)*hd]
		if err := p.GEMVF32Strided(keys, 4*hd, q[h*hd:(h+1)*hd], sc); err != nil {
			return fmt.Errorf("decoder: attention head %d keys: %w", h, err)
		}
		for t := range sc {
			sc[t] *= scale
		}
		nn.Softmax(sc)
		values := c.v[4*g*hd*ctx : 4*(g+1)*hd*ctx]
		if err := p.GEMVF32Strided(values, 4*ctx, sc, out[h*hd:(h+1)*hd]); err != nil {
			return fmt.Errorf("decoder: attention head %d values: %w", h, err)
		}
	}
	return nil
}
