package cuda

import (
	"fmt"
	"unsafe"
)

// Buffer is a device allocation. Free it before closing its device.
type Buffer struct {
	dev  *Device
	ptr  devicePtr
	size int
	view bool // a part of another buffer: Free leaves the memory alone
}

// Alloc allocates size bytes of device memory (uninitialized).
func (d *Device) Alloc(size int) (*Buffer, error) {
	if size <= 0 {
		return nil, fmt.Errorf("cuda: allocation of %d bytes", size)
	}
	b := &Buffer{dev: d, size: size}
	err := d.do(func() error {
		var err error
		b.ptr, err = d.drv.memAlloc(size)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cuda: %s: %w", d.Name, err)
	}
	return b, nil
}

// Size returns the buffer's size in bytes.
func (b *Buffer) Size() int { return b.size }

// View returns the size bytes of b at byte offset off as a buffer of its
// own, sharing b's memory: a product can then write its result into part
// of a larger buffer (one position's row of a KV cache). Offsets are kept
// 4-byte aligned for float32 kernels. Freeing a view does nothing; it must
// not be used after b is freed.
func (b *Buffer) View(off, size int) (*Buffer, error) {
	switch {
	case b == nil || b.ptr == 0:
		return nil, fmt.Errorf("cuda: view of a freed or nil buffer")
	case off < 0 || size <= 0 || off%4 != 0 || off > b.size-size:
		return nil, fmt.Errorf("cuda: view of %d bytes at offset %d of a buffer of %d", size, off, b.size)
	}
	return &Buffer{dev: b.dev, ptr: b.ptr + devicePtr(off), size: size, view: true}, nil
}

// Free releases the buffer; freeing it again, or freeing a view, does
// nothing.
func (b *Buffer) Free() error {
	if b == nil || b.ptr == 0 || b.view {
		return nil
	}
	err := b.dev.do(func() error { return b.dev.drv.memFree(b.ptr) })
	b.ptr = 0
	return err
}

// Write copies src to the start of the buffer.
func (b *Buffer) Write(src []byte) error {
	if err := b.fits("write", len(src)); err != nil || len(src) == 0 {
		return err
	}
	return b.dev.do(func() error { return b.dev.drv.memcpyHtoD(b.ptr, unsafe.Pointer(unsafe.SliceData(src)), len(src)) })
}

// Read copies the start of the buffer to dst, after the kernels launched
// before have finished.
func (b *Buffer) Read(dst []byte) error {
	if err := b.fits("read", len(dst)); err != nil || len(dst) == 0 {
		return err
	}
	return b.dev.do(func() error { return b.dev.drv.memcpyDtoH(unsafe.Pointer(unsafe.SliceData(dst)), b.ptr, len(dst)) })
}

// WriteFloat32 copies float32 values to the start of the buffer.
func (b *Buffer) WriteFloat32(src []float32) error { return b.Write(float32Bytes(src)) }

// ReadFloat32 copies float32 values from the start of the buffer.
func (b *Buffer) ReadFloat32(dst []float32) error { return b.Read(float32Bytes(dst)) }

// float32Bytes views float32s as their bytes (little endian on every
// platform the loader supports).
func float32Bytes(v []float32) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v))
}

func (b *Buffer) fits(op string, n int) error {
	if b == nil || b.ptr == 0 {
		return fmt.Errorf("cuda: %s of %d bytes: buffer is freed or nil", op, n)
	}
	if n > b.size {
		return fmt.Errorf("cuda: %s of %d bytes into a buffer of %d", op, n, b.size)
	}
	return nil
}

// floats checks that b is a live buffer of this device holding at least n
// float32s; what names it in the error.
func (d *Device) floats(what string, b *Buffer, n int) error {
	switch {
	case b == nil || b.ptr == 0:
		return fmt.Errorf("cuda: %s: buffer is freed or nil", what)
	case b.dev != d:
		return fmt.Errorf("cuda: %s: buffer belongs to another device", what)
	case n <= 0:
		return fmt.Errorf("cuda: %s: %d values", what, n)
	case 4*n > b.size:
		return fmt.Errorf("cuda: %s: %d floats need %d bytes, the buffer has %d", what, n, 4*n, b.size)
	}
	return nil
}
