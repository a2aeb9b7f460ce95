package vision

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

// smolVLM256MVision is the vision shape of SmolVLM-256M's mmproj: 512×512
// tiles of 16×16 patches (1024 patches), width 768, FFN 3072, 12 blocks of
// 12 heads, pixel shuffle 4 (64 tokens) into the 576-wide text model.
var smolVLM256MVision = Config{
	ImageSize: 512, PatchSize: 16, Dim: 768, FFN: 3072, Layers: 12, Heads: 12, Eps: 1e-6,
	ScaleFactor: 4, Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.5, 0.5, 0.5}, ProjDim: 576,
}

// randomEncoder builds an encoder of shape c with uniform random weights
// (matrices in ±0.05, norms near 1, biases in ±0.1). To keep the setup
// fast all blocks share one block's weights: the products do the same work
// whatever the values.
func randomEncoder(t testing.TB, c Config, seed uint64) *Encoder {
	rng := rand.New(rand.NewPCG(seed, seed))
	vec := func(n int, center, spread float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = center + (rng.Float32()*2-1)*spread
		}
		return v
	}
	mat := func(name string, rows, cols int) *kernels.Matrix {
		m, err := kernels.NewMatrix(name, quant.F32, rows, cols, f32Bytes(vec(rows*cols, 0, 0.05)))
		require.NoError(t, err)
		return m
	}
	lin := func(name string, rows, cols int) linear {
		return linear{w: mat(name, rows, cols), b: vec(rows, 0, 0.1)}
	}
	require.NoError(t, c.validate())
	d, pp, s := c.Dim, 3*c.PatchSize*c.PatchSize, c.ScaleFactor
	patch := vec(d*pp, 0, 0.05)
	roundF16(patch)
	pm, err := kernels.NewMatrix("patch", quant.F32, d, pp, f32Bytes(patch))
	require.NoError(t, err)
	b := block{
		ln1W: vec(d, 1, 0.1), ln1B: vec(d, 0, 0.1),
		q: lin("q", d, d), k: lin("k", d, d), v: lin("v", d, d), o: lin("o", d, d),
		ln2W: vec(d, 1, 0.1), ln2B: vec(d, 0, 0.1),
		up: lin("up", c.FFN, d), down: lin("down", d, c.FFN),
	}
	e := &Encoder{Config: c, patch: pm, patchB: vec(d, 0, 0.1), pos: vec(c.Patches()*d, 0, 0.5),
		postW: vec(d, 1, 0.1), postB: vec(d, 0, 0.1), fc: mat("fc", c.ProjDim, d*s*s)}
	e.blocks = make([]block, c.Layers)
	for i := range e.blocks {
		e.blocks[i] = b
	}
	return e
}

// BenchmarkEncodeSmolVLM256M encodes one 512×512 tile with a random encoder
// of SmolVLM-256M's vision shape, on 1 and 2 threads.
func BenchmarkEncodeSmolVLM256M(b *testing.B) {
	e := randomEncoder(b, smolVLM256MVision, 7)
	rng := rand.New(rand.NewPCG(8, 8))
	img := make([]float32, 3*e.ImageSize*e.ImageSize)
	for i := range img {
		img[i] = rng.Float32()*2 - 1
	}
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("t%d", threads), func(b *testing.B) {
			p := kernels.NewPool(threads, nil)
			defer p.Close()
			s := e.newScratch()
			for b.Loop() {
				if _, err := e.encodeImage(p, img, s, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
