package quant

import "fmt"

// GroupSize is the number of weights that share one scale (and offset) in
// the engine's own formats, and the activation group size of Q8.
const GroupSize = 32

// Format identifies how a matrix's rows are stored.
type Format uint8

// The engine's weight formats.
const (
	F32  Format = iota // 4 bytes per weight, IEEE 754 little endian
	F16                // 2 bytes per weight, IEEE 754 half little endian
	Int8               // 8.25 bits per weight: see Int8 row layout
	Int4               // 4.5 bits per weight: see Int4 row layout
	Int2               // 2.5 bits per weight: see Int2 row layout
)

var formatNames = [...]string{F32: "f32", F16: "f16", Int8: "int8", Int4: "int4", Int2: "int2"}

// String returns the format's lower-case name, as used on the command line.
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("format(%d)", uint8(f))
}

// ParseFormat returns the format with the given name (see Format.String).
func ParseFormat(name string) (Format, error) {
	for f, n := range formatNames {
		if n == name {
			return Format(f), nil
		}
	}
	return 0, fmt.Errorf("quant: unknown format %q (want f32, f16, int8, int4 or int2)", name)
}

// Grouped reports whether the format stores weights in groups of GroupSize
// with a per-group scale, so rows must be a multiple of GroupSize wide.
func (f Format) Grouped() bool { return f == Int8 || f == Int4 || f == Int2 }

// Bits returns the width of one weight's code in bits (excluding scales).
func (f Format) Bits() int {
	switch f {
	case F32:
		return 32
	case F16:
		return 16
	case Int8:
		return 8
	case Int4:
		return 4
	case Int2:
		return 2
	}
	return 0
}

// GroupBytes returns the bytes one group of GroupSize weights occupies,
// scales and offsets included.
func (f Format) GroupBytes() int {
	switch f {
	case F32:
		return 4 * GroupSize
	case F16:
		return 2 * GroupSize
	case Int8:
		return GroupSize + 1
	case Int4:
		return GroupSize/2 + 2
	case Int2:
		return GroupSize/4 + 2
	}
	return 0
}

// BitsPerWeight returns the storage cost per weight, scales included.
func (f Format) BitsPerWeight() float64 {
	return float64(8*f.GroupBytes()) / GroupSize
}

// RowBytes returns the bytes a row of n weights occupies, or an error if
// n is not a valid row width for the format.
func (f Format) RowBytes(n int) (int, error) {
	if f.GroupBytes() == 0 {
		return 0, fmt.Errorf("quant: unknown format %d", uint8(f))
	}
	if n <= 0 {
		return 0, fmt.Errorf("quant: %s row width %d must be positive", f, n)
	}
	if f.Grouped() && n%GroupSize != 0 {
		return 0, fmt.Errorf("quant: %s row width %d is not a multiple of the group size %d", f, n, GroupSize)
	}
	if !f.Grouped() {
		return n * f.Bits() / 8, nil
	}
	return n / GroupSize * f.GroupBytes(), nil
}

// codeBytes returns the size of the code section of a row of n weights.
func (f Format) codeBytes(n int) int { return n * f.Bits() / 8 }
