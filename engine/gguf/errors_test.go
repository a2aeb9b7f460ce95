package gguf

import (
	"encoding/binary"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// raw assembles a GGUF header from parts: magic, version and counts, then
// the given body bytes.
func raw(version uint32, nTensors, nKV uint64, body ...[]byte) []byte {
	b := []byte(magic)
	b = binary.LittleEndian.AppendUint32(b, version)
	b = binary.LittleEndian.AppendUint64(b, nTensors)
	b = binary.LittleEndian.AppendUint64(b, nKV)
	for _, p := range body {
		b = append(b, p...)
	}
	return b
}

// kv encodes one metadata entry.
func kv(t *testing.T, key string, v any) []byte {
	val, err := NewValue(v)
	require.NoError(t, err)
	return appendKV(nil, KV{Key: key, Value: val})
}

// tinfo encodes one tensor info.
func tinfo(name string, typ Type, offset uint64, dims ...uint64) []byte {
	return appendTensorInfo(nil, TensorInfo{Name: name, Dims: dims, Type: typ, Offset: offset})
}

// u32s and u64s encode little-endian integers.
func u32s(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

func u64s(v ...uint64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, x)
	}
	return b
}

// withData appends zero padding and n zero data bytes to a header.
func withData(hdr []byte, n int) []byte {
	out := append([]byte(nil), hdr...)
	out = append(out, make([]byte, int(alignUp(uint64(len(out)), DefaultAlignment))-len(out))...)
	return append(out, make([]byte, n)...)
}

func TestParseRejects(t *testing.T) {
	str := func(s string) []byte { return appendString(nil, s) }
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated header: file has 0 bytes"},
		{"short", []byte("GGUF\x03\x00"), "truncated header"},
		{"bad magic", append([]byte("GGML"), raw(3, 0, 0)[4:]...), `bad magic "GGML"`},
		{"short text", []byte("hello"), `bad magic "hell"`},
		{"version 1", raw(1, 0, 0), "unsupported GGUF version 1"},
		{"version 4", raw(4, 0, 0), "unsupported GGUF version 4"},
		{"big endian", raw(0x03000000, 0, 0), "big-endian"},
		{"kv count", raw(3, 0, 1<<40), "metadata count 1099511627776 is impossible with 0 bytes left: unexpected EOF"},
		{"tensor count", raw(3, 1<<40, 0), "tensor count 1099511627776 is impossible"},
		{"key length", raw(3, 0, 1, u64s(1<<40), make([]byte, 16)), "metadata key length 1099511627776 exceeds"},
		{"key past EOF", raw(3, 0, 1, u64s(100), []byte("abcde")), "metadata key needs 100 bytes, 5 left"},
		{"unknown value type", raw(3, 0, 1, str("k"), u32s(13), u64s(0)), `metadata key "k": unknown value type 13`},
		{"string length", raw(3, 0, 1, str("k"), u32s(uint32(ValueString)), u64s(1<<40)), "string value length 1099511627776 exceeds"},
		{"string past EOF", raw(3, 0, 1, str("k"), u32s(uint32(ValueString)), u64s(9), []byte("abc")), "string value needs 9 bytes, 3 left"},
		{"bool", raw(3, 0, 1, str("k"), u32s(uint32(ValueBool)), []byte{2}), "bool value 2 is not 0 or 1"},
		{"bool array", raw(3, 0, 1, str("k"), u32s(uint32(ValueArray), uint32(ValueBool)), u64s(2), []byte{1, 7}), "array element 1: bool value 7"},
		{"nested array", raw(3, 0, 1, str("k"), u32s(uint32(ValueArray), uint32(ValueArray)), u64s(0)), "nested arrays are not supported"},
		{"array elem type", raw(3, 0, 1, str("k"), u32s(uint32(ValueArray), 99), u64s(0)), "unknown array element type 99"},
		{"array length", raw(3, 0, 1, str("k"), u32s(uint32(ValueArray), uint32(ValueUint8)), u64s(1<<40), make([]byte, 8)),
			"array of 1099511627776 uint8 needs at least 1 bytes per element, 8 left"},
		{"string array length", raw(3, 0, 1, str("k"), u32s(uint32(ValueArray), uint32(ValueString)), u64s(3), u64s(0, 0)),
			"array of 3 string needs at least 8 bytes per element, 16 left"},
		{"array cap", raw(3, 0, 1, str("k"), u32s(uint32(ValueArray), uint32(ValueUint8)), u64s(maxArrayLen+1), make([]byte, maxArrayLen+1)),
			"exceeds the limit of 16777216 elements"},
		{"duplicate key", raw(3, 0, 2, kv(t, "k", uint8(1)), kv(t, "k", uint8(2))), `duplicate metadata key "k"`},
		{"alignment type", raw(3, 0, 1, kv(t, AlignmentKey, uint64(32))), "general.alignment is uint64, want uint32"},
		{"alignment zero", raw(3, 0, 1, kv(t, AlignmentKey, uint32(0))), "general.alignment = 0 is not a power of two"},
		{"tensor name length", raw(3, 1, 0, str(strings.Repeat("n", 64)), make([]byte, 24)), "tensor name length 64 exceeds the limit of 63"},
		{"n_dims", raw(3, 1, 0, str("t"), u32s(5), make([]byte, 64)), `tensor "t": 5 dimensions, at most 4 allowed`},
		{"tensor type", withData(raw(3, 1, 0, tinfo("t", Type(5), 0, 4)), 32), `tensor "t": unknown tensor type id 5`},
		{"block size", withData(raw(3, 1, 0, tinfo("t", TypeQ8_0, 0, 33)), 64), `tensor "t": q8_0 row width ne0 = 33 is not a multiple`},
		{"elements overflow", withData(raw(3, 1, 0, tinfo("t", TypeF32, 0, 1<<40, 1<<40)), 32), "element count overflows"},
		{"misaligned offset", withData(raw(3, 1, 0, tinfo("t", TypeF32, 4, 4)), 64), "data offset 4 is not a multiple of the alignment 32"},
		{"data past EOF", withData(raw(3, 1, 0, tinfo("t", TypeF32, 0, 9)), 32), `tensor "t": data [64, 100) extends past the end of the file (96 bytes)`},
		{"offset past EOF", withData(raw(3, 1, 0, tinfo("t", TypeF32, 1<<40, 1)), 32), "data offset 1099511627776"},
		{"duplicate tensor", withData(raw(3, 2, 0, tinfo("t", TypeF32, 0, 4), tinfo("t", TypeF32, 32, 4)), 64), `duplicate tensor name "t"`},
	} {
		f, err := Parse("bad.gguf", tc.data)
		require.Nil(t, f, tc.name)
		require.ErrorContains(t, err, tc.want, tc.name)
		require.True(t, strings.HasPrefix(err.Error(), "gguf: bad.gguf: "), "%s: %v", tc.name, err)
	}
}

func TestParseAcceptsV2AndEmpty(t *testing.T) {
	f, err := Parse("v2.gguf", raw(2, 0, 1, kv(t, "k", "v")))
	require.NoError(t, err)
	require.EqualValues(t, 2, f.Version())
	s, err := f.String("k")
	require.NoError(t, err)
	require.Equal(t, "v", s)

	f, err = Parse("empty.gguf", raw(3, 0, 0))
	require.NoError(t, err)
	require.Empty(t, f.Metadata())
	require.Empty(t, f.Tensors())
}

// TestParseTruncated cuts a valid file at every length: each cut before the
// end of the last tensor's data fails with an error naming the file, and
// cuts inside the header report an unexpected EOF.
func TestParseTruncated(t *testing.T) {
	file, _ := buildTestFile(t, 0)
	whole, err := Parse("whole.gguf", file)
	require.NoError(t, err)
	var need uint64
	for _, ti := range whole.Tensors() {
		need = max(need, uint64(whole.DataOffset())+ti.Offset+ti.Size)
	}
	for n := range len(file) {
		f, err := Parse("cut.gguf", file[:n])
		if uint64(n) >= need {
			require.NoError(t, err, "cut at %d", n)
			continue
		}
		require.Nil(t, f)
		require.ErrorContains(t, err, "gguf: cut.gguf: ", "cut at %d", n)
		if n >= headerBytes && n < int(whole.DataOffset())-DefaultAlignment {
			require.ErrorIs(t, err, io.ErrUnexpectedEOF, "cut at %d", n)
		}
	}
}
