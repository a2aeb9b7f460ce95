package kernels

import "math"

// softmaxKernel is softmaxGeneric's contract: the same bits for the same
// input.
type softmaxKernel func(x []float32, scale float32)

// SoftmaxF32 replaces x by softmax(scale·x), in place, on the calling
// goroutine (attention weights: callers spread rows or heads over threads
// with ParallelFor). Every Impl computes the same bits as softmaxGeneric,
// the specification: the scaled values rounded to float32, e_i = exp(x_i −
// max) in float32 by expF32, their sum in float64 (8 partial sums, see
// softmaxGeneric), and x_i = e_i · float32(1/sum). A NaN or +Inf in x makes
// every output NaN.
func (p *Pool) SoftmaxF32(x []float32, scale float32) {
	if len(x) == 0 {
		return
	}
	if k := p.impl.softmax; k != nil {
		k(x, scale)
		return
	}
	softmaxGeneric(x, scale)
}

// softmaxGeneric is the portable SoftmaxF32. The exponentials are summed in
// float64 in 8 partial sums, sum l taking e_i for i ≡ l (mod 8) in index
// order, which are then added as ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)):
// the order of an 8-lane SIMD accumulator and its reduction.
func softmaxGeneric(x []float32, scale float32) {
	m := float32(math.Inf(-1))
	for i, v := range x {
		v *= scale
		x[i] = v
		m = max(m, v)
	}
	var s [8]float64
	for i, v := range x {
		e := expF32(v - m)
		x[i] = e
		s[i%8] += float64(e)
	}
	sum := ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]))
	inv := float32(1 / sum)
	for i := range x {
		x[i] *= inv
	}
}

// Constants of expF32 (the SIMD kernels hold the same float32 values).
const (
	expLog2e = 1.44269504088896340736
	expLn2Hi = 0.693359375 // ln 2 to 9 bits: n·expLn2Hi is exact
	expLn2Lo = -2.12194440054690582e-4
	expMin   = -87 // e^-87 is near float32's smallest normal
)

// expF32 returns e^x for x ≤ 0 in float32, within 2 ulp of the exact value;
// x < -87 gives 0 and NaN gives NaN. x = n·ln2 + r with n an integer and
// |r| ≤ ln2/2 (ln2 in two parts, so r is exact), and e^r is its Taylor
// polynomial of degree 7 (truncation error below 2^-27 on that range),
// scaled by 2^n. Every operation is a rounded float32 one (the explicit
// conversions keep the compiler from fusing multiply-adds), as in the SIMD
// kernels.
func expF32(x float32) float32 {
	if !(x >= expMin) {
		if x != x {
			return x
		}
		return 0
	}
	n := int32(float32(x*expLog2e) - 0.5) // round to nearest (x ≤ 0)
	nf := float32(n)
	r := (x - float32(nf*expLn2Hi)) - float32(nf*expLn2Lo)
	p := float32(r * (1.0 / 5040))
	for _, c := range [...]float32{1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 1.0 / 2, 1} {
		p = float32(r * (c + p))
	}
	return float32((1 + p) * math.Float32frombits(uint32(n+127)<<23))
}
