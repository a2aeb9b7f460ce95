package cuda

import (
	"strings"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

func TestMatrixGeometryCoversEveryRow(t *testing.T) {
	for _, tune := range []mmTuning{defaultTuning(), {Warps: 8, Unroll: 2, VecRows: 1}, {Warps: 2, Unroll: 8, VecRows: 3}} {
		for _, batched := range []bool{false, true} {
			perBlock := tune.Warps * tune.rowsPerWarp(batched)
			for _, rows := range []int{1, 3, 4, 5, 576, 49152, 32768} {
				g, err := mmGeom(rows, tune, batched)
				require.NoError(t, err)
				require.Equal(t, [3]uint32{uint32(32 * tune.Warps), 1, 1}, g.block)
				covered := int(g.grid[0]) * perBlock
				require.GreaterOrEqual(t, covered, rows, "%s batched=%v: every row has a warp", tune, batched)
				require.Less(t, covered-rows, perBlock, "%s batched=%v: no block without a row", tune, batched)
				require.Zero(t, g.shared)
			}
		}
	}
	require.Equal(t, 1, defaultTuning().rowsPerWarp(true), "a GEMM warp takes one row")
	_, err := mmGeom(0, defaultTuning(), false)
	require.ErrorContains(t, err, "size 0")
}

func TestOpGeometry(t *testing.T) {
	cases := []struct {
		name    string
		geom    func() (launchGeom, error)
		grid    [3]uint32
		block   uint32
		shared  uint32
		minWork int // threads needed
	}{
		{"q8 18 groups", func() (launchGeom, error) { return q8Geom(18) }, [3]uint32{3, 1, 1}, 32 * q8Warps, 0, 18 * 32},
		{"q8 8 groups", func() (launchGeom, error) { return q8Geom(8) }, [3]uint32{1, 1, 1}, 32 * q8Warps, 0, 8 * 32},
		{"rmsnorm 576", func() (launchGeom, error) { return rowGeom("rmsnorm", 3, 576) }, [3]uint32{3, 1, 1}, rowThreads, 0, 3},
		{"softmax short row", func() (launchGeom, error) { return rowGeom("softmax", 1, 40) }, [3]uint32{1, 1, 1}, 64, 0, 40},
		{"softmax one value", func() (launchGeom, error) { return rowGeom("softmax", 2, 1) }, [3]uint32{2, 1, 1}, 32, 0, 2},
		{"elementwise 1000", func() (launchGeom, error) { return eltGeom("add", 1000) }, [3]uint32{4, 1, 1}, eltThreads, 0, 1000},
		{"rope 9 heads 64", func() (launchGeom, error) { return ropeGeom(2, 9, 64) }, [3]uint32{3, 2, 1}, ropeThreads, 0, 2 * 9 * 32},
		{"attention 9 heads", func() (launchGeom, error) { return attnGeom(9, 64, 100, 48<<10) }, [3]uint32{9, 1, 1}, attnThreads, 4 * 164, 9},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := c.geom()
			require.NoError(t, err)
			require.Equal(t, c.grid, g.grid)
			require.Equal(t, [3]uint32{c.block, 1, 1}, g.block)
			require.Equal(t, c.shared, g.shared)
			require.Zero(t, g.block[0]%32, "whole warps (the reductions need them)")
			require.GreaterOrEqual(t, g.threads(), c.minWork)
		})
	}
}

func TestGeometryErrors(t *testing.T) {
	cases := []struct {
		name string
		geom func() (launchGeom, error)
		want string
	}{
		{"no groups", func() (launchGeom, error) { return q8Geom(0) }, "size 0"},
		{"negative row", func() (launchGeom, error) { return rowGeom("rmsnorm", 1, -1) }, "rmsnorm: size -1"},
		{"odd single dim", func() (launchGeom, error) { return ropeGeom(1, 1, 1) }, "size 0"},
		{"too many rope rows", func() (launchGeom, error) { return ropeGeom(70000, 1, 64) }, "70000 rows"},
		{"elementwise overflow", func() (launchGeom, error) { return eltGeom("add", 1<<40) }, "outside"},
		// 12k positions of 64 floats fit in 48 KiB, 13k do not.
		{"attention too long", func() (launchGeom, error) { return attnGeom(9, 64, 13000, 48<<10) }, "needs 52768 bytes of shared memory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.geom()
			require.ErrorContains(t, err, c.want)
		})
	}
	_, err := attnGeom(9, 64, 12000, 48<<10)
	require.NoError(t, err)
}

func TestCodeAlign(t *testing.T) {
	cases := []struct {
		f    quant.Format
		cols int
		want int
	}{
		{quant.Int2, 32, 1},     // 10-byte rows
		{quant.Int2, 64, 4},     // 20
		{quant.Int2, 128, 8},    // 40
		{quant.Int2, 576, 4},    // 180: SmolLM2-135M's width
		{quant.Int2, 2560, 8},   // 800
		{quant.Int2, 32768, 8},  // 10240
		{quant.Int4, 32, 1},     // 18
		{quant.Int4, 64, 4},     // 36
		{quant.Int4, 256, 16},   // 144
		{quant.Int4, 576, 4},    // 324
		{quant.Int8, 32, 1},     // 33
		{quant.Int8, 64, 1},     // 66
		{quant.Int8, 128, 4},    // 132
		{quant.Int8, 512, 16},   // 528
		{quant.Int8, 14336, 16}, // 14784
	}
	for _, c := range cases {
		rb, err := c.f.RowBytes(c.cols)
		require.NoError(t, err)
		a := codeAlign(c.f, rb)
		require.Equal(t, c.want, a, "%s %d", c.f, c.cols)
		// Every group's codes of every row must be aligned that much.
		for r := range 4 {
			for g := range c.cols / quant.GroupSize {
				require.Zero(t, (r*rb+g*groupCodeBytes(c.f))%a, "%s %d row %d group %d", c.f, c.cols, r, g)
			}
		}
	}
}

// TestAlignColsCoverKernels: the GPU tests' alignment shapes reach every
// matrix kernel.
func TestAlignColsCoverKernels(t *testing.T) {
	reached := map[string]bool{}
	for _, f := range mmFormats {
		for _, c := range alignCols {
			rb, err := f.RowBytes(c)
			require.NoError(t, err)
			for _, batched := range []bool{false, true} {
				reached[mmKernelName(f, codeAlign(f, rb), batched)] = true
			}
		}
	}
	for _, s := range kernelSpecs() {
		if strings.HasPrefix(s.name, "gemv_") || strings.HasPrefix(s.name, "gemm_") {
			require.True(t, reached[s.name], "no alignment shape reaches %s", s.name)
		}
	}
	require.Len(t, reached, 18)
}

func TestMatMulPlan(t *testing.T) {
	rb, err := quant.Int2.RowBytes(576)
	require.NoError(t, err)
	require.Equal(t, []mmChunk{{"gemv_int2_a4", 0, 1}}, mmPlan(quant.Int2, rb, 1))
	for _, vectors := range []int{2, 7, 8, 9, 17, 64} {
		plan := mmPlan(quant.Int4, 144, vectors)
		next := 0
		for _, c := range plan {
			require.Equal(t, "gemm_int4_a16", c.kernel)
			require.Equal(t, next, c.first, "chunks are consecutive")
			require.True(t, c.count >= 1 && c.count <= mmMaxTokens, "chunk of %d", c.count)
			next += c.count
		}
		require.Equal(t, vectors, next, "every vector once")
	}
}
