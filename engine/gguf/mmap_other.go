//go:build !unix

package gguf

import (
	"errors"
	"os"
)

// mmapFile is unavailable on this platform: Open falls back to ReadAt.
func mmapFile(*os.File, int64) ([]byte, error) {
	return nil, errors.New("mmap is not supported on this platform")
}

// munmap is never called without a mapping.
func munmap([]byte) error { return nil }
