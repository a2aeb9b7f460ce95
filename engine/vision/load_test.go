package vision

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/tokenizer"
	"github.com/stretchr/testify/require"
)

// rewriteMMProj copies the tiny mmproj through gguf.Writer; editKV may
// change an entry or drop it (return false), editTensor may change a
// tensor's dims, type and data or drop it (return false).
func rewriteMMProj(t *testing.T, editKV func(*gguf.KV) bool, editTensor func(*gguf.TensorInfo, *[]byte) bool) *gguf.File {
	t.Helper()
	src := openGGUF(t, "tiny-smolvlm-mmproj-f32.gguf")
	w := gguf.NewWriter()
	for _, kv := range src.Metadata() {
		if editKV == nil || editKV(&kv) {
			require.NoError(t, w.Add(kv.Key, kv.Value))
		}
	}
	for _, ti := range src.Tensors() {
		data, err := src.TensorData(ti.Name)
		require.NoError(t, err)
		if editTensor == nil || editTensor(&ti, &data) {
			require.NoError(t, w.AddTensor(ti.Name, ti.Dims, ti.Type, data))
		}
	}
	var buf bytes.Buffer
	_, err := w.WriteTo(&buf)
	require.NoError(t, err)
	f, err := gguf.Parse("edited.gguf", buf.Bytes())
	require.NoError(t, err)
	return f
}

func setKV(key string, v any) func(*gguf.KV) bool {
	return func(kv *gguf.KV) bool {
		if kv.Key == key {
			val, err := gguf.NewValue(v)
			if err != nil {
				panic(err)
			}
			kv.Value = val
		}
		return true
	}
}

func dropKV(key string) func(*gguf.KV) bool { return func(kv *gguf.KV) bool { return kv.Key != key } }

// TestLoadErrors: each broken file fails with an error naming the key or
// tensor at fault.
func TestLoadErrors(t *testing.T) {
	dropTensor := func(name string) func(*gguf.TensorInfo, *[]byte) bool {
		return func(ti *gguf.TensorInfo, _ *[]byte) bool { return ti.Name != name }
	}
	for _, c := range []struct {
		name   string
		kv     func(*gguf.KV) bool
		tensor func(*gguf.TensorInfo, *[]byte) bool
		want   string
	}{
		{"text model", setKV("general.architecture", "llama"), nil, "general.architecture"},
		{"other projector", setKV("clip.projector_type", "mlp"), nil, `clip.projector_type "mlp" is not supported`},
		{"no projector type", dropKV("clip.projector_type"), nil, "clip.projector_type"},
		{"no vision encoder", setKV("clip.has_vision_encoder", false), nil, "clip.has_vision_encoder"},
		{"not gelu", setKV("clip.use_gelu", false), nil, "clip.use_gelu"},
		{"no image size", dropKV("clip.vision.image_size"), nil, "clip.vision.image_size"},
		{"image size of wrong type", setKV("clip.vision.image_size", int32(64)), nil, "clip.vision.image_size"},
		{"no eps", dropKV("clip.vision.attention.layer_norm_epsilon"), nil, "layer_norm_epsilon"},
		{"short mean", setKV("clip.vision.image_mean", []float32{0.5, 0.5}), nil, "clip.vision.image_mean"},
		{"zero std", setKV("clip.vision.image_std", []float32{0.5, 0, 0.5}), nil, "image_std[1]"},
		{"scale factor", setKV("clip.vision.projector.scale_factor", uint32(3)), nil, "scale_factor 3"},
		{"patch size", setKV("clip.vision.patch_size", uint32(7)), nil, "patch_size 7"},
		{"heads", setKV("clip.vision.attention.head_count", uint32(3)), nil, "head_count 3"},
		{"huge image size", setKV("clip.vision.image_size", uint32(1<<31)), nil, "image_size 2147483648"},
		{"huge longest edge", setKV("clip.vision.preproc_image_size", uint32(1<<30)), nil, "preproc_image_size"},
		{"missing block tensor", nil, dropTensor("v.blk.1.attn_q.weight"), "v.blk.1.attn_q.weight: missing"},
		{"missing projector", nil, dropTensor("mm.model.fc.weight"), "mm.model.fc.weight"},
		{"missing bias", nil, dropTensor("v.blk.0.ffn_up.bias"), "v.blk.0.ffn_up.bias"},
		{"mis-shaped tensor", nil, func(ti *gguf.TensorInfo, _ *[]byte) bool {
			if ti.Name == "v.blk.0.attn_k.weight" {
				ti.Dims = []uint64{64, 16}
			}
			return true
		}, "v.blk.0.attn_k.weight: dims [64 16], want [32 32]"},
		{"unsupported type", nil, func(ti *gguf.TensorInfo, data *[]byte) bool {
			if ti.Name == "v.post_ln.weight" {
				ti.Type, *data = gguf.Type(quant.GGMLType(6)), make([]byte, 22) // q5_0: one block of 32
			}
			return true
		}, "v.post_ln.weight"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(rewriteMMProj(t, c.kv, c.tensor))
			require.ErrorContains(t, err, c.want)
			require.ErrorContains(t, err, "edited.gguf")
		})
	}
}

// TestLoadF16: an mmproj with F16 matrices loads (decoded to F32) and
// encodes like the F32 file whose values it rounds: the patch weights are
// rounded to F16 by llama.cpp's convolution anyway, the other matrices
// differ by float16 rounding only.
func TestLoadF16(t *testing.T) {
	f := rewriteMMProj(t, nil, func(ti *gguf.TensorInfo, data *[]byte) bool {
		if len(ti.Dims) >= 2 {
			v := make([]float32, len(*data)/4)
			quant.DecodeF32(*data, v)
			b := make([]byte, 2*len(v))
			quant.EncodeF16(v, b)
			ti.Type, *data = gguf.TypeF16, b
		}
		return true
	})
	e16, err := Load(f)
	require.NoError(t, err)
	e32 := loadGoldenEncoder(t)
	require.Equal(t, e32.patch.Data, e16.patch.Data, "patch weights: F16 either way")
	p := kernels.NewPool(1, nil)
	defer p.Close()
	b := goldenBatch(t, e32)
	want, err := e32.Encode(context.Background(), p, b)
	require.NoError(t, err)
	got, err := e16.Encode(context.Background(), p, b)
	require.NoError(t, err)
	for i := range want {
		d := maxAbsDiff(want[i], got[i])
		require.Less(t, d, 2e-2, "image %d", i)
		require.Greater(t, d, 0.0, "image %d: the F16 weights are used", i)
	}
}

func TestEncodeErrors(t *testing.T) {
	e := loadGoldenEncoder(t)
	p := kernels.NewPool(1, nil)
	defer p.Close()
	b := goldenBatch(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.Encode(ctx, p, b)
	require.ErrorIs(t, err, context.Canceled)
	_, err = e.Encode(context.Background(), p, &Batch{})
	require.Error(t, err)
	_, err = e.Encode(context.Background(), p, &Batch{Size: 32, Images: [][]float32{make([]float32, 3*32*32)}})
	require.ErrorContains(t, err, "3×64×64")
}

// TestNewTemplateMissingTokens: a vocabulary without the idefics3 tokens
// cannot lay out images.
func TestNewTemplateMissingTokens(t *testing.T) {
	cfg, err := tokenizer.ConfigFromGGUF(filepath.Join("..", "..", "testdata", "llamacpp", "vocab", "ggml-vocab-gpt-2.gguf"))
	require.NoError(t, err)
	tok, err := tokenizer.New(cfg)
	require.NoError(t, err)
	_, err = NewTemplate(tok)
	require.ErrorContains(t, err, "<fake_token_around_image>")
}
