//go:build amd64 && !purego && linux

package kernels

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"unsafe"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

// guardedBytes returns n bytes placed against an inaccessible page: right
// after it when atStart, else right before it. A kernel that reads past
// the end (or before the start) of its slices faults.
func guardedBytes(t *testing.T, n int, atStart bool) []byte {
	page := syscall.Getpagesize()
	size := (n + page - 1) / page * page
	mem, err := syscall.Mmap(-1, 0, size+page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Munmap(mem) })
	if atStart {
		require.NoError(t, syscall.Mprotect(mem[:page], syscall.PROT_NONE))
		return mem[page : page+n : page+n]
	}
	require.NoError(t, syscall.Mprotect(mem[size:], syscall.PROT_NONE))
	return mem[size-n : size : size]
}

func guardedFloats(t *testing.T, v []float32, atStart bool) []float32 {
	b := guardedBytes(t, 4*len(v), atStart)
	f := unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(v))
	copy(f, v)
	return f
}

// guardedQ8 copies x into guarded memory.
func guardedQ8(t *testing.T, x *quant.Q8, atStart bool) *quant.Q8 {
	b := guardedBytes(t, x.N, atStart)
	qs := unsafe.Slice((*int8)(unsafe.Pointer(&b[0])), x.N)
	copy(qs, x.Qs)
	return &quant.Q8{N: x.N, Qs: qs, D: guardedFloats(t, x.D, atStart), S: guardedFloats(t, x.S, atStart)}
}

// TestAMD64StaysInBounds runs every kernel on matrices and activations
// that end (or start) at an inaccessible page, for widths with partial
// blocks (packed tails of 1 to 8 groups, masked ones of 9 to 15) and
// row counts that end on a full tile or on rows left after the tiles, so
// that a read past a row's data faults.
func TestAMD64StaysInBounds(t *testing.T) {
	forVariants(t, func(t *testing.T, im *Impl) {
		rng := rand.New(rand.NewPCG(41, 42))
		for _, atStart := range []bool{false, true} {
			for _, s := range [][2]int{{1, 32}, {1, 64}, {3, 96}, {5, 160}, {2, 544}, {7, 1056},
				{4, 576}, {8, 576}, {6, 576}, {9, 640}, {4, 768}, {2, 800}, {3, 992}} {
				for _, f := range grouped {
					m := randomMatrix(t, rng, f, s[0], s[1])
					m.Data = append(guardedBytes(t, len(m.Data), atStart)[:0], m.Data...)
					xs := make([]*quant.Q8, 4)
					for i := range xs {
						xs[i] = guardedQ8(t, randomQ8(t, rng, s[1], 1), atStart)
					}
					out := make([]float32, len(xs)*s[0])
					im.gemv[f](m.Data, m.RowBytes, m.Cols, xs[0], out[:s[0]])
					require.InDelta(t, quant.DotRef(m.Row(s[0]-1), xs[0]), out[s[0]-1], tolerance(m, s[0]-1, xs[0]), "%s %v", f, s)
					// 4 tokens (one GEMM pass of all of them), then 2.
					for _, tokens := range []int{4, 2} {
						im.gemm[f](m.Data, m.RowBytes, m.Cols, s[0], xs[:tokens], out, s[0])
						for tk, x := range xs[:tokens] {
							require.InDelta(t, quant.DotRef(m.Row(s[0]-1), x), out[(tk+1)*s[0]-1], tolerance(m, s[0]-1, x), "%s %v token %d", f, s, tk)
						}
					}
				}
				w := make([]float32, s[0]*(s[1]-1))
				for i := range w {
					w[i] = rng.Float32()
				}
				wb := append(guardedBytes(t, 4*len(w), atStart)[:0], f32Bytes(w)...)
				x := guardedFloats(t, w[:s[1]-1], atStart)
				out := make([]float32, s[0])
				im.gemvF32(wb, 4*(s[1]-1), s[1]-1, x, out)
				var want float64
				for i, v := range x {
					want += float64(w[(s[0]-1)*(s[1]-1)+i]) * float64(v)
				}
				require.InDelta(t, want, float64(out[s[0]-1]), 1e-6*want, "f32 %v", s)
			}
		}
	})
}
