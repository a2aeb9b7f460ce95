package cuda

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

// firstRows returns a view of m's first n rows.
func firstRows(m *kernels.Matrix, n int) *kernels.Matrix {
	n = min(n, m.Rows)
	v := *m
	v.Rows, v.Data = n, m.Data[:n*m.RowBytes]
	return &v
}

// TestEmulationWithinToleranceOfReference checks, without a GPU, that the
// kernels' order of additions (as emulated) stays within the stated
// tolerance of quant.DotRef on the benchmark shapes (16 full rows each),
// the alignment shapes, extreme weights and activations, and several
// activation vectors: the bound the GPU tests assert is one the kernels'
// arithmetic can meet.
func TestEmulationWithinToleranceOfReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, f := range mmFormats {
		var cols []int
		for _, s := range benchShapes {
			cols = append(cols, s.cols)
		}
		cols = append(cols, alignCols...)
		for _, c := range cols {
			t.Run(fmt.Sprintf("%s/%d", f, c), func(t *testing.T) {
				m := randomMatrix(t, rng, f, 16, c)
				xs := []*quant.Q8{randomQ8(t, rng, c, 1), randomQ8(t, rng, c, 100)}
				out := make([]float32, len(xs)*m.Rows)
				for i, x := range xs {
					for r := range m.Rows {
						out[i*m.Rows+r], _ = emulateRow(m.Row(r), x)
					}
				}
				checkProduct(t, m, xs, out, true)
			})
		}
		t.Run(fmt.Sprintf("%s/extreme", f), func(t *testing.T) {
			m := extremeMatrix(t, f, 2, 14336)
			x := randomQ8(t, rng, 14336, 1000)
			out := make([]float32, m.Rows)
			for r := range out {
				out[r], _ = emulateRow(m.Row(r), x)
			}
			checkProduct(t, m, []*quant.Q8{x}, out, true)
		})
	}
}

// TestEmulationOneGroupIsExact: with one group there is nothing to reorder,
// so the emulated kernel and the reference agree bit for bit; this pins
// the emulation's group term to DotRef's.
func TestEmulationOneGroupIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, f := range mmFormats {
		m := randomMatrix(t, rng, f, 64, quant.GroupSize)
		x := randomQ8(t, rng, quant.GroupSize, 5)
		for r := range m.Rows {
			got, _ := emulateRow(m.Row(r), x)
			require.Equal(t, quant.DotRef(m.Row(r), x), got, "%s row %d", f, r)
		}
	}
}

// TestToleranceCatchesAWrongTerm: the tolerance is far below one group's
// contribution, so a kernel that dropped or mis-scaled a group would fail.
func TestToleranceCatchesAWrongTerm(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, f := range mmFormats {
		m := randomMatrix(t, rng, f, 8, 4096)
		x := randomQ8(t, rng, 4096, 1)
		for r := range m.Rows {
			row := m.Row(r)
			got, mag := emulateRow(row, x)
			last := groupTerm(row, x, row.Groups()-1)
			if last == 0 {
				continue
			}
			tol := rowTolerance(row.Groups(), mag)
			require.Greater(t, absDiff(got-last, quant.DotRef(row, x)), tol, "%s row %d", f, r)
		}
	}
}

func absDiff(a, b float32) float64 {
	if a > b {
		return float64(a - b)
	}
	return float64(b - a)
}
