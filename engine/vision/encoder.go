package vision

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/nn"
)

// Encode runs every image of the batch through the encoder and projector
// and returns, per image and in batch order, its TokensPerImage embeddings
// of ProjDim values each (token-major). The context is checked before each
// image.
func (e *Encoder) Encode(ctx context.Context, p *kernels.Pool, b *Batch) ([][]float32, error) {
	if b == nil || len(b.Images) == 0 {
		return nil, fmt.Errorf("vision: encode: empty batch")
	}
	s := e.newScratch()
	out := make([][]float32, len(b.Images))
	for i, img := range b.Images {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("vision: encode: image %d of %d: %w", i+1, len(b.Images), err)
		}
		emb, err := e.encodeImage(p, img, s, nil)
		if err != nil {
			return nil, fmt.Errorf("vision: encode: image %d of %d: %w", i+1, len(b.Images), err)
		}
		out[i] = emb
	}
	return out, nil
}

// stages receives intermediate results of encodeImage, for tests.
type stages struct {
	vit     []float32 // Patches × Dim: after the post-layernorm
	shuffle []float32 // TokensPerImage × Dim·scale²: input of the projector
}

// tokenChunk is the tokens per work item of the element-wise passes
// (layer norms, biases, GELU, residuals) spread over the pool.
const tokenChunk = 64

// scratch holds the activations of one image.
type scratch struct {
	x, h, q, k, v, att []float32 // Patches × Dim
	ff                 []float32 // Patches × FFN
	cols               []float32 // Patches × 3·P·P: every patch's pixels (im2col)
	keys               []byte    // Patches × Dim: k as little-endian float32
	valuesT            []byte    // Dim × Patches: v transposed, little-endian float32
	shuffle            []float32 // TokensPerImage × Dim·scale²
	// scores holds one Patches×Patches buffer of attention weights per
	// thread that may run attention heads at once (see attention).
	scores chan []float32
}

func (e *Encoder) newScratch() *scratch {
	n, d := e.Patches(), e.Dim
	buf := func(k int) []float32 { return make([]float32, k) }
	return &scratch{
		x: buf(n * d), h: buf(n * d), q: buf(n * d), k: buf(n * d), v: buf(n * d), att: buf(n * d),
		ff: buf(n * e.FFN), cols: buf(n * 3 * e.PatchSize * e.PatchSize),
		keys: make([]byte, 4*n*d), valuesT: make([]byte, 4*n*d), shuffle: buf(n * d),
	}
}

// encodeImage encodes one normalized image (planar 3×ImageSize×ImageSize)
// into TokensPerImage×ProjDim values.
func (e *Encoder) encodeImage(p *kernels.Pool, img []float32, s *scratch, st *stages) ([]float32, error) {
	size := e.ImageSize
	if len(img) != 3*size*size {
		return nil, fmt.Errorf("image has %d values, want 3×%d×%d", len(img), size, size)
	}
	if err := e.embedPatches(p, img, s); err != nil {
		return nil, err
	}
	for i := range e.blocks {
		if err := e.block(p, &e.blocks[i], s); err != nil {
			return nil, fmt.Errorf("block %d: %w", i, err)
		}
	}
	e.layerNorm(p, s.x, s.x, e.postW, e.postB)
	e.pixelShuffle(s.x, s.shuffle)
	out := make([]float32, e.TokensPerImage()*e.ProjDim)
	if err := (linear{w: e.fc}).apply(p, s.shuffle, out); err != nil {
		return nil, err
	}
	if st != nil {
		st.vit = append(st.vit[:0], s.x...)
		st.shuffle = append(st.shuffle[:0], s.shuffle...)
	}
	return out, nil
}

// embedPatches sets s.x to the patch convolution (inputs and weights in
// float16, sums in float32) plus its bias, plus the position embeddings:
// the pixels of every patch are gathered into a row of s.cols (im2col),
// then multiplied with the convolution weights in one product.
func (e *Encoder) embedPatches(p *kernels.Pool, img []float32, s *scratch) error {
	ps, side, size, d := e.PatchSize, e.Side(), e.ImageSize, e.Dim
	pp := 3 * ps * ps
	e.forTokens(p, func(t int) {
		py, px := t/side, t%side
		// the column is ordered [channel][ky][kx] like the weight rows
		col := s.cols[t*pp : (t+1)*pp]
		i := 0
		for c := range 3 {
			plane := img[c*size*size:]
			for ky := range ps {
				row := plane[(py*ps+ky)*size+px*ps:]
				for kx := range ps {
					col[i] = f16(row[kx])
					i++
				}
			}
		}
	})
	if err := p.GEMMF32(e.patch, s.cols, e.Patches(), s.x); err != nil {
		return err
	}
	e.forTokens(p, func(t int) {
		out := s.x[t*d : (t+1)*d]
		nn.Add(out, out, e.patchB)
		nn.Add(out, out, e.pos[t*d:(t+1)*d])
	})
	return nil
}

// block applies one pre-norm transformer block to s.x in place.
func (e *Encoder) block(p *kernels.Pool, b *block, s *scratch) error {
	e.layerNorm(p, s.h, s.x, b.ln1W, b.ln1B)
	for _, qkv := range []struct {
		l   linear
		out []float32
	}{{b.q, s.q}, {b.k, s.k}, {b.v, s.v}} {
		if err := qkv.l.apply(p, s.h, qkv.out); err != nil {
			return err
		}
	}
	if err := e.attention(p, s); err != nil {
		return err
	}
	if err := b.o.apply(p, s.att, s.h); err != nil {
		return err
	}
	e.addResidual(p, s.x, s.h)
	e.layerNorm(p, s.h, s.x, b.ln2W, b.ln2B)
	if err := b.up.apply(p, s.h, s.ff); err != nil {
		return err
	}
	f := e.FFN
	e.forTokens(p, func(t int) { geluF16(s.ff[t*f : (t+1)*f]) })
	if err := b.down.apply(p, s.ff, s.h); err != nil {
		return err
	}
	e.addResidual(p, s.x, s.h)
	return nil
}

// forTokens calls fn for every patch, spread over the pool.
func (e *Encoder) forTokens(p *kernels.Pool, fn func(t int)) {
	p.ParallelFor(e.Patches(), tokenChunk, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			fn(t)
		}
	})
}

// layerNorm sets each patch's row of dst to the layer norm of its row of x.
func (e *Encoder) layerNorm(p *kernels.Pool, dst, x, w, b []float32) {
	d := e.Dim
	e.forTokens(p, func(t int) { nn.LayerNorm(dst[t*d:(t+1)*d], x[t*d:(t+1)*d], w, b, e.Eps) })
}

// addResidual adds h to x, patch by patch.
func (e *Encoder) addResidual(p *kernels.Pool, x, h []float32) {
	d := e.Dim
	e.forTokens(p, func(t int) { nn.Add(x[t*d:(t+1)*d], x[t*d:(t+1)*d], h[t*d:(t+1)*d]) })
}

// attention sets s.att to multi-head bidirectional attention over all
// patches: per head, softmax(q·kᵀ/√headDim)·v. The heads are spread over
// the pool's threads; each multiplies its queries with its keys (one
// product, the keys as the matrix), takes the softmax of each query's
// scores, and multiplies the weights with its values (one product, the
// transposed values as the matrix). Both products sum in float32, in key
// and in feature order.
func (e *Encoder) attention(p *kernels.Pool, s *scratch) error {
	n := e.Patches()
	if s.scores == nil || cap(s.scores) < p.Threads() {
		s.scores = make(chan []float32, p.Threads())
		for range p.Threads() {
			s.scores <- make([]float32, n*n)
		}
	}
	errs := make([]error, e.Heads)
	p.ParallelFor(e.Heads, 1, func(lo, hi int) {
		scores := <-s.scores
		defer func() { s.scores <- scores }()
		for h := lo; h < hi; h++ {
			errs[h] = e.attendHead(p, s, h, scores)
		}
	})
	return errors.Join(errs...)
}

// attendHead computes head h of s.att with scores as scratch (n×n floats).
func (e *Encoder) attendHead(p *kernels.Pool, s *scratch, h int, scores []float32) error {
	n, d, hd := e.Patches(), e.Dim, e.HeadDim()
	off := h * hd
	le := binary.LittleEndian
	for j := range n {
		for c := off; c < off+hd; c++ {
			le.PutUint32(s.keys[4*(j*d+c):], math.Float32bits(s.k[j*d+c]))
			le.PutUint32(s.valuesT[4*(c*n+j):], math.Float32bits(s.v[j*d+c]))
		}
	}
	err := p.GEMMF32Strided(&kernels.F32Product{
		W: s.keys[4*off:], Stride: 4 * d, Rows: n, K: hd,
		X: s.q[off:], LdX: d, N: n, Out: scores, LdOut: n,
	})
	if err != nil {
		return fmt.Errorf("head %d scores: %w", h, err)
	}
	scale := float32(1 / math.Sqrt(float64(hd)))
	for i := range n {
		p.SoftmaxF32(scores[i*n:(i+1)*n], scale)
	}
	err = p.GEMMF32Strided(&kernels.F32Product{
		W: s.valuesT[4*off*n:], Stride: 4 * n, Rows: hd, K: n,
		X: scores, LdX: n, N: n, Out: s.att[off:], LdOut: d,
	})
	if err != nil {
		return fmt.Errorf("head %d values: %w", h, err)
	}
	return nil
}

// pixelShuffle folds each scale×scale square of patches into one token:
// token yb·(side/scale)+xb holds, for dy and dx in [0, scale) (dy outer),
// the Dim features of patch (yb·scale+dy, xb·scale+dx), i.e. feature
// dy·scale·Dim + dx·Dim + c (transformers' Idefics3 pixel_shuffle order).
func (e *Encoder) pixelShuffle(x, out []float32) {
	side, sc, d := e.Side(), e.ScaleFactor, e.Dim
	tokSide := side / sc
	i := 0
	for yb := range tokSide {
		for xb := range tokSide {
			for dy := range sc {
				for dx := range sc {
					t := (yb*sc+dy)*side + xb*sc + dx
					i += copy(out[i:i+d], x[t*d:(t+1)*d])
				}
			}
		}
	}
}

// apply computes out[t] = W·x[t] + b for each of the len(x)/Cols vectors,
// in one product.
func (l linear) apply(p *kernels.Pool, x, out []float32) error {
	rows, cols := l.w.Rows, l.w.Cols
	n := len(x) / cols
	if n*cols != len(x) || len(out) != n*rows {
		return fmt.Errorf("tensor %s: %d×%d matrix times %d values into %d", l.w.Name, rows, cols, len(x), len(out))
	}
	if err := p.GEMMF32(l.w, x, n, out); err != nil {
		return err
	}
	if l.b != nil {
		p.ParallelFor(n, tokenChunk, func(lo, hi int) {
			for t := lo; t < hi; t++ {
				o := out[t*rows : (t+1)*rows]
				nn.Add(o, o, l.b)
			}
		})
	}
	return nil
}
