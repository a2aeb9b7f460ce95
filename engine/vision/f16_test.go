package vision

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/x448/float16"

	"github.com/stretchr/testify/require"
)

// TestGELUF16 checks geluF16 against a float64 GELU: outside (-10, 10) it
// is 0 or the identity; inside, the output is a float16 value within half
// a float16 step (plus float32 rounding) of gelu(f16(x)).
func TestGELUF16(t *testing.T) {
	gelu := func(x float64) float64 {
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	}
	var xs []float32
	for x := float32(-12); x <= 12; x += 0.0137 {
		xs = append(xs, x)
	}
	xs = append(xs, -10, 10, 0, 1e-6, -1e-6, 65519, -1e30)
	ys := append([]float32(nil), xs...)
	geluF16(ys)
	for i, x := range xs {
		y := ys[i]
		switch {
		case x <= -10:
			require.Zero(t, y, "x=%v", x)
		case x >= 10:
			require.Equal(t, x, y)
		default:
			require.Equal(t, y, f16(y), "x=%v: the result is a float16", x)
			want := gelu(float64(f16(x)))
			step := math.Max(math.Abs(want), 6.1e-5) * math.Pow(2, -11) // half a float16 step
			require.InDelta(t, want, float64(y), step*1.01+1e-7, "x=%v", x)
		}
	}
}

// TestF16Bits compares f16Bits with float16.Fromfloat32 on every float16
// value and on the float32 values at and next to the midpoints between
// consecutive float16 values (the rounding boundaries and ties), plus
// limits and random values.
func TestF16Bits(t *testing.T) {
	check := func(v float32) {
		require.Equal(t, uint16(float16.Fromfloat32(v)), f16Bits(v), "%v (%#x)", v, math.Float32bits(v))
	}
	for b := 0; b < 1<<16; b++ {
		h := float16.Float16(b)
		v := h.Float32()
		check(v)
		if h.IsNaN() || h.IsInf(0) || b&0x7fff == 0x7bff {
			continue
		}
		next := float16.Float16(b + 1).Float32()
		mid := float32((float64(v) + float64(next)) / 2)
		check(mid)
		check(math.Nextafter32(mid, float32(math.Inf(1))))
		check(math.Nextafter32(mid, float32(math.Inf(-1))))
	}
	for _, v := range []float64{65504, 65519, 65520, 1e30, math.Inf(1), math.NaN(), 6.1e-5, 6.0e-5, 1e-8, 0} {
		check(float32(v))
		check(float32(-v))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		check(math.Float32frombits(rng.Uint32()))
	}
}
