//go:build amd64 && !purego

package kernels

import (
	"encoding/binary"
	"math"
)

// The F32 GEMM of the avx2 and avx512 Impls. The rows of W are packed,
// gemmF32NR rows by gemmF32KC columns at a time, into a panel that holds
// column i's gemmF32NR values contiguously (panel[i*gemmF32NR+r]); a micro
// kernel then multiplies the panel with every group of gemmF32MR vectors,
// broadcasting one value of each vector per column and keeping the
// gemmF32MR×gemmF32NR sums in registers. Each weight is thus read from
// memory once per call and from the L1-resident panel once per group of
// vectors. Every output is the float32 sum of its products in index order,
// each product rounded before it is added (no fused multiply-add; the first
// gemmF32KC columns, then the next ones continuing from the stored sums):
// the generic kernel's sum, bit for bit (Go fuses no multiply-add below
// GOAMD64=v3), so results do not depend on the CPU. AMD Zen cores run the
// multiplies and the adds on separate pipes, as fast as fused ones. Partial
// panels (fewer than gemmF32NR rows) and the last, partial group of vectors
// go through zero-padded copies. The kernels prefetch the next group's
// vectors: a group reads 6 short runs a row apart, which the hardware
// prefetchers do not foresee.
const (
	gemmF32NR = 64  // rows per panel: 4 AVX-512 vectors, 8 AVX2 vectors
	gemmF32MR = 6   // vectors per group
	gemmF32KC = 128 // columns per panel: 32 KiB, inside the L1 data cache
)

// gemmF32x16 is the AVX-512 micro kernel: for g < groups, t < 6, r < 64,
//
//	for i := 0; i < kc; i++ {
//		c[(6g+t)*ldc+r] += float32(panel[64i+r] * x[(6g+t)*ldx+i])
//	}
//
// starting from 0 unless acc is set (ldx, ldc in floats).
//
//go:noescape
func gemmF32x16(panel *float32, kc int, x *float32, ldx, groups int, c *float32, ldc, acc int)

// gemmF32x8 is gemmF32x16 for AVX2 (16 rows of a panel at a time).
//
//go:noescape
func gemmF32x8(panel *float32, kc int, x *float32, ldx, groups int, c *float32, ldc, acc int)

// gemmF32AVX512 is the gemmF32Kernel of the avx512 Impl.
func gemmF32AVX512(pr *F32Product) { gemmF32Packed(pr, true) }

// gemmF32AVX2 is the gemmF32Kernel of the avx2 Impl.
func gemmF32AVX2(pr *F32Product) { gemmF32Packed(pr, false) }

// gemmF32Micro calls the AVX-512 or the AVX2 micro kernel (direct calls, so
// that the panel and the padded copies stay on gemmF32Packed's stack).
func gemmF32Micro(avx512 bool, panel *float32, kc int, x *float32, ldx, groups int, c *float32, ldc, acc int) {
	if avx512 {
		gemmF32x16(panel, kc, x, ldx, groups, c, ldc, acc)
	} else {
		gemmF32x8(panel, kc, x, ldx, groups, c, ldc, acc)
	}
}

// gemmF32Packed computes a checked product with K, Rows and N > 0.
func gemmF32Packed(pr *F32Product, avx512 bool) {
	const nr, mr, kcMax = gemmF32NR, gemmF32MR, gemmF32KC
	var panel [kcMax * nr]float32
	var xpad [mr * kcMax]float32 // the last group's vectors, zero-padded
	var tile [mr * nr]float32    // outputs of a partial panel or group
	groups := pr.N / mr
	tail := pr.N - groups*mr
	for r0 := 0; r0 < pr.Rows; r0 += nr {
		rows := min(nr, pr.Rows-r0)
		for k0 := 0; k0 < pr.K; k0 += kcMax {
			kc := min(kcMax, pr.K-k0)
			packF32(panel[:kc*nr], pr.W[r0*pr.Stride+4*k0:], pr.Stride, rows, kc)
			acc := 0
			if k0 > 0 {
				acc = 1
			}
			// tileOp multiplies the panel with the vectors of one group,
			// from x (ldx apart), through tile.
			tileOp := func(t0, vectors int, x *float32, ldx int) {
				if acc != 0 {
					copyTile(tile[:], nr, pr.Out[t0*pr.LdOut+r0:], pr.LdOut, vectors, rows)
				}
				gemmF32Micro(avx512, &panel[0], kc, x, ldx, 1, &tile[0], nr, acc)
				copyTile(pr.Out[t0*pr.LdOut+r0:], pr.LdOut, tile[:], nr, vectors, rows)
			}
			switch {
			case groups > 0 && rows == nr:
				// The kernel reads vectors [0, 6·groups) and writes their
				// outputs r0..r0+63: index their last elements first.
				last := groups*mr - 1
				_, _ = pr.X[last*pr.LdX+k0+kc-1], pr.Out[last*pr.LdOut+r0+nr-1]
				gemmF32Micro(avx512, &panel[0], kc, &pr.X[k0], pr.LdX, groups, &pr.Out[r0], pr.LdOut, acc)
			case groups > 0:
				for g := range groups {
					t0 := g * mr
					_ = pr.X[(t0+mr-1)*pr.LdX+k0+kc-1]
					tileOp(t0, mr, &pr.X[t0*pr.LdX+k0], pr.LdX)
				}
			}
			if tail > 0 {
				t0 := groups * mr
				for t := range tail {
					copy(xpad[t*kcMax:t*kcMax+kc], pr.X[(t0+t)*pr.LdX+k0:])
				}
				tileOp(t0, tail, &xpad[0], kcMax)
			}
		}
	}
}

// copyTile copies rows rows of cols floats from src (ldSrc apart) to dst
// (ldDst apart).
func copyTile(dst []float32, ldDst int, src []float32, ldSrc, rows, cols int) {
	for t := range rows {
		copy(dst[t*ldDst:t*ldDst+cols], src[t*ldSrc:t*ldSrc+cols])
	}
}

// packF32 writes columns [0, kc) of rows rows (row r: the little-endian
// float32 at w[r*stride:]) into panel: column i's rows at
// panel[i*gemmF32NR:], zeros after them.
func packF32(panel []float32, w []byte, stride, rows, kc int) {
	const nr = gemmF32NR
	if rows < nr {
		clear(panel)
	}
	f := func(b []byte, i int) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b[4*i : 4*i+4])) }
	r := 0
	for ; r+4 <= rows; r += 4 {
		w0, w1 := w[r*stride:r*stride+4*kc], w[(r+1)*stride:(r+1)*stride+4*kc]
		w2, w3 := w[(r+2)*stride:(r+2)*stride+4*kc], w[(r+3)*stride:(r+3)*stride+4*kc]
		for i := range kc {
			d := panel[i*nr+r : i*nr+r+4]
			d[0], d[1], d[2], d[3] = f(w0, i), f(w1, i), f(w2, i), f(w3, i)
		}
	}
	for ; r < rows; r++ {
		wr := w[r*stride : r*stride+4*kc]
		for i := range kc {
			panel[i*nr+r] = f(wr, i)
		}
	}
}
