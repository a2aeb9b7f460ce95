package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRMSNorm(t *testing.T) {
	x := []float32{1, 2, 3, 4}
	w := []float32{1, 1, 2, 0.5}
	dst := make([]float32, 4)
	RMSNorm(dst, x, w, 0)
	rms := math.Sqrt((1 + 4 + 9 + 16) / 4.0) // √7.5
	for i := range x {
		require.InDelta(t, float64(x[i])/rms*float64(w[i]), dst[i], 1e-6)
	}
	RMSNorm(x, x, w, 1e-5) // aliasing
	require.InDelta(t, 1/math.Sqrt(7.5+1e-5), x[0], 1e-6)
}

func TestLayerNorm(t *testing.T) {
	x := []float32{1, 2, 3, 6}
	dst := make([]float32, 4)
	LayerNorm(dst, x, []float32{1, 1, 1, 2}, []float32{0, 0, 0, 1}, 0)
	// mean 3, variance (4+1+0+9)/4 = 3.5
	sd := math.Sqrt(3.5)
	require.InDelta(t, -2/sd, dst[0], 1e-6)
	require.InDelta(t, 0, dst[2], 1e-6)
	require.InDelta(t, 2*3/sd+1, dst[3], 1e-6)
	LayerNorm(dst, x, []float32{1, 1, 1, 1}, nil, 0)
	require.InDelta(t, 3/sd, dst[3], 1e-6)
}

// TestLayerNormRoundsBeforeBias: the bias is added to the rounded product
// (llama.cpp's norm, mul and add are separate float32 ops), so LayerNorm with
// a bias is, bit for bit, LayerNorm without one plus the bias, on every
// architecture (an FMA, which Go emits on arm64 unless told not to, would
// skip that rounding).
func TestLayerNormRoundsBeforeBias(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 256
	x, w, b := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range n {
		x[i], w[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	got, want := make([]float32, n), make([]float32, n)
	LayerNorm(got, x, w, b, 1e-6)
	LayerNorm(want, x, w, nil, 1e-6)
	for i := range want {
		want[i] += b[i]
	}
	require.Equal(t, want, got)
}

func TestRopeRotatesPairs(t *testing.T) {
	r, err := NewRope(4, 4, 10000, false)
	require.NoError(t, err)
	x := []float32{1, 0, 1, 0, 0, 1, 0, 1} // two heads
	r.Apply(x, 3)
	// pair 0 rotates by 3 rad, pair 1 by 3·10000^(-1/2) = 0.03 rad.
	require.InDelta(t, math.Cos(3), x[0], 1e-6)
	require.InDelta(t, math.Sin(3), x[1], 1e-6)
	require.InDelta(t, math.Cos(0.03), x[2], 1e-6)
	require.InDelta(t, math.Sin(0.03), x[3], 1e-6)
	require.InDelta(t, -math.Sin(3), x[4], 1e-6)
	require.InDelta(t, math.Cos(3), x[5], 1e-6)

	neox, _ := NewRope(4, 4, 10000, true)
	y := []float32{1, 1, 0, 0}
	neox.Apply(y, 3) // pairs (0,2) and (1,3)
	require.InDelta(t, math.Cos(3), y[0], 1e-6)
	require.InDelta(t, math.Sin(3), y[2], 1e-6)
	require.InDelta(t, math.Sin(0.03), y[3], 1e-6)

	partial, _ := NewRope(4, 2, 10000, false)
	z := []float32{1, 0, 5, 6}
	partial.Apply(z, 1)
	require.Equal(t, []float32{5, 6}, z[2:], "dimensions past the rope dimension are untouched")
	require.InDelta(t, 1, math.Hypot(float64(z[0]), float64(z[1])), 1e-6)
}

func TestRopeRejectsBadConfig(t *testing.T) {
	for _, c := range []struct{ head, dims int }{{4, 0}, {4, 3}, {4, 6}} {
		_, err := NewRope(c.head, c.dims, 10000, false)
		require.Error(t, err, "%+v", c)
	}
	_, err := NewRope(4, 4, 0, false)
	require.Error(t, err)
}

func TestSoftmax(t *testing.T) {
	x := []float32{1, 2, 3, 1000}
	Softmax(x)
	require.InDelta(t, 1, x[3], 1e-6)
	y := []float32{0, float32(math.Log(3))}
	Softmax(y)
	require.InDelta(t, 0.25, y[0], 1e-6)
	require.InDelta(t, 0.75, y[1], 1e-6)
	Softmax(nil)
}

func TestActivations(t *testing.T) {
	dst := make([]float32, 2)
	SwiGLU(dst, []float32{0, 2}, []float32{5, 3})
	require.InDelta(t, 0, dst[0], 1e-7)
	require.InDelta(t, 2/(1+math.Exp(-2))*3, dst[1], 1e-6)
	g := []float32{0, 1, -1, 10}
	GELUTanh(g)
	require.InDelta(t, 0, g[0], 1e-7)
	require.InDelta(t, 0.8411920, g[1], 1e-6) // 0.5·(1+tanh(0.7978846·1.044715))
	require.InDelta(t, -0.1588080, g[2], 1e-6)
	require.InDelta(t, 10, g[3], 1e-5)
	a := []float32{1, 2}
	Add(a, a, []float32{3, 4})
	require.Equal(t, []float32{4, 6}, a)
}
