package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestExpF32 compares expF32 with math.Exp over [-87, 0] (within 2 ulp)
// and checks its limits.
func TestExpF32(t *testing.T) {
	for i := 0; i <= 1<<20; i++ {
		x := float32(-87 * float64(i) / (1 << 20))
		want := math.Exp(float64(x))
		ulp := float64(math.Nextafter32(float32(want), 1) - float32(want))
		require.InDelta(t, want, float64(expF32(x)), 2*ulp, "exp(%v)", x)
	}
	require.Equal(t, float32(1), expF32(0))
	require.Equal(t, float32(1), expF32(float32(math.Copysign(0, -1))))
	require.Zero(t, expF32(-87.5))
	require.Zero(t, expF32(float32(math.Inf(-1))))
	require.True(t, math.IsNaN(float64(expF32(float32(math.NaN())))))
}

// softmaxRef is softmax(scale·x) in float64 from the float32 differences
// scale·x_i - max that the specification rounds.
func softmaxRef(x []float32, scale float32) []float64 {
	m := float32(math.Inf(-1))
	for _, a := range x {
		m = max(m, a*scale)
	}
	v := make([]float64, len(x))
	var sum float64
	for i, a := range x {
		v[i] = math.Exp(float64(a*scale - m))
		sum += v[i]
	}
	for i := range v {
		v[i] /= sum
	}
	return v
}

// TestSoftmaxF32AllImpls: every Impl gives softmaxGeneric's bits, on
// lengths around the SIMD widths, and softmaxGeneric is within 6·2^-24
// (relative: expF32's 2 ulp, the roundings of 1/sum and of the product) of
// a float64 softmax of the same float32 differences.
func TestSoftmaxF32AllImpls(t *testing.T) {
	supportedImpls(t, func(t *testing.T, im *Impl) {
		rng := rand.New(rand.NewPCG(51, 52))
		p := NewPool(1, im)
		defer p.Close()
		for _, n := range []int{1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 1024, 1031} {
			for _, spread := range []float32{0.01, 3, 40} {
				x := make([]float32, n)
				for i := range x {
					x[i] = (rng.Float32()*2 - 1) * spread
				}
				scale := float32(0.125)
				want := append([]float32(nil), x...)
				softmaxGeneric(want, scale)
				got := append([]float32(nil), x...)
				p.SoftmaxF32(got, scale)
				msg := fmt.Sprintf("n %d spread %v", n, spread)
				require.Equal(t, want, got, msg)
				for i, r := range softmaxRef(x, scale) {
					require.InDelta(t, r, float64(want[i]), 6*0x1p-24*r+1e-37, "%s: value %d", msg, i)
				}
			}
		}
	})
}

// TestSoftmaxF32Limits: values far below the maximum give 0, equal values
// give equal weights, and a NaN or +Inf anywhere gives NaN everywhere.
func TestSoftmaxF32Limits(t *testing.T) {
	supportedImpls(t, func(t *testing.T, im *Impl) {
		p := NewPool(1, im)
		defer p.Close()
		x := []float32{0, -1e30, 0, float32(math.Inf(-1)), 0}
		p.SoftmaxF32(x, 1)
		third := float32(1 / (float64(1) + 1 + 1))
		require.Equal(t, []float32{third, 0, third, 0, third}, x)
		one := []float32{-5}
		p.SoftmaxF32(one, 3)
		require.Equal(t, []float32{1}, one)
		p.SoftmaxF32(nil, 1)
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
			for _, n := range []int{3, 17, 40} {
				x := make([]float32, n)
				x[n/2] = bad
				p.SoftmaxF32(x, 1)
				for i, v := range x {
					require.True(t, math.IsNaN(float64(v)), "%v at %d of %d: value %d is %v", bad, n/2, n, i, v)
				}
			}
		}
	})
}
