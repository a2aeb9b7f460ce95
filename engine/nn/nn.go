// Package nn holds the float32 building blocks of the engine's transformer
// layers: normalizations, rotary position embeddings, activations and
// softmax. Matrix products live in engine/kernels; these are the O(n)
// operations between them.
//
// Functions write into a destination slice supplied by the caller (which may
// alias the input where documented) so the forward pass allocates nothing.
//
// Products that feed an addition are wrapped in an explicit conversion,
// float32(x*y) or float64(x*y): the Go spec lets the compiler fuse x*y + z
// into one FMA, which it does on arm64 (even across statements) and not on
// amd64, and the conversion forces the rounding of the product so that both
// give the same bits. Products of two float32 values in float64 are exact
// and need none.
package nn

import (
	"fmt"
	"math"
)

// RMSNorm sets dst[i] = x[i] / sqrt(mean(x²) + eps) · w[i], as LLaMA's
// RMSNorm. dst may alias x. The mean is accumulated in float64.
func RMSNorm(dst, x, w []float32, eps float32) {
	var ss float64
	for _, v := range x {
		ss += float64(v) * float64(v)
	}
	scale := float32(1 / math.Sqrt(ss/float64(len(x))+float64(eps)))
	for i, v := range x {
		dst[i] = v * scale * w[i]
	}
}

// LayerNorm sets dst[i] = (x[i] - mean) / sqrt(var + eps) · w[i] + b[i].
// dst may alias x. A nil b means no bias.
func LayerNorm(dst, x, w, b []float32, eps float32) {
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	mean := sum / float64(len(x))
	var ss float64
	for _, v := range x {
		d := float64(v) - mean
		ss += float64(d * d)
	}
	inv := 1 / math.Sqrt(ss/float64(len(x))+float64(eps))
	for i, v := range x {
		y := float32(float32((float64(v)-mean)*inv) * w[i])
		if b != nil {
			y += b[i]
		}
		dst[i] = y
	}
}

// Rope rotates query or key vectors by their position (rotary position
// embeddings). Its tables depend on the head size, the number of rotated
// dimensions and the frequency base, and are built once.
type Rope struct {
	headDim int
	dims    int
	freqs   []float64 // θ_i = base^(-2i/dims), i < dims/2
	neox    bool
}

// NewRope returns rotary embeddings for heads of headDim values of which
// the first dims are rotated. With neox false, pairs (x[2i], x[2i+1]) are
// rotated (llama.cpp's LLAMA_ROPE_TYPE_NORM, used by the llama
// architecture); with neox true, pairs (x[i], x[i+dims/2]).
func NewRope(headDim, dims int, base float64, neox bool) (*Rope, error) {
	if dims <= 0 || dims > headDim || dims%2 != 0 {
		return nil, fmt.Errorf("nn: rope dimension %d must be even and in (0, head size %d]", dims, headDim)
	}
	if !(base > 0) || math.IsInf(base, 0) {
		return nil, fmt.Errorf("nn: rope frequency base %v must be positive and finite", base)
	}
	r := &Rope{headDim: headDim, dims: dims, freqs: make([]float64, dims/2), neox: neox}
	for i := range r.freqs {
		r.freqs[i] = math.Pow(base, -2*float64(i)/float64(dims))
	}
	return r, nil
}

// Apply rotates every head of x (len(x) a multiple of the head size) for
// position pos, in place. The angles are computed once for all heads.
func (r *Rope) Apply(x []float32, pos int) {
	half := r.dims / 2
	var buf [128][2]float64
	cs := buf[:0]
	if half > len(buf) {
		cs = make([][2]float64, 0, half)
	}
	for _, f := range r.freqs {
		sin, cos := math.Sincos(float64(pos) * f)
		cs = append(cs, [2]float64{sin, cos})
	}
	for h := 0; h+r.headDim <= len(x); h += r.headDim {
		head := x[h : h+r.headDim]
		for i, sc := range cs {
			a, b := 2*i, 2*i+1
			if r.neox {
				a, b = i, i+half
			}
			x0, x1 := float64(head[a]), float64(head[b])
			head[a] = float32(float64(x0*sc[1]) - float64(x1*sc[0]))
			head[b] = float32(float64(x0*sc[0]) + float64(x1*sc[1]))
		}
	}
}

// Softmax replaces x by exp(x - max) / Σ exp(x - max), in place.
func Softmax(x []float32) {
	if len(x) == 0 {
		return
	}
	m := x[0]
	for _, v := range x[1:] {
		m = max(m, v)
	}
	var sum float64
	for i, v := range x {
		e := math.Exp(float64(v - m))
		x[i] = float32(e)
		sum += e
	}
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}

// SwiGLU sets dst[i] = silu(gate[i]) · up[i], the LLaMA MLP's activation,
// where silu(v) = v / (1 + e^-v). dst may alias gate or up.
func SwiGLU(dst, gate, up []float32) {
	for i, g := range gate {
		dst[i] = g / (1 + float32(math.Exp(float64(-g)))) * up[i]
	}
}

// GELUTanh applies the tanh approximation of GELU in place:
// 0.5·v·(1 + tanh(√(2/π)·(v + 0.044715·v³))), as SigLIP's MLP.
func GELUTanh(x []float32) {
	const c = 0.7978845608028654 // √(2/π)
	for i, v := range x {
		f := float64(v)
		x[i] = float32(0.5 * f * (1 + math.Tanh(c*(f+float64(0.044715*f*f*f)))))
	}
}

// Add sets dst[i] = a[i] + b[i]; dst may alias a or b.
func Add(dst, a, b []float32) {
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}
