package quant

import (
	"fmt"
	"math"

	"github.com/x448/float16"
)

// Int2 row layout, n weights (n = 32·G):
//
//	[0, n/4)            2-bit codes; group g is bytes [8g, 8g+8); byte j of a
//	                    group holds weights j, j+8, j+16, j+24 of the group in
//	                    bits 1..0, 3..2, 5..4, 7..6
//	[n/4, n/4+G)        one ScaleCode d per group
//	[n/4+G, n/4+2G)     one int8 offset code m per group
//
// weight = d · (q + m/16), q in 0..3: 10 bytes per 32 weights, 2.5 bits per weight.
//
// Int4 row layout, n weights:
//
//	[0, n/2)            4-bit codes; group g is bytes [16g, 16g+16); byte j of a
//	                    group holds weight j in its low nibble and j+16 in its high nibble
//	[n/2, n/2+G)        one ScaleCode d per group
//	[n/2+G, n/2+2G)     one int8 offset code m per group
//
// weight = d · (q + m/4), q in 0..15: 18 bytes per 32 weights, 4.5 bits per weight.
//
// Int8 row layout, n weights:
//
//	[0, n)              8-bit unsigned codes, in order
//	[n, n+G)            one ScaleCode d per group
//
// weight = d · (q - 128), q in 0..255: 33 bytes per 32 weights, 8.25 bits per weight.

// OffsetUnit returns the value of one offset code step, in units of the
// group scale (1/16 for Int2, 1/4 for Int4), and 0 for formats without offsets.
func (f Format) OffsetUnit() float32 {
	switch f {
	case Int2:
		return 1.0 / 16
	case Int4:
		return 1.0 / 4
	}
	return 0
}

// Row is a view of one encoded row of a grouped format.
type Row struct {
	Format Format
	N      int    // weights in the row
	Data   []byte // exactly RowBytes(N) bytes
}

// NewRow checks that data holds one row of n weights in format f.
func NewRow(f Format, n int, data []byte) (Row, error) {
	want, err := f.RowBytes(n)
	if err != nil {
		return Row{}, err
	}
	if len(data) != want {
		return Row{}, fmt.Errorf("quant: %s row of %d weights needs %d bytes, got %d", f, n, want, len(data))
	}
	return Row{Format: f, N: n, Data: data}, nil
}

// Groups returns the number of groups in the row.
func (r Row) Groups() int { return r.N / GroupSize }

// Codes returns the code section of the row.
func (r Row) Codes() []byte { return r.Data[:r.Format.codeBytes(r.N)] }

// Scales returns the per-group scale codes.
func (r Row) Scales() []byte {
	c := r.Format.codeBytes(r.N)
	return r.Data[c : c+r.Groups()]
}

// Offsets returns the per-group offset codes (nil for Int8).
func (r Row) Offsets() []byte {
	if r.Format == Int8 {
		return nil
	}
	c := r.Format.codeBytes(r.N) + r.Groups()
	return r.Data[c : c+r.Groups()]
}

// Code returns the unsigned code of weight i.
func (r Row) Code(i int) uint8 {
	g, j := i/GroupSize, i%GroupSize
	switch r.Format {
	case Int2:
		return r.Data[8*g+j%8] >> (2 * (j / 8)) & 3
	case Int4:
		return r.Data[16*g+j%16] >> (4 * (j / 16)) & 15
	default:
		return r.Data[i]
	}
}

// setCode stores the unsigned code of weight i (which must fit the format).
func (r Row) setCode(i int, q uint8) {
	g, j := i/GroupSize, i%GroupSize
	switch r.Format {
	case Int2:
		b, s := &r.Data[8*g+j%8], 2*(j/8)
		*b = *b&^(3<<s) | q<<s
	case Int4:
		b, s := &r.Data[16*g+j%16], 4*(j/16)
		*b = *b&^(15<<s) | q<<s
	default:
		r.Data[i] = q
	}
}

// GroupScale returns group g's scale d and offset o, so that weight = d·(q+o).
func (r Row) GroupScale(g int) (d, o float32) {
	d = ScaleCode(r.Scales()[g]).Float()
	if r.Format == Int8 {
		return d, -128
	}
	return d, float32(int8(r.Offsets()[g])) * r.Format.OffsetUnit()
}

// DequantizeRowRef decodes a grouped row into dst (len(dst) == r.N).
func DequantizeRowRef(r Row, dst []float32) {
	for g := 0; g < r.Groups(); g++ {
		d, o := r.GroupScale(g)
		for j := 0; j < GroupSize; j++ {
			i := g*GroupSize + j
			dst[i] = d * (float32(r.Code(i)) + o)
		}
	}
}

// DecodeF16 converts little-endian IEEE half floats to float32.
func DecodeF16(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = float16.Frombits(uint16(src[2*i]) | uint16(src[2*i+1])<<8).Float32()
	}
}

// EncodeF16 converts float32 values to little-endian IEEE half floats
// (round to nearest even).
func EncodeF16(src []float32, dst []byte) {
	for i, v := range src {
		h := float16.Fromfloat32(v).Bits()
		dst[2*i], dst[2*i+1] = byte(h), byte(h>>8)
	}
}

// DecodeF32 converts little-endian float32 bytes to float32 values.
func DecodeF32(src []byte, dst []float32) {
	for i := range dst {
		dst[i] = math.Float32frombits(uint32(src[4*i]) | uint32(src[4*i+1])<<8 | uint32(src[4*i+2])<<16 | uint32(src[4*i+3])<<24)
	}
}
