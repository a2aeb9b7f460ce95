package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// benchShapes are the weight matrices of SmolLM2-135M/360M and SigLIP-B/16
// (rows × cols = outputs × inputs), the 49152×576 output head, llama.cpp's
// perf-suite shape (4096×14336, see docs/kernels.md) and one matrix far
// larger than this machine's 32 MiB last-level cache.
var benchShapes = []struct {
	name       string
	rows, cols int
	big        bool // larger than the LLC in int2
}{
	{"576x576", 576, 576, false},
	{"1536x576", 1536, 576, false},
	{"576x1536", 576, 1536, false},
	{"960x2560", 960, 2560, false},
	{"2560x960", 2560, 960, false},
	{"768x3072", 768, 3072, false},
	{"3072x768", 3072, 768, false},
	{"49152x576", 49152, 576, false},
	{"4096x14336", 4096, 14336, false},
	{"16384x16384", 16384, 16384, true},
}

// benchImpls returns the supported Impls: all of them, or only the default
// one when short is set (make bench runs every Impl).
func benchImpls() []*Impl {
	var ims []*Impl
	for _, im := range Impls() {
		if im.Supported {
			ims = append(ims, im)
		}
	}
	return ims
}

// fastest tracks the shortest of a benchmark's calls: on a shared machine
// whose load changes, the calls that ran undisturbed compare two builds
// better than the mean does.
type fastest time.Duration

// time runs fn, keeps its duration if it is the shortest so far and
// returns it.
func (f *fastest) time(fn func()) time.Duration {
	t0 := time.Now()
	fn()
	d := time.Since(t0)
	if *f == 0 || fastest(d) < *f {
		*f = fastest(d)
	}
	return d
}

// report adds the shortest call's time to b's metrics as unit.
func (f fastest) report(b *testing.B, unit string) {
	b.ReportMetric(float64(time.Duration(f).Nanoseconds()), unit)
}

func reportWeights(b *testing.B, m *Matrix, vectors int) {
	s := b.Elapsed().Seconds()
	weights := float64(m.Rows) * float64(m.Cols) * float64(b.N)
	b.ReportMetric(weights*float64(vectors)/s, "weights/s")
	b.ReportMetric(float64(m.Bytes())*float64(b.N)/s/1e9, "GB/s")
	b.ReportMetric(float64(8*m.Bytes())/float64(m.Rows*m.Cols), "bits/weight")
}

// BenchmarkGEMV measures one-token matrix-vector products per format,
// Impl and thread count; min-ns is the shortest call.
func BenchmarkGEMV(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, f := range grouped {
		for _, s := range benchShapes {
			if f != quant.Int2 && s.big {
				continue
			}
			m := randomMatrix(b, rng, f, s.rows, s.cols)
			x := randomQ8(b, rng, s.cols, 1)
			out := make([]float32, s.rows)
			for _, im := range benchImpls() {
				for _, threads := range []int{1, 2} {
					b.Run(fmt.Sprintf("%s/%s/t%d/%s", f, im.Name, threads, s.name), func(b *testing.B) {
						p := NewPool(threads, im)
						defer p.Close()
						var fast fastest
						for b.Loop() {
							fast.time(func() { _ = p.GEMV(m, x, out) })
						}
						reportWeights(b, m, 1)
						fast.report(b, "min-ns")
					})
				}
			}
		}
	}
}

// gemmShapes are BenchmarkGEMM's matrices: SmolLM2-135M's MLP (576×1536
// and 1536×576), its output head (49152×576, Int8 in the int2 recipe) and
// a 4096×4096 attention matrix of a larger model.
var gemmShapes = []struct {
	name       string
	rows, cols int
}{
	{"576x1536", 576, 1536},
	{"1536x576", 1536, 576},
	{"49152x576", 49152, 576},
	{"4096x4096", 4096, 4096},
}

// BenchmarkGEMM measures the product of a matrix with 4 activation vectors
// (a batched decode step of 4 sequences) per format, Impl and thread
// count, as one GEMM and as 4 GEMVs, alternately in each iteration so
// that both see the same load on a shared machine: gemm-ns and gemv4-ns
// are their times per iteration, gemm/gemv4 the ratio (what reading each
// weight once per step instead of once per vector saves), weights/s the
// GEMM's rate over all 4 products, gemm-min-ns and gemv4-min-ns the
// shortest iteration's times.
func BenchmarkGEMM(b *testing.B) {
	const tokens = 4
	rng := rand.New(rand.NewPCG(2, 2))
	for _, f := range grouped {
		for _, s := range gemmShapes {
			m := randomMatrix(b, rng, f, s.rows, s.cols)
			xs := make([]*quant.Q8, tokens)
			for i := range xs {
				xs[i] = randomQ8(b, rng, s.cols, 1)
			}
			out := make([]float32, tokens*s.rows)
			for _, im := range benchImpls() {
				for _, threads := range []int{1, 2} {
					b.Run(fmt.Sprintf("%s/%s/t%d/%s", f, im.Name, threads, s.name), func(b *testing.B) {
						p := NewPool(threads, im)
						defer p.Close()
						var gemm, gemv time.Duration
						var gemmMin, gemvMin fastest
						for b.Loop() {
							gemm += gemmMin.time(func() { _ = p.GEMM(m, xs, out) })
							gemv += gemvMin.time(func() {
								for t, x := range xs {
									_ = p.GEMV(m, x, out[t*s.rows:(t+1)*s.rows])
								}
							})
						}
						gemmMin.report(b, "gemm-min-ns")
						gemvMin.report(b, "gemv4-min-ns")
						n := float64(b.N)
						b.ReportMetric(float64(gemm.Nanoseconds())/n, "gemm-ns")
						b.ReportMetric(float64(gemv.Nanoseconds())/n, "gemv4-ns")
						b.ReportMetric(gemm.Seconds()/gemv.Seconds(), "gemm/gemv4")
						b.ReportMetric(float64(s.rows)*float64(s.cols)*tokens*n/gemm.Seconds(), "weights/s")
						b.ReportMetric(float64(8*m.Bytes())/float64(m.Rows*m.Cols), "bits/weight")
					})
				}
			}
		}
	}
}

// BenchmarkGEMVF32 is the F32 baseline: float weights times float activations.
func BenchmarkGEMVF32(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, s := range benchShapes {
		if s.big {
			continue
		}
		w := make([]float32, s.rows*s.cols)
		for i := range w {
			w[i] = rng.Float32() - 0.5
		}
		m, err := NewMatrix("f32", quant.F32, s.rows, s.cols, f32Bytes(w))
		if err != nil {
			b.Fatal(err)
		}
		x := make([]float32, s.cols)
		out := make([]float32, s.rows)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/t%d/%s", Best().Name, threads, s.name), func(b *testing.B) {
				p := NewPool(threads, Best())
				defer p.Close()
				for b.Loop() {
					_ = p.GEMVF32(m, x, out)
				}
				reportWeights(b, m, 1)
			})
		}
	}
}

// BenchmarkStreamRead measures the streaming-read bandwidth of a buffer in
// the last-level cache (16 MiB) and of one far larger (256 MiB).
func BenchmarkStreamRead(b *testing.B) {
	for _, size := range []int{16 << 20, 256 << 20} {
		buf := make([]byte, size)
		for i := range buf {
			buf[i] = byte(i)
		}
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/t%d/%dMiB", Best().Name, threads, size>>20), func(b *testing.B) {
				p := NewPool(threads, Best())
				defer p.Close()
				for b.Loop() {
					_ = p.StreamRead(buf)
				}
				b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			})
		}
	}
}
