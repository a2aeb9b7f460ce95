//go:build linux && (amd64 || arm64) && !nocuda

package cuda

import (
	"fmt"
	"strings"

	"github.com/ebitengine/purego"
)

// library is a shared library opened with dlopen. Libraries stay loaded
// for the life of the process (the CUDA driver does not support unloading).
type library struct {
	name   string
	handle uintptr
}

// openLibrary opens the first of names that dlopen can load.
func openLibrary(names []string) (*library, error) {
	var first error
	for _, n := range names {
		h, err := purego.Dlopen(n, purego.RTLD_NOW|purego.RTLD_LOCAL)
		if err == nil {
			return &library{name: n, handle: h}, nil
		}
		if first == nil {
			first = err
		}
	}
	if len(names) == 1 {
		return nil, fmt.Errorf("cannot load %s: %v", names[0], first)
	}
	return nil, fmt.Errorf("cannot load %s (nor %s): %v", names[0], strings.Join(names[1:], ", "), first)
}

// symbol returns the address of a function of the library.
func (l *library) symbol(name string) (uintptr, error) {
	p, err := purego.Dlsym(l.handle, name)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", l.name, err)
	}
	return p, nil
}

// ccall calls the C function at fn with integer and pointer arguments and
// returns its integer result (only the low 32 bits are meaningful for an
// int result). Pointers converted to uintptr in a call of ccall stay valid
// and in place until it returns (go:uintptrescapes moves them to the heap).
//
//go:uintptrescapes
func ccall(fn uintptr, a ...uintptr) uintptr {
	r, _, _ := purego.SyscallN(fn, a...)
	return r
}
