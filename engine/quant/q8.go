package quant

import (
	"fmt"
	"math"
)

// Q8 is a vector of N activations quantized to int8 in groups of GroupSize:
//
//	x[i] ≈ D[g] · Qs[i]        for i in group g
//	S[g] = D[g] · Σ Qs[group g] (the group's dequantized sum)
//
// S lets a kernel apply a weight group's offset with one multiply: the
// product of an offset o with the group's activations is o·S[g].
// The slices are allocated once (NewQ8) and reused across calls.
type Q8 struct {
	N  int
	Qs []int8
	D  []float32
	S  []float32
}

// NewQ8 allocates a Q8 vector for n activations (n a multiple of GroupSize).
func NewQ8(n int) (*Q8, error) {
	if n <= 0 || n%GroupSize != 0 {
		return nil, fmt.Errorf("quant: activation length %d is not a positive multiple of %d", n, GroupSize)
	}
	return &Q8{N: n, Qs: make([]int8, n), D: make([]float32, n/GroupSize), S: make([]float32, n/GroupSize)}, nil
}

// QuantizeQ8Ref quantizes x into q (len(x) == q.N): per group, d = max|x|/127
// and each code is x/d rounded half away from zero, as ggml's Q8_0.
// It returns an error if x holds a NaN or an infinity.
func QuantizeQ8Ref(x []float32, q *Q8) error {
	if len(x) != q.N {
		return fmt.Errorf("quant: Q8 of %d activations given %d values", q.N, len(x))
	}
	for g := 0; g < q.N/GroupSize; g++ {
		xs := x[g*GroupSize : (g+1)*GroupSize]
		var amax float32
		for i, v := range xs {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("quant: activation %d is %v", g*GroupSize+i, v)
			}
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		d := amax / 127
		var inv float32
		if d != 0 {
			inv = 1 / d
		}
		var sum int32
		for i, v := range xs {
			c := int8(math.Round(float64(v * inv)))
			q.Qs[g*GroupSize+i] = c
			sum += int32(c)
		}
		q.D[g] = d
		q.S[g] = d * float32(sum)
	}
	return nil
}

// DotRef returns the dot product of a grouped weight row with quantized
// activations, computed group by group as
//
//	Σ_g d_g · (D[g] · Σ_i q_i·Qs_i + o_g · S[g])
//
// with the integer sums exact and the group terms added in float32 in group
// order. It is the specification every kernel is tested against.
func DotRef(r Row, x *Q8) float32 {
	var acc float32
	for g := 0; g < r.Groups(); g++ {
		var isum int32
		for j := 0; j < GroupSize; j++ {
			i := g*GroupSize + j
			isum += int32(r.Code(i)) * int32(x.Qs[i])
		}
		d, o := r.GroupScale(g)
		acc += d * (x.D[g]*float32(isum) + o*x.S[g])
	}
	return acc
}
