package vision

import (
	"math"

	"github.com/x448/float16"
)

// f16 rounds v to the nearest float16 (ties to even) and back, as ggml's
// CPU conversions do.
func f16(v float32) float32 { return float16.Fromfloat32(v).Float32() }

// roundF16 rounds every value of x to float16 in place.
func roundF16(x []float32) {
	for i, v := range x {
		x[i] = f16(v)
	}
}

// geluF16 applies GELU (tanh form) in place as ggml's CPU backend does with
// its float16 table: x ≤ -10 gives 0, x ≥ 10 gives x, and otherwise the
// result is f16(gelu(f16(x))), gelu evaluated in float32 as ggml writes it:
// 0.5·x·(1 + tanh(√(2/π)·x·(1 + 0.044715·x²))).
func geluF16(x []float32) {
	const (
		sqrt2OverPi = float32(0.79788456080286535587989211986876)
		coefA       = float32(0.044715)
	)
	for i, v := range x {
		switch {
		case v <= -10:
			x[i] = 0
		case v >= 10:
		default:
			h := f16(v)
			inner := float32(float32(sqrt2OverPi*h) * float32(1+float32(float32(coefA*h)*h)))
			t := float32(math.Tanh(float64(inner)))
			x[i] = f16(float32(float32(0.5*h) * float32(1+t)))
		}
	}
}
