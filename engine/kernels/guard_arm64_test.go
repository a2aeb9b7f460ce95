//go:build linux && arm64 && !purego

package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/cpu"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// TestARM64HWCAP checks the detection against the kernel's own word: the
// AT_HWCAP entry of /proc/self/auxv (qemu-user fills it from QEMU_CPU).
func TestARM64HWCAP(t *testing.T) {
	const atHWCAP, hwcapASIMD, hwcapASIMDDP = 16, 1 << 1, 1 << 20
	auxv, err := os.ReadFile("/proc/self/auxv")
	require.NoError(t, err)
	var hwcap uint64
	found := false
	for i := 0; i+16 <= len(auxv); i += 16 {
		if binary.LittleEndian.Uint64(auxv[i:]) == atHWCAP {
			hwcap, found = binary.LittleEndian.Uint64(auxv[i+8:]), true
		}
	}
	require.True(t, found, "no AT_HWCAP in /proc/self/auxv")
	require.Equal(t, hwcap&hwcapASIMD != 0, cpu.ARM64.HasASIMD)
	require.Equal(t, hwcap&hwcapASIMDDP != 0, cpu.ARM64.HasASIMDDP)
	dot, err := Lookup("neondot")
	require.Equal(t, hwcap&hwcapASIMDDP != 0, err == nil && dot.Supported)
}

// guarded returns a copy of src in guardedBytes.
func guarded(t *testing.T, src []byte) []byte {
	g := guardedBytes(t, len(src))
	copy(g, src)
	return g
}

// guardedBytes returns n bytes that end where an unreadable page begins, so
// that a kernel reading past the end of its input faults.
func guardedBytes(t *testing.T, n int) []byte {
	page := syscall.Getpagesize()
	size := (n+page-1)/page*page + page
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, syscall.Munmap(mem)) })
	require.NoError(t, syscall.Mprotect(mem[size-page:], syscall.PROT_NONE))
	return mem[size-page-n : size-page : size-page]
}

// guardedFloats returns a copy of src in guardedBytes.
func guardedFloats(t *testing.T, src []float32) []float32 {
	f := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(guardedBytes(t, 4*len(src))))), len(src))
	copy(f, src)
	return f
}

// guardedQ8 copies x into slices that each end at an unreadable page.
func guardedQ8(t *testing.T, x *quant.Q8) *quant.Q8 {
	qs := unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(guardedBytes(t, x.N)))), x.N)
	copy(qs, x.Qs)
	return &quant.Q8{N: x.N, Qs: qs, D: guardedFloats(t, x.D), S: guardedFloats(t, x.S)}
}

// paddedOut returns n outputs inside a NaN-filled buffer and a check that
// the padding is untouched.
func paddedOut(n int) ([]float32, func() bool) {
	buf := make([]float32, n+8)
	for i := range buf {
		buf[i] = float32(math.NaN())
	}
	return buf[4 : 4+n], func() bool {
		for _, v := range append(buf[:4:4], buf[4+n:]...) {
			if !math.IsNaN(float64(v)) {
				return false
			}
		}
		return true
	}
}

// TestARM64Bounds runs every arm64 kernel on inputs that end at an
// unreadable page and outputs inside sentinels: the assembly must neither
// read past its inputs nor write outside its outputs, on any row or group
// count (whole fours and the remainders).
func TestARM64Bounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	supportedImpls(t, func(t *testing.T, im *Impl) {
		p := NewPool(1, im)
		defer p.Close()
		for _, s := range [][2]int{{1, 32}, {3, 96}, {4, 128}, {5, 160}, {7, 224}} {
			for _, f := range grouped {
				m := randomMatrix(t, rng, f, s[0], s[1])
				m.Data = guarded(t, m.Data)
				xs := []*quant.Q8{guardedQ8(t, randomQ8(t, rng, s[1], 2)), guardedQ8(t, randomQ8(t, rng, s[1], 2))}
				out, intact := paddedOut(2 * s[0])
				require.NoError(t, p.GEMM(m, xs, out))
				require.True(t, intact(), "%s %v GEMM wrote outside its output", f, s)
				require.NoError(t, p.GEMV(m, xs[1], out[:s[0]]))
				require.True(t, intact(), "%s %v GEMV wrote outside its output", f, s)
				for r := 0; r < s[0]; r++ {
					require.InDelta(t, quant.DotRef(m.Row(r), xs[1]), out[r], tolerance(m, r, xs[1]), "%s %v row %d", f, s, r)
					require.InDelta(t, quant.DotRef(m.Row(r), xs[1]), out[s[0]+r], tolerance(m, r, xs[1]), "%s %v row %d", f, s, r)
				}
			}
			w := make([]float32, s[0]*(s[1]+3))
			for i := range w {
				w[i] = rng.Float32() - 0.5
			}
			m, err := NewMatrix("f32", quant.F32, s[0], s[1]+3, guarded(t, f32Bytes(w)))
			require.NoError(t, err)
			x := guardedFloats(t, w[:s[1]+3])
			out, intact := paddedOut(s[0])
			require.NoError(t, p.GEMVF32(m, x, out))
			require.True(t, intact(), "%v GEMVF32 wrote outside its output", s)
			require.Equal(t, streamSumGeneric(m.Data), im.streamSum(m.Data))
		}
	})
}
