package vision

import (
	"math"
	"sync"

	"github.com/x448/float16"
)

// f16 rounds v to the nearest float16 (ties to even) and back, as ggml's
// CPU conversions do.
func f16(v float32) float32 { return float16.Float16(f16Bits(v)).Float32() }

// roundF16 rounds every value of x to float16 in place.
func roundF16(x []float32) {
	for i, v := range x {
		x[i] = f16(v)
	}
}

// geluF16 applies GELU (tanh form) in place as ggml's CPU backend does with
// its float16 table: x ≤ -10 gives 0, x ≥ 10 gives x, and otherwise the
// result is f16(gelu(f16(x))), looked up in geluTable.
func geluF16(x []float32) {
	tab := geluTable()
	for i, v := range x {
		switch {
		case v <= -10:
			x[i] = 0
		case v >= 10:
		default:
			x[i] = tab[f16Bits(v)]
		}
	}
}

// f16Bits returns the bits of v rounded to the nearest float16 (ties to
// even), as float16.Fromfloat32 does, with a short path for the values
// whose float16 is normal and finite: the exponent is rebased and the
// mantissa rounded with one add (a carry into the exponent is the correct
// result). Others (tiny, huge, Inf, NaN) take float16.Fromfloat32.
func f16Bits(v float32) uint16 {
	u := math.Float32bits(v)
	a := u & 0x7fffffff
	if a < 113<<23 || a >= 143<<23 { // |v| < 2^-14 or ≥ 2^16
		return uint16(float16.Fromfloat32(v))
	}
	a -= 112 << 23 // float32 exponent bias 127 to float16's 15
	a += 0xfff + (a>>13)&1
	return uint16(u>>16&0x8000 | a>>13)
}

// geluTable returns, for every float16 h (by its bits), f16(gelu(h)) with
// gelu evaluated in float32 as ggml writes it:
// 0.5·h·(1 + tanh(√(2/π)·h·(1 + 0.044715·h²))). It is built on first use
// and read-only afterwards.
var geluTable = sync.OnceValue(func() *[1 << 16]float32 {
	const (
		sqrt2OverPi = float32(0.79788456080286535587989211986876)
		coefA       = float32(0.044715)
	)
	var tab [1 << 16]float32
	for b := range tab {
		h := float16.Float16(b).Float32()
		inner := float32(float32(sqrt2OverPi*h) * float32(1+float32(float32(coefA*h)*h)))
		t := float32(math.Tanh(float64(inner)))
		tab[b] = f16(float32(float32(0.5*h) * float32(1+t)))
	}
	return &tab
})
