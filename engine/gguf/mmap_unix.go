//go:build unix

package gguf

import (
	"fmt"
	"math"
	"os"
	"syscall"
)

// mmapFile maps the whole file read-only.
func mmapFile(fh *os.File, size int64) ([]byte, error) {
	if size <= 0 || size > math.MaxInt {
		return nil, fmt.Errorf("cannot map %d bytes", size)
	}
	return syscall.Mmap(int(fh.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
}

// munmap releases a mapping made by mmapFile.
func munmap(b []byte) error { return syscall.Munmap(b) }
