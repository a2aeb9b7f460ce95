package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

// randomMatrix fills a rows×cols matrix of format f with random codes,
// scale codes around 2^-6 and random offsets, so every bit of the layout
// is exercised without depending on a quantizer.
func randomMatrix(t testing.TB, rng *rand.Rand, f quant.Format, rows, cols int) *Matrix {
	rb, err := f.RowBytes(cols)
	require.NoError(t, err)
	data := make([]byte, rows*rb)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for r := 0; r < rows; r++ {
		row := quant.Row{Format: f, N: cols, Data: data[r*rb : (r+1)*rb]}
		sc := row.Scales()
		for g := range sc {
			sc[g] = byte(80 + rng.IntN(64)) // about 2^-14 .. 2^-6
		}
	}
	m, err := NewMatrix("test", f, rows, cols, data)
	require.NoError(t, err)
	return m
}

// extremeMatrix sets every code to its largest value, every scale to the
// largest code and every offset to the most negative one.
func extremeMatrix(t testing.TB, f quant.Format, rows, cols int) *Matrix {
	rb, err := f.RowBytes(cols)
	require.NoError(t, err)
	data := make([]byte, rows*rb)
	for i := range data {
		data[i] = 0xff
	}
	for r := 0; r < rows; r++ {
		row := quant.Row{Format: f, N: cols, Data: data[r*rb : (r+1)*rb]}
		for g := range row.Offsets() {
			row.Offsets()[g] = 0x80
		}
	}
	m, err := NewMatrix("extreme", f, rows, cols, data)
	require.NoError(t, err)
	return m
}

// randomQ8 returns quantized activations of random floats in [-scale, scale].
func randomQ8(t testing.TB, rng *rand.Rand, n int, scale float32) *quant.Q8 {
	x := make([]float32, n)
	for i := range x {
		x[i] = (rng.Float32()*2 - 1) * scale
	}
	q, err := quant.NewQ8(n)
	require.NoError(t, err)
	require.NoError(t, quant.QuantizeQ8Ref(x, q))
	return q
}

// extremeQ8 returns activations whose codes are all +127 or alternate ±127.
func extremeQ8(t testing.TB, n int, alternate bool) *quant.Q8 {
	x := make([]float32, n)
	for i := range x {
		x[i] = 1000
		if alternate && i%2 == 1 {
			x[i] = -1000
		}
	}
	q, err := quant.NewQ8(n)
	require.NoError(t, err)
	require.NoError(t, quant.QuantizeQ8Ref(x, q))
	return q
}

// supportedImpls runs fn as a subtest for every Impl this CPU supports.
func supportedImpls(t *testing.T, fn func(t *testing.T, im *Impl)) {
	for _, im := range Impls() {
		t.Run(im.Name, func(t *testing.T) {
			if !im.Supported {
				t.Skipf("%s kernels: this CPU lacks the instructions", im.Name)
			}
			fn(t, im)
		})
	}
}
