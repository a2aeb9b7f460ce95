package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/nn"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

// The tests named TestGPU* and benchmarks named BenchmarkGPU* need an
// NVIDIA GPU; without one they skip, saying why. scripts/gpu-check.sh
// sets envRequire=1 so that a missing device fails them instead.
const envRequire = "MMLLM_CUDA_REQUIRE"

// testGPU is the device the GPU tests share, opened once per test binary
// so the kernels are compiled once.
var testGPU struct {
	once sync.Once
	d    *Device
	err  error
}

func openTestDevice(t testing.TB) *Device {
	t.Helper()
	testGPU.once.Do(func() { testGPU.d, testGPU.err = Open() })
	if testGPU.err != nil {
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("%s=1 but there is no usable CUDA device: %v", envRequire, testGPU.err)
		}
		t.Skipf("no CUDA device: %v", testGPU.err)
	}
	return testGPU.d
}

// testDevice returns the shared device with its kernels compiled; failing
// to compile them on a machine with a GPU is a test failure.
func testDevice(t testing.TB) *Device {
	t.Helper()
	d := openTestDevice(t)
	require.NoError(t, d.Prepare(), "the kernels must compile and load where there is a GPU")
	return d
}

func uploadT(t testing.TB, d *Device, m *kernels.Matrix) *Matrix {
	t.Helper()
	dm, err := d.Upload(m)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, dm.Free()) })
	return dm
}

func allocFloats(t testing.TB, d *Device, vals []float32) *Buffer {
	t.Helper()
	b, err := d.Alloc(4 * len(vals))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Free()) })
	require.NoError(t, b.WriteFloat32(vals))
	return b
}

func readFloats(t testing.TB, b *Buffer, n int) []float32 {
	t.Helper()
	out := make([]float32, n)
	require.NoError(t, b.ReadFloat32(out))
	return out
}

func randomFloats(rng *rand.Rand, n int, scale float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = (2*rng.Float32() - 1) * scale
	}
	return x
}

// TestGPUDevice opens the device and describes it; gpu-check runs it first
// to tell "no GPU here" from a failing kernel.
func TestGPUDevice(t *testing.T) {
	d := openTestDevice(t)
	t.Logf("device: %s", d)
	require.NotEmpty(t, d.Name)
	require.NotZero(t, d.MemoryBytes)
	require.NotZero(t, d.Multiprocessors)
	require.GreaterOrEqual(t, 10*d.Major+d.Minor, 61, "the kernels need dp4a (compute 6.1)")
	if d.PeakBandwidth() == 0 {
		t.Logf("the driver reports no memory clock and the card is not in the known list: no fraction of peak")
	}
}

func TestGPUKernelsLoad(t *testing.T) {
	d := testDevice(t)
	info := d.KernelInfo()
	t.Logf("kernels: %s", info)
	require.Contains(t, info, fmt.Sprintf("%d kernels", len(kernelIndex)))
}

func TestGPUBufferRoundTrip(t *testing.T) {
	d := testDevice(t)
	rng := rand.New(rand.NewPCG(31, 32))
	want := randomFloats(rng, 1001, 5)
	b := allocFloats(t, d, want)
	require.Equal(t, want, readFloats(t, b, len(want)))
	require.Error(t, b.Write(make([]byte, 4*len(want)+1)))
}

// checkGEMV uploads m, multiplies it by x on the GPU and checks the result.
func checkGEMV(t *testing.T, d *Device, m *kernels.Matrix, x *quant.Q8) {
	t.Helper()
	out := make([]float32, m.Rows)
	require.NoError(t, d.GEMV(uploadT(t, d, m), x, out))
	checkProduct(t, m, []*quant.Q8{x}, out, true)
}

// TestGPUGEMVBenchShapes compares the GEMV kernels with the reference on
// the CPU benchmarks' shapes: bit for bit with the emulated summation
// order, and within rowTolerance of quant.DotRef.
func TestGPUGEMVBenchShapes(t *testing.T) {
	d := testDevice(t)
	rng := rand.New(rand.NewPCG(33, 34))
	for _, f := range mmFormats {
		for _, s := range benchShapes {
			if s.big && f != quant.Int2 {
				continue
			}
			t.Run(fmt.Sprintf("%s/%dx%d", f, s.rows, s.cols), func(t *testing.T) {
				checkGEMV(t, d, randomMatrix(t, rng, f, s.rows, s.cols), randomQ8(t, rng, s.cols, 3))
			})
		}
	}
}

// TestGPUGEMVAlignments runs every GEMV kernel (each code alignment) on
// row counts that are and are not multiples of a block's rows, and on
// extreme weights and activations.
func TestGPUGEMVAlignments(t *testing.T) {
	d := testDevice(t)
	rng := rand.New(rand.NewPCG(35, 36))
	for _, f := range mmFormats {
		for _, cols := range alignCols {
			for _, rows := range []int{1, 5, 33} {
				rb, err := f.RowBytes(cols)
				require.NoError(t, err)
				t.Run(fmt.Sprintf("%s/a%d/%dx%d", f, codeAlign(f, rb), rows, cols), func(t *testing.T) {
					checkGEMV(t, d, randomMatrix(t, rng, f, rows, cols), randomQ8(t, rng, cols, 1))
				})
			}
		}
		t.Run(fmt.Sprintf("%s/extreme", f), func(t *testing.T) {
			checkGEMV(t, d, extremeMatrix(t, f, 7, 14336), randomQ8(t, rng, 14336, 1000))
		})
	}
}

// TestGPUGEMM checks the small-batch kernels, including batches split
// over several launches.
func TestGPUGEMM(t *testing.T) {
	d := testDevice(t)
	rng := rand.New(rand.NewPCG(37, 38))
	for _, f := range mmFormats {
		for _, s := range [][2]int{{33, 576}, {100, 1536}, {64, 96}, {960, 2560}} {
			for _, vectors := range []int{2, 3, 8, 9, 17} {
				t.Run(fmt.Sprintf("%s/%dx%d/n%d", f, s[0], s[1], vectors), func(t *testing.T) {
					m := randomMatrix(t, rng, f, s[0], s[1])
					xs := make([]*quant.Q8, vectors)
					for i := range xs {
						xs[i] = randomQ8(t, rng, s[1], float32(i+1))
					}
					out := make([]float32, vectors*s[0])
					require.NoError(t, d.GEMM(uploadT(t, d, m), xs, out))
					checkProduct(t, m, xs, out, true)
				})
			}
		}
	}
}

// TestGPUQuantizeThenMatMul quantizes activations on the device (bit for
// bit as quant.QuantizeQ8Ref) and multiplies them without leaving it.
func TestGPUQuantizeThenMatMul(t *testing.T) {
	d := testDevice(t)
	rng := rand.New(rand.NewPCG(39, 40))
	const n, vectors, rows = 576, 3, 200
	x := randomFloats(rng, n*vectors, 4)
	clear(x[n : n+32]) // an all-zero group: scale 0
	xb := allocFloats(t, d, x)
	q, err := d.NewQ8Buffer(n, vectors)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, q.Free()) })
	require.NoError(t, d.QuantizeQ8(xb, q, vectors))

	staging := make([]byte, q.lay.size)
	require.NoError(t, q.buf.Read(staging))
	xs := make([]*quant.Q8, vectors)
	for v := range vectors {
		want, err := quant.NewQ8(n)
		require.NoError(t, err)
		require.NoError(t, quant.QuantizeQ8Ref(x[v*n:(v+1)*n], want))
		require.Equal(t, want, q.lay.unpack(staging, v), "vector %d", v)
		xs[v] = want
	}

	m := randomMatrix(t, rng, quant.Int2, rows, n)
	out, err := d.Alloc(4 * vectors * rows)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, out.Free()) })
	require.NoError(t, d.MatMul(uploadT(t, d, m), q, vectors, out))
	checkProduct(t, m, xs, readFloats(t, out, vectors*rows), true)
}

// relClose asserts |got-want| <= rel·scale elementwise.
func relClose(t *testing.T, want, got []float32, rel float64, what string) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		scale := max(math.Abs(float64(want[i])), 1e-30)
		require.InDelta(t, want[i], got[i], rel*scale, "%s value %d", what, i)
	}
}

func TestGPURMSNorm(t *testing.T) {
	d := testDevice(t)
	rng := rand.New(rand.NewPCG(41, 42))
	for _, n := range []int{64, 576, 1000} {
		const rows = 3
		x := randomFloats(rng, rows*n, 3)
		w := randomFloats(rng, n, 2)
		want := make([]float32, rows*n)
		for r := range rows {
			nn.RMSNorm(want[r*n:(r+1)*n], x[r*n:(r+1)*n], w, 1e-5)
		}
		xb, wb, dst := allocFloats(t, d, x), allocFloats(t, d, w), allocFloats(t, d, make([]float32, rows*n))
		require.NoError(t, d.RMSNorm(dst, xb, wb, rows, n, 1e-5))
		relClose(t, want, readFloats(t, dst, rows*n), 1e-6, fmt.Sprintf("rmsnorm n=%d", n))
		require.NoError(t, d.RMSNorm(xb, xb, wb, rows, n, 1e-5), "in place")
		relClose(t, want, readFloats(t, xb, rows*n), 1e-6, fmt.Sprintf("rmsnorm in place n=%d", n))
	}
}

func TestGPURope(t *testing.T) {
	d := testDevice(t)
	rng := rand.New(rand.NewPCG(43, 44))
	const heads, headDim, rows, pos = 9, 64, 3, 100
	for _, dims := range []int{64, 32} {
		for _, neox := range []bool{false, true} {
			ref, err := nn.NewRope(headDim, dims, 100000, neox)
			require.NoError(t, err)
			r, err := d.NewRope(headDim, dims, 100000, neox)
			require.NoError(t, err)
			x := randomFloats(rng, rows*heads*headDim, 4)
			want := append([]float32(nil), x...)
			for i := range rows {
				ref.Apply(want[i*heads*headDim:(i+1)*heads*headDim], pos+i)
			}
			xb := allocFloats(t, d, x)
			require.NoError(t, d.ApplyRope(r, xb, rows, heads, pos))
			got := readFloats(t, xb, len(x))
			for i := range want {
				require.InDelta(t, want[i], got[i], 1e-5, "dims %d neox %v value %d", dims, neox, i)
			}
			require.NoError(t, r.Free())
		}
	}
}

func TestGPUSoftmax(t *testing.T) {
	d := testDevice(t)
	rng := rand.New(rand.NewPCG(45, 46))
	for _, n := range []int{1, 37, 1000, 5000} {
		const rows = 2
		x := randomFloats(rng, rows*n, 10)
		want := append([]float32(nil), x...)
		for r := range rows {
			nn.Softmax(want[r*n : (r+1)*n])
		}
		xb := allocFloats(t, d, x)
		require.NoError(t, d.Softmax(xb, rows, n))
		relClose(t, want, readFloats(t, xb, rows*n), 1e-6, fmt.Sprintf("softmax n=%d", n))
	}
}

// attentionRef is the CPU decoder's attention for one token
// (engine/decoder, State.forward).
func attentionRef(s AttentionShape, q, k, v []float32) []float32 {
	out := make([]float32, s.Heads*s.HeadDim)
	group := s.Heads / s.KVHeads
	sc := make([]float32, s.Positions)
	for h := range s.Heads {
		qh := q[h*s.HeadDim : (h+1)*s.HeadDim]
		off := (h / group) * s.HeadDim
		for t := range sc {
			kt := k[t*s.KVStride+off : t*s.KVStride+off+s.HeadDim]
			var dot float32
			for i, qv := range qh {
				dot += qv * kt[i]
			}
			sc[t] = dot * s.Scale
		}
		nn.Softmax(sc)
		o := out[h*s.HeadDim : (h+1)*s.HeadDim]
		for t, w := range sc {
			vt := v[t*s.KVStride+off : t*s.KVStride+off+s.HeadDim]
			for i := range o {
				o[i] += w * vt[i]
			}
		}
	}
	return out
}

func TestGPUAttention(t *testing.T) {
	d := testDevice(t)
	rng := rand.New(rand.NewPCG(47, 48))
	for _, positions := range []int{1, 37, 600, 4000} {
		s := AttentionShape{Heads: 9, KVHeads: 3, HeadDim: 64, KVStride: 192, Positions: positions, Scale: 0.125}
		q := randomFloats(rng, s.Heads*s.HeadDim, 2)
		k := randomFloats(rng, positions*s.KVStride, 2)
		v := randomFloats(rng, positions*s.KVStride, 2)
		want := attentionRef(s, q, k, v)
		out := allocFloats(t, d, make([]float32, len(want)))
		require.NoError(t, d.Attention(out, allocFloats(t, d, q), allocFloats(t, d, k), allocFloats(t, d, v), s))
		got := readFloats(t, out, len(want))
		for i := range want {
			require.InDelta(t, want[i], got[i], 1e-5, "%d positions, value %d", positions, i)
		}
	}
}

func TestGPUSwiGLUAndAdd(t *testing.T) {
	d := testDevice(t)
	rng := rand.New(rand.NewPCG(49, 50))
	const n = 1000
	gate, up := randomFloats(rng, n, 6), randomFloats(rng, n, 3)
	want := make([]float32, n)
	nn.SwiGLU(want, gate, up)
	gb, ub, dst := allocFloats(t, d, gate), allocFloats(t, d, up), allocFloats(t, d, make([]float32, n))
	require.NoError(t, d.SwiGLU(dst, gb, ub, n))
	relClose(t, want, readFloats(t, dst, n), 1e-6, "swiglu")

	sum := make([]float32, n)
	nn.Add(sum, gate, up)
	require.NoError(t, d.Add(gb, gb, ub, n), "in place")
	require.Equal(t, sum, readFloats(t, gb, n), "add is exact")
}

// bandwidthShape is far larger than any GPU's L2 cache: 335 MB of int2.
const bandwidthRows, bandwidthCols = 32768, 32768

// TestGPUBandwidth measures the int2 GEMV on bandwidthShape and requires
// at least 60% of the device's DRAM bandwidth (issue target), checking
// a sample of rows against the reference too.
func TestGPUBandwidth(t *testing.T) {
	d := testDevice(t)
	rng := rand.New(rand.NewPCG(51, 52))
	m := randomMatrix(t, rng, quant.Int2, bandwidthRows, bandwidthCols)
	x := randomQ8(t, rng, bandwidthCols, 1)
	dm := uploadT(t, d, m)
	q, err := d.NewQ8Buffer(bandwidthCols, 1)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, q.Free()) })
	require.NoError(t, q.Write([]*quant.Q8{x}))
	out, err := d.Alloc(4 * bandwidthRows)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, out.Free()) })

	_, err = d.TimeMatMul(dm, q, 1, out, 3) // warm up
	require.NoError(t, err)
	const iters = 20
	el, err := d.TimeMatMul(dm, q, 1, out, iters)
	require.NoError(t, err)
	got := readFloats(t, out, bandwidthRows)
	checkProduct(t, firstRows(m, 512), []*quant.Q8{x}, got[:512], true)

	rate := float64(dm.Bytes()) * iters / el.Seconds()
	peak := d.PeakBandwidth()
	t.Logf("int2 %d×%d GEMV, %.0f MB of weights (L2 %.0f MB): %.1f µs per product, %.0f GB/s",
		bandwidthRows, bandwidthCols, float64(dm.Bytes())/1e6, float64(d.L2Bytes)/1e6, el.Seconds()*1e6/iters, rate/1e9)
	if peak == 0 {
		t.Logf("peak bandwidth unknown for %s: no fraction reported", d.Name)
		return
	}
	t.Logf("= %.1f%% of %s's %.0f GB/s peak (memory clock %d kHz, %d-bit bus)",
		100*rate/peak, d.Name, peak/1e9, d.MemClockKHz, d.BusWidthBits)
	require.GreaterOrEqual(t, rate/peak, 0.6, "the int2 GEMV should reach 60%% of DRAM bandwidth")
}

// benchMatMul times b.N products on the GPU with events and reports GB/s
// of weights, the fraction of the DRAM peak, and weights per second.
func benchMatMul(b *testing.B, d *Device, dm *Matrix, q *Q8Buffer, vectors int, out *Buffer) {
	b.ResetTimer()
	el, err := d.TimeMatMul(dm, q, vectors, out, b.N)
	require.NoError(b, err)
	s := el.Seconds()
	bytes := float64(dm.Bytes()) * float64(b.N)
	b.ReportMetric(s*1e6/float64(b.N), "gpu-µs/op")
	b.ReportMetric(bytes/s/1e9, "GB/s")
	if peak := d.PeakBandwidth(); peak > 0 {
		b.ReportMetric(bytes/s/peak, "peak-frac")
	}
	b.ReportMetric(float64(dm.Rows)*float64(dm.Cols)*float64(vectors)*float64(b.N)/s, "weights/s")
}

// benchSetup uploads a random matrix and activations for a benchmark.
func benchSetup(b *testing.B, d *Device, rng *rand.Rand, f quant.Format, rows, cols, vectors int) (*Matrix, *Q8Buffer, *Buffer) {
	xs := make([]*quant.Q8, vectors)
	for i := range xs {
		xs[i] = randomQ8(b, rng, cols, 1)
	}
	return uploadProduct(b, d, randomMatrix(b, rng, f, rows, cols), xs)
}

// uploadProduct copies a matrix and activation vectors to d and allocates
// the product's output.
func uploadProduct(b *testing.B, d *Device, m *kernels.Matrix, xs []*quant.Q8) (*Matrix, *Q8Buffer, *Buffer) {
	dm, err := d.Upload(m)
	require.NoError(b, err)
	q, err := d.NewQ8Buffer(m.Cols, len(xs))
	require.NoError(b, err)
	require.NoError(b, q.Write(xs))
	out, err := d.Alloc(4 * m.Rows * len(xs))
	require.NoError(b, err)
	return dm, q, out
}

func freeAll(b *testing.B, frees ...func() error) {
	for _, f := range frees {
		require.NoError(b, f())
	}
}

// BenchmarkGPUGEMV measures one-vector products per format on the CPU
// benchmarks' shapes and on bandwidthShape.
func BenchmarkGPUGEMV(b *testing.B) {
	d := testDevice(b)
	rng := rand.New(rand.NewPCG(53, 54))
	shapes := append(benchShapes[:len(benchShapes):len(benchShapes)], struct {
		rows, cols int
		big        bool
	}{bandwidthRows, bandwidthCols, true})
	for _, f := range mmFormats {
		for _, s := range shapes {
			if s.big && f != quant.Int2 {
				continue
			}
			dm, q, out := benchSetup(b, d, rng, f, s.rows, s.cols, 1)
			b.Run(fmt.Sprintf("%s/%dx%d", f, s.rows, s.cols), func(b *testing.B) { benchMatMul(b, d, dm, q, 1, out) })
			freeAll(b, dm.Free, q.Free, out.Free)
		}
	}
}

// BenchmarkGPUGEMM measures small-batch int2 products.
func BenchmarkGPUGEMM(b *testing.B) {
	d := testDevice(b)
	rng := rand.New(rand.NewPCG(55, 56))
	for _, s := range benchShapes[:7] {
		for _, vectors := range []int{4, 8} {
			dm, q, out := benchSetup(b, d, rng, quant.Int2, s.rows, s.cols, vectors)
			b.Run(fmt.Sprintf("int2/%dx%d/n%d", s.rows, s.cols, vectors), func(b *testing.B) { benchMatMul(b, d, dm, q, vectors, out) })
			freeAll(b, dm.Free, q.Free, out.Free)
		}
	}
}

// TestGPUGraph runs batches as a graph and kernel by kernel on copies of
// the same data: the results are equal bit for bit, a repeated batch
// updates no node, a new position updates only the rope node, and other
// kernels rebuild the graph.
func TestGPUGraph(t *testing.T) {
	d := testDevice(t)
	rng := rand.New(rand.NewPCG(59, 60))
	const heads, headDim = 3, 64
	r, err := d.NewRope(headDim, headDim, 10000, false)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Free()) })
	x, y := randomFloats(rng, heads*headDim, 2), randomFloats(rng, heads*headDim, 1)
	gx, dx, yb := allocFloats(t, d, x), allocFloats(t, d, x), allocFloats(t, d, y)
	batch := func(buf *Buffer, pos int, norm bool) *Batch {
		b := d.NewBatch()
		b.ApplyRope(r, buf, 1, heads, pos)
		b.Add(buf, buf, yb, len(x))
		if norm {
			b.RMSNorm(buf, buf, yb, heads, headDim, 1e-5)
		}
		require.NoError(t, b.Err())
		return b
	}
	g := d.NewGraph()
	t.Cleanup(func() { require.NoError(t, g.Close()) })
	for step, c := range []struct {
		pos     int
		norm    bool
		updated int
	}{{5, true, 3}, {5, true, 0}, {6, true, 1}, {40, true, 1}, {40, false, 2}, {41, false, 1}} {
		gb := batch(gx, c.pos, c.norm)
		require.NoError(t, g.Run(gb))
		require.NoError(t, batch(dx, c.pos, c.norm).Run())
		require.Equal(t, readFloats(t, dx, len(x)), readFloats(t, gx, len(x)), "step %d", step)
		if d.drv.hasGraphs() { // else the batches ran kernel by kernel
			require.Equal(t, c.updated, g.updated, "step %d: nodes built or updated", step)
		}
		require.NoError(t, g.Run(gb), "the same batch again")
		require.NoError(t, batch(dx, c.pos, c.norm).Run())
		require.Equal(t, readFloats(t, dx, len(x)), readFloats(t, gx, len(x)), "step %d again", step)
		require.Zero(t, g.updated, "step %d again: nothing to update", step)
	}
}

// TestGPUFusedOps checks the fused kernels against the operations they
// fuse, run one after another on copies of the same data: every output
// (the residual sum, the normalized or activated values, the Q8 codes,
// scales and sums) has the same bits.
func TestGPUFusedOps(t *testing.T) {
	d := testDevice(t)
	rng := rand.New(rand.NewPCG(61, 62))
	newQ8 := func(n, vectors int) *Q8Buffer {
		q, err := d.NewQ8Buffer(n, vectors)
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, q.Free()) })
		return q
	}
	q8Bytes := func(q *Q8Buffer) []byte {
		b := make([]byte, q.lay.size)
		require.NoError(t, q.buf.Read(b))
		return b
	}
	const rows = 3
	for _, n := range []int{64, 576, 1536} {
		x, res, w := randomFloats(rng, rows*n, 3), randomFloats(rng, rows*n, 1), randomFloats(rng, n, 2)
		for _, withRes := range []bool{false, true} {
			name := fmt.Sprintf("rmsnorm_q8 n=%d res=%v", n, withRes)
			// Unfused: x1 += res1; dst1 = rmsnorm(x1); q1 = q8(dst1).
			x1, res1, dst1, w1, q1 := allocFloats(t, d, x), allocFloats(t, d, res), allocFloats(t, d, make([]float32, rows*n)), allocFloats(t, d, w), newQ8(n, rows)
			if withRes {
				require.NoError(t, d.Add(x1, x1, res1, rows*n))
			}
			require.NoError(t, d.RMSNorm(dst1, x1, w1, rows, n, 1e-5))
			require.NoError(t, d.QuantizeQ8(dst1, q1, rows))
			// Fused, with dst aliasing res as the decoder has it.
			x2, res2, q2 := allocFloats(t, d, x), allocFloats(t, d, res), newQ8(n, rows)
			var r *Buffer
			if withRes {
				r = res2
			}
			require.NoError(t, d.RMSNormQ8(res2, x2, r, w1, rows, 1e-5, q2))
			require.Equal(t, readFloats(t, x1, rows*n), readFloats(t, x2, rows*n), "%s: the residual sum", name)
			require.Equal(t, readFloats(t, dst1, rows*n), readFloats(t, res2, rows*n), "%s: the normalized values", name)
			require.Equal(t, q8Bytes(q1), q8Bytes(q2), "%s: the quantized values", name)
		}

		gate, up := randomFloats(rng, rows*n, 4), randomFloats(rng, rows*n, 2)
		g1, u1, q1 := allocFloats(t, d, gate), allocFloats(t, d, up), newQ8(n, rows)
		require.NoError(t, d.SwiGLU(g1, g1, u1, rows*n))
		require.NoError(t, d.QuantizeQ8(g1, q1, rows))
		g2, u2, q2 := allocFloats(t, d, gate), allocFloats(t, d, up), newQ8(n, rows)
		require.NoError(t, d.SwiGLUQ8(g2, g2, u2, rows, q2))
		require.Equal(t, readFloats(t, g1, rows*n), readFloats(t, g2, rows*n), "swiglu_q8 n=%d: the activations", n)
		require.Equal(t, q8Bytes(q1), q8Bytes(q2), "swiglu_q8 n=%d: the quantized values", n)
	}
}

// TestGPUPositionKernels checks the kernels that read the position from
// device memory against those that take it as an argument, bit for bit,
// at several positions of one Position.
func TestGPUPositionKernels(t *testing.T) {
	d := testDevice(t)
	rng := rand.New(rand.NewPCG(63, 64))
	const heads, kvHeads, headDim, capacity = 9, 3, 64, 64
	kvd := kvHeads * headDim
	at, err := d.NewPosition(capacity)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, at.Free()) })
	r, err := d.NewRope(headDim, headDim, 10000, true)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Free()) })
	kc, vc := allocFloats(t, d, randomFloats(rng, capacity*kvd, 1)), allocFloats(t, d, randomFloats(rng, capacity*kvd, 1))
	shape := AttentionShape{Heads: heads, KVHeads: kvHeads, HeadDim: headDim, KVStride: kvd, Scale: 0.125}
	for _, pos := range []int{0, 7, capacity - 1} {
		require.NoError(t, at.Set(pos))
		x := randomFloats(rng, heads*headDim, 2)
		x1, x2 := allocFloats(t, d, x), allocFloats(t, d, x)
		require.NoError(t, d.ApplyRope(r, x1, 1, heads, pos))
		require.NoError(t, d.ApplyRopeAt(r, x2, 1, heads, at))
		require.Equal(t, readFloats(t, x1, len(x)), readFloats(t, x2, len(x)), "rope at %d", pos)

		kn, vn := randomFloats(rng, kvd, 1), randomFloats(rng, kvd, 1)
		require.NoError(t, d.StoreKV(kc, vc, allocFloats(t, d, kn), allocFloats(t, d, vn), kvd, at))
		gotK, gotV := readFloats(t, kc, capacity*kvd), readFloats(t, vc, capacity*kvd)
		require.Equal(t, kn, gotK[pos*kvd:(pos+1)*kvd], "key stored at %d", pos)
		require.Equal(t, vn, gotV[pos*kvd:(pos+1)*kvd], "value stored at %d", pos)

		out1, out2 := allocFloats(t, d, make([]float32, heads*headDim)), allocFloats(t, d, make([]float32, heads*headDim))
		shape.Positions = pos + 1
		require.NoError(t, d.Attention(out1, x1, kc, vc, shape))
		require.NoError(t, d.AttentionAt(out2, x1, kc, vc, shape, at))
		require.Equal(t, readFloats(t, out1, heads*headDim), readFloats(t, out2, heads*headDim), "attention at %d", pos)
	}
}
