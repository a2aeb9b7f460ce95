package cuda

import (
	"fmt"
	"math"
)

// Launch constants shared with kernels.cu, which receives them as -D
// options (compileOptions).
const (
	mmMaxTokens = 8 // activation vectors per GEMM launch
	q8Warps     = 8 // groups per block of quantize_q8, one warp each

	rowThreads  = 256 // threads per row of rmsnorm and softmax, at most
	eltThreads  = 256 // threads per block of the elementwise kernels
	ropeThreads = 128 // threads per block of rope
	attnThreads = 256 // threads per head of attention

	// staticSharedBytes is the shared memory the reductions declare
	// statically (32 doubles and 32 floats), rounded up; the attention
	// kernel's dynamic shared memory must fit beside it.
	staticSharedBytes = 512

	maxGridX = math.MaxInt32
	maxGridY = 65535
)

// mmTuning is the launch shape of the matrix kernels, compiled into them
// (-D options) and used by the host's geometry, so the two agree. It
// changes which loads are in flight, never the order of the additions.
type mmTuning struct {
	Warps   int  // warps per block
	Unroll  int  // groups per lane whose codes are loaded before use
	VecRows int  // rows per warp of the GEMV kernels; the GEMM kernels take one
	Stream  bool // weights read past L1 (ld.global.nc.L1::no_allocate), keeping it for activations
}

// defaultTuning is the shape BenchmarkTuneGPUGEMV found best on an H200
// (docs/gpu.md): several rows per warp share each activation load.
func defaultTuning() mmTuning { return mmTuning{Warps: 4, Unroll: 4, VecRows: 4, Stream: true} }

// String names the tuning in benchmark names, e.g. "w4u4r4s".
func (t mmTuning) String() string {
	s := fmt.Sprintf("w%du%dr%d", t.Warps, t.Unroll, t.VecRows)
	if t.Stream {
		s += "s"
	}
	return s
}

// launchGeom is the grid, block and dynamic shared memory of one launch.
type launchGeom struct {
	grid, block [3]uint32
	shared      uint32
}

// threads returns the number of threads the launch starts.
func (g launchGeom) threads() int {
	return int(g.grid[0]) * int(g.grid[1]) * int(g.grid[2]) * int(g.block[0]) * int(g.block[1]) * int(g.block[2])
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// geom1 returns a one-dimensional launch of blocks of threads each.
func geom1(what string, blocks, threads int) (launchGeom, error) {
	if blocks <= 0 || blocks > maxGridX {
		return launchGeom{}, fmt.Errorf("cuda: %s: %d blocks is outside 1..%d", what, blocks, maxGridX)
	}
	return launchGeom{grid: [3]uint32{uint32(blocks), 1, 1}, block: [3]uint32{uint32(threads), 1, 1}}, nil
}

func positive(what string, vals ...int) error {
	for _, v := range vals {
		if v <= 0 || v > math.MaxInt32 {
			return fmt.Errorf("cuda: %s: size %d is outside 1..%d", what, v, math.MaxInt32)
		}
	}
	return nil
}

// mmGeom launches t.Warps warps per block, each on t.VecRows consecutive
// rows for a GEMV and one row for a GEMM (batched).
func mmGeom(rows int, t mmTuning, batched bool) (launchGeom, error) {
	if err := positive("matrix product", rows); err != nil {
		return launchGeom{}, err
	}
	return geom1("matrix product", ceilDiv(rows, t.Warps*t.rowsPerWarp(batched)), 32*t.Warps)
}

// rowsPerWarp returns the rows one warp of a GEMV or GEMM kernel computes.
func (t mmTuning) rowsPerWarp(batched bool) int {
	if batched {
		return 1
	}
	return t.VecRows
}

// q8Geom launches one warp per group of 32 activations.
func q8Geom(groups int) (launchGeom, error) {
	if err := positive("quantize_q8", groups); err != nil {
		return launchGeom{}, err
	}
	return geom1("quantize_q8", ceilDiv(groups, q8Warps), 32*q8Warps)
}

// rowGeom launches one block per row of n values, with a whole number of
// warps and no more threads than values (up to rowThreads).
func rowGeom(what string, rows, n int) (launchGeom, error) {
	if err := positive(what, rows, n); err != nil {
		return launchGeom{}, err
	}
	return geom1(what, rows, min(rowThreads, 32*ceilDiv(n, 32)))
}

// eltGeom launches one thread per element.
func eltGeom(what string, n int) (launchGeom, error) {
	if err := positive(what, n); err != nil {
		return launchGeom{}, err
	}
	return geom1(what, ceilDiv(n, eltThreads), eltThreads)
}

// ropeGeom launches one thread per rotated pair of a row (x) and one grid
// row per activation row (y).
func ropeGeom(rows, heads, dims int) (launchGeom, error) {
	if err := positive("rope", rows, heads, dims/2); err != nil {
		return launchGeom{}, err
	}
	if rows > maxGridY {
		return launchGeom{}, fmt.Errorf("cuda: rope: %d rows at once, at most %d", rows, maxGridY)
	}
	g, err := geom1("rope", ceilDiv(heads*(dims/2), ropeThreads), ropeThreads)
	g.grid[1] = uint32(rows)
	return g, err
}

// attnGeom launches one block per query head with the query and the scores
// of npos positions in dynamic shared memory, which must fit in maxShared
// bytes per block beside the reductions' static shared memory.
func attnGeom(heads, headDim, npos, maxShared int) (launchGeom, error) {
	if err := positive("attention", heads, headDim, npos); err != nil {
		return launchGeom{}, err
	}
	shared := 4 * (headDim + npos)
	if shared+staticSharedBytes > maxShared {
		return launchGeom{}, fmt.Errorf("cuda: attention over %d positions of head size %d needs %d bytes of shared memory, the device has %d per block",
			npos, headDim, shared+staticSharedBytes, maxShared)
	}
	g, err := geom1("attention", heads, attnThreads)
	g.shared = uint32(shared)
	return g, err
}
