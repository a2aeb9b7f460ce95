package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Caps on lengths read from a file, on top of the check that every count
// fits in the bytes left in the file. They keep a corrupt header from
// allocating more than a few hundred megabytes.
const (
	maxKeyLen    = 1 << 16 // metadata key bytes
	maxStringLen = 1 << 28 // string value bytes
	maxArrayLen  = 1 << 24 // array elements
	chunkBytes   = 1 << 16 // numeric arrays are decoded this many bytes at a time
)

// decoder reads the header of a GGUF file either from memory (src) or
// through a buffered reader (br), tracking the offset for error messages.
type decoder struct {
	name    string
	src     []byte        // the whole file, or nil
	br      *bufio.Reader // used when src is nil
	size    uint64        // file size
	off     uint64        // current offset
	scratch []byte        // read buffer in reader mode
}

func newDecoder(name string, src []byte, ra io.ReaderAt, size uint64) *decoder {
	d := &decoder{name: name, src: src, size: size}
	if src == nil {
		d.br = bufio.NewReaderSize(io.NewSectionReader(ra, 0, int64(size)), chunkBytes)
	}
	return d
}

// errorf returns an error naming the file and the current offset.
func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("gguf: %s: offset %d: %w", d.name, d.off, fmt.Errorf(format, args...))
}

// peekMagic returns the first four bytes of the file (which must have
// them) without consuming them; it is only called at offset 0.
func (d *decoder) peekMagic() []byte {
	if d.src != nil {
		return d.src[:4]
	}
	b, err := d.br.Peek(4)
	if err != nil {
		return nil
	}
	return b
}

// left returns the number of bytes after the current offset.
func (d *decoder) left() uint64 { return d.size - d.off }

// next consumes n bytes and returns them; the slice is only valid until the
// next call in reader mode.
func (d *decoder) next(n uint64, what string) ([]byte, error) {
	if n > d.left() {
		return nil, fmt.Errorf("%w: %s needs %d bytes, %d left", io.ErrUnexpectedEOF, what, n, d.left())
	}
	if d.src != nil {
		b := d.src[d.off : d.off+n]
		d.off += n
		return b, nil
	}
	if uint64(cap(d.scratch)) < n {
		d.scratch = make([]byte, n)
	}
	b := d.scratch[:n]
	if _, err := io.ReadFull(d.br, b); err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	d.off += n
	return b, nil
}

func (d *decoder) u32(what string) (uint32, error) {
	b, err := d.next(4, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (d *decoder) u64(what string) (uint64, error) {
	b, err := d.next(8, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

// str reads a string (uint64 length + bytes) of at most max bytes.
func (d *decoder) str(what string, max uint64) (string, error) {
	n, err := d.u64(what + " length")
	if err != nil {
		return "", err
	}
	if n > max {
		return "", fmt.Errorf("%s length %d exceeds the limit of %d bytes", what, n, max)
	}
	b, err := d.next(n, what)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// value reads a value of type t (not an array element of an array).
func (d *decoder) value(t ValueType) (Value, error) {
	switch t {
	case ValueString:
		s, err := d.str("string value", maxStringLen)
		if err != nil {
			return Value{}, err
		}
		return Value{typ: ValueString, v: s}, nil
	case ValueArray:
		return d.array()
	}
	size := t.size()
	if size <= 0 {
		return Value{}, fmt.Errorf("unknown value type %d", uint32(t))
	}
	b, err := d.next(uint64(size), t.String()+" value")
	if err != nil {
		return Value{}, err
	}
	v, err := scalar(t, b)
	if err != nil {
		return Value{}, err
	}
	return Value{typ: t, v: v}, nil
}

// scalar decodes one fixed-size value of type t from b.
func scalar(t ValueType, b []byte) (any, error) {
	le := binary.LittleEndian
	switch t {
	case ValueUint8:
		return b[0], nil
	case ValueInt8:
		return int8(b[0]), nil
	case ValueBool:
		if b[0] > 1 {
			return nil, fmt.Errorf("bool value %d is not 0 or 1", b[0])
		}
		return b[0] == 1, nil
	case ValueUint16:
		return le.Uint16(b), nil
	case ValueInt16:
		return int16(le.Uint16(b)), nil
	case ValueUint32:
		return le.Uint32(b), nil
	case ValueInt32:
		return int32(le.Uint32(b)), nil
	case ValueFloat32:
		return math.Float32frombits(le.Uint32(b)), nil
	case ValueUint64:
		return le.Uint64(b), nil
	case ValueInt64:
		return int64(le.Uint64(b)), nil
	case ValueFloat64:
		return math.Float64frombits(le.Uint64(b)), nil
	}
	return nil, fmt.Errorf("unknown value type %d", uint32(t))
}

// array reads an array value (element type, count, elements).
func (d *decoder) array() (Value, error) {
	et, err := d.u32("array element type")
	if err != nil {
		return Value{}, err
	}
	elem := ValueType(et)
	n, err := d.u64("array length")
	if err != nil {
		return Value{}, err
	}
	size := elem.size()
	switch {
	case elem == ValueArray:
		return Value{}, fmt.Errorf("nested arrays are not supported")
	case size < 0:
		return Value{}, fmt.Errorf("unknown array element type %d", et)
	case elem == ValueString:
		size = 8 // at least the length of each string
	}
	if n > d.left()/uint64(size) {
		return Value{}, fmt.Errorf("array of %d %s needs at least %d bytes per element, %d left: %w",
			n, elem, size, d.left(), io.ErrUnexpectedEOF)
	}
	if n > maxArrayLen {
		return Value{}, fmt.Errorf("array length %d exceeds the limit of %d elements", n, maxArrayLen)
	}
	if elem == ValueString {
		out := make([]string, n)
		for i := range out {
			if out[i], err = d.str(fmt.Sprintf("array element %d", i), maxStringLen); err != nil {
				return Value{}, err
			}
		}
		return arrayValue(ValueString, out), nil
	}
	var a any
	switch elem {
	case ValueUint8:
		a, err = decodeArray[uint8](d, elem, n)
	case ValueInt8:
		a, err = decodeArray[int8](d, elem, n)
	case ValueBool:
		a, err = decodeArray[bool](d, elem, n)
	case ValueUint16:
		a, err = decodeArray[uint16](d, elem, n)
	case ValueInt16:
		a, err = decodeArray[int16](d, elem, n)
	case ValueUint32:
		a, err = decodeArray[uint32](d, elem, n)
	case ValueInt32:
		a, err = decodeArray[int32](d, elem, n)
	case ValueFloat32:
		a, err = decodeArray[float32](d, elem, n)
	case ValueUint64:
		a, err = decodeArray[uint64](d, elem, n)
	case ValueInt64:
		a, err = decodeArray[int64](d, elem, n)
	case ValueFloat64:
		a, err = decodeArray[float64](d, elem, n)
	}
	if err != nil {
		return Value{}, err
	}
	return arrayValue(elem, a), nil
}

// decodeArray reads n fixed-size elements of type elem, whose Go type is T,
// a chunk at a time.
func decodeArray[T any](d *decoder, elem ValueType, n uint64) ([]T, error) {
	size := uint64(elem.size())
	out := make([]T, n)
	for i := uint64(0); i < n; {
		k := min(n-i, chunkBytes/size)
		b, err := d.next(k*size, fmt.Sprintf("array elements %d..%d", i, i+k-1))
		if err != nil {
			return nil, err
		}
		for j := range k {
			v, err := scalar(elem, b[j*size:])
			if err != nil {
				return nil, fmt.Errorf("array element %d: %w", i+j, err)
			}
			out[i+j] = v.(T)
		}
		i += k
	}
	return out, nil
}
