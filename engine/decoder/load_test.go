package decoder

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/stretchr/testify/require"
)

// rewrite copies the tiny F32 model through gguf.Writer, letting edit
// change or drop metadata (return false to drop) and tensors.
func rewrite(t *testing.T, editKV func(*gguf.KV) bool, dropTensor string) *gguf.File {
	t.Helper()
	src, err := gguf.Open(filepath.Join(testdata, "tiny-llama-gpt2vocab-f32.gguf"))
	require.NoError(t, err)
	defer src.Close()
	w := gguf.NewWriter()
	for _, kv := range src.Metadata() {
		if editKV != nil && !editKV(&kv) {
			continue
		}
		require.NoError(t, w.Add(kv.Key, kv.Value))
	}
	for _, ti := range src.Tensors() {
		if ti.Name == dropTensor {
			continue
		}
		data, err := src.TensorData(ti.Name)
		require.NoError(t, err)
		require.NoError(t, w.AddTensor(ti.Name, ti.Dims, ti.Type, data))
	}
	var buf bytes.Buffer
	_, err = w.WriteTo(&buf)
	require.NoError(t, err)
	f, err := gguf.Parse("edited.gguf", buf.Bytes())
	require.NoError(t, err)
	return f
}

func TestLoadRejectsBadFiles(t *testing.T) {
	f := rewrite(t, nil, "blk.1.ffn_up.weight")
	_, err := Load(f)
	require.ErrorContains(t, err, "blk.1.ffn_up.weight")
	require.ErrorContains(t, err, "missing")

	f = rewrite(t, func(kv *gguf.KV) bool {
		if kv.Key == "general.architecture" {
			v, _ := gguf.NewValue("mamba")
			kv.Value = v
		}
		return true
	}, "")
	_, err = Load(f)
	require.ErrorContains(t, err, `"mamba" is not supported`)

	f = rewrite(t, func(kv *gguf.KV) bool { return kv.Key != "llama.block_count" }, "")
	_, err = Load(f)
	require.ErrorContains(t, err, "llama.block_count")

	f = rewrite(t, func(kv *gguf.KV) bool {
		if kv.Key == "llama.attention.head_count_kv" {
			v, _ := gguf.NewValue(uint32(3))
			kv.Value = v
		}
		return true
	}, "")
	_, err = Load(f)
	require.ErrorContains(t, err, "multiple of the key/value head count")
}

func TestStateBounds(t *testing.T) {
	m := loadModel(t, "tiny-llama-gpt2vocab-f32.gguf")
	p := kernels.NewPool(1, nil)
	defer p.Close()
	s, err := m.NewState(2)
	require.NoError(t, err)
	ctx := context.Background()
	require.ErrorContains(t, s.DecodeToken(ctx, p, m.Vocab, false), "out of range")
	require.ErrorContains(t, s.DecodeEmbedding(ctx, p, make([]float32, 3), false), "model dimension")
	require.NoError(t, s.DecodeToken(ctx, p, 1, false))
	require.NoError(t, s.DecodeEmbedding(ctx, p, make([]float32, m.Dim), true))
	require.ErrorContains(t, s.DecodeToken(ctx, p, 1, false), "context full")
	s.Reset()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, s.DecodeToken(cancelled, p, 1, false), context.Canceled)
}
