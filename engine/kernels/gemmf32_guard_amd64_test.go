//go:build amd64 && !purego && linux

package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGEMMF32StaysInBounds runs the F32 GEMM of every amd64 kernel variant
// with its weights, vectors and outputs each ending (or starting) at an
// inaccessible page, for shapes with partial panels, column blocks and
// groups of vectors, so that a read or write outside them faults.
func TestGEMMF32StaysInBounds(t *testing.T) {
	forVariants(t, func(t *testing.T, im *Impl) {
		rng := rand.New(rand.NewPCG(43, 44))
		p := NewPool(1, im)
		defer p.Close()
		for _, atStart := range []bool{false, true} {
			for _, s := range []struct{ rows, k, n int }{{1, 1, 1}, {64, 128, 6}, {67, 131, 13}, {5, 257, 7}, {128, 3, 12}} {
				t.Run(fmt.Sprintf("start%v/%+v", atStart, s), func(t *testing.T) {
					w := randomF32s(rng, s.rows*s.k)
					x := randomF32s(rng, s.n*s.k)
					pr := &F32Product{
						W: append(guardedBytes(t, 4*len(w), atStart)[:0], f32Bytes(w)...), Stride: 4 * s.k, Rows: s.rows, K: s.k,
						X: guardedFloats(t, x, atStart), LdX: s.k, N: s.n,
						Out: guardedFloats(t, make([]float32, s.n*s.rows), atStart), LdOut: s.rows,
					}
					require.NoError(t, p.GEMMF32Strided(pr))
					checkF32Product(t, im, w, s.k, x, s.k, pr.Out, s.rows, s.rows, s.k, s.n, "guarded")
				})
			}
		}
	})
}

// TestSoftmaxF32StaysInBounds runs the AVX-512 softmax on rows that end
// (or start) at an inaccessible page.
func TestSoftmaxF32StaysInBounds(t *testing.T) {
	forVariants(t, func(t *testing.T, im *Impl) {
		rng := rand.New(rand.NewPCG(45, 46))
		p := NewPool(1, im)
		defer p.Close()
		for _, atStart := range []bool{false, true} {
			for _, n := range []int{1, 15, 16, 17, 33} {
				x := randomF32s(rng, n)
				want := append([]float32(nil), x...)
				softmaxGeneric(want, 0.5)
				g := guardedFloats(t, x, atStart)
				p.SoftmaxF32(g, 0.5)
				require.Equal(t, want, g, "n %d", n)
			}
		}
	})
}
