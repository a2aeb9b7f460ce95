package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

// benchShapes are the CPU benchmarks' matrices (engine/kernels
// bench_test.go): SmolLM2/SigLIP layers, the output head, llama.cpp's
// perf shape, and one far larger than a CPU cache (int2 only there too).
var benchShapes = []struct {
	rows, cols int
	big        bool
}{
	{576, 576, false}, {1536, 576, false}, {576, 1536, false}, {960, 2560, false},
	{2560, 960, false}, {768, 3072, false}, {3072, 768, false}, {49152, 576, false},
	{4096, 14336, false}, {16384, 16384, true},
}

// alignCols are row widths whose rows have every code alignment the
// kernels are compiled for, in every format (see TestAlignColsCoverKernels).
var alignCols = []int{32, 64, 96, 128, 256, 512}

// randomMatrix returns a rows×cols matrix of format f with random codes and
// offsets and scale codes from 2^-14 to 2^-6.
func randomMatrix(t testing.TB, rng *rand.Rand, f quant.Format, rows, cols int) *kernels.Matrix {
	rb, err := f.RowBytes(cols)
	require.NoError(t, err)
	data := make([]byte, rows*rb)
	for i := 0; i+8 <= len(data); i += 8 {
		v := rng.Uint64()
		for k := range 8 {
			data[i+k] = byte(v >> (8 * k))
		}
	}
	groups := cols / quant.GroupSize
	codeBytes := cols * f.Bits() / 8
	for r := range rows {
		sc := data[r*rb+codeBytes : r*rb+codeBytes+groups]
		for g := range sc {
			sc[g] = byte(80 + rng.IntN(65))
		}
	}
	m, err := kernels.NewMatrix(fmt.Sprintf("random-%s-%dx%d", f, rows, cols), f, rows, cols, data)
	require.NoError(t, err)
	return m
}

// extremeMatrix has every code at its maximum, every scale at 240 and
// every offset at -128.
func extremeMatrix(t testing.TB, f quant.Format, rows, cols int) *kernels.Matrix {
	rb, err := f.RowBytes(cols)
	require.NoError(t, err)
	data := make([]byte, rows*rb)
	for i := range data {
		data[i] = 0xff
	}
	m, err := kernels.NewMatrix("extreme", f, rows, cols, data)
	require.NoError(t, err)
	for r := range rows {
		offs := m.Row(r).Offsets()
		for g := range offs {
			offs[g] = 0x80
		}
	}
	return m
}

// randomQ8 quantizes random activations in [-scale, scale].
func randomQ8(t testing.TB, rng *rand.Rand, n int, scale float32) *quant.Q8 {
	x := make([]float32, n)
	for i := range x {
		x[i] = (2*rng.Float32() - 1) * scale
	}
	q, err := quant.NewQ8(n)
	require.NoError(t, err)
	require.NoError(t, quant.QuantizeQ8Ref(x, q))
	return q
}

// groupTerm is group g's contribution d·(D·isum + o·S), each operation
// rounded to float32 (explicit conversions forbid fused multiply-adds), as
// the kernels compute it with --fmad=false.
func groupTerm(r quant.Row, x *quant.Q8, g int) float32 {
	var isum int32
	for j := range quant.GroupSize {
		i := g*quant.GroupSize + j
		isum += int32(r.Code(i)) * int32(x.Qs[i])
	}
	d, o := r.GroupScale(g)
	p := float32(x.D[g] * float32(isum))
	q := float32(o * x.S[g])
	return float32(d * float32(p+q))
}

// emulateRow computes a row product in the kernels' order: lane l of a
// warp adds the terms of groups l, l+32, ... in turn, then the lanes are
// combined by a butterfly (xor 16, 8, 4, 2, 1). It also returns Σ|term|,
// which bounds the rounding error of any summation order.
func emulateRow(r quant.Row, x *quant.Q8) (float32, float64) {
	var lanes [32]float32
	var mag float64
	for g := range r.Groups() {
		term := groupTerm(r, x, g)
		lanes[g%32] += term
		mag += math.Abs(float64(term))
	}
	for off := 16; off > 0; off >>= 1 {
		var next [32]float32
		for l := range lanes {
			next[l] = lanes[l] + lanes[l^off]
		}
		lanes = next
	}
	return lanes[0], mag
}

// rowTolerance bounds |a-b| for two sums of the same G float32 terms in
// different orders: each is within (G-1)·2⁻²⁴·Σ|term| of the exact sum.
func rowTolerance(groups int, mag float64) float64 {
	return 2 * float64(groups) * math.Ldexp(mag, -24)
}

// checkProduct checks out (vector t's results at out[t*rows:]) against the
// emulation, bit for bit when exact, and against quant.DotRef within
// rowTolerance. Rows are checked in parallel; it reports the first few
// mismatches and how many there were.
func checkProduct(t testing.TB, m *kernels.Matrix, xs []*quant.Q8, out []float32, exact bool) {
	t.Helper()
	require.Len(t, out, len(xs)*m.Rows)
	var (
		mu   sync.Mutex
		bad  int
		msgs []string
	)
	report := func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		bad++
		if len(msgs) < 5 {
			msgs = append(msgs, msg)
		}
	}
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := w; r < m.Rows; r += workers {
				row := m.Row(r)
				for t, x := range xs {
					got := out[t*m.Rows+r]
					emu, mag := emulateRow(row, x)
					ref := quant.DotRef(row, x)
					if tol := rowTolerance(row.Groups(), mag); math.Abs(float64(got)-float64(ref)) > tol {
						report(fmt.Sprintf("row %d vector %d: got %g, DotRef %g, tolerance %g", r, t, got, ref, tol))
					} else if exact && math.Float32bits(got) != math.Float32bits(emu) {
						report(fmt.Sprintf("row %d vector %d: got %g (%#x), emulated order gives %g (%#x)",
							r, t, got, math.Float32bits(got), emu, math.Float32bits(emu)))
					}
				}
			}
		}()
	}
	wg.Wait()
	require.Zero(t, bad, "%s %d×%d: %d of %d results wrong, e.g.\n%v", m.Format, m.Rows, m.Cols, bad, len(out), msgs)
}
