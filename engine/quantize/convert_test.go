package quantize

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

// expectedType is the recipe's type for a tensor of the tiny llama, as the
// package doc states the rules (written out here, not taken from Plan).
func expectedType(recipe string, info gguf.TensorInfo) gguf.Type {
	if len(info.Dims) == 1 {
		return gguf.TypeF32
	}
	byRecipe := map[string]gguf.Type{"int8": gguf.TypeInt8, "int4": gguf.TypeInt4, "int2": gguf.TypeInt2}
	if recipe != "int2" {
		return byRecipe[recipe]
	}
	switch Class(info.Name) {
	case "token_embd.weight":
		return gguf.TypeInt8
	case "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight":
		return gguf.TypeInt4
	}
	return gguf.TypeInt2
}

// TestRecipesOnFixture quantizes the tiny F32 llama with each recipe into a
// file, reopens it and checks types, metadata, sizes, the summary and how
// far the logits of prompt 1 move. The bounds are about twice what was
// measured on prompt 1: KL 0.0002 / 0.059 / 0.130 nats and RMS logit
// difference 0.020 / 0.34 / 0.51 for int8 / int4 / int2.
func TestRecipesOnFixture(t *testing.T) {
	src := openFixture(t)
	ref := lastLogits(t, src, 1)
	for _, c := range []struct {
		recipe         string
		bpwLo, bpwHi   float64 // whole file
		maxRelRMSE     float64 // any quantized tensor
		maxKL, maxRMS  float64 // prompt 1 logits
		matrixBPW      float64 // the layer matrices' storage, scales included
		matrixBPWSlack float64
	}{
		{"int8", 8.25, 8.30, 0.01, 0.0005, 0.05, 8.25, 1e-9},
		{"int4", 4.50, 4.55, 0.12, 0.12, 0.7, 4.5, 1e-9},
		// token_embd (98% of the fixture's weights) is int8; of the layer
		// matrices, attention (1/3) is int4 and the FFN (2/3) int2.
		{"int2", 8.10, 8.20, 0.45, 0.26, 1.0, 4.5/3 + 2.5*2/3, 1e-9},
	} {
		t.Run(c.recipe, func(t *testing.T) {
			r, err := RecipeByName(c.recipe)
			require.NoError(t, err)
			dir := t.TempDir()
			out := filepath.Join(dir, "out.gguf")
			sum, err := QuantizeFile(context.Background(), fixture, out, Options{Recipe: r})
			require.NoError(t, err)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, 1, "only the output is left in its directory")

			f, err := gguf.Open(out)
			require.NoError(t, err)
			defer f.Close()
			requireMetadataCopied(t, src, f, r)

			var params, bytes, matParams, matBits int64
			for i, info := range src.Tensors() {
				got, ok := f.Tensor(info.Name)
				require.True(t, ok, info.Name)
				require.Equal(t, info.Dims, got.Dims, info.Name)
				want := expectedType(c.recipe, info)
				require.Equal(t, want, got.Type, info.Name)
				ts := sum.Tensors[i]
				require.Equal(t, info.Name, ts.Name)
				require.Equal(t, info.Type.String(), ts.In)
				require.Equal(t, want.String(), ts.Out)
				require.Equal(t, int64(got.Size), ts.Bytes, info.Name)
				if f, ok := want.Format(); ok && f.Grouped() {
					require.Greater(t, ts.RelRMSE, 0.0, info.Name)
					require.Less(t, ts.RelRMSE, c.maxRelRMSE, info.Name)
					require.InDelta(t, f.BitsPerWeight(), ts.BitsPerWeight, 1e-9, info.Name)
				} else {
					require.Zero(t, ts.RelRMSE, info.Name)
				}
				params += int64(got.Elements())
				bytes += int64(got.Size)
				if len(info.Dims) == 2 && info.Name != "token_embd.weight" {
					matParams += int64(got.Elements())
					matBits += 8 * int64(got.Size)
				}
			}
			require.Len(t, f.Tensors(), len(src.Tensors()))
			require.Equal(t, params, sum.Params)
			require.Equal(t, bytes, sum.BytesOut)
			require.InDelta(t, 8*float64(bytes)/float64(params), sum.BitsPerWeight, 1e-9)
			require.InDelta(t, 32, sum.BitsPerWeightIn, 1e-9)
			require.True(t, sum.TiedEmbeddings)
			require.GreaterOrEqual(t, sum.BitsPerWeight, c.bpwLo)
			require.LessOrEqual(t, sum.BitsPerWeight, c.bpwHi)
			require.InDelta(t, c.matrixBPW, float64(matBits)/float64(matParams), c.matrixBPWSlack)

			got := lastLogits(t, f, 1)
			d := compareLogits(ref, got)
			t.Logf("%s: %.3f bits per weight, prompt 1 logits: RMS diff %.4f, KL %.5f", c.recipe, sum.BitsPerWeight, d.RMS, d.KL)
			require.Greater(t, d.KL, 0.0)
			require.Less(t, d.KL, c.maxKL)
			require.Less(t, d.RMS, c.maxRMS)
		})
	}
}

// requireMetadataCopied checks that every key of src is in out with the same
// value, except general.file_type, and that the recipe keys were added.
func requireMetadataCopied(t *testing.T, src, out *gguf.File, r Recipe) {
	t.Helper()
	for _, kv := range src.Metadata() {
		v, ok := out.Lookup(kv.Key)
		require.True(t, ok, kv.Key)
		if kv.Key == FileTypeKey {
			continue
		}
		require.Equal(t, kv.Value.TypeName(), v.TypeName(), kv.Key)
		require.True(t, reflect.DeepEqual(kv.Value.Any(), v.Any()), kv.Key)
	}
	ft, err := out.Uint32(FileTypeKey)
	require.NoError(t, err)
	require.Equal(t, uint32(1024)+uint32(r.Matrix), ft)
	name, err := out.String(RecipeKey)
	require.NoError(t, err)
	require.Equal(t, r.Name, name)
	method, err := out.String(MethodKey)
	require.NoError(t, err)
	require.Equal(t, "search", method)
	require.Len(t, out.Metadata(), len(src.Metadata())+2)
}

// synthTensor is a tensor for writeGGUF.
type synthTensor struct {
	name string
	dims []uint64
	typ  gguf.Type
	data []byte
}

// writeGGUF writes a GGUF with the given tensors and one metadata key.
func writeGGUF(t *testing.T, path string, tensors ...synthTensor) {
	t.Helper()
	w := gguf.NewWriter()
	require.NoError(t, w.Set("general.name", "synthetic"))
	for _, st := range tensors {
		require.NoError(t, w.AddTensor(st.name, st.dims, st.typ, st.data))
	}
	require.NoError(t, w.WriteFile(path))
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// randomBlocks returns n bytes whose every byte is below 0x38, so any two
// of them read as an f16 are a finite number below 0.5 in magnitude: valid,
// moderate block scales for every ggml type.
func randomBlocks(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.IntN(0x38))
	}
	return b
}

// TestDecodesEverySourceType converts a tensor of each decodable type to
// F32 and checks the result is exactly what DequantizeGGML (or, for the
// engine's formats, DequantizeRowRef) makes of it, then quantizes it to
// Int8 and checks the reported error against one computed here.
func TestDecodesEverySourceType(t *testing.T) {
	const rows, cols = 3, 256
	rng := rand.New(rand.NewPCG(1, 2))
	for _, typ := range []gguf.Type{gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16, gguf.TypeQ8_0, gguf.TypeQ4_0,
		gguf.TypeQ2_K, gguf.TypeQ4_K, gguf.TypeQ6_K, gguf.TypeInt8, gguf.TypeInt4, gguf.TypeInt2} {
		t.Run(typ.String(), func(t *testing.T) {
			size, err := gguf.TensorBytes(typ, []uint64{cols, rows})
			require.NoError(t, err)
			data := randomBlocks(rng, int(size))
			want := make([]float32, rows*cols)
			if f, ok := typ.Format(); ok && f.Grouped() {
				rb, err := f.RowBytes(cols)
				require.NoError(t, err)
				for r := range rows {
					quant.DequantizeRowRef(quant.Row{Format: f, N: cols, Data: data[r*rb : (r+1)*rb]}, want[r*cols:(r+1)*cols])
				}
			} else {
				require.NoError(t, quant.DequantizeGGML(quant.GGMLType(typ), data, want))
			}
			in := filepath.Join(t.TempDir(), "in.gguf")
			writeGGUF(t, in, synthTensor{"m.weight", []uint64{cols, rows}, typ, data})

			toF32 := Recipe{Name: "f32", Matrix: quant.F32}
			f := quantizeToFile(t, in, toF32)
			got, err := f.TensorData("m.weight")
			require.NoError(t, err)
			require.Equal(t, f32Bytes(want), got)

			sum := quantizeToFileSummary(t, in, Recipe{Name: "int8", Matrix: quant.Int8})
			var sqErr, sqNorm float64
			out, dec := sum.file, make([]float32, cols)
			q, err := out.TensorData("m.weight")
			require.NoError(t, err)
			rb, _ := quant.Int8.RowBytes(cols)
			for r := range rows {
				quant.DequantizeRowRef(quant.Row{Format: quant.Int8, N: cols, Data: q[r*rb : (r+1)*rb]}, dec)
				for j, v := range want[r*cols : (r+1)*cols] {
					sqErr += (float64(v) - float64(dec[j])) * (float64(v) - float64(dec[j]))
					sqNorm += float64(v) * float64(v)
				}
			}
			if typ == gguf.TypeInt8 {
				require.Equal(t, data, q, "a tensor already in the planned type is copied")
				require.Zero(t, sum.Tensors[0].RelRMSE)
				return
			}
			require.InDelta(t, math.Sqrt(sqErr/sqNorm), sum.Tensors[0].RelRMSE, 1e-6)
			require.Less(t, sum.Tensors[0].RelRMSE, 0.01)
		})
	}
}

// quantizeToFile converts in with r and opens the result.
func quantizeToFile(t *testing.T, in string, r Recipe) *gguf.File {
	t.Helper()
	return quantizeToFileSummary(t, in, r).file
}

type fileSummary struct {
	*Summary
	file *gguf.File
}

func quantizeToFileSummary(t *testing.T, in string, r Recipe) fileSummary {
	t.Helper()
	out := filepath.Join(t.TempDir(), r.Name+".gguf")
	sum, err := QuantizeFile(context.Background(), in, out, Options{Recipe: r, Threads: 2})
	require.NoError(t, err)
	f, err := gguf.Open(out)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return fileSummary{sum, f}
}

// TestQ8_0SourceRunsClose quantizes llama.cpp's Q8_0 file of the fixture
// to int8: the decoder's logits stay close to those of the Q8_0 file.
func TestQ8_0SourceRunsClose(t *testing.T) {
	src, err := gguf.Open(filepath.Join(testdata, "tiny-llama-gpt2vocab-q8_0.gguf"))
	require.NoError(t, err)
	defer src.Close()
	out, sum := convert(t, src, Recipes()[2])
	for _, ts := range sum.Tensors {
		if len(ts.Dims) == 2 {
			require.Equal(t, "q8_0", ts.In)
			require.Equal(t, "int8", ts.Out)
		}
	}
	d := compareLogits(lastLogits(t, src, 1), lastLogits(t, out, 1))
	t.Logf("q8_0 → int8: prompt 1 logits RMS diff %.4f, KL %.5f", d.RMS, d.KL)
	require.Less(t, d.KL, 0.003)
}

// TestNonFiniteWeightsFail checks that a NaN or infinity anywhere fails the
// conversion with an error naming the tensor, row and column, and leaves
// neither the output nor a temporary file behind.
func TestNonFiniteWeightsFail(t *testing.T) {
	for _, c := range []struct {
		name string
		dims []uint64
		at   int
		v    float32
		want string
	}{
		{"blk.0.ffn_up.weight", []uint64{64, 4}, 2*64 + 7, float32(math.NaN()), `tensor "blk.0.ffn_up.weight": weight at row 2, column 7 is NaN`},
		{"output_norm.weight", []uint64{64}, 63, float32(math.Inf(-1)), `tensor "output_norm.weight": weight at row 0, column 63 is -Inf`},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := 1
			for _, d := range c.dims {
				n *= int(d)
			}
			w := make([]float32, n)
			for i := range w {
				w[i] = float32(i%17) / 17
			}
			w[c.at] = c.v
			dir := t.TempDir()
			in := filepath.Join(dir, "in.gguf")
			writeGGUF(t, in, synthTensor{"ok.weight", []uint64{32, 2}, gguf.TypeF32, f32Bytes(make([]float32, 64))},
				synthTensor{c.name, c.dims, gguf.TypeF32, f32Bytes(w)})
			out := filepath.Join(dir, "out.gguf")
			_, err := QuantizeFile(context.Background(), in, out, Options{Recipe: Recipes()[0]})
			require.ErrorContains(t, err, c.want)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, 1, "only the input is left")
		})
	}
}

// TestFailureKeepsExistingOutput checks that a failed run leaves an
// existing output file as it was.
func TestFailureKeepsExistingOutput(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.gguf"), filepath.Join(dir, "out.gguf")
	writeGGUF(t, in, synthTensor{"m.weight", []uint64{32, 1}, gguf.TypeF32, f32Bytes(append(make([]float32, 31), float32(math.NaN())))})
	require.NoError(t, os.WriteFile(out, []byte("previous"), 0o644))
	_, err := QuantizeFile(context.Background(), in, out, Options{Recipe: Recipes()[1]})
	require.ErrorContains(t, err, "is NaN")
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, "previous", string(b))
}

func TestQuantizeFileRejectsBadPaths(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.gguf")
	writeGGUF(t, in, synthTensor{"m.weight", []uint64{32, 1}, gguf.TypeF32, f32Bytes(make([]float32, 32))})
	garbage := filepath.Join(dir, "garbage.gguf")
	require.NoError(t, os.WriteFile(garbage, []byte("this is not a GGUF file at all"), 0o644))
	link := filepath.Join(dir, "link.gguf")
	require.NoError(t, os.Symlink(in, link))
	for _, c := range []struct {
		name, in, out, want string
	}{
		{"missing input", filepath.Join(dir, "nope.gguf"), filepath.Join(dir, "o.gguf"), "no such file"},
		{"empty output", in, "", "must not be empty"},
		{"input is a directory", dir, filepath.Join(dir, "o.gguf"), "is a directory"},
		{"not a GGUF", garbage, filepath.Join(dir, "o.gguf"), "not a GGUF file"},
		{"output is input", in, in, "is the input file"},
		{"output is input by another name", in, filepath.Join(dir, ".", "in.gguf"), "is the input file"},
		{"output is a link to the input", in, link, "is the input file"},
		{"output is a directory", in, dir, "is a directory"},
		{"output directory missing", in, filepath.Join(dir, "no", "o.gguf"), "creating output"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := QuantizeFile(context.Background(), c.in, c.out, Options{Recipe: Recipes()[0]})
			require.ErrorContains(t, err, c.want)
		})
	}
	_, err := os.Stat(filepath.Join(dir, "o.gguf"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestCancelledContextWritesNothing(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.gguf")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := QuantizeFile(ctx, fixture, out, Options{Recipe: Recipes()[2]})
	require.ErrorIs(t, err, context.Canceled)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries)
}

// TestProgressCountsEveryWeight checks the progress reports: per tensor,
// increasing, ending at the total.
func TestProgressCountsEveryWeight(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.gguf")
	big := make([]float32, 64*(chunkWeights/64+5)) // more than one chunk
	for i := range big {
		big[i] = float32(i%31) - 15
	}
	writeGGUF(t, in,
		synthTensor{"a.weight", []uint64{64, uint64(len(big) / 64)}, gguf.TypeF32, f32Bytes(big)},
		synthTensor{"b.bias", []uint64{64}, gguf.TypeF32, f32Bytes(make([]float32, 64))})
	var reports []Progress
	sum, err := QuantizeFile(context.Background(), in, filepath.Join(dir, "out.gguf"),
		Options{Recipe: Recipes()[2], Progress: func(p Progress) { reports = append(reports, p) }})
	require.NoError(t, err)
	require.Greater(t, len(reports), 2)
	total := int64(len(big) + 64)
	require.Equal(t, total, sum.Params)
	for i, p := range reports {
		require.Equal(t, total, p.Total)
		if i > 0 {
			require.Greater(t, p.Done, reports[i-1].Done)
		}
	}
	require.Equal(t, "a.weight", reports[0].Tensor)
	last := reports[len(reports)-1]
	require.Equal(t, Progress{Tensor: "b.bias", Done: total, Total: total}, last)
}

// TestRequantizingReplacesOwnKeys converts an output again: the recipe key
// is replaced, not duplicated, and tensors already in the planned type are
// copied byte for byte.
func TestRequantizingReplacesOwnKeys(t *testing.T) {
	dir := t.TempDir()
	int4 := filepath.Join(dir, "int4.gguf")
	_, err := QuantizeFile(context.Background(), fixture, int4, Options{Recipe: Recipes()[1]})
	require.NoError(t, err)
	first, err := gguf.Open(int4)
	require.NoError(t, err)
	defer first.Close()
	again, sum := convert(t, first, Recipes()[1])
	require.Len(t, again.Metadata(), len(first.Metadata()))
	name, err := again.String(RecipeKey)
	require.NoError(t, err)
	require.Equal(t, "int4", name)
	for _, ts := range sum.Tensors {
		a, err := first.TensorData(ts.Name)
		require.NoError(t, err)
		b, err := again.TensorData(ts.Name)
		require.NoError(t, err)
		require.Equal(t, a, b, ts.Name)
	}
}

func TestSummaryTextAndJSON(t *testing.T) {
	src := openFixture(t)
	_, sum := convert(t, src, Recipes()[0])
	var text strings.Builder
	require.NoError(t, sum.WriteText(&text))
	out := text.String()
	require.Regexp(t, `(?m)^token_embd\.weight\s+64×50257\s+f32 → int8\s+8\.25\s+\d+\.\d\d%\s+embedding`, out)
	require.Regexp(t, `(?m)^blk\.1\.ffn_down\.weight\s+128×64\s+f32 → int2\s+2\.50\s+\d+\.\d\d%\s*$`, out)
	require.Regexp(t, `(?m)^blk\.0\.attn_v\.weight\s+64×32\s+f32 → int4\s+4\.50\s+.*int2-sensitive`, out)
	require.Contains(t, out, "tied embeddings")
	require.Contains(t, out, "32.00 → 8.1")

	raw, err := json.Marshal(sum)
	require.NoError(t, err)
	var back Summary
	require.NoError(t, json.Unmarshal(raw, &back))
	require.Equal(t, *sum, back)
	require.Contains(t, string(raw), `"bits_per_weight":`)
}

// TestThreadsDoNotChangeTheOutput converts with 1 and 3 threads: rows are
// independent, so the files are identical.
func TestThreadsDoNotChangeTheOutput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.gguf")
	rng := rand.New(rand.NewPCG(3, 4))
	w := make([]float32, 96*37)
	for i := range w {
		w[i] = float32(rng.NormFloat64())
	}
	writeGGUF(t, in, synthTensor{"m.weight", []uint64{96, 37}, gguf.TypeF32, f32Bytes(w)})
	var files [][]byte
	for _, threads := range []int{1, 3} {
		out := filepath.Join(dir, "out.gguf")
		_, err := QuantizeFile(context.Background(), in, out, Options{Recipe: Recipes()[0], Threads: threads})
		require.NoError(t, err)
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		files = append(files, b)
	}
	require.Equal(t, files[0], files[1])
}
