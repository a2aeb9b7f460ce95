package quant_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

// tensorBytes returns the raw bytes, ggml type and element count of a tensor.
func tensorBytes(t *testing.T, path, name string) ([]byte, quant.GGMLType, int) {
	t.Helper()
	f, err := gguf.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	info, ok := f.Tensor(name)
	require.True(t, ok, "%s: tensor %s", path, name)
	data, err := f.TensorData(name)
	require.NoError(t, err)
	return data, quant.GGMLType(info.Type), int(info.Elements())
}

// llama-quantize made the Q8_0 file from the F32 one with ggml's reference
// Q8_0 quantizer, so QuantizeQ8_0Ref must reproduce its bytes exactly.
func TestQuantizeQ8_0RefMatchesLlamaQuantize(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "llamacpp")
	for _, name := range []string{"blk.0.attn_q.weight", "blk.1.ffn_down.weight", "token_embd.weight"} {
		rawF32, typF32, n := tensorBytes(t, filepath.Join(dir, "tiny-llama-gpt2vocab-f32.gguf"), name)
		rawQ8, typQ8, nQ8 := tensorBytes(t, filepath.Join(dir, "tiny-llama-gpt2vocab-q8_0.gguf"), name)
		require.Equal(t, quant.GGMLF32, typF32, name)
		require.Equal(t, quant.GGMLQ8_0, typQ8, name)
		require.Equal(t, n, nQ8, name)

		x := make([]float32, n)
		require.NoError(t, quant.DequantizeGGML(quant.GGMLF32, rawF32, x))
		ours := make([]byte, len(rawQ8))
		require.NoError(t, quant.QuantizeQ8_0Ref(x, ours), name)
		for i := range rawQ8 {
			if rawQ8[i] != ours[i] {
				blk := i / quant.BlockQ8_0Size
				require.Failf(t, "quantized bytes differ from llama-quantize's", "%s: block %d byte %d", name, blk, i%quant.BlockQ8_0Size)
			}
		}
		theirs := make([]float32, n)
		require.NoError(t, quant.DequantizeGGML(quant.GGMLQ8_0, rawQ8, theirs))
		for i, v := range x { // within d/2 plus the f16 rounding of d
			var amax float64
			for _, w := range x[i/quant.QK8_0*quant.QK8_0 : (i/quant.QK8_0+1)*quant.QK8_0] {
				amax = math.Max(amax, math.Abs(float64(w)))
			}
			d := amax / 127
			require.LessOrEqual(t, math.Abs(float64(v-theirs[i])), 0.57*d, "%s element %d", name, i)
		}
	}
}
