//go:build !(linux && (amd64 || arm64)) || nocuda

package cuda

import (
	"errors"
	"runtime"
)

// library stands in for a shared library on builds without the loader.
type library struct{ name string }

func openLibrary([]string) (*library, error) {
	return nil, errors.New("this binary (" + runtime.GOOS + "/" + runtime.GOARCH +
		") has no CUDA loader: it needs linux/amd64 or linux/arm64 and no nocuda build tag")
}

func (l *library) symbol(name string) (uintptr, error) {
	return 0, errors.New("no CUDA loader in this binary")
}

// ccall is never reached: no library opens.
func ccall(uintptr, ...uintptr) uintptr { return uintptr(resultNotSupported) }
