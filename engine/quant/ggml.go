package quant

import (
	"fmt"
	"math"

	"github.com/x448/float16"
)

// GGMLType is a tensor element type of llama.cpp's ggml library, with the
// numeric ids used in GGUF files (enum ggml_type). Only the types with a
// constant below can be decoded; String names every id ggml defines.
//
// A ggml tensor row of n elements is stored as n/BlockSize blocks of
// TypeSize bytes each, laid out one after the other with no padding; all
// multi-byte fields are little endian and "f16" means an IEEE 754 half.
type GGMLType uint32

// The ggml types this package decodes. The quantized ones store blocks
// whose layout is written down beside their Block types.
const (
	GGMLF32  GGMLType = 0  // one little-endian IEEE float32 per element: 32 bits per weight
	GGMLF16  GGMLType = 1  // one little-endian IEEE half per element: 16 bits per weight
	GGMLQ4_0 GGMLType = 2  // blocks of 32: see BlockQ4_0
	GGMLQ8_0 GGMLType = 8  // blocks of 32: see BlockQ8_0
	GGMLQ2_K GGMLType = 10 // blocks of 256: see BlockQ2_K
	GGMLQ4_K GGMLType = 12 // blocks of 256: see BlockQ4_K
	GGMLQ6_K GGMLType = 14 // blocks of 256: see BlockQ6_K
	GGMLBF16 GGMLType = 30 // one little-endian bfloat16 (the top half of a float32) per element: 16 bits per weight
)

// ggmlGeometry is the storage of one ggml type: its name (type_name in
// ggml's type traits), elements per block and bytes per block.
type ggmlGeometry struct {
	name                string
	blockSize, typeSize int
}

// ggmlTypes lists every type id ggml defines (retired ids are absent), so
// that files holding types this package cannot decode can still be sized
// and skipped.
var ggmlTypes = map[GGMLType]ggmlGeometry{
	0: {"f32", 1, 4}, 1: {"f16", 1, 2}, 2: {"q4_0", 32, 18}, 3: {"q4_1", 32, 20},
	6: {"q5_0", 32, 22}, 7: {"q5_1", 32, 24}, 8: {"q8_0", 32, 34}, 9: {"q8_1", 32, 36},
	10: {"q2_K", 256, 84}, 11: {"q3_K", 256, 110}, 12: {"q4_K", 256, 144}, 13: {"q5_K", 256, 176},
	14: {"q6_K", 256, 210}, 15: {"q8_K", 256, 292}, 16: {"iq2_xxs", 256, 66}, 17: {"iq2_xs", 256, 74},
	18: {"iq3_xxs", 256, 98}, 19: {"iq1_s", 256, 50}, 20: {"iq4_nl", 32, 18}, 21: {"iq3_s", 256, 110},
	22: {"iq2_s", 256, 82}, 23: {"iq4_xs", 256, 136}, 24: {"i8", 1, 1}, 25: {"i16", 1, 2},
	26: {"i32", 1, 4}, 27: {"i64", 1, 8}, 28: {"f64", 1, 8}, 29: {"iq1_m", 256, 56},
	30: {"bf16", 1, 2}, 34: {"tq1_0", 256, 54}, 35: {"tq2_0", 256, 66}, 39: {"mxfp4", 32, 17},
}

// String returns ggml's name of the type (e.g. "q4_K"), or "ggml_type(N)"
// for an id ggml does not define.
func (t GGMLType) String() string {
	if g, ok := ggmlTypes[t]; ok {
		return g.name
	}
	return fmt.Sprintf("ggml_type(%d)", uint32(t))
}

// Known reports whether ggml defines the type id (so its size is known),
// whether or not this package decodes it.
func (t GGMLType) Known() bool {
	_, ok := ggmlTypes[t]
	return ok
}

// ggmlCodecs holds the decoder of each decodable type, which for the
// quantized types decodes exactly one block (src holds TypeSize bytes, dst
// BlockSize elements) and for the float types (block size 1) any number of
// elements.
var ggmlCodecs = map[GGMLType]func(src []byte, dst []float32){
	GGMLF32:  DecodeF32,
	GGMLF16:  DecodeF16,
	GGMLBF16: decodeBF16,
	GGMLQ4_0: func(s []byte, d []float32) { decodeBlockQ4_0(s).Dequantize((*[QK4_0]float32)(d)) },
	GGMLQ8_0: func(s []byte, d []float32) { decodeBlockQ8_0(s).Dequantize((*[QK8_0]float32)(d)) },
	GGMLQ2_K: func(s []byte, d []float32) { decodeBlockQ2_K(s).Dequantize((*[QK_K]float32)(d)) },
	GGMLQ4_K: func(s []byte, d []float32) { decodeBlockQ4_K(s).Dequantize((*[QK_K]float32)(d)) },
	GGMLQ6_K: func(s []byte, d []float32) { decodeBlockQ6_K(s).Dequantize((*[QK_K]float32)(d)) },
}

// Supported reports whether DequantizeGGML can decode the type.
func (t GGMLType) Supported() bool {
	_, ok := ggmlCodecs[t]
	return ok
}

// BlockSize returns the number of elements in one block of the type (1 for
// the plain types), or 0 if ggml does not define the type.
func (t GGMLType) BlockSize() int { return ggmlTypes[t].blockSize }

// TypeSize returns the bytes one block of the type occupies, or 0 if ggml
// does not define the type.
func (t GGMLType) TypeSize() int { return ggmlTypes[t].typeSize }

// BitsPerWeight returns the storage cost per element, block scales
// included, or 0 if ggml does not define the type.
func (t GGMLType) BitsPerWeight() float64 {
	c, ok := ggmlTypes[t]
	if !ok {
		return 0
	}
	return float64(8*c.typeSize) / float64(c.blockSize)
}

// RowBytes returns the bytes n elements of the type occupy, or an error if
// ggml does not define the type or n is negative or not a multiple of the
// block size.
func (t GGMLType) RowBytes(n int) (int, error) {
	c, ok := ggmlTypes[t]
	if !ok {
		return 0, fmt.Errorf("quant: ggml type %s is not known", t)
	}
	if n < 0 || n%c.blockSize != 0 {
		return 0, fmt.Errorf("quant: %s: %d elements is not a non-negative multiple of the block size %d", t, n, c.blockSize)
	}
	return n / c.blockSize * c.typeSize, nil
}

// DequantizeGGML decodes len(dst) elements of type t from src, which must
// hold exactly t.RowBytes(len(dst)) bytes (a row, or a whole tensor: blocks
// never straddle rows). It returns an error naming the type and the problem
// if the type is not supported, len(dst) is not a multiple of the block
// size, or src is too short or too long; callers add the tensor's name.
//
// The results are those of ggml's scalar dequantize_row_* functions
// evaluated in float32 with every product and difference rounded
// separately (no fused multiply-add).
func DequantizeGGML(t GGMLType, src []byte, dst []float32) error {
	decode, ok := ggmlCodecs[t]
	if !ok {
		return fmt.Errorf("quant: ggml type %s cannot be decoded (decodable: f32, f16, bf16, q4_0, q8_0, q2_K, q4_K, q6_K)", t)
	}
	want, err := t.RowBytes(len(dst))
	if err != nil {
		return err
	}
	if len(src) != want {
		return fmt.Errorf("quant: %s: %d elements need %d bytes, got %d (%s)", t, len(dst), want, len(src), truncatedOrLong(len(src), want))
	}
	bs, ts := t.BlockSize(), t.TypeSize()
	if bs == 1 {
		decode(src, dst) // the float decoders take whole rows
		return nil
	}
	for i := 0; i < len(dst)/bs; i++ {
		decode(src[i*ts:(i+1)*ts], dst[i*bs:(i+1)*bs])
	}
	return nil
}

// truncatedOrLong describes a buffer of got bytes where want were expected.
func truncatedOrLong(got, want int) string {
	if got < want {
		return "buffer truncated"
	}
	return "buffer has trailing bytes"
}

// decodeBF16 converts little-endian bfloat16 values to float32: a bfloat16
// is the upper 16 bits of a float32, so the conversion is exact.
func decodeBF16(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = math.Float32frombits(uint32(le16(src[2*i:])) << 16)
	}
}

// le16 reads a little-endian uint16 from the first two bytes of b.
func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

// f16 converts IEEE half bits to float32 (exact, including subnormals,
// infinities and NaN).
func f16(h uint16) float32 { return float16.Frombits(h).Float32() }

// QK4_0 and QK8_0 are the block sizes of Q4_0 and Q8_0.
const (
	QK4_0 = 32
	QK8_0 = 32
)

// BlockQ4_0Size is the byte size of a BlockQ4_0.
const BlockQ4_0Size = 2 + QK4_0/2

// BlockQ4_0 is one block of ggml's Q4_0: 32 weights, 18 bytes, 4.5 bits
// per weight.
//
//	offset size  field
//	0      2     D   f16 scale
//	2      16    Qs  4-bit codes: byte j holds weight j in its low nibble
//	                 and weight j+16 in its high nibble
//
// weight = (q - 8) · D, q in 0..15.
type BlockQ4_0 struct {
	D  uint16
	Qs [QK4_0 / 2]uint8
}

// decodeBlockQ4_0 reads a block from the first BlockQ4_0Size bytes of b.
func decodeBlockQ4_0(b []byte) (blk BlockQ4_0) {
	blk.D = le16(b)
	copy(blk.Qs[:], b[2:BlockQ4_0Size])
	return blk
}

// Dequantize writes the block's 32 weights to dst.
func (b BlockQ4_0) Dequantize(dst *[QK4_0]float32) {
	d := f16(b.D)
	for j, q := range b.Qs {
		dst[j] = float32(int(q&15)-8) * d
		dst[j+QK4_0/2] = float32(int(q>>4)-8) * d
	}
}

// BlockQ8_0Size is the byte size of a BlockQ8_0.
const BlockQ8_0Size = 2 + QK8_0

// BlockQ8_0 is one block of ggml's Q8_0: 32 weights, 34 bytes, 8.5 bits
// per weight.
//
//	offset size  field
//	0      2     D   f16 scale
//	2      32    Qs  int8 codes of weights 0..31, in order
//
// weight = q · D, q in -128..127 (the reference quantizer uses -127..127).
type BlockQ8_0 struct {
	D  uint16
	Qs [QK8_0]int8
}

// decodeBlockQ8_0 reads a block from the first BlockQ8_0Size bytes of b.
func decodeBlockQ8_0(b []byte) (blk BlockQ8_0) {
	blk.D = le16(b)
	for j := range blk.Qs {
		blk.Qs[j] = int8(b[2+j])
	}
	return blk
}

// put writes the block to the first BlockQ8_0Size bytes of b.
func (b BlockQ8_0) put(dst []byte) {
	dst[0], dst[1] = byte(b.D), byte(b.D>>8)
	for j, q := range b.Qs {
		dst[2+j] = byte(q)
	}
}

// Dequantize writes the block's 32 weights to dst.
func (b BlockQ8_0) Dequantize(dst *[QK8_0]float32) {
	d := f16(b.D)
	for j, q := range b.Qs {
		dst[j] = float32(q) * d
	}
}

// QuantizeQ8_0Ref quantizes src into Q8_0 blocks in dst exactly as ggml's
// reference quantizer (quantize_row_q8_0_ref, which llama-quantize uses for
// Q8_0): per block of 32, d = max|x|/127 in float32, stored as the nearest
// f16 (ties to even; an overflow gives infinity, as in ggml), and each code
// is x·(1/d) rounded half away from zero, computed with the unrounded d
// (codes are 0 when d is 0). len(src) must be a multiple of 32 and dst
// exactly len(src)/32·BlockQ8_0Size bytes; src must not hold NaN or
// infinities.
func QuantizeQ8_0Ref(src []float32, dst []byte) error {
	want, err := GGMLQ8_0.RowBytes(len(src))
	if err != nil {
		return err
	}
	if len(dst) != want {
		return fmt.Errorf("quant: q8_0: %d elements need %d bytes, got %d", len(src), want, len(dst))
	}
	if len(src) == 0 {
		return nil
	}
	// The engine's Q8 activation quantizer computes the same d and codes.
	q, err := NewQ8(len(src))
	if err != nil {
		return fmt.Errorf("quant: q8_0: %w", err)
	}
	if err := QuantizeQ8Ref(src, q); err != nil {
		return fmt.Errorf("quant: q8_0: %w", err)
	}
	for g := range q.D {
		blk := BlockQ8_0{D: float16.Fromfloat32(q.D[g]).Bits()}
		copy(blk.Qs[:], q.Qs[g*QK8_0:(g+1)*QK8_0])
		blk.put(dst[g*BlockQ8_0Size:])
	}
	return nil
}
