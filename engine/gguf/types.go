package gguf

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// Type is a tensor element type id as stored in a GGUF tensor info: a ggml
// type id, or one of the engine's own ids (1024+k, see the package doc).
type Type uint32

// ggml tensor types (ids as assigned by ggml; gaps are retired ids).
const (
	TypeF32     Type = 0
	TypeF16     Type = 1
	TypeQ4_0    Type = 2
	TypeQ4_1    Type = 3
	TypeQ5_0    Type = 6
	TypeQ5_1    Type = 7
	TypeQ8_0    Type = 8
	TypeQ8_1    Type = 9
	TypeQ2_K    Type = 10
	TypeQ3_K    Type = 11
	TypeQ4_K    Type = 12
	TypeQ5_K    Type = 13
	TypeQ6_K    Type = 14
	TypeQ8_K    Type = 15
	TypeIQ2_XXS Type = 16
	TypeIQ2_XS  Type = 17
	TypeIQ3_XXS Type = 18
	TypeIQ1_S   Type = 19
	TypeIQ4_NL  Type = 20
	TypeIQ3_S   Type = 21
	TypeIQ2_S   Type = 22
	TypeIQ4_XS  Type = 23
	TypeI8      Type = 24
	TypeI16     Type = 25
	TypeI32     Type = 26
	TypeI64     Type = 27
	TypeF64     Type = 28
	TypeIQ1_M   Type = 29
	TypeBF16    Type = 30
	TypeTQ1_0   Type = 34
	TypeTQ2_0   Type = 35
	TypeMXFP4   Type = 39
)

// The engine's own tensor types: 1024 + the quant.Format value.
const (
	TypeInt8 Type = 1026
	TypeInt4 Type = 1027
	TypeInt2 Type = 1028
)

// MaxDims is the largest number of dimensions a tensor may have (ggml's
// GGML_MAX_DIMS).
const MaxDims = 4

// MaxNameLen is the longest tensor name in bytes (ggml's GGML_MAX_NAME
// less the terminating NUL).
const MaxNameLen = 63

// String returns the type's ggml name ("f32", "q8_0", "q4_K") or the
// engine format's name ("int2"), or "type(N)" for unknown ids.
func (t Type) String() string {
	if f, ok := t.engineFormat(); ok {
		return f.String()
	}
	if g := quant.GGMLType(t); g.Known() {
		return g.String()
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// Known reports whether the type's block geometry is known.
func (t Type) Known() bool {
	_, ok := t.engineFormat()
	return ok || quant.GGMLType(t).Known()
}

// BlockSize returns the number of elements per block (1 for plain types),
// or 0 for unknown types. ggml's types take their geometry from
// quant.GGMLType.
func (t Type) BlockSize() int {
	if _, ok := t.engineFormat(); ok {
		return quant.GroupSize
	}
	return quant.GGMLType(t).BlockSize()
}

// TypeSize returns the bytes one block occupies, or 0 for unknown types.
func (t Type) TypeSize() int {
	if f, ok := t.engineFormat(); ok {
		return f.GroupBytes()
	}
	return quant.GGMLType(t).TypeSize()
}

// engineFormat returns the engine's own grouped format of an engine type id.
func (t Type) engineFormat() (quant.Format, bool) {
	switch t {
	case TypeInt8:
		return quant.Int8, true
	case TypeInt4:
		return quant.Int4, true
	case TypeInt2:
		return quant.Int2, true
	}
	return 0, false
}

// Format returns the engine format stored with this type, if any: F32,
// F16 and the engine's own Int8/Int4/Int2 types have one.
func (t Type) Format() (quant.Format, bool) {
	switch t {
	case TypeF32:
		return quant.F32, true
	case TypeF16:
		return quant.F16, true
	case TypeInt8:
		return quant.Int8, true
	case TypeInt4:
		return quant.Int4, true
	case TypeInt2:
		return quant.Int2, true
	}
	return 0, false
}

// TypeOf returns the tensor type that stores the engine format f.
func TypeOf(f quant.Format) (Type, error) {
	switch f {
	case quant.F32:
		return TypeF32, nil
	case quant.F16:
		return TypeF16, nil
	case quant.Int8:
		return TypeInt8, nil
	case quant.Int4:
		return TypeInt4, nil
	case quant.Int2:
		return TypeInt2, nil
	}
	return 0, fmt.Errorf("gguf: no tensor type for engine format %s", f)
}

// TensorBytes returns the bytes a tensor of type t with dims (ne0 first)
// occupies. It fails for unknown types, more than MaxDims dims, a row width
// ne0 that is not a multiple of the type's block size, and sizes that
// overflow.
func TensorBytes(t Type, dims []uint64) (uint64, error) {
	if !t.Known() {
		return 0, fmt.Errorf("unknown tensor type id %d", uint32(t))
	}
	blockSize, typeSize := uint64(t.BlockSize()), uint64(t.TypeSize())
	if len(dims) > MaxDims {
		return 0, fmt.Errorf("%d dimensions, at most %d allowed", len(dims), MaxDims)
	}
	elems := uint64(1)
	for i, n := range dims {
		hi, lo := bits.Mul64(elems, n)
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("dims %v: element count overflows at ne%d", dims, i)
		}
		elems = lo
	}
	ne0 := uint64(1)
	if len(dims) > 0 {
		ne0 = dims[0]
	}
	if ne0%blockSize != 0 {
		return 0, fmt.Errorf("%s row width ne0 = %d is not a multiple of the block size %d", t, ne0, blockSize)
	}
	if ne0 == 0 {
		return 0, nil
	}
	rows := elems / ne0
	hi, rowBytes := bits.Mul64(ne0/blockSize, typeSize)
	hi2, size := bits.Mul64(rowBytes, rows)
	if hi != 0 || hi2 != 0 || size > math.MaxInt64 {
		return 0, fmt.Errorf("dims %v: %s byte size overflows", dims, t)
	}
	return size, nil
}
