package quant

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBitsPerWeight(t *testing.T) {
	require.Equal(t, 2.5, Int2.BitsPerWeight())
	require.LessOrEqual(t, Int2.BitsPerWeight(), 2.6, "the INT2 format must stay at or under 2.6 bits per weight")
	require.Equal(t, 4.5, Int4.BitsPerWeight())
	require.Equal(t, 8.25, Int8.BitsPerWeight())
	for _, n := range []int{32, 576, 960, 1536} {
		rb, err := Int2.RowBytes(n)
		require.NoError(t, err)
		require.Equal(t, 2.5, float64(8*rb)/float64(n), "int2 row of %d", n)
	}
}

func TestRowBytesRejectsBadWidths(t *testing.T) {
	for _, f := range []Format{Int2, Int4, Int8} {
		for _, n := range []int{0, -32, 1, 31, 33, 100} {
			_, err := f.RowBytes(n)
			require.Error(t, err, "%s width %d", f, n)
		}
	}
	_, err := Format(99).RowBytes(32)
	require.ErrorContains(t, err, "unknown format")
	rb, err := F32.RowBytes(7)
	require.NoError(t, err)
	require.Equal(t, 28, rb)
}

func TestParseFormat(t *testing.T) {
	for _, f := range []Format{F32, F16, Int8, Int4, Int2} {
		got, err := ParseFormat(f.String())
		require.NoError(t, err)
		require.Equal(t, f, got)
	}
	_, err := ParseFormat("q2_k")
	require.ErrorContains(t, err, "unknown format")
}

func TestScaleCodeIsE5M3(t *testing.T) {
	// Hand-computed: 2^(e-24)·(1+f/8) for code = e<<3|f.
	require.Equal(t, float32(math.Ldexp(1, -24)), ScaleCode(0).Float())
	require.Equal(t, float32(math.Ldexp(1.5, -24)), ScaleCode(4).Float())
	require.Equal(t, float32(1), ScaleCode(24<<3).Float())
	require.Equal(t, float32(1.125), ScaleCode(24<<3|1).Float())
	require.Equal(t, float32(0.01171875), ScaleCode(17<<3|4).Float()) // 2^-7·1.5
	require.Equal(t, float32(240), ScaleCode(255).Float())
	for c := 1; c < 256; c++ {
		require.Greater(t, ScaleCode(c).Float(), ScaleCode(c-1).Float(), "code %d", c)
	}
}

func TestNearestScaleCode(t *testing.T) {
	for c := 0; c < 256; c++ {
		v := ScaleCode(c).Float()
		got, err := NearestScaleCode(v)
		require.NoError(t, err)
		require.Equal(t, ScaleCode(c), got, "exact value of code %d", c)
		require.Equal(t, ScaleCode(c), ScaleCodeFloor(v))
		if c < 255 {
			mid := (v + ScaleCode(c+1).Float()) / 2
			below, _ := NearestScaleCode(mid * 0.999)
			above, _ := NearestScaleCode(mid * 1.001)
			require.Equal(t, ScaleCode(c), below)
			require.Equal(t, ScaleCode(c+1), above)
		}
	}
	got, err := NearestScaleCode(0)
	require.NoError(t, err)
	require.Equal(t, ScaleCode(0), got)
	for _, bad := range []float32{-1, float32(math.NaN()), float32(math.Inf(1)), 1000} {
		_, err := NearestScaleCode(bad)
		require.Error(t, err, "%v", bad)
	}
}

func TestRowCodesRoundTripLayout(t *testing.T) {
	for _, f := range []Format{Int2, Int4, Int8} {
		rb, _ := f.RowBytes(64)
		r, err := NewRow(f, 64, make([]byte, rb))
		require.NoError(t, err)
		maxq := 1<<f.Bits() - 1
		for i := 0; i < 64; i++ {
			r.setCode(i, uint8((i*7)%(maxq+1)))
		}
		for i := 0; i < 64; i++ {
			require.Equal(t, uint8((i*7)%(maxq+1)), r.Code(i), "%s weight %d", f, i)
		}
		_, err = NewRow(f, 64, make([]byte, rb-1))
		require.ErrorContains(t, err, "needs")
	}
	// The documented Int2 packing: byte j of a group holds weights j, j+8, j+16, j+24.
	rb, _ := Int2.RowBytes(32)
	r, _ := NewRow(Int2, 32, make([]byte, rb))
	r.Data[2] = 0b11_10_01_00
	require.Equal(t, []uint8{0, 1, 2, 3}, []uint8{r.Code(2), r.Code(10), r.Code(18), r.Code(26)})
	// Int4: byte j holds weight j (low nibble) and j+16 (high nibble).
	rb, _ = Int4.RowBytes(32)
	r4, _ := NewRow(Int4, 32, make([]byte, rb))
	r4.Data[5] = 0x9c
	require.Equal(t, []uint8{0xc, 0x9}, []uint8{r4.Code(5), r4.Code(21)})
}

func TestDequantizeRowRefFormula(t *testing.T) {
	rb, _ := Int2.RowBytes(32)
	r, _ := NewRow(Int2, 32, make([]byte, rb))
	r.Data[0] = 0b00_00_00_11 // weight 0 has code 3
	r.Scales()[0] = 24 << 3   // d = 1
	r.Offsets()[0] = 0xe8     // m = -24 → o = -1.5
	dst := make([]float32, 32)
	DequantizeRowRef(r, dst)
	require.Equal(t, float32(1.5), dst[0])
	require.Equal(t, float32(-1.5), dst[1])

	rb, _ = Int8.RowBytes(32)
	r8, _ := NewRow(Int8, 32, make([]byte, rb))
	r8.Data[0], r8.Data[1] = 0, 255
	r8.Scales()[0] = 23 << 3 // d = 0.5
	DequantizeRowRef(r8, dst)
	require.Equal(t, float32(-64), dst[0])
	require.Equal(t, float32(63.5), dst[1])
}

func TestQuantizeQ8Ref(t *testing.T) {
	x := make([]float32, 64)
	for i := range x {
		x[i] = float32(i) - 20
	}
	q, err := NewQ8(64)
	require.NoError(t, err)
	require.NoError(t, QuantizeQ8Ref(x, q))
	require.Equal(t, float32(20.0/127), q.D[0]) // group 0 spans -20..11
	require.Equal(t, int8(-127), q.Qs[0])
	require.Equal(t, float32(43.0/127), q.D[1]) // group 1 spans 12..43
	require.Equal(t, int8(127), q.Qs[63])
	for g := 0; g < 2; g++ {
		var s int32
		for _, c := range q.Qs[32*g : 32*g+32] {
			s += int32(c)
		}
		require.Equal(t, q.D[g]*float32(s), q.S[g])
	}
	for i, v := range x {
		require.InDelta(t, v, q.D[i/32]*float32(q.Qs[i]), float64(q.D[i/32])/2+1e-6)
	}
	require.Error(t, QuantizeQ8Ref(x[:32], q))
}
