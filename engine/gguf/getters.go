package gguf

import "fmt"

// Get returns the value of a metadata key as the Go type T (see NewValue
// for the mapping of GGUF types to Go types). It fails, naming the file and
// key, when the key is absent (wrapping ErrKeyNotFound) or holds another
// type; there are no conversions between types.
func Get[T any](f *File, key string) (T, error) {
	var zero T
	v, ok := f.Lookup(key)
	if !ok {
		return zero, fmt.Errorf("gguf: %s: metadata key %q: %w", f.name, key, ErrKeyNotFound)
	}
	x, ok := v.v.(T)
	if !ok {
		want := fmt.Sprintf("%T", zero)
		if w, err := NewValue(zero); err == nil {
			want = w.TypeName()
		}
		return zero, fmt.Errorf("gguf: %s: metadata key %q is %s, want %s", f.name, key, v.TypeName(), want)
	}
	return x, nil
}

// String returns a string value.
func (f *File) String(key string) (string, error) { return Get[string](f, key) }

// Bool returns a bool value.
func (f *File) Bool(key string) (bool, error) { return Get[bool](f, key) }

// Uint32 returns a uint32 value.
func (f *File) Uint32(key string) (uint32, error) { return Get[uint32](f, key) }

// Int32 returns an int32 value.
func (f *File) Int32(key string) (int32, error) { return Get[int32](f, key) }

// Uint64 returns a uint64 value.
func (f *File) Uint64(key string) (uint64, error) { return Get[uint64](f, key) }

// Float32 returns a float32 value.
func (f *File) Float32(key string) (float32, error) { return Get[float32](f, key) }

// Strings returns an array of strings (shared with the File: do not modify).
func (f *File) Strings(key string) ([]string, error) { return Get[[]string](f, key) }

// Int32s returns an array of int32 (shared with the File: do not modify).
func (f *File) Int32s(key string) ([]int32, error) { return Get[[]int32](f, key) }

// Uint32s returns an array of uint32 (shared with the File: do not modify).
func (f *File) Uint32s(key string) ([]uint32, error) { return Get[[]uint32](f, key) }

// Float32s returns an array of float32 (shared with the File: do not modify).
func (f *File) Float32s(key string) ([]float32, error) { return Get[[]float32](f, key) }
