package gguf

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"sync"
)

// DefaultAlignment is the tensor data alignment of files without a
// general.alignment key.
const DefaultAlignment = 32

// AlignmentKey is the metadata key that sets the tensor data alignment.
const AlignmentKey = "general.alignment"

// ErrKeyNotFound is wrapped by the metadata getters when a key is absent.
var ErrKeyNotFound = errors.New("key not found")

// minimum encoded sizes, used to reject impossible counts early.
const (
	headerBytes     = 4 + 4 + 8 + 8 // magic, version, tensor count, kv count
	minKVBytes      = 8 + 4 + 1     // empty key, type, smallest value
	minTensorBytes  = 8 + 4 + 4 + 8 // empty name, n_dims 0, type, offset
	magic           = "GGUF"
	supportedV2     = 2
	supportedV3     = 3
	maxAlignmentLog = 31
)

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name   string
	Dims   []uint64 // ne0 (fastest varying) first
	Type   Type
	Offset uint64 // from the start of the tensor data section
	Size   uint64 // bytes
}

// Elements returns the number of elements (the product of Dims).
func (t TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// File is a parsed GGUF file. Its methods may be called concurrently,
// except Close.
type File struct {
	name       string
	version    uint32
	alignment  uint64
	kvs        []KV
	kvIndex    map[string]int
	tensors    []TensorInfo
	tIndex     map[string]int
	dataOffset uint64
	size       uint64

	data []byte      // the whole file (mapping or caller's bytes), or nil
	ra   io.ReaderAt // used when data is nil

	mu     sync.Mutex
	closer func() error // releases the mapping or file, or nil
	closed bool
}

// Open opens and parses the GGUF file at path. The file is mapped
// read-only where the platform allows (TensorData then returns slices of
// the mapping) and read with ReadAt otherwise. Call Close when done.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("gguf: %w", err)
	}
	size := st.Size()
	if data, err := mmapFile(fh, size); err == nil {
		fh.Close() // the mapping outlives the descriptor
		f, err := parse(path, data, nil, uint64(size))
		if err != nil {
			munmap(data)
			return nil, err
		}
		f.closer = func() error { return munmap(data) }
		return f, nil
	}
	f, err := parse(path, nil, fh, uint64(size))
	if err != nil {
		fh.Close()
		return nil, err
	}
	f.closer = fh.Close
	return f, nil
}

// Parse parses a GGUF file held in memory; name is used in error messages.
// TensorData returns slices of data, which must not be modified.
func Parse(name string, data []byte) (*File, error) {
	if data == nil {
		data = []byte{}
	}
	return parse(name, data, nil, uint64(len(data)))
}

// parse reads the header from src (the whole file) or, when src is nil,
// from ra, and checks every tensor against the file size.
func parse(name string, src []byte, ra io.ReaderAt, size uint64) (*File, error) {
	d := newDecoder(name, src, ra, size)
	f := &File{name: name, size: size, data: src, ra: ra, alignment: DefaultAlignment}
	if err := f.readHeader(d); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *File) readHeader(d *decoder) error {
	if d.size >= uint64(len(magic)) && string(d.peekMagic()) != magic {
		return d.errorf("bad magic %q, not a GGUF file", d.peekMagic())
	}
	if d.size < headerBytes {
		return d.errorf("truncated header: file has %d bytes, a GGUF header needs %d", d.size, headerBytes)
	}
	if _, err := d.next(uint64(len(magic)), "magic"); err != nil {
		return d.errorf("%w", err)
	}
	var err error
	if f.version, err = d.u32("version"); err != nil {
		return d.errorf("%w", err)
	}
	switch v := f.version; {
	case v == supportedV2 || v == supportedV3:
	case bits.ReverseBytes32(v) == supportedV2 || bits.ReverseBytes32(v) == supportedV3:
		return d.errorf("unsupported version %#x: big-endian GGUF files are not supported", v)
	default:
		return d.errorf("unsupported GGUF version %d (want 2 or 3)", v)
	}
	nTensors, err := d.u64("tensor count")
	if err != nil {
		return d.errorf("%w", err)
	}
	nKV, err := d.u64("metadata count")
	if err != nil {
		return d.errorf("%w", err)
	}
	if nKV > d.left()/minKVBytes {
		return d.errorf("metadata count %d is impossible with %d bytes left: %w", nKV, d.left(), io.ErrUnexpectedEOF)
	}
	if err := f.readMetadata(d, int(nKV)); err != nil {
		return err
	}
	if nTensors > d.left()/minTensorBytes {
		return d.errorf("tensor count %d is impossible with %d bytes left: %w", nTensors, d.left(), io.ErrUnexpectedEOF)
	}
	if err := f.readTensorInfos(d, int(nTensors)); err != nil {
		return err
	}
	f.dataOffset = alignUp(d.off, f.alignment)
	for _, t := range f.tensors {
		start := f.dataOffset + t.Offset // both are below 2^63: no overflow
		if start > f.size || t.Size > f.size-start {
			return fmt.Errorf("gguf: %s: tensor %q: data [%d, %d) extends past the end of the file (%d bytes)",
				f.name, t.Name, start, start+t.Size, f.size)
		}
	}
	return nil
}

func (f *File) readMetadata(d *decoder, n int) error {
	f.kvs = make([]KV, 0, min(n, 1024))
	f.kvIndex = make(map[string]int, min(n, 1024))
	for i := range n {
		key, err := d.str("metadata key", maxKeyLen)
		if err != nil {
			return d.errorf("metadata entry %d: %w", i, err)
		}
		t, err := d.u32("value type")
		if err != nil {
			return d.errorf("metadata key %q: %w", key, err)
		}
		v, err := d.value(ValueType(t))
		if err != nil {
			return d.errorf("metadata key %q: %w", key, err)
		}
		if _, dup := f.kvIndex[key]; dup {
			return d.errorf("duplicate metadata key %q", key)
		}
		if key == AlignmentKey {
			if f.alignment, err = alignmentOf(v); err != nil {
				return d.errorf("%w", err)
			}
		}
		f.kvIndex[key] = len(f.kvs)
		f.kvs = append(f.kvs, KV{Key: key, Value: v})
	}
	return nil
}

func (f *File) readTensorInfos(d *decoder, n int) error {
	f.tensors = make([]TensorInfo, 0, min(n, 4096))
	f.tIndex = make(map[string]int, min(n, 4096))
	for i := range n {
		name, err := d.str("tensor name", MaxNameLen)
		if err != nil {
			return d.errorf("tensor info %d: %w", i, err)
		}
		t, err := f.readTensorInfo(d, name)
		if err != nil {
			return d.errorf("tensor %q: %w", name, err)
		}
		if _, dup := f.tIndex[name]; dup {
			return d.errorf("duplicate tensor name %q", name)
		}
		f.tIndex[name] = len(f.tensors)
		f.tensors = append(f.tensors, t)
	}
	return nil
}

func (f *File) readTensorInfo(d *decoder, name string) (TensorInfo, error) {
	t := TensorInfo{Name: name}
	nd, err := d.u32("n_dims")
	if err != nil {
		return t, err
	}
	if nd > MaxDims {
		return t, fmt.Errorf("%d dimensions, at most %d allowed", nd, MaxDims)
	}
	t.Dims = make([]uint64, nd)
	for j := range t.Dims {
		if t.Dims[j], err = d.u64("dimension"); err != nil {
			return t, err
		}
	}
	typ, err := d.u32("tensor type")
	if err != nil {
		return t, err
	}
	t.Type = Type(typ)
	if t.Size, err = TensorBytes(t.Type, t.Dims); err != nil {
		return t, err
	}
	if t.Offset, err = d.u64("data offset"); err != nil {
		return t, err
	}
	if t.Offset%f.alignment != 0 || t.Offset > f.size {
		return t, fmt.Errorf("data offset %d is not a multiple of the alignment %d or past the end of the file",
			t.Offset, f.alignment)
	}
	return t, nil
}

// alignmentOf checks a general.alignment value: a uint32 power of two.
func alignmentOf(v Value) (uint64, error) {
	a, ok := v.v.(uint32)
	if !ok {
		return 0, fmt.Errorf("%s is %s, want uint32", AlignmentKey, v.TypeName())
	}
	if a == 0 || a&(a-1) != 0 {
		return 0, fmt.Errorf("%s = %d is not a power of two", AlignmentKey, a)
	}
	return uint64(a), nil
}

// alignUp rounds n up to a multiple of the power of two a.
func alignUp(n, a uint64) uint64 { return (n + a - 1) &^ (a - 1) }

// Name returns the path or name the file was opened with.
func (f *File) Name() string { return f.name }

// Version returns the GGUF version (2 or 3).
func (f *File) Version() uint32 { return f.version }

// Alignment returns the tensor data alignment in bytes.
func (f *File) Alignment() int { return int(f.alignment) }

// DataOffset returns the file offset of the tensor data section (the
// aligned end of the header; past the end of a file without tensors).
func (f *File) DataOffset() int64 { return int64(f.dataOffset) }

// Size returns the file size in bytes.
func (f *File) Size() int64 { return int64(f.size) }

// Metadata returns the metadata entries in file order. The slice is a
// copy; array values share their elements with the File.
func (f *File) Metadata() []KV { return append([]KV(nil), f.kvs...) }

// Lookup returns the value of a metadata key.
func (f *File) Lookup(key string) (Value, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return Value{}, false
	}
	return f.kvs[i].Value, true
}

// Tensors returns the tensor infos in file order (a copy).
func (f *File) Tensors() []TensorInfo { return append([]TensorInfo(nil), f.tensors...) }

// Tensor returns the info of the named tensor.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	i, ok := f.tIndex[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.tensors[i], true
}

// TensorData returns the bytes of the named tensor. For a mapped file (or
// one given to Parse) this is a slice of the mapping, valid until Close and
// not to be modified; otherwise the bytes are read into a new slice.
func (f *File) TensorData(name string) ([]byte, error) {
	t, ok := f.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("gguf: %s: no tensor %q", f.name, name)
	}
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("gguf: %s: tensor %q: file is closed", f.name, name)
	}
	start := f.dataOffset + t.Offset
	end := start + t.Size
	if f.data != nil {
		return f.data[start:end:end], nil
	}
	buf := make([]byte, t.Size)
	if n, err := f.ra.ReadAt(buf, int64(start)); n != len(buf) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("gguf: %s: reading tensor %q: %w", f.name, name, err)
	}
	return buf, nil
}

// Close releases the mapping or file. Slices returned by TensorData must
// not be used afterwards. Closing twice is a no-op.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	if f.closer == nil {
		return nil
	}
	if err := f.closer(); err != nil {
		return fmt.Errorf("gguf: closing %s: %w", f.name, err)
	}
	return nil
}
