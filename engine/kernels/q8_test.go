package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

// TestQuantizeQ8MatchesReference requires quantizeQ8 to produce exactly
// quant.QuantizeQ8Ref's codes, scales and sums, and its errors, on random
// vectors of several scales, exact ties (codes at k+0.5), zero and
// constant groups, tiny and huge magnitudes, and non-finite values.
func TestQuantizeQ8MatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	random := func(n int, scale float64) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * scale)
		}
		return x
	}
	ties := make([]float32, 64)
	for i := range ties {
		// The group maximum 127 makes d = 1, so x = k + 0.5 is an exact tie.
		ties[i] = float32(i%127-63) + 0.5
	}
	ties[0], ties[32] = 127, -127
	withAt := func(x []float32, i int, v float32) []float32 {
		x = append([]float32(nil), x...)
		x[i] = v
		return x
	}
	for name, x := range map[string][]float32{
		"normal":        random(576, 1),
		"wide":          random(1536, 30),
		"small":         random(64, 1e-20),
		"huge":          random(64, 1e30),
		"ties":          ties,
		"zeros":         make([]float32, 96),
		"constant":      withAt(make([]float32, 32), 5, -3),
		"zero group":    append(make([]float32, 32), random(32, 1)...),
		"tiny group":    append(random(32, 1e-35), random(32, 1)...),
		"subnormal":     withAt(make([]float32, 64), 40, math.Float32frombits(3)),
		"nan":           withAt(random(96, 1), 70, float32(math.NaN())),
		"inf":           withAt(random(96, 1), 3, float32(math.Inf(-1))),
		"max float":     withAt(random(32, 1), 1, math.MaxFloat32),
		"negative zero": withAt(make([]float32, 32), 0, float32(math.Copysign(0, -1))),
	} {
		want, err := quant.NewQ8(len(x))
		require.NoError(t, err)
		got, err := quant.NewQ8(len(x))
		require.NoError(t, err)
		wantErr := quant.QuantizeQ8Ref(x, want)
		gotErr := quantizeQ8Fast(x, got)
		if wantErr != nil {
			require.EqualError(t, gotErr, wantErr.Error(), name)
			continue
		}
		require.NoError(t, gotErr, name)
		require.Equal(t, want.Qs, got.Qs, name)
		require.Equal(t, want.D, got.D, name)
		require.Equal(t, want.S, got.S, name)
	}
	q, err := quant.NewQ8(32)
	require.NoError(t, err)
	require.ErrorContains(t, quantizeQ8Fast(make([]float32, 31), q), "given 31 values")
}

func BenchmarkQuantizeQ8(b *testing.B) {
	// 64 different vectors, so that branch predictors cannot learn one.
	const n, vectors = 1536, 64
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, n*vectors)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	q, err := quant.NewQ8(n)
	require.NoError(b, err)
	for _, c := range []struct {
		name string
		fn   func([]float32, *quant.Q8) error
	}{{"ref", quant.QuantizeQ8Ref}, {"fast", quantizeQ8Fast}} {
		b.Run(c.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				_ = c.fn(x[i*n:(i+1)*n], q)
				i = (i + 1) % vectors
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/value")
		})
	}
}
