package cuda

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

// tunings are the matrix-kernel launch shapes BenchmarkTuneGPUGEMV
// compares; defaultTuning is chosen from its results (docs/gpu.md).
var tunings = []mmTuning{
	{Warps: 4, Unroll: 4, VecRows: 1},
	{Warps: 4, Unroll: 4, VecRows: 1, Stream: true},
	{Warps: 4, Unroll: 4, VecRows: 2, Stream: true},
	{Warps: 4, Unroll: 4, VecRows: 4},
	{Warps: 4, Unroll: 4, VecRows: 4, Stream: true},
	{Warps: 4, Unroll: 2, VecRows: 4, Stream: true},
	{Warps: 4, Unroll: 8, VecRows: 2, Stream: true},
	{Warps: 4, Unroll: 8, VecRows: 4, Stream: true},
	{Warps: 8, Unroll: 4, VecRows: 4, Stream: true},
	{Warps: 4, Unroll: 4, VecRows: 8, Stream: true},
	{Warps: 2, Unroll: 4, VecRows: 8, Stream: true},
}

// BenchmarkTuneGPUGEMV times the GEMV kernels compiled with each tuning,
// on the bandwidth shape (int2) and the largest CPU benchmark shape (every
// format), checking the first rows of each int2 result against the
// emulated order bit for bit. It opens one device per tuning, so the
// kernels are compiled once per tuning (a few seconds each):
//
//	go test -c -o cuda.test ./engine/cuda/ && ./cuda.test -test.run '^$' -test.bench TuneGPU -test.benchtime 50x
func BenchmarkTuneGPUGEMV(b *testing.B) {
	openTestDevice(b) // skips, or fails under MMLLM_CUDA_REQUIRE=1, without a GPU
	rng := rand.New(rand.NewPCG(57, 58))
	type input struct {
		m *kernels.Matrix
		x *quant.Q8
	}
	inputs := []input{{randomMatrix(b, rng, quant.Int2, bandwidthRows, bandwidthCols), randomQ8(b, rng, bandwidthCols, 1)}}
	for _, f := range mmFormats {
		inputs = append(inputs, input{randomMatrix(b, rng, f, 4096, 14336), randomQ8(b, rng, 14336, 1)})
	}
	for _, tune := range tunings {
		d, err := Open()
		require.NoError(b, err)
		d.tune = tune
		require.NoError(b, d.Prepare(), "compiling with %s", tune)
		for _, in := range inputs {
			m := in.m
			dm, q, out := uploadProduct(b, d, m, []*quant.Q8{in.x})
			b.Run(fmt.Sprintf("%s/%s/%dx%d", tune, m.Format, m.Rows, m.Cols), func(b *testing.B) { benchMatMul(b, d, dm, q, 1, out) })
			if m.Format == quant.Int2 {
				got := make([]float32, m.Rows)
				require.NoError(b, out.ReadFloat32(got))
				checkProduct(b, firstRows(m, 512), []*quant.Q8{in.x}, got[:512], true)
			}
			freeAll(b, dm.Free, q.Free, out.Free)
		}
		require.NoError(b, d.Close())
	}
}
