package kernels

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestParallelForCoversEachIndexOnce counts the calls that cover every
// index, for chunks smaller than, equal to and larger than n, and
// non-positive ones.
func TestParallelForCoversEachIndexOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 3} {
		p := NewPool(threads, nil)
		defer p.Close()
		for _, c := range []struct{ n, chunk int }{{1, 1}, {10, 3}, {100, 7}, {64, 64}, {5, 100}, {12, 0}, {9, -2}} {
			t.Run(fmt.Sprintf("t%d/n%d/chunk%d", threads, c.n, c.chunk), func(t *testing.T) {
				seen := make([]atomic.Int32, c.n)
				var calls atomic.Int32
				p.ParallelFor(c.n, c.chunk, func(lo, hi int) {
					calls.Add(1)
					require.Less(t, lo, hi)
					require.Zero(t, lo%max(c.chunk, 1))
					require.True(t, hi-lo == max(c.chunk, 1) || hi == c.n, "range [%d, %d)", lo, hi)
					for i := lo; i < hi; i++ {
						seen[i].Add(1)
					}
				})
				for i := range seen {
					require.Equal(t, int32(1), seen[i].Load(), "index %d", i)
				}
				chunk := max(c.chunk, 1)
				require.Equal(t, int32((c.n+chunk-1)/chunk), calls.Load())
			})
		}
		called := false
		p.ParallelFor(0, 4, func(int, int) { called = true })
		p.ParallelFor(-3, 4, func(int, int) { called = true })
		require.False(t, called)
	}
}
