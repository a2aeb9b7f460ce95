package kernels

import (
	"math"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// The portable kernels. Each computes, for rows r in [0, len(out)) of a
// matrix whose rows start every stride bytes of w and hold n weights,
// out[r] = quant.DotRef(row r, x), with the same operations in the same
// order, so the results are bit-identical to the reference.

func scaleOf(c byte) float32 { return quant.ScaleCode(c).Float() }

func gemvInt2Generic(w []byte, stride, n int, x *quant.Q8, out []float32) {
	groups := n / quant.GroupSize
	for r := range out {
		row := w[r*stride : r*stride+stride]
		codes, scales, offs := row[:n/4], row[n/4:n/4+groups], row[n/4+groups:n/4+2*groups]
		var acc float32
		for g := 0; g < groups; g++ {
			qs, a := codes[8*g:8*g+8], x.Qs[32*g:32*g+32]
			var isum int32
			for j, b := range qs {
				isum += int32(b&3)*int32(a[j]) + int32(b>>2&3)*int32(a[j+8]) +
					int32(b>>4&3)*int32(a[j+16]) + int32(b>>6)*int32(a[j+24])
			}
			o := float32(int8(offs[g])) * (1.0 / 16)
			acc += scaleOf(scales[g]) * (x.D[g]*float32(isum) + o*x.S[g])
		}
		out[r] = acc
	}
}

func gemvInt4Generic(w []byte, stride, n int, x *quant.Q8, out []float32) {
	groups := n / quant.GroupSize
	for r := range out {
		row := w[r*stride : r*stride+stride]
		codes, scales, offs := row[:n/2], row[n/2:n/2+groups], row[n/2+groups:n/2+2*groups]
		var acc float32
		for g := 0; g < groups; g++ {
			qs, a := codes[16*g:16*g+16], x.Qs[32*g:32*g+32]
			var isum int32
			for j, b := range qs {
				isum += int32(b&15)*int32(a[j]) + int32(b>>4)*int32(a[j+16])
			}
			o := float32(int8(offs[g])) * (1.0 / 4)
			acc += scaleOf(scales[g]) * (x.D[g]*float32(isum) + o*x.S[g])
		}
		out[r] = acc
	}
}

func gemvInt8Generic(w []byte, stride, n int, x *quant.Q8, out []float32) {
	groups := n / quant.GroupSize
	for r := range out {
		row := w[r*stride : r*stride+stride]
		codes, scales := row[:n], row[n:n+groups]
		var acc float32
		for g := 0; g < groups; g++ {
			qs, a := codes[32*g:32*g+32], x.Qs[32*g:32*g+32]
			var isum int32
			for j, b := range qs {
				isum += int32(b) * int32(a[j])
			}
			acc += scaleOf(scales[g]) * (x.D[g]*float32(isum) + -128*x.S[g])
		}
		out[r] = acc
	}
}

// gemvF32Generic computes out[r] = Σ_i w[r][i]·x[i] for F32 rows, summing in
// index order.
func gemvF32Generic(w []byte, stride, n int, x []float32, out []float32) {
	for r := range out {
		row := w[r*stride : r*stride+4*n]
		var acc float32
		for i, v := range x {
			w := math.Float32frombits(uint32(row[4*i]) | uint32(row[4*i+1])<<8 | uint32(row[4*i+2])<<16 | uint32(row[4*i+3])<<24)
			// The conversion rounds the product before the sum: without
			// it Go fuses the two into an FMA on arm64 (not on amd64), and
			// the reference would give other bits on every architecture.
			acc += float32(w * v)
		}
		out[r] = acc
	}
}

// gemmByGEMV computes a GEMM as one GEMV per activation vector; SIMD Impls
// replace it with kernels that reuse each weight load across tokens.
func gemmByGEMV(gemv gemvKernel) gemmKernel {
	return func(w []byte, stride, n, rows int, xs []*quant.Q8, out []float32, ldo int) {
		for t, x := range xs {
			gemv(w, stride, n, x, out[t*ldo:t*ldo+rows])
		}
	}
}
