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

// typeInfo is the storage geometry of one tensor type.
type typeInfo struct {
	name      string
	blockSize uint64 // weights per block
	typeSize  uint64 // bytes per block
}

// typeInfos is the read-only table of known tensor types.
var typeInfos = map[Type]typeInfo{
	TypeF32:     {"f32", 1, 4},
	TypeF16:     {"f16", 1, 2},
	TypeQ4_0:    {"q4_0", 32, 18},
	TypeQ4_1:    {"q4_1", 32, 20},
	TypeQ5_0:    {"q5_0", 32, 22},
	TypeQ5_1:    {"q5_1", 32, 24},
	TypeQ8_0:    {"q8_0", 32, 34},
	TypeQ8_1:    {"q8_1", 32, 36},
	TypeQ2_K:    {"q2_K", 256, 84},
	TypeQ3_K:    {"q3_K", 256, 110},
	TypeQ4_K:    {"q4_K", 256, 144},
	TypeQ5_K:    {"q5_K", 256, 176},
	TypeQ6_K:    {"q6_K", 256, 210},
	TypeQ8_K:    {"q8_K", 256, 292},
	TypeIQ2_XXS: {"iq2_xxs", 256, 66},
	TypeIQ2_XS:  {"iq2_xs", 256, 74},
	TypeIQ3_XXS: {"iq3_xxs", 256, 98},
	TypeIQ1_S:   {"iq1_s", 256, 50},
	TypeIQ4_NL:  {"iq4_nl", 32, 18},
	TypeIQ3_S:   {"iq3_s", 256, 110},
	TypeIQ2_S:   {"iq2_s", 256, 82},
	TypeIQ4_XS:  {"iq4_xs", 256, 136},
	TypeI8:      {"i8", 1, 1},
	TypeI16:     {"i16", 1, 2},
	TypeI32:     {"i32", 1, 4},
	TypeI64:     {"i64", 1, 8},
	TypeF64:     {"f64", 1, 8},
	TypeIQ1_M:   {"iq1_m", 256, 56},
	TypeBF16:    {"bf16", 1, 2},
	TypeTQ1_0:   {"tq1_0", 256, 54},
	TypeTQ2_0:   {"tq2_0", 256, 66},
	TypeMXFP4:   {"mxfp4", 32, 17},
	TypeInt8:    {"int8", quant.GroupSize, quant.GroupSize + 1},
	TypeInt4:    {"int4", quant.GroupSize, quant.GroupSize/2 + 2},
	TypeInt2:    {"int2", quant.GroupSize, quant.GroupSize/4 + 2},
}

// String returns the type's ggml name ("f32", "q8_0", "q4_K") or the
// engine format's name ("int2"), or "type(N)" for unknown ids.
func (t Type) String() string {
	if ti, ok := typeInfos[t]; ok {
		return ti.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// Known reports whether the package knows the type's block geometry.
func (t Type) Known() bool {
	_, ok := typeInfos[t]
	return ok
}

// BlockSize returns the number of elements per block (1 for plain types),
// or 0 for unknown types.
func (t Type) BlockSize() int { return int(typeInfos[t].blockSize) }

// TypeSize returns the bytes one block occupies, or 0 for unknown types.
func (t Type) TypeSize() int { return int(typeInfos[t].typeSize) }

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
	ti, ok := typeInfos[t]
	if !ok {
		return 0, fmt.Errorf("unknown tensor type id %d", uint32(t))
	}
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
	if ne0%ti.blockSize != 0 {
		return 0, fmt.Errorf("%s row width ne0 = %d is not a multiple of the block size %d", ti.name, ne0, ti.blockSize)
	}
	if ne0 == 0 {
		return 0, nil
	}
	rows := elems / ne0
	hi, rowBytes := bits.Mul64(ne0/ti.blockSize, ti.typeSize)
	hi2, size := bits.Mul64(rowBytes, rows)
	if hi != 0 || hi2 != 0 || size > math.MaxInt64 {
		return 0, fmt.Errorf("dims %v: %s byte size overflows", dims, ti.name)
	}
	return size, nil
}
