package gguf

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// allValues holds one metadata value of every type, arrays included.
var allValues = []struct {
	key string
	v   any
}{
	{"t.u8", uint8(200)},
	{"t.i8", int8(-100)},
	{"t.u16", uint16(60000)},
	{"t.i16", int16(-30000)},
	{"t.u32", uint32(4_000_000_000)},
	{"t.i32", int32(-2_000_000_000)},
	{"t.f32", float32(-1.5e-7)},
	{"t.bool", true},
	{"t.string", "héllo\x00wörld"},
	{"t.u64", uint64(1<<63 + 5)},
	{"t.i64", int64(-1 << 62)},
	{"t.f64", math.Pi},
	{"t.empty", ""},
	{"a.u8", []uint8{0, 1, 255}},
	{"a.i8", []int8{-128, 127}},
	{"a.u16", []uint16{1, 65535}},
	{"a.i16", []int16{-32768}},
	{"a.u32", []uint32{7, 1 << 31}},
	{"a.i32", []int32{-1, 0, 1}},
	{"a.f32", []float32{0.5, -2, float32(math.Inf(1))}},
	{"a.bool", []bool{true, false, true}},
	{"a.string", []string{"a", "", "ü€😀"}},
	{"a.u64", []uint64{math.MaxUint64}},
	{"a.i64", []int64{math.MinInt64, 3}},
	{"a.f64", []float64{1e300, -0.0}},
	{"a.empty", []string{}},
}

// testTensor is one tensor of the round-trip file.
type testTensor struct {
	name   string
	dims   []uint64
	typ    Type
	stream bool // add with AddTensorFunc
}

var roundTripTensors = []testTensor{
	{"f32", []uint64{4, 3}, TypeF32, false},
	{"scalar", nil, TypeF32, false},
	{"f16.odd", []uint64{7}, TypeF16, false}, // 14 bytes: padding follows
	{"q8_0", []uint64{64, 2}, TypeQ8_0, false},
	{"q4_K", []uint64{256}, TypeQ4_K, true},
	{"int2", []uint64{64, 3}, TypeInt2, true},
	{"int4", []uint64{32, 1, 2}, TypeInt4, false},
	{"int8", []uint64{32, 3}, TypeInt8, false},
	{"i32", []uint64{5}, TypeI32, false},
	{"empty", []uint64{0, 4}, TypeF32, false},
}

// buildTestFile writes a file with every metadata type and the round-trip
// tensors (random contents); it returns the file and each tensor's bytes.
func buildTestFile(t testing.TB, alignment uint32) ([]byte, map[string][]byte) {
	t.Helper()
	w := NewWriter()
	if alignment != 0 {
		require.NoError(t, w.Set(AlignmentKey, alignment))
	}
	for _, kv := range allValues {
		require.NoError(t, w.Set(kv.key, kv.v))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	contents := map[string][]byte{}
	for _, tt := range roundTripTensors {
		size, err := TensorBytes(tt.typ, tt.dims)
		require.NoError(t, err)
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		contents[tt.name] = data
		if tt.stream {
			require.NoError(t, w.AddTensorFunc(tt.name, tt.dims, tt.typ, func(out io.Writer) error {
				// two writes, to check that streaming in pieces works
				if _, err := out.Write(data[:len(data)/3]); err != nil {
					return err
				}
				_, err := out.Write(data[len(data)/3:])
				return err
			}))
		} else {
			require.NoError(t, w.AddTensor(tt.name, tt.dims, tt.typ, data))
		}
	}
	var buf bytes.Buffer
	n, err := w.WriteTo(&buf)
	require.NoError(t, err)
	require.EqualValues(t, buf.Len(), n)
	return buf.Bytes(), contents
}

func TestWriterRoundTrip(t *testing.T) {
	for _, alignment := range []uint32{0, 1, 64, 4096} {
		file, contents := buildTestFile(t, alignment)
		f, err := Parse("roundtrip.gguf", file)
		require.NoError(t, err)
		require.EqualValues(t, 3, f.Version())
		wantAlign := int(alignment)
		if alignment == 0 {
			wantAlign = DefaultAlignment
		}
		require.Equal(t, wantAlign, f.Alignment())
		require.Zero(t, f.DataOffset()%int64(wantAlign))

		md := f.Metadata()
		if alignment != 0 {
			require.Equal(t, AlignmentKey, md[0].Key)
			md = md[1:]
		}
		require.Len(t, md, len(allValues))
		for i, kv := range allValues {
			require.Equal(t, kv.key, md[i].Key)
			require.Equal(t, kv.v, md[i].Value.Any(), kv.key)
			want, err := NewValue(kv.v)
			require.NoError(t, err)
			require.Equal(t, want.Type(), md[i].Value.Type(), kv.key)
			require.Equal(t, want.ElemType(), md[i].Value.ElemType(), kv.key)
		}

		require.Len(t, f.Tensors(), len(roundTripTensors))
		for i, ti := range f.Tensors() {
			tt := roundTripTensors[i]
			require.Equal(t, tt.name, ti.Name)
			require.Equal(t, tt.typ, ti.Type)
			require.Equal(t, len(tt.dims), len(ti.Dims))
			if len(tt.dims) > 0 {
				require.Equal(t, tt.dims, ti.Dims)
			}
			require.Zero(t, ti.Offset%uint64(wantAlign), ti.Name)
			data, err := f.TensorData(ti.Name)
			require.NoError(t, err)
			require.Equal(t, contents[ti.Name], data, ti.Name)
		}
		last := f.Tensors()[len(roundTripTensors)-1]
		require.EqualValues(t, len(file), f.DataOffset()+int64(alignUp(last.Offset+last.Size, uint64(wantAlign))),
			"file ends with the aligned end of the last tensor")
	}
}

func TestGetters(t *testing.T) {
	file, _ := buildTestFile(t, 0)
	f, err := Parse("getters.gguf", file)
	require.NoError(t, err)

	s, err := f.String("t.string")
	require.NoError(t, err)
	require.Equal(t, "héllo\x00wörld", s)
	u, err := f.Uint32("t.u32")
	require.NoError(t, err)
	require.Equal(t, uint32(4_000_000_000), u)
	i, err := f.Int32("t.i32")
	require.NoError(t, err)
	require.Equal(t, int32(-2_000_000_000), i)
	u64, err := f.Uint64("t.u64")
	require.NoError(t, err)
	require.EqualValues(t, uint64(1<<63+5), u64)
	b, err := f.Bool("t.bool")
	require.NoError(t, err)
	require.True(t, b)
	i32s, err := f.Int32s("a.i32")
	require.NoError(t, err)
	require.Equal(t, []int32{-1, 0, 1}, i32s)
	u32s, err := f.Uint32s("a.u32")
	require.NoError(t, err)
	require.Equal(t, []uint32{7, 1 << 31}, u32s)
	f64s, err := Get[[]float64](f, "a.f64")
	require.NoError(t, err)
	require.Equal(t, []float64{1e300, -0.0}, f64s)

	for _, tc := range []struct {
		err  error
		want string
	}{
		{func() error { _, err := f.Uint32("t.string"); return err }(), `"t.string" is string, want uint32`},
		{func() error { _, err := f.String("t.u32"); return err }(), `"t.u32" is uint32, want string`},
		{func() error { _, err := f.Float32s("a.i32"); return err }(), `"a.i32" is []int32, want []float32`},
		{func() error { _, err := f.Strings("t.string"); return err }(), `"t.string" is string, want []string`},
		{func() error { _, err := f.Float32("t.f64"); return err }(), `"t.f64" is float64, want float32`},
		{func() error { _, err := Get[int](f, "t.u8"); return err }(), `"t.u8" is uint8, want int`},
		{func() error { _, err := f.Uint32("missing"); return err }(), `"missing": key not found`},
	} {
		require.ErrorContains(t, tc.err, tc.want)
		require.ErrorContains(t, tc.err, "getters.gguf")
	}
	_, err = f.Uint32("missing")
	require.ErrorIs(t, err, ErrKeyNotFound)
	_, err = f.TensorData("missing")
	require.ErrorContains(t, err, `no tensor "missing"`)
}

func TestValueString(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{uint32(7), "7"},
		{"a\"b", `"a\"b"`},
		{[]float32{0.5, 1}, "[0.5 1]"},
		{[]string{"x", "y"}, `["x" "y"]`},
		{[]int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, "[0 1 2 3 4 5 6 7 ... (10 elements)]"},
	} {
		v, err := NewValue(tc.v)
		require.NoError(t, err)
		require.Equal(t, tc.want, v.String())
	}
	_, err := NewValue(42)
	require.ErrorContains(t, err, "Go type int")
}

func TestWriterRejects(t *testing.T) {
	f32 := make([]byte, 16)
	for _, tc := range []struct {
		name string
		do   func(w *Writer) error
		want string
	}{
		{"unsupported Go type", func(w *Writer) error { return w.Set("k", []int{1}) }, `"k": gguf: no metadata value type for Go type []int`},
		{"zero value", func(w *Writer) error { return w.Add("k", Value{}) }, "invalid (zero) value"},
		{"duplicate key", func(w *Writer) error { w.Set("k", "a"); return w.Set("k", "b") }, `duplicate metadata key "k"`},
		{"alignment type", func(w *Writer) error { return w.Set(AlignmentKey, uint64(32)) }, "general.alignment is uint64, want uint32"},
		{"alignment value", func(w *Writer) error { return w.Set(AlignmentKey, uint32(48)) }, "48 is not a power of two"},
		{"alignment late", func(w *Writer) error {
			w.AddTensor("t", []uint64{4}, TypeF32, f32)
			return w.Set(AlignmentKey, uint32(64))
		}, "before the first tensor"},
		{"key too long", func(w *Writer) error { return w.Set(strings.Repeat("k", maxKeyLen+1), "v") }, "exceeds the limit"},
		{"data size", func(w *Writer) error { return w.AddTensor("t", []uint64{5}, TypeF32, f32) }, `tensor "t": f32 [5] needs 20 bytes, got 16`},
		{"duplicate tensor", func(w *Writer) error {
			w.AddTensor("t", []uint64{4}, TypeF32, f32)
			return w.AddTensor("t", []uint64{4}, TypeF32, f32)
		}, `duplicate tensor name "t"`},
		{"name too long", func(w *Writer) error {
			return w.AddTensor(strings.Repeat("n", MaxNameLen+1), []uint64{4}, TypeF32, f32)
		}, "at most 63 allowed"},
		{"unknown type", func(w *Writer) error { return w.AddTensor("t", []uint64{4}, Type(77), f32) }, `tensor "t": unknown tensor type id 77`},
		{"block size", func(w *Writer) error { return w.AddTensor("t", []uint64{16}, TypeQ8_0, f32) }, "not a multiple of the block size 32"},
		{"too many dims", func(w *Writer) error { return w.AddTensor("t", []uint64{1, 1, 1, 1, 4}, TypeF32, f32) }, "5 dimensions"},
		{"nil func", func(w *Writer) error { return w.AddTensorFunc("t", []uint64{4}, TypeF32, nil) }, "nil write function"},
	} {
		err := tc.do(NewWriter())
		require.ErrorContains(t, err, tc.want, tc.name)
	}
}

func TestWriterStreamErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name  string
		write func(io.Writer) error
		want  string
	}{
		{"short", func(w io.Writer) error { _, err := w.Write(make([]byte, 15)); return err }, "wrote 15 bytes, want 16"},
		{"long", func(w io.Writer) error { _, err := w.Write(make([]byte, 17)); return err }, "more bytes than the tensor's size"},
		{"error", func(io.Writer) error { return boom }, "boom"},
	} {
		w := NewWriter()
		require.NoError(t, w.AddTensorFunc("streamed", []uint64{4}, TypeF32, tc.write))
		_, err := w.WriteTo(io.Discard)
		require.ErrorContains(t, err, `tensor "streamed"`, tc.name)
		require.ErrorContains(t, err, tc.want, tc.name)
	}
	w := NewWriter()
	require.NoError(t, w.AddTensorFunc("streamed", []uint64{4}, TypeF32, func(io.Writer) error { return boom }))
	path := filepath.Join(t.TempDir(), "bad.gguf")
	err := w.WriteFile(path)
	require.ErrorIs(t, err, boom)
	require.ErrorContains(t, err, path)
	require.NoFileExists(t, path)
}

func TestWriteFileAndOpen(t *testing.T) {
	file, _ := buildTestFile(t, 0)
	src, err := Parse("src.gguf", file)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "copy.gguf")
	require.NoError(t, copyFile(t, src).WriteFile(path))
	f, err := Open(path)
	require.NoError(t, err)
	defer f.Close()
	requireSameContent(t, src, f)
}
