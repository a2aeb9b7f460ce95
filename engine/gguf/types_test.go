package gguf

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

func TestTensorBytes(t *testing.T) {
	for _, tc := range []struct {
		typ  Type
		dims []uint64
		want uint64
	}{
		{TypeF32, []uint64{4, 3}, 48},
		{TypeF32, nil, 4}, // a scalar
		{TypeF32, []uint64{4, 0}, 0},
		{TypeF16, []uint64{7}, 14},
		{TypeBF16, []uint64{7, 2}, 28},
		{TypeQ4_0, []uint64{64, 2}, 2 * 2 * 18},
		{TypeQ8_0, []uint64{64, 3, 2}, 6 * 2 * 34},
		{TypeQ4_K, []uint64{512, 3}, 3 * 2 * 144},
		{TypeQ6_K, []uint64{256}, 210},
		{TypeI64, []uint64{3, 1, 1, 2}, 48},
		{TypeF64, []uint64{5}, 40},
	} {
		got, err := TensorBytes(tc.typ, tc.dims)
		require.NoError(t, err, "%s %v", tc.typ, tc.dims)
		require.Equal(t, tc.want, got, "%s %v", tc.typ, tc.dims)
	}
}

func TestTensorBytesRejects(t *testing.T) {
	for _, tc := range []struct {
		typ  Type
		dims []uint64
		want string
	}{
		{Type(4), []uint64{32}, "unknown tensor type id 4"},
		{Type(1024), []uint64{32}, "unknown tensor type id 1024"},
		{TypeF32, []uint64{1, 1, 1, 1, 1}, "5 dimensions"},
		{TypeQ8_0, []uint64{33, 2}, "not a multiple of the block size 32"},
		{TypeQ2_K, []uint64{128}, "not a multiple of the block size 256"},
		{TypeInt2, []uint64{48, 1}, "not a multiple of the block size 32"},
		{TypeF32, []uint64{1 << 32, 1 << 32}, "overflows"},
		{TypeF64, []uint64{1 << 62}, "overflows"},
	} {
		_, err := TensorBytes(tc.typ, tc.dims)
		require.ErrorContains(t, err, tc.want, "%s %v", tc.typ, tc.dims)
	}
}

// TestEngineTypes checks the engine types against engine/quant's own
// definitions: id 1024+format, block = group size, type size = group bytes,
// tensor size = rows × RowBytes.
func TestEngineTypes(t *testing.T) {
	for _, f := range []quant.Format{quant.Int8, quant.Int4, quant.Int2} {
		typ, err := TypeOf(f)
		require.NoError(t, err)
		require.EqualValues(t, 1024+int(f), typ, f.String())
		back, ok := typ.Format()
		require.True(t, ok)
		require.Equal(t, f, back)
		require.Equal(t, f.String(), typ.String())
		require.Equal(t, quant.GroupSize, typ.BlockSize())
		require.Equal(t, f.GroupBytes(), typ.TypeSize())
		rowBytes, err := f.RowBytes(96)
		require.NoError(t, err)
		size, err := TensorBytes(typ, []uint64{96, 5})
		require.NoError(t, err)
		require.EqualValues(t, 5*rowBytes, size)
	}
	for _, f := range []quant.Format{quant.F32, quant.F16} {
		typ, err := TypeOf(f)
		require.NoError(t, err)
		back, ok := typ.Format()
		require.True(t, ok)
		require.Equal(t, f, back)
		require.Equal(t, f.GroupBytes(), typ.TypeSize()*quant.GroupSize/typ.BlockSize())
	}
	_, ok := TypeQ8_0.Format()
	require.False(t, ok)
	_, err := TypeOf(quant.Format(99))
	require.Error(t, err)
}

func TestTypeNames(t *testing.T) {
	require.Equal(t, "q8_0", TypeQ8_0.String())
	require.Equal(t, "q4_K", TypeQ4_K.String())
	require.Equal(t, "type(5)", Type(5).String())
	require.False(t, Type(5).Known())
	require.True(t, TypeMXFP4.Known())
	require.Zero(t, Type(5).BlockSize())
	require.Equal(t, "float32", ValueFloat32.String())
	require.Equal(t, "valuetype(13)", ValueType(13).String())
}
