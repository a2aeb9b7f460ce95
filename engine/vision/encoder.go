package vision

import (
	"context"
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

// scratch holds the activations of one image.
type scratch struct {
	x, h, q, k, v, att []float32 // Patches × Dim
	ff                 []float32 // Patches × FFN
	col                []float32 // one patch's pixels: 3·P·P
	scores             []float32 // Patches
	shuffle            []float32 // TokensPerImage × Dim·scale²
}

func (e *Encoder) newScratch() *scratch {
	n, d := e.Patches(), e.Dim
	buf := func(k int) []float32 { return make([]float32, k) }
	return &scratch{
		x: buf(n * d), h: buf(n * d), q: buf(n * d), k: buf(n * d), v: buf(n * d), att: buf(n * d),
		ff: buf(n * e.FFN), col: buf(3 * e.PatchSize * e.PatchSize), scores: buf(n),
		shuffle: buf(n * d),
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
	d := e.Dim
	for t := range e.Patches() {
		row := s.x[t*d : (t+1)*d]
		nn.LayerNorm(row, row, e.postW, e.postB, e.Eps)
	}
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
// float16, sums in float32) plus its bias, plus the position embeddings.
func (e *Encoder) embedPatches(p *kernels.Pool, img []float32, s *scratch) error {
	ps, side, size, d := e.PatchSize, e.Side(), e.ImageSize, e.Dim
	for py := range side {
		for px := range side {
			// im2col: the column is ordered [channel][ky][kx] like the weight rows
			i := 0
			for c := range 3 {
				plane := img[c*size*size:]
				for ky := range ps {
					row := plane[(py*ps+ky)*size+px*ps:]
					for kx := range ps {
						s.col[i] = f16(row[kx])
						i++
					}
				}
			}
			t := py*side + px
			out := s.x[t*d : (t+1)*d]
			if err := p.GEMVF32(e.patch, s.col, out); err != nil {
				return err
			}
			nn.Add(out, out, e.patchB)
			nn.Add(out, out, e.pos[t*d:(t+1)*d])
		}
	}
	return nil
}

// block applies one pre-norm transformer block to s.x in place.
func (e *Encoder) block(p *kernels.Pool, b *block, s *scratch) error {
	n, d := e.Patches(), e.Dim
	for t := range n {
		nn.LayerNorm(s.h[t*d:(t+1)*d], s.x[t*d:(t+1)*d], b.ln1W, b.ln1B, e.Eps)
	}
	for _, qkv := range []struct {
		l   linear
		out []float32
	}{{b.q, s.q}, {b.k, s.k}, {b.v, s.v}} {
		if err := qkv.l.apply(p, s.h, qkv.out); err != nil {
			return err
		}
	}
	e.attention(s)
	if err := b.o.apply(p, s.att, s.h); err != nil {
		return err
	}
	nn.Add(s.x, s.x, s.h)
	for t := range n {
		nn.LayerNorm(s.h[t*d:(t+1)*d], s.x[t*d:(t+1)*d], b.ln2W, b.ln2B, e.Eps)
	}
	if err := b.up.apply(p, s.h, s.ff); err != nil {
		return err
	}
	geluF16(s.ff)
	if err := b.down.apply(p, s.ff, s.h); err != nil {
		return err
	}
	nn.Add(s.x, s.x, s.h)
	return nil
}

// attention sets s.att to multi-head bidirectional attention over all
// patches: per head, softmax(q·kᵀ/√headDim)·v.
func (e *Encoder) attention(s *scratch) {
	n, d, hd := e.Patches(), e.Dim, e.HeadDim()
	scale := float32(1 / math.Sqrt(float64(hd)))
	for h := range e.Heads {
		off := h * hd
		for i := range n {
			q := s.q[i*d+off : i*d+off+hd]
			for j := range n {
				k := s.k[j*d+off : j*d+off+hd]
				var dot float32
				for c, qv := range q {
					dot += qv * k[c]
				}
				s.scores[j] = dot * scale
			}
			nn.Softmax(s.scores)
			out := s.att[i*d+off : i*d+off+hd]
			clear(out)
			for j, w := range s.scores {
				v := s.v[j*d+off : j*d+off+hd]
				for c := range out {
					out[c] += w * v[c]
				}
			}
		}
	}
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

// apply computes out[t] = W·x[t] + b for each of the len(x)/Cols vectors.
func (l linear) apply(p *kernels.Pool, x, out []float32) error {
	rows, cols := l.w.Rows, l.w.Cols
	n := len(x) / cols
	if n*cols != len(x) || len(out) < n*rows {
		return fmt.Errorf("tensor %s: %d×%d matrix times %d values into %d", l.w.Name, rows, cols, len(x), len(out))
	}
	for t := range n {
		o := out[t*rows : (t+1)*rows]
		if err := p.GEMVF32(l.w, x[t*cols:(t+1)*cols], o); err != nil {
			return err
		}
		if l.b != nil {
			nn.Add(o, o, l.b)
		}
	}
	return nil
}
