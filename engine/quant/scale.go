package quant

import (
	"fmt"
	"math"
)

// ScaleCode is a group scale stored in one byte as an unsigned E5M3 float:
// bits 7..3 are a biased exponent e, bits 2..0 a mantissa f, and the value is
//
//	2^(e-24) · (1 + f/8)
//
// which covers 2^-24 (code 0) to 240 (code 255) with a relative step of at
// most 12.5%. Its float32 bit pattern is code<<20 + scaleBias<<23, so SIMD
// kernels decode 16 scales with one shift and one add.
type ScaleCode uint8

// scaleBias places code 0 at 2^-24.
const scaleBias = 127 - 24

// MinScale and MaxScale are the smallest and largest representable scales.
var (
	MinScale = ScaleCode(0).Float()
	MaxScale = ScaleCode(255).Float()
)

// Float returns the scale's value.
func (c ScaleCode) Float() float32 {
	return math.Float32frombits(uint32(c)<<20 + scaleBias<<23)
}

// ScaleCodeFloor returns the largest code whose value is <= d, clamped to code 0.
// It is the starting point of a scale search; d must be finite and >= 0.
func ScaleCodeFloor(d float32) ScaleCode {
	if d <= MinScale {
		return 0
	}
	if d >= MaxScale {
		return 255
	}
	return ScaleCode((math.Float32bits(d) - scaleBias<<23) >> 20)
}

// NearestScaleCode returns the code whose value is nearest to d, or an error
// if d is not finite, negative, or above MaxScale by more than half a step.
func NearestScaleCode(d float32) (ScaleCode, error) {
	if math.IsNaN(float64(d)) || math.IsInf(float64(d), 0) || d < 0 {
		return 0, fmt.Errorf("quant: scale %g is not a finite non-negative number", d)
	}
	if d > MaxScale*(1+1.0/32) {
		return 0, fmt.Errorf("quant: scale %g exceeds the largest group scale %g", d, MaxScale)
	}
	c := ScaleCodeFloor(d)
	if c < 255 && d-c.Float() > (c+1).Float()-d {
		c++
	}
	return c, nil
}
