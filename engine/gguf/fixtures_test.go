package gguf

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// fixture returns the path of a file under testdata/llamacpp.
func fixture(rel string) string {
	return filepath.Join("..", "..", "testdata", "llamacpp", filepath.FromSlash(rel))
}

// allFixtures lists every GGUF under testdata/llamacpp.
var allFixtures = []string{
	"tiny-llama-gpt2vocab-f32.gguf",
	"tiny-llama-gpt2vocab-q8_0.gguf",
	"vision/tiny-smolvlm-text-f32.gguf",
	"vision/tiny-smolvlm-mmproj-f32.gguf",
	"vocab/ggml-vocab-gpt-2.gguf",
	"vocab/ggml-vocab-starcoder.gguf",
}

func openFixture(t *testing.T, rel string) *File {
	t.Helper()
	f, err := Open(fixture(rel))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, f.Close()) })
	return f
}

// llamaTensorDims lists the tiny llama models' tensors as the fixture README
// gives them, for embedding width e, FFN width ff, KV width kv and vocab v.
func llamaTensorDims(e, ff, kv, v uint64) map[string][]uint64 {
	m := map[string][]uint64{"token_embd.weight": {e, v}, "output_norm.weight": {e}}
	for _, b := range []string{"blk.0.", "blk.1."} {
		m[b+"attn_norm.weight"] = []uint64{e}
		m[b+"attn_q.weight"] = []uint64{e, e}
		m[b+"attn_k.weight"] = []uint64{e, kv}
		m[b+"attn_v.weight"] = []uint64{e, kv}
		m[b+"attn_output.weight"] = []uint64{e, e}
		m[b+"ffn_norm.weight"] = []uint64{e}
		m[b+"ffn_gate.weight"] = []uint64{e, ff}
		m[b+"ffn_up.weight"] = []uint64{e, ff}
		m[b+"ffn_down.weight"] = []uint64{ff, e}
	}
	return m
}

func TestTinyLlamaFixtures(t *testing.T) {
	for _, tc := range []struct {
		file     string
		fileType uint32
		matrix   Type // type of the 2-D tensors
	}{
		{"tiny-llama-gpt2vocab-f32.gguf", 0, TypeF32},
		{"tiny-llama-gpt2vocab-q8_0.gguf", 7, TypeQ8_0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f := openFixture(t, tc.file)
			require.EqualValues(t, 3, f.Version())
			require.Equal(t, DefaultAlignment, f.Alignment())
			require.Zero(t, f.DataOffset()%DefaultAlignment)

			arch, err := f.String("general.architecture")
			require.NoError(t, err)
			require.Equal(t, "llama", arch)
			for key, want := range map[string]uint32{
				"llama.embedding_length": 64, "llama.block_count": 2, "llama.attention.head_count": 4,
				"llama.attention.head_count_kv": 2, "llama.feed_forward_length": 128,
				"llama.rope.dimension_count": 16, "llama.context_length": 2048, "llama.vocab_size": 50257,
				"general.file_type": tc.fileType, "tokenizer.ggml.bos_token_id": 50256,
				"tokenizer.ggml.eos_token_id": 50256,
			} {
				got, err := f.Uint32(key)
				require.NoError(t, err, key)
				require.Equal(t, want, got, key)
			}
			eps, err := f.Float32("llama.attention.layer_norm_rms_epsilon")
			require.NoError(t, err)
			require.InDelta(t, 1e-5, eps, 1e-12)
			base, err := f.Float32("llama.rope.freq_base")
			require.NoError(t, err)
			require.Equal(t, float32(10000), base)
			tokens, err := f.Strings("tokenizer.ggml.tokens")
			require.NoError(t, err)
			require.Len(t, tokens, 50257)
			require.Equal(t, "!", tokens[0])
			types, err := f.Int32s("tokenizer.ggml.token_type")
			require.NoError(t, err)
			require.Len(t, types, 50257)
			merges, err := f.Strings("tokenizer.ggml.merges")
			require.NoError(t, err)
			require.Len(t, merges, 50000)
			_, err = f.Uint32("tokenizer.ggml.add_bos_token")
			require.ErrorIs(t, err, ErrKeyNotFound)

			want := llamaTensorDims(64, 128, 32, 50257)
			require.Len(t, f.Tensors(), len(want))
			_, tied := f.Tensor("output.weight")
			require.False(t, tied, "tied embeddings: no output.weight")
			for _, ti := range f.Tensors() {
				dims, ok := want[ti.Name]
				require.True(t, ok, "unexpected tensor %s", ti.Name)
				require.Equal(t, dims, ti.Dims, ti.Name)
				wantType := tc.matrix
				if len(dims) == 1 {
					wantType = TypeF32 // norms stay F32
				}
				require.Equal(t, wantType, ti.Type, ti.Name)
				data, err := f.TensorData(ti.Name)
				require.NoError(t, err)
				require.Len(t, data, int(ti.Size))
			}
			if tc.matrix == TypeQ8_0 {
				ti, _ := f.Tensor("token_embd.weight")
				require.EqualValues(t, 8, ti.Type)
				require.EqualValues(t, 50257*(64/32)*(2+32), ti.Size) // f16 scale + 32 int8 per block
			}
		})
	}
}

// decodeF32Tensor returns the values of an F32 tensor, checking their count.
func decodeF32Tensor(t *testing.T, f *File, name string) []float32 {
	t.Helper()
	ti, ok := f.Tensor(name)
	require.True(t, ok, name)
	require.Equal(t, TypeF32, ti.Type)
	data, err := f.TensorData(name)
	require.NoError(t, err)
	vals := make([]float32, ti.Elements())
	require.Len(t, data, 4*len(vals))
	quant.DecodeF32(data, vals)
	return vals
}

// meanStd returns the mean and standard deviation of x, failing on
// non-finite values.
func meanStd(t *testing.T, x []float32) (mean, std float64) {
	t.Helper()
	var s, s2 float64
	for i, v := range x {
		require.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0), "value %d = %v", i, v)
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	n := float64(len(x))
	mean = s / n
	return mean, math.Sqrt(s2/n - mean*mean)
}

func TestF32TensorDataDecodes(t *testing.T) {
	f := openFixture(t, "tiny-llama-gpt2vocab-f32.gguf")
	// The README's recipe: token_embd ~ N(0, 0.1), layer matrices ~ N(0, 0.3),
	// norms ~ 1 + 0.1·N(0, 1). Wrong offsets would give other statistics.
	for _, tc := range []struct {
		name      string
		count     int
		mean, std float64
	}{
		{"token_embd.weight", 64 * 50257, 0, 0.1},
		{"blk.1.ffn_down.weight", 128 * 64, 0, 0.3},
		{"blk.0.attn_norm.weight", 64, 1, 0.1},
	} {
		vals := decodeF32Tensor(t, f, tc.name)
		require.Len(t, vals, tc.count, tc.name)
		mean, std := meanStd(t, vals)
		tol := tc.std * 5 / math.Sqrt(float64(tc.count)) // five standard errors
		require.InDelta(t, tc.mean, mean, tol, tc.name)
		require.InDelta(t, tc.std, std, tol, tc.name)
	}
}

func TestQ8TokenEmbeddingMatchesF32(t *testing.T) {
	f32 := decodeF32Tensor(t, openFixture(t, "tiny-llama-gpt2vocab-f32.gguf"), "token_embd.weight")
	q := openFixture(t, "tiny-llama-gpt2vocab-q8_0.gguf")
	data, err := q.TensorData("token_embd.weight")
	require.NoError(t, err)
	// Q8_0 block: f16 scale d, then 32 int8 codes; weight = d·code. The codes
	// were rounded with the f32 scale, so allow half a step plus the scale's
	// f16 rounding times the largest code (127·2^-11 ≈ 0.06 steps).
	const block = 2 + 32
	require.Len(t, data, len(f32)/32*block)
	var d [1]float32
	for b := range len(f32) / 32 {
		blk := data[b*block : (b+1)*block]
		quant.DecodeF16(blk[:2], d[:])
		for j := range 32 {
			w := d[0] * float32(int8(blk[2+j]))
			require.InDelta(t, f32[b*32+j], w, float64(d[0])*0.57+1e-7, "block %d weight %d", b, j)
		}
	}
}

func TestMmprojFixture(t *testing.T) {
	f := openFixture(t, "vision/tiny-smolvlm-mmproj-f32.gguf")
	for key, want := range map[string]string{
		"general.architecture": "clip", "general.type": "mmproj", "clip.projector_type": "idefics3",
		"general.name": "tiny-random-smolvlm-mmproj",
	} {
		got, err := f.String(key)
		require.NoError(t, err, key)
		require.Equal(t, want, got, key)
	}
	for key, want := range map[string]uint32{
		"clip.vision.patch_size": 8, "clip.vision.image_size": 64, "clip.vision.projection_dim": 16,
		"clip.vision.embedding_length": 32, "clip.vision.feed_forward_length": 64,
		"clip.vision.block_count": 2, "clip.vision.attention.head_count": 2,
		"clip.vision.projector.scale_factor": 4, "clip.vision.preproc_image_size": 192, "general.file_type": 0,
	} {
		got, err := f.Uint32(key)
		require.NoError(t, err, key)
		require.Equal(t, want, got, key)
	}
	for _, key := range []string{"clip.has_vision_encoder", "clip.use_gelu"} {
		b, err := f.Bool(key)
		require.NoError(t, err, key)
		require.True(t, b, key)
	}
	for _, key := range []string{"clip.vision.image_mean", "clip.vision.image_std"} {
		v, err := f.Float32s(key)
		require.NoError(t, err, key)
		require.Equal(t, []float32{0.5, 0.5, 0.5}, v, key)
	}
	eps, err := f.Float32("clip.vision.attention.layer_norm_epsilon")
	require.NoError(t, err)
	require.InDelta(t, 1e-6, eps, 1e-13)

	ti, ok := f.Tensor("v.patch_embd.weight")
	require.True(t, ok)
	require.Equal(t, []uint64{8, 8, 3, 32}, ti.Dims)
	ti, ok = f.Tensor("mm.model.fc.weight")
	require.True(t, ok)
	require.Equal(t, []uint64{512, 16}, ti.Dims)
	require.Len(t, f.Tensors(), 3+2*16+2+1)
	for _, ti := range f.Tensors() {
		require.Equal(t, TypeF32, ti.Type, ti.Name)
	}
	_, std := meanStd(t, decodeF32Tensor(t, f, "v.position_embd.weight"))
	require.InDelta(t, 0.5, std, 0.05)
}

func TestVocabFixtures(t *testing.T) {
	for _, tc := range []struct {
		file, pre string
		tokens    int
	}{
		{"vocab/ggml-vocab-gpt-2.gguf", "gpt-2", 50257},
		{"vocab/ggml-vocab-starcoder.gguf", "starcoder", 49152},
	} {
		f := openFixture(t, tc.file)
		require.Empty(t, f.Tensors(), tc.file)
		pre, err := f.String("tokenizer.ggml.pre")
		require.NoError(t, err)
		require.Equal(t, tc.pre, pre)
		tokens, err := f.Strings("tokenizer.ggml.tokens")
		require.NoError(t, err)
		require.Len(t, tokens, tc.tokens)
	}
}

// copyFile copies every key and tensor of f through a Writer.
func copyFile(t testing.TB, f *File) *Writer {
	t.Helper()
	w := NewWriter()
	for _, kv := range f.Metadata() {
		require.NoError(t, w.Add(kv.Key, kv.Value))
	}
	for _, ti := range f.Tensors() {
		data, err := f.TensorData(ti.Name)
		require.NoError(t, err)
		require.NoError(t, w.AddTensor(ti.Name, ti.Dims, ti.Type, data))
	}
	return w
}

// TestRewriteIsByteIdentical copies each fixture (gguf-py and llama-quantize
// output) through Open→Writer and expects the very same bytes.
func TestRewriteIsByteIdentical(t *testing.T) {
	for _, rel := range allFixtures {
		t.Run(rel, func(t *testing.T) {
			f := openFixture(t, rel)
			var buf bytes.Buffer
			n, err := copyFile(t, f).WriteTo(&buf)
			require.NoError(t, err)
			require.EqualValues(t, buf.Len(), n)
			orig, err := os.ReadFile(fixture(rel))
			require.NoError(t, err)
			require.Equal(t, len(orig), buf.Len())
			require.True(t, bytes.Equal(orig, buf.Bytes()), "rewritten bytes differ")
		})
	}
}

// TestReadAtFallback parses a fixture through the non-mapped path and
// compares it with the mapped one.
func TestReadAtFallback(t *testing.T) {
	rel := "tiny-llama-gpt2vocab-q8_0.gguf"
	mapped := openFixture(t, rel)
	fh, err := os.Open(fixture(rel))
	require.NoError(t, err)
	defer fh.Close()
	plain, err := parse(fh.Name(), nil, fh, uint64(mapped.Size()))
	require.NoError(t, err)
	require.Nil(t, plain.data)
	require.Equal(t, mapped.DataOffset(), plain.DataOffset())
	require.Equal(t, mapped.Tensors(), plain.Tensors())
	requireSameContent(t, mapped, plain)
}

func TestClose(t *testing.T) {
	f, err := Open(fixture("vision/tiny-smolvlm-mmproj-f32.gguf"))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, f.Close())
	_, err = f.TensorData("v.patch_embd.bias")
	require.ErrorContains(t, err, "closed")
	_, err = Open(fixture("no-such-file.gguf"))
	require.ErrorContains(t, err, "no-such-file.gguf")
}

func TestOpenRejects(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"empty.gguf": "", "text.gguf": "hello, world\n"} {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
		f, err := Open(path)
		require.Nil(t, f)
		require.ErrorContains(t, err, "gguf: "+path+": ")
	}
}
