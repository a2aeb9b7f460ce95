package kernels

import "encoding/binary"

// StreamRead reads every byte of buf (its length a multiple of 64) with the
// pool's threads and returns a checksum, so the reads cannot be optimized
// away. Benchmarks use it to measure the machine's streaming-read bandwidth,
// the bound a memory-bound GEMV is compared with.
func (p *Pool) StreamRead(buf []byte) uint64 {
	const chunk = 1 << 20
	sums := make([]uint64, (len(buf)+chunk-1)/chunk)
	p.parallelFor(len(buf), chunk, func(lo, hi int) {
		sums[lo/chunk] = p.impl.streamSum(buf[lo:hi])
	})
	var s uint64
	for _, v := range sums {
		s += v
	}
	return s
}

// streamSumGeneric adds the 64-bit words of b (len(b) a multiple of 64)
// with eight independent accumulators.
func streamSumGeneric(b []byte) uint64 {
	var s0, s1, s2, s3, s4, s5, s6, s7 uint64
	for ; len(b) >= 64; b = b[64:] {
		s0 += binary.LittleEndian.Uint64(b[0:])
		s1 += binary.LittleEndian.Uint64(b[8:])
		s2 += binary.LittleEndian.Uint64(b[16:])
		s3 += binary.LittleEndian.Uint64(b[24:])
		s4 += binary.LittleEndian.Uint64(b[32:])
		s5 += binary.LittleEndian.Uint64(b[40:])
		s6 += binary.LittleEndian.Uint64(b[48:])
		s7 += binary.LittleEndian.Uint64(b[56:])
	}
	return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7
}
