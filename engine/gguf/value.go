package gguf

import (
	"fmt"
	"reflect"
	"strings"
)

// ValueType is the type tag of a GGUF metadata value.
type ValueType uint32

// GGUF metadata value types (ids as stored in the file).
const (
	ValueUint8   ValueType = 0
	ValueInt8    ValueType = 1
	ValueUint16  ValueType = 2
	ValueInt16   ValueType = 3
	ValueUint32  ValueType = 4
	ValueInt32   ValueType = 5
	ValueFloat32 ValueType = 6
	ValueBool    ValueType = 7
	ValueString  ValueType = 8
	ValueArray   ValueType = 9
	ValueUint64  ValueType = 10
	ValueInt64   ValueType = 11
	ValueFloat64 ValueType = 12
)

var valueTypeNames = [...]string{
	ValueUint8: "uint8", ValueInt8: "int8", ValueUint16: "uint16", ValueInt16: "int16",
	ValueUint32: "uint32", ValueInt32: "int32", ValueFloat32: "float32", ValueBool: "bool",
	ValueString: "string", ValueArray: "array", ValueUint64: "uint64", ValueInt64: "int64",
	ValueFloat64: "float64",
}

// String returns the type's name ("uint32", "string", "array"...).
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("valuetype(%d)", uint32(t))
}

// size returns the encoded size of one value of a fixed-size type, 0 for
// strings and arrays, -1 for unknown types.
func (t ValueType) size() int {
	switch t {
	case ValueUint8, ValueInt8, ValueBool:
		return 1
	case ValueUint16, ValueInt16:
		return 2
	case ValueUint32, ValueInt32, ValueFloat32:
		return 4
	case ValueUint64, ValueInt64, ValueFloat64:
		return 8
	case ValueString, ValueArray:
		return 0
	}
	return -1
}

// Value is one metadata value: a scalar, a string, or an array of scalars
// or strings. The zero Value is invalid.
type Value struct {
	typ  ValueType
	elem ValueType // element type when typ == ValueArray
	v    any       // the Go value, see NewValue
}

// NewValue wraps a Go value as a metadata value. The GGUF type follows the
// Go type: uint8, int8, uint16, int16, uint32, int32, float32, bool, string,
// uint64, int64, float64, or a slice of one of them (an array). The slice is
// not copied.
func NewValue(v any) (Value, error) {
	switch v.(type) {
	case uint8:
		return Value{typ: ValueUint8, v: v}, nil
	case int8:
		return Value{typ: ValueInt8, v: v}, nil
	case uint16:
		return Value{typ: ValueUint16, v: v}, nil
	case int16:
		return Value{typ: ValueInt16, v: v}, nil
	case uint32:
		return Value{typ: ValueUint32, v: v}, nil
	case int32:
		return Value{typ: ValueInt32, v: v}, nil
	case float32:
		return Value{typ: ValueFloat32, v: v}, nil
	case bool:
		return Value{typ: ValueBool, v: v}, nil
	case string:
		return Value{typ: ValueString, v: v}, nil
	case uint64:
		return Value{typ: ValueUint64, v: v}, nil
	case int64:
		return Value{typ: ValueInt64, v: v}, nil
	case float64:
		return Value{typ: ValueFloat64, v: v}, nil
	case []uint8:
		return arrayValue(ValueUint8, v), nil
	case []int8:
		return arrayValue(ValueInt8, v), nil
	case []uint16:
		return arrayValue(ValueUint16, v), nil
	case []int16:
		return arrayValue(ValueInt16, v), nil
	case []uint32:
		return arrayValue(ValueUint32, v), nil
	case []int32:
		return arrayValue(ValueInt32, v), nil
	case []float32:
		return arrayValue(ValueFloat32, v), nil
	case []bool:
		return arrayValue(ValueBool, v), nil
	case []string:
		return arrayValue(ValueString, v), nil
	case []uint64:
		return arrayValue(ValueUint64, v), nil
	case []int64:
		return arrayValue(ValueInt64, v), nil
	case []float64:
		return arrayValue(ValueFloat64, v), nil
	}
	return Value{}, fmt.Errorf("gguf: no metadata value type for Go type %T", v)
}

func arrayValue(elem ValueType, v any) Value {
	return Value{typ: ValueArray, elem: elem, v: v}
}

// Type returns the value's type (ValueArray for arrays).
func (v Value) Type() ValueType { return v.typ }

// ElemType returns the element type of an array value.
func (v Value) ElemType() ValueType { return v.elem }

// Any returns the Go value (see NewValue for the types); arrays are
// returned as the stored slice, which must not be modified.
func (v Value) Any() any { return v.v }

// Len returns the number of elements of an array, or 0 for scalars.
func (v Value) Len() int {
	if v.typ != ValueArray {
		return 0
	}
	return reflect.ValueOf(v.v).Len()
}

// TypeName describes the value's type: "uint32", "string", "[]float32".
func (v Value) TypeName() string {
	if v.v == nil {
		return "invalid value"
	}
	if v.typ == ValueArray {
		return "[]" + v.elem.String()
	}
	return v.typ.String()
}

// String formats the value for display: strings quoted, arrays longer
// than 8 elements abbreviated.
func (v Value) String() string {
	verb := "%v"
	if v.typ == ValueString || v.elem == ValueString {
		verb = "%q"
	}
	if v.typ != ValueArray {
		return fmt.Sprintf(verb, v.v)
	}
	const show = 8
	n := v.Len()
	if n <= show {
		return fmt.Sprintf(verb, v.v)
	}
	head := fmt.Sprintf(verb, reflect.ValueOf(v.v).Slice(0, show).Interface())
	return strings.TrimSuffix(head, "]") + fmt.Sprintf(" ... (%d elements)]", n)
}

// KV is one metadata entry.
type KV struct {
	Key   string
	Value Value
}
