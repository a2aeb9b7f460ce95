package kernels

import (
	"math"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
)

// quantizeQ8Fast is quant.QuantizeQ8Ref, bit for bit, 5 to 8 times faster
// (BenchmarkQuantizeQ8: 1.7-1.9 against 8.9-15.6 ns a value): it finds each group's largest magnitude from the float bits in one
// pass and rounds half away from zero by truncating r ± 1/2 in float64 (exact,
// since the codes stay within ±127.5), where the reference converts every value to float64
// and tests it for NaN and infinity. A vector holding a NaN or an
// infinity, or a group so small (below 2^-100) that 1/d could overflow, is
// handed to the reference, which also produces its error. It is every
// Impl's activation quantizer (TestQuantizeQ8AllImpls checks each against
// the reference).
func quantizeQ8Fast(x []float32, q *quant.Q8) error {
	if len(x) != q.N {
		return quant.QuantizeQ8Ref(x, q)
	}
	const (
		absMask  = 0x7fffffff
		expAll   = 0x7f800000 // an infinity; larger magnitudes are NaNs
		tinyBits = 0x0d800000 // 2^-100
		signBit  = 0x80000000
		halfBits = 0x3fe0000000000000 // float64 0.5
	)
	for g := 0; g < q.N/quant.GroupSize; g++ {
		xs := x[g*quant.GroupSize : (g+1)*quant.GroupSize]
		var umax uint32
		for _, v := range xs {
			umax = max(umax, math.Float32bits(v)&absMask)
		}
		if umax >= expAll || (umax != 0 && umax < tinyBits) {
			return quant.QuantizeQ8Ref(x, q)
		}
		d := math.Float32frombits(umax) / 127
		var inv float32
		if d != 0 {
			inv = 1 / d
		}
		qs := q.Qs[g*quant.GroupSize : (g+1)*quant.GroupSize]
		var sum int32
		for i, v := range xs {
			// r ± 1/2 is exact in float64 (r has 24 significant bits and
			// |r| < 128), so truncating it rounds r half away from zero,
			// without a branch to mispredict.
			r := float32(v * inv) // rounded to float32 first, as the reference does
			half := math.Float64frombits(halfBits | uint64(math.Float32bits(r)&signBit)<<32)
			c := int32(float64(r) + half)
			qs[i] = int8(c)
			sum += c
		}
		q.D[g] = d
		q.S[g] = d * float32(sum)
	}
	return nil
}
