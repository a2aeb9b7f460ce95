package vision

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

// goldenDir holds llama.cpp's outputs for the tiny SmolVLM-style pair (see
// its README, section "Vision case").
var goldenDir = filepath.Join("..", "..", "testdata", "llamacpp", "vision")

// readGolden reads a little-endian float32 file of the golden directory.
func readGolden(t *testing.T, name string) []float32 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(goldenDir, name))
	require.NoError(t, err)
	require.Zero(t, len(b)%4, name)
	out := make([]float32, len(b)/4)
	quant.DecodeF32(b, out)
	return out
}

// openGGUF opens a GGUF file of the golden directory for the test.
func openGGUF(t *testing.T, name string) *gguf.File {
	t.Helper()
	f, err := gguf.Open(filepath.Join(goldenDir, name))
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

// loadGoldenEncoder loads the tiny idefics3 mmproj.
func loadGoldenEncoder(t *testing.T) *Encoder {
	t.Helper()
	e, err := Load(openGGUF(t, "tiny-smolvlm-mmproj-f32.gguf"))
	require.NoError(t, err)
	return e
}

// goldenBatch decodes and preprocesses the golden PNG.
func goldenBatch(t *testing.T, e *Encoder) *Batch {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(goldenDir, "image-192x128.png"))
	require.NoError(t, err)
	img, err := DecodeImage(data, 0)
	require.NoError(t, err)
	b, err := e.Preprocess(img)
	require.NoError(t, err)
	return b
}

// maxAbsDiff returns max |a[i] - b[i]|.
func maxAbsDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}
