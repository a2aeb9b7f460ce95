package vision

import (
	"math"
	"testing"

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
