package cuda

import (
	"math"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

func TestArgsPointToTheirValues(t *testing.T) {
	spec := kernelSpec{"k", paramList(ptrParams("w"), intParams("rows"), []param{{argF32, "eps"}}, intParams("cols"))}
	a := new(args).ptr("w", 0x7f0000001000).int("rows", -5).f32("eps", 1.5).int("cols", math.MaxInt32)
	p, err := a.pointers(spec)
	require.NoError(t, err)
	require.Equal(t, unsafe.Pointer(&a.ptrs[0]), p)
	for i := range spec.params {
		// cuLaunchKernel reads parameter i through ptrs[i]: it must be the
		// address of slot i, whose leading bytes hold the value.
		require.Equal(t, uintptr(unsafe.Pointer(&a.vals[i])), a.ptrs[i], "argument %d", i)
	}
	require.Equal(t, uint64(0x7f0000001000), a.vals[0])
	require.Equal(t, int32(-5), int32(uint32(a.vals[1])))
	require.Equal(t, float32(1.5), math.Float32frombits(uint32(a.vals[2])))
	require.Equal(t, int32(math.MaxInt32), int32(uint32(a.vals[3])))
	require.Zero(t, a.vals[1]>>32, "an int leaves the slot's upper half zero")
}

func TestArgsErrors(t *testing.T) {
	spec := kernelSpec{"k", paramList(ptrParams("x"), intParams("n"))}
	cases := []struct {
		name string
		a    *args
		want string
	}{
		{"too few", new(args).ptr("x", 1), "takes 2 arguments, 1 packed"},
		{"too many", new(args).ptr("x", 1).int("n", 2).int("m", 3), "takes 2 arguments, 3 packed"},
		{"wrong kind", new(args).ptr("x", 1).f32("n", 2), "argument 1 is int n, packed float n"},
		{"wrong name", new(args).ptr("x", 1).int("rows", 2), "argument 1 is int n, packed int rows"},
		{"swapped", new(args).int("n", 2).ptr("x", 1), "argument 0 is pointer x, packed int n"},
		{"int overflow", new(args).ptr("x", 1).int("n", math.MaxInt32+1), "n = 2147483648 does not fit"},
		{"int underflow", new(args).ptr("x", 1).int("n", math.MinInt32-1), "n = -2147483649 does not fit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.a.pointers(spec)
			require.ErrorContains(t, err, c.want)
			require.ErrorContains(t, err, "kernel k")
		})
	}
	a := new(args)
	for i := range maxKernelArgs + 1 {
		a.int("x", i)
	}
	_, err := a.pointers(spec)
	require.ErrorContains(t, err, "more than 16 kernel arguments")
}
