package decoder

import (
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

// TestLinearRejectsBadShapes checks that mismatched activations, outputs
// and quantized vectors return errors naming the tensor, for the three
// kinds of weights: F32, ggml Q8_0 and the engine's formats.
func TestLinearRejectsBadShapes(t *testing.T) {
	f32 := loadModel(t, "tiny-llama-gpt2vocab-f32.gguf").Layers[0].Gate
	q80 := loadModel(t, "tiny-llama-gpt2vocab-q8_0.gguf").Layers[0].Gate
	int2 := quantizedModel(t, "int2").Layers[0].Gate
	p := kernels.NewPool(1, nil)
	defer p.Close()
	q8s := func(n, w int) []*quant.Q8 {
		qs, err := newQ8s(n, w)
		require.NoError(t, err)
		return qs
	}
	for _, l := range []*Linear{f32, q80, int2} {
		rows, cols := l.Rows(), l.Cols()
		require.ErrorContains(t, l.MulBatch(p, make([]float32, 2*cols+1), q8s(2, cols), make([]float32, 2*rows)), l.Name())
		require.ErrorContains(t, l.MulBatch(p, make([]float32, 2*cols), q8s(2, cols), make([]float32, rows)), l.Name())
		require.NoError(t, l.MulBatch(p, make([]float32, 2*cols), q8s(2, cols), make([]float32, 2*rows)))
		if !l.Quantized() {
			require.NoError(t, l.Mul(p, make([]float32, cols), make([]float32, rows), nil))
			require.NoError(t, QuantizeBatch(p, make([]float32, 3), nil, l), "F32 weights need no quantization")
			continue
		}
		require.ErrorContains(t, l.MulBatch(p, make([]float32, 2*cols), q8s(1, cols), make([]float32, 2*rows)), l.Name())
		require.ErrorContains(t, l.Mul(p, make([]float32, cols), make([]float32, rows), nil), "no space for the quantized")
		require.ErrorContains(t, l.Mul(p, make([]float32, cols), make([]float32, rows), q8s(1, cols+32)[0]), "given")
		require.ErrorContains(t, QuantizeBatch(p, make([]float32, 2*cols+1), q8s(2, cols), f32, l), "do not fill 2 quantized vectors")
		require.ErrorContains(t, QuantizeBatch(p, make([]float32, 2*cols), q8s(2, cols+32), l), "given")
	}
}
