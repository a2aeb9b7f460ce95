package cuda

import (
	"fmt"
	"math"
	"unsafe"
)

// maxKernelArgs bounds the parameters of one kernel.
const maxKernelArgs = 16

// devicePtr is a device address (CUdeviceptr).
type devicePtr uint64

// args packs kernel arguments for cuLaunchKernel, whose kernelParams is an
// array of pointers, one per parameter, each to the parameter's value.
// Every value sits in its own 8-byte slot, little endian, so a pointer to
// the slot is a pointer to an int or float as well as to a device pointer.
// Each argument carries the name of the kernel parameter it is for, and
// params checks names and types against the kernel's declaration.
//
// The slots and the pointer array live in the args value itself; launches
// pass its address through a uintptr-escaping call, which keeps it on the
// heap (where Go does not move objects) and alive until the call returns.
type args struct {
	vals   [maxKernelArgs]uint64
	ptrs   [maxKernelArgs]uintptr
	params [maxKernelArgs]param
	n      int
	err    error
}

func (a *args) push(p param, v uint64) *args {
	if a.err != nil {
		return a
	}
	if a.n == maxKernelArgs {
		a.err = fmt.Errorf("cuda: more than %d kernel arguments", maxKernelArgs)
		return a
	}
	a.vals[a.n], a.params[a.n] = v, p
	a.n++
	return a
}

// ptr appends a device pointer for the parameter name.
func (a *args) ptr(name string, p devicePtr) *args { return a.push(param{argPtr, name}, uint64(p)) }

// int appends an int for the parameter name; v must fit in 32 bits.
func (a *args) int(name string, v int) *args {
	if a.err == nil && (v < math.MinInt32 || v > math.MaxInt32) {
		a.err = fmt.Errorf("cuda: kernel argument %s = %d does not fit in an int", name, v)
		return a
	}
	return a.push(param{argI32, name}, uint64(uint32(int32(v))))
}

// f32 appends a float for the parameter name.
func (a *args) f32(name string, v float32) *args {
	return a.push(param{argF32, name}, uint64(math.Float32bits(v)))
}

// pointers checks the packed arguments against the kernel's parameters
// and returns the kernelParams array.
func (a *args) pointers(spec kernelSpec) (unsafe.Pointer, error) {
	if a.err != nil {
		return nil, fmt.Errorf("%w (kernel %s)", a.err, spec.name)
	}
	if a.n != len(spec.params) {
		return nil, fmt.Errorf("cuda: kernel %s takes %d arguments, %d packed", spec.name, len(spec.params), a.n)
	}
	for i, p := range spec.params {
		if a.params[i] != p {
			return nil, fmt.Errorf("cuda: kernel %s argument %d is %s, packed %s", spec.name, i, p, a.params[i])
		}
	}
	for i := range a.n {
		a.ptrs[i] = uintptr(unsafe.Pointer(&a.vals[i]))
	}
	return unsafe.Pointer(&a.ptrs[0]), nil
}
