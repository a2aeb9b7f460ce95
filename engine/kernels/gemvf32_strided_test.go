package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGEMVF32StridedAllImpls multiplies column blocks of a wider matrix
// (rows further apart than their length, as an attention cache's heads)
// with every Impl and checks each output against a float64 dot product.
// The generic Impl must equal a float32 sum in index order exactly.
func TestGEMVF32StridedAllImpls(t *testing.T) {
	supportedImpls(t, func(t *testing.T, im *Impl) {
		rng := rand.New(rand.NewPCG(21, 22))
		p := NewPool(1, im)
		defer p.Close()
		for _, c := range []struct{ rows, n, width, col int }{
			{1, 1, 1, 0}, {1, 64, 192, 64}, {3, 16, 32, 16}, {4, 64, 64, 0}, {5, 17, 40, 23},
			{7, 64, 8192, 0}, {9, 70, 8192, 100}, {64, 129, 256, 0}, {13, 31, 31, 0}, {6, 8, 9, 1},
		} {
			wide := make([]float32, c.rows*c.width)
			for i := range wide {
				wide[i] = rng.Float32()*2 - 1
			}
			x := make([]float32, c.n)
			for i := range x {
				x[i] = rng.Float32()*2 - 1
			}
			// The block starts at column col; its last row ends at its n-th
			// column, so a kernel that reads past a row's n floats reads
			// past the slice.
			all := f32Bytes(wide)
			w := all[4*c.col : 4*((c.rows-1)*c.width+c.col+c.n)]
			out := make([]float32, c.rows)
			for i := range out {
				out[i] = 99 // overwritten, not accumulated into
			}
			require.NoError(t, p.GEMVF32Strided(w, 4*c.width, x, out))
			for r := range out {
				var want, mag float64
				var seq float32
				for i := range x {
					v := wide[r*c.width+c.col+i]
					want += float64(v) * float64(x[i])
					mag += math.Abs(float64(v) * float64(x[i]))
					seq += float32(v * x[i]) // the generic kernel rounds each product (no FMA on arm64)
				}
				require.InDelta(t, want, float64(out[r]), 1e-6*mag+1e-7, "%+v row %d", c, r)
				if im.Name == "generic" {
					require.Equal(t, seq, out[r], "%+v row %d", c, r)
				}
			}
		}
	})
}

func TestGEMVF32StridedRejectsBadShapes(t *testing.T) {
	p := NewPool(1, nil)
	defer p.Close()
	w := make([]byte, 4*10)
	require.ErrorContains(t, p.GEMVF32Strided(w, 8, make([]float32, 3), make([]float32, 2)), "stride 8 bytes is shorter")
	require.ErrorContains(t, p.GEMVF32Strided(w, 16, make([]float32, 3), make([]float32, 3)), "need 44 bytes, got 40")
	require.NoError(t, p.GEMVF32Strided(w, 16, make([]float32, 3), nil))
	out := []float32{5, 5}
	require.NoError(t, p.GEMVF32Strided(nil, 0, nil, out))
	require.Equal(t, []float32{0, 0}, out)
}
