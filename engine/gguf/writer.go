package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
)

// Writer builds a GGUF v3 file: metadata and tensors are added in order,
// then WriteTo or WriteFile writes the header followed by the aligned
// tensor data. The alignment is DefaultAlignment unless a general.alignment
// entry (a uint32 power of two) is added.
type Writer struct {
	kvs       []KV
	keys      map[string]bool
	tensors   []pendingTensor
	names     map[string]bool
	alignment uint64
	dataSize  uint64 // bytes of the data section so far, padding included
}

// pendingTensor is a tensor to write: its info and its bytes or a function
// that streams them.
type pendingTensor struct {
	info  TensorInfo
	data  []byte
	write func(io.Writer) error
}

// NewWriter returns an empty Writer.
func NewWriter() *Writer {
	return &Writer{keys: map[string]bool{}, names: map[string]bool{}, alignment: DefaultAlignment}
}

// Add appends a metadata entry. Keys must be unique; general.alignment
// must be a uint32 power of two and must come before any tensor.
func (w *Writer) Add(key string, v Value) error {
	if v.v == nil {
		return fmt.Errorf("gguf: writer: metadata key %q: invalid (zero) value", key)
	}
	if len(key) > maxKeyLen {
		return fmt.Errorf("gguf: writer: metadata key of %d bytes exceeds the limit of %d", len(key), maxKeyLen)
	}
	if w.keys[key] {
		return fmt.Errorf("gguf: writer: duplicate metadata key %q", key)
	}
	if err := checkValueLimits(v); err != nil {
		return fmt.Errorf("gguf: writer: metadata key %q: %w", key, err)
	}
	if key == AlignmentKey {
		a, err := alignmentOf(v)
		if err != nil {
			return fmt.Errorf("gguf: writer: %w", err)
		}
		if len(w.tensors) > 0 {
			return fmt.Errorf("gguf: writer: %s must be set before the first tensor", AlignmentKey)
		}
		w.alignment = a
	}
	w.keys[key] = true
	w.kvs = append(w.kvs, KV{Key: key, Value: v})
	return nil
}

// Set appends a metadata entry holding the Go value v (see NewValue).
func (w *Writer) Set(key string, v any) error {
	val, err := NewValue(v)
	if err != nil {
		return fmt.Errorf("gguf: writer: metadata key %q: %w", key, err)
	}
	return w.Add(key, val)
}

// checkValueLimits rejects values the reader would refuse.
func checkValueLimits(v Value) error {
	if n := v.Len(); n > maxArrayLen {
		return fmt.Errorf("array of %d elements exceeds the limit of %d", n, maxArrayLen)
	}
	strs, _ := v.v.([]string)
	if s, ok := v.v.(string); ok {
		strs = []string{s}
	}
	for _, s := range strs {
		if len(s) > maxStringLen {
			return fmt.Errorf("string of %d bytes exceeds the limit of %d", len(s), maxStringLen)
		}
	}
	return nil
}

// AddTensor appends a tensor of type t with dims (ne0 first) whose bytes
// are data; len(data) must be the tensor's size. data is not copied and is
// read when the file is written.
func (w *Writer) AddTensor(name string, dims []uint64, t Type, data []byte) error {
	info, err := w.addInfo(name, dims, t)
	if err != nil {
		return err
	}
	if uint64(len(data)) != info.Size {
		return fmt.Errorf("gguf: writer: tensor %q: %s %v needs %d bytes, got %d", name, t, dims, info.Size, len(data))
	}
	w.commit(pendingTensor{info: info, data: data})
	return nil
}

// AddTensorFunc appends a tensor whose bytes are produced, when the file
// is written, by write; it must write exactly the tensor's size in bytes.
func (w *Writer) AddTensorFunc(name string, dims []uint64, t Type, write func(io.Writer) error) error {
	if write == nil {
		return fmt.Errorf("gguf: writer: tensor %q: nil write function", name)
	}
	info, err := w.addInfo(name, dims, t)
	if err != nil {
		return err
	}
	w.commit(pendingTensor{info: info, write: write})
	return nil
}

// addInfo validates a new tensor and returns its info (offset not yet set).
func (w *Writer) addInfo(name string, dims []uint64, t Type) (TensorInfo, error) {
	if len(name) > MaxNameLen {
		return TensorInfo{}, fmt.Errorf("gguf: writer: tensor name %q is %d bytes, at most %d allowed", name, len(name), MaxNameLen)
	}
	if w.names[name] {
		return TensorInfo{}, fmt.Errorf("gguf: writer: duplicate tensor name %q", name)
	}
	size, err := TensorBytes(t, dims)
	if err != nil {
		return TensorInfo{}, fmt.Errorf("gguf: writer: tensor %q: %w", name, err)
	}
	if w.dataSize+alignUp(size, w.alignment) > math.MaxInt64 {
		return TensorInfo{}, fmt.Errorf("gguf: writer: tensor %q: data section would exceed 2^63 bytes", name)
	}
	return TensorInfo{Name: name, Dims: append(make([]uint64, 0, len(dims)), dims...), Type: t, Size: size}, nil
}

// commit records a validated tensor at the end of the data section.
func (w *Writer) commit(p pendingTensor) {
	p.info.Offset = w.dataSize
	w.dataSize += alignUp(p.info.Size, w.alignment)
	w.names[p.info.Name] = true
	w.tensors = append(w.tensors, p)
}

// header encodes everything before the tensor data, padding excluded.
func (w *Writer) header() []byte {
	b := []byte(magic)
	b = binary.LittleEndian.AppendUint32(b, supportedV3)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(w.tensors)))
	b = binary.LittleEndian.AppendUint64(b, uint64(len(w.kvs)))
	for _, kv := range w.kvs {
		b = appendKV(b, kv)
	}
	for _, t := range w.tensors {
		b = appendTensorInfo(b, t.info)
	}
	return b
}

// WriteTo writes the file to out and returns the bytes written. A file
// without tensors ends right after its header, as llama.cpp's gguf-py
// writes vocab-only files.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	cw := &countingWriter{w: out}
	bw := bufio.NewWriterSize(cw, 1<<20)
	hdr := w.header()
	if _, err := bw.Write(hdr); err != nil {
		return cw.n, fmt.Errorf("gguf: writing header: %w", err)
	}
	if len(w.tensors) > 0 {
		if err := pad(bw, uint64(len(hdr)), w.alignment); err != nil {
			return cw.n, fmt.Errorf("gguf: writing header padding: %w", err)
		}
	}
	for _, t := range w.tensors {
		if err := writeTensor(bw, t); err != nil {
			return cw.n, fmt.Errorf("gguf: tensor %q: %w", t.info.Name, err)
		}
		if err := pad(bw, t.info.Size, w.alignment); err != nil {
			return cw.n, fmt.Errorf("gguf: tensor %q padding: %w", t.info.Name, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return cw.n, fmt.Errorf("gguf: writing: %w", err)
	}
	return cw.n, nil
}

// WriteFile writes the file to path, removing it again if writing fails.
func (w *Writer) WriteFile(path string) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	_, err = w.WriteTo(fh)
	if cerr := fh.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("gguf: closing: %w", cerr)
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("gguf: writing %s: %w", path, err)
	}
	return nil
}

// writeTensor writes one tensor's bytes, checking a streamed tensor's length.
func writeTensor(out io.Writer, t pendingTensor) error {
	if t.write == nil {
		_, err := out.Write(t.data)
		return err
	}
	lw := &limitWriter{w: out, left: t.info.Size}
	if err := t.write(lw); err != nil {
		return err
	}
	if lw.left != 0 {
		return fmt.Errorf("write function wrote %d bytes, want %d", t.info.Size-lw.left, t.info.Size)
	}
	return nil
}

// pad writes zeros from offset n up to the next multiple of align.
func pad(out io.Writer, n, align uint64) error {
	var zeros [256]byte
	for k := alignUp(n, align) - n; k > 0; {
		c := min(k, uint64(len(zeros)))
		if _, err := out.Write(zeros[:c]); err != nil {
			return err
		}
		k -= c
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

func appendKV(b []byte, kv KV) []byte {
	b = appendString(b, kv.Key)
	b = binary.LittleEndian.AppendUint32(b, uint32(kv.Value.typ))
	if kv.Value.typ != ValueArray {
		return appendScalar(b, kv.Value.v)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(kv.Value.elem))
	b = binary.LittleEndian.AppendUint64(b, uint64(kv.Value.Len()))
	arr := reflect.ValueOf(kv.Value.v)
	for i := range arr.Len() {
		b = appendScalar(b, arr.Index(i).Interface())
	}
	return b
}

// appendScalar encodes one scalar or string (a Go value of NewValue's types).
func appendScalar(b []byte, v any) []byte {
	le := binary.LittleEndian
	switch x := v.(type) {
	case uint8:
		return append(b, x)
	case int8:
		return append(b, byte(x))
	case bool:
		if x {
			return append(b, 1)
		}
		return append(b, 0)
	case uint16:
		return le.AppendUint16(b, x)
	case int16:
		return le.AppendUint16(b, uint16(x))
	case uint32:
		return le.AppendUint32(b, x)
	case int32:
		return le.AppendUint32(b, uint32(x))
	case float32:
		return le.AppendUint32(b, math.Float32bits(x))
	case uint64:
		return le.AppendUint64(b, x)
	case int64:
		return le.AppendUint64(b, uint64(x))
	case float64:
		return le.AppendUint64(b, math.Float64bits(x))
	case string:
		return appendString(b, x)
	}
	return b
}

func appendTensorInfo(b []byte, t TensorInfo) []byte {
	b = appendString(b, t.Name)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(t.Dims)))
	for _, d := range t.Dims {
		b = binary.LittleEndian.AppendUint64(b, d)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(t.Type))
	return binary.LittleEndian.AppendUint64(b, t.Offset)
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// errTooMuch is returned when a streamed tensor writes past its size.
var errTooMuch = errors.New("write function wrote more bytes than the tensor's size")

// limitWriter passes at most left bytes through and fails beyond that.
type limitWriter struct {
	w    io.Writer
	left uint64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if uint64(len(p)) > l.left {
		return 0, errTooMuch
	}
	n, err := l.w.Write(p)
	l.left -= uint64(n)
	return n, err
}
