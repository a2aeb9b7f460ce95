//go:build arm64 && !purego

package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/cpu"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// TestARM64Detection checks that each arm64 Impl is supported exactly when
// the CPU has its instructions, and that Best prefers the dot product.
func TestARM64Detection(t *testing.T) {
	neon, neonErr := Lookup("neon")
	require.Equal(t, cpu.ARM64.HasASIMD, neonErr == nil)
	dot, dotErr := Lookup("neondot")
	require.Equal(t, cpu.ARM64.HasASIMD && cpu.ARM64.HasASIMDDP, dotErr == nil)
	switch {
	case dotErr == nil:
		require.Same(t, dot, Best())
	case neonErr == nil:
		require.Same(t, neon, Best())
	}
	t.Logf("asimd %v, asimddp %v: best %s", cpu.ARM64.HasASIMD, cpu.ARM64.HasASIMDDP, Best().Name)
}

// TestExpandInt2Row checks the expanded rows GEMM multiplies: one byte per
// weight equal to its code, then the scale and offset codes.
func TestExpandInt2Row(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{32, 64, 96, 128, 160, 576, 1056} {
		m := randomMatrix(t, rng, quant.Int2, 1, n)
		row := m.Row(0)
		dst := make([]byte, expandedRowBytes(n)+1)
		dst[len(dst)-1] = 0xa5
		expandInt2Row(m.Data, n, dst[:len(dst)-1])
		for i := 0; i < n; i++ {
			require.Equal(t, row.Code(i), dst[i], "n %d weight %d", n, i)
		}
		require.Equal(t, row.Scales(), dst[n:n+n/32])
		require.Equal(t, row.Offsets(), dst[n+n/32:n+n/16])
		require.Equal(t, byte(0xa5), dst[len(dst)-1], "n %d: wrote past the row", n)
	}
}
