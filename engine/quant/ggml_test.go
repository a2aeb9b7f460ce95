package quant

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// Hand-decoded f16 bit patterns used as block scales.
const (
	h1        = 0x3C00 // 1
	hHalf     = 0x3800 // 0.5
	hNegHalf  = 0xB800 // -0.5
	hNeg2     = 0xC000 // -2
	hThird    = 0x3555 // 2^-2·(1+341/1024) = 0.333251953125
	hEighth   = 0x3000 // 0.125
	h2m10     = 0x1400 // 2^-10
	hMinSub   = 0x0001 // smallest subnormal, 2^-24
	hMaxSub   = 0x03FF // largest subnormal, 1023·2^-24
	hSub2m15  = 0x0200 // subnormal 512·2^-24 = 2^-15
	hMaxHalf  = 0x7BFF // 65504
	hNegZero  = 0x8000 // -0
	hPosInf   = 0x7C00 // +Inf
	hNegInf   = 0xFC00 // -Inf
	hQuietNaN = 0x7E00 // NaN
)

// putHalf stores the f16 bits h little endian at b[0:2].
func putHalf(b []byte, h uint16) { b[0], b[1] = byte(h), byte(h>>8) }

// requireSameFloats checks that got equals want bit for bit (so -0 differs
// from +0), treating any two NaNs as equal.
func requireSameFloats(t *testing.T, want, got []float32, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	for i := range want {
		w, g := want[i], got[i]
		if math.Float32bits(w) != math.Float32bits(g) && (w == w || g == g) {
			require.Failf(t, "floats differ", "%s: element %d: want %v (%#08x), got %v (%#08x)", msg, i, w, math.Float32bits(w), g, math.Float32bits(g))
		}
	}
}

// decode runs DequantizeGGML on src for n elements and fails on error.
func decode(t *testing.T, typ GGMLType, src []byte, n int) []float32 {
	t.Helper()
	dst := make([]float32, n)
	require.NoError(t, DequantizeGGML(typ, src, dst))
	return dst
}

func TestGGMLTypeTraits(t *testing.T) {
	for _, c := range []struct {
		typ               GGMLType
		id                uint32
		name              string
		block, size, blob int
		bpw               float64
	}{
		{GGMLF32, 0, "f32", 1, 4, 4, 32},
		{GGMLF16, 1, "f16", 1, 2, 2, 16},
		{GGMLBF16, 30, "bf16", 1, 2, 2, 16},
		{GGMLQ4_0, 2, "q4_0", 32, 18, BlockQ4_0Size, 4.5},
		{GGMLQ8_0, 8, "q8_0", 32, 34, BlockQ8_0Size, 8.5},
		{GGMLQ2_K, 10, "q2_K", 256, 84, BlockQ2_KSize, 2.625},
		{GGMLQ4_K, 12, "q4_K", 256, 144, BlockQ4_KSize, 4.5},
		{GGMLQ6_K, 14, "q6_K", 256, 210, BlockQ6_KSize, 6.5625},
	} {
		require.Equal(t, c.id, uint32(c.typ), c.name)
		require.Equal(t, c.name, c.typ.String())
		require.True(t, c.typ.Supported(), c.name)
		require.Equal(t, c.block, c.typ.BlockSize(), c.name)
		require.Equal(t, c.size, c.typ.TypeSize(), c.name)
		require.Equal(t, c.size, c.blob, c.name)
		require.Equal(t, c.bpw, c.typ.BitsPerWeight(), c.name)
		rb, err := c.typ.RowBytes(3 * c.block)
		require.NoError(t, err, c.name)
		require.Equal(t, 3*c.size, rb, c.name)
	}
	// Types ggml defines but this package does not decode are still sized.
	for _, c := range []struct {
		typ         GGMLType
		name        string
		block, size int
	}{{3, "q4_1", 32, 20}, {13, "q5_K", 256, 176}, {23, "iq4_xs", 256, 136}, {39, "mxfp4", 32, 17}} {
		require.Equal(t, c.name, c.typ.String())
		require.True(t, c.typ.Known(), c.name)
		require.False(t, c.typ.Supported(), c.name)
		require.Equal(t, c.block, c.typ.BlockSize(), c.name)
		require.Equal(t, c.size, c.typ.TypeSize(), c.name)
	}
	for _, c := range []struct {
		typ  GGMLType
		name string
	}{{4, "ggml_type(4)"}, {1000, "ggml_type(1000)"}} {
		require.Equal(t, c.name, c.typ.String())
		require.False(t, c.typ.Known(), c.name)
		require.False(t, c.typ.Supported(), c.name)
		require.Zero(t, c.typ.BlockSize(), c.name)
		require.Zero(t, c.typ.TypeSize(), c.name)
		require.Zero(t, c.typ.BitsPerWeight(), c.name)
		_, err := c.typ.RowBytes(32)
		require.ErrorContains(t, err, "not known", c.name)
	}
}

// The Go block structs mirror ggml's byte layout: encoding/binary lays out
// their fields in declaration order without padding, so its size and its
// decoding of random bytes must agree with the hand-written decoders.
func TestBlockStructsMirrorLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	raw := make([]byte, 256)
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	check := func(name string, size int, viaBinary, viaDecoder any) {
		t.Helper()
		require.Equal(t, size, binary.Size(viaBinary), name)
		_, err := binary.Decode(raw, binary.LittleEndian, viaBinary)
		require.NoError(t, err, name)
		require.Equal(t, viaBinary, viaDecoder, name)
	}
	q40, q80, q2k, q4k, q6k := decodeBlockQ4_0(raw), decodeBlockQ8_0(raw), decodeBlockQ2_K(raw), decodeBlockQ4_K(raw), decodeBlockQ6_K(raw)
	check("q4_0", BlockQ4_0Size, &BlockQ4_0{}, &q40)
	check("q8_0", BlockQ8_0Size, &BlockQ8_0{}, &q80)
	check("q2_K", BlockQ2_KSize, &BlockQ2_K{}, &q2k)
	check("q4_K", BlockQ4_KSize, &BlockQ4_K{}, &q4k)
	check("q6_K", BlockQ6_KSize, &BlockQ6_K{}, &q6k)
	// Spot checks of field offsets written out by hand.
	require.Equal(t, uint16(raw[0])|uint16(raw[1])<<8, q40.D)
	require.Equal(t, raw[2], q40.Qs[0])
	require.Equal(t, int8(raw[33]), q80.Qs[31])
	require.Equal(t, uint16(raw[80])|uint16(raw[81])<<8, q2k.D)
	require.Equal(t, uint16(raw[82])|uint16(raw[83])<<8, q2k.Dmin)
	require.Equal(t, raw[4], q4k.Scales[0])
	require.Equal(t, raw[16], q4k.Qs[0])
	require.Equal(t, raw[128], q6k.Qh[0])
	require.Equal(t, int8(raw[192]), q6k.Scales[0])
	require.Equal(t, uint16(raw[208])|uint16(raw[209])<<8, q6k.D)
}

func TestDequantizeGGMLRejectsBadInput(t *testing.T) {
	for _, c := range []struct {
		name   string
		typ    GGMLType
		nbytes int
		n      int
		want   []string
	}{
		{"unsupported", 13, 176, 256, []string{"q5_K", "cannot be decoded"}},
		{"unknown id", 77, 100, 32, []string{"ggml_type(77)", "cannot be decoded"}},
		{"partial block", GGMLQ4_K, 144, 100, []string{"q4_K", "100 elements", "block size 256"}},
		{"partial q8_0 block", GGMLQ8_0, 34, 31, []string{"q8_0", "31 elements", "block size 32"}},
		{"truncated", GGMLQ8_0, 67, 64, []string{"q8_0", "need 68 bytes, got 67", "truncated"}},
		{"truncated f32", GGMLF32, 11, 3, []string{"f32", "need 12 bytes, got 11", "truncated"}},
		{"truncated q6_K", GGMLQ6_K, 209, 256, []string{"q6_K", "need 210 bytes", "truncated"}},
		{"trailing bytes", GGMLQ2_K, 85, 256, []string{"q2_K", "need 84 bytes, got 85", "trailing"}},
		{"empty source", GGMLQ4_0, 0, 32, []string{"q4_0", "need 18 bytes, got 0"}},
	} {
		err := DequantizeGGML(c.typ, make([]byte, c.nbytes), make([]float32, c.n))
		require.Error(t, err, c.name)
		for _, w := range c.want {
			require.ErrorContains(t, err, w, c.name)
		}
	}
	_, err := GGMLQ4_0.RowBytes(-32)
	require.ErrorContains(t, err, "q4_0")
	rb, err := GGMLType(13).RowBytes(256) // known, so sized, though not decodable
	require.NoError(t, err)
	require.Equal(t, 176, rb)
	require.NoError(t, DequantizeGGML(GGMLQ6_K, nil, nil), "zero elements")
}

func TestDequantizeFloatTypes(t *testing.T) {
	halves := []uint16{h1, hNeg2, hMinSub, hMaxSub, 0x0400, hMaxHalf, hNegZero, hPosInf, hNegInf, hQuietNaN, hThird}
	wantF16 := []float32{1, -2, float32(math.Ldexp(1, -24)), float32(math.Ldexp(1023, -24)), float32(math.Ldexp(1, -14)),
		65504, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 0.333251953125}
	src := make([]byte, 2*len(halves))
	for i, h := range halves {
		putHalf(src[2*i:], h)
	}
	requireSameFloats(t, wantF16, decode(t, GGMLF16, src, len(halves)), "f16")

	// bf16 is the top half of a float32: 0x3F80 = 1, 0x4049 = 3.140625,
	// 0xC2F7 = -123.5, 0x0001 = 2^-133 (a float32 subnormal), 0xFF80 = -Inf.
	bf := []uint16{0x3F80, 0x4049, 0xC2F7, 0x0001, 0xFF80, 0x8000}
	wantBF := []float32{1, 3.140625, -123.5, float32(math.Ldexp(1, -133)), float32(math.Inf(-1)), float32(math.Copysign(0, -1))}
	src = make([]byte, 2*len(bf))
	for i, h := range bf {
		putHalf(src[2*i:], h)
	}
	requireSameFloats(t, wantBF, decode(t, GGMLBF16, src, len(bf)), "bf16")

	// f32: 0x3F800000 = 1, 0xC0490FDB = -π (float32), 0x00000001 = 2^-149.
	src = []byte{0x00, 0x00, 0x80, 0x3F, 0xDB, 0x0F, 0x49, 0xC0, 0x01, 0x00, 0x00, 0x00}
	requireSameFloats(t, []float32{1, -math.Pi, float32(math.Ldexp(1, -149))}, decode(t, GGMLF32, src, 3), "f32")
}

func TestDequantizeQ4_0(t *testing.T) {
	// Two blocks: d = -2 and d = 0.333251953125; the code of element j of
	// block k is (5j+3k+3) mod 16, stored in byte j (low nibble, j < 16) or
	// byte j-16 (high nibble).
	ds := []float32{-2, 0.333251953125}
	src := make([]byte, 2*BlockQ4_0Size)
	putHalf(src[0:], hNeg2)
	putHalf(src[BlockQ4_0Size:], hThird)
	code := func(k, j int) int { return (5*j + 3*k + 3) % 16 }
	for k := 0; k < 2; k++ {
		for j := 0; j < 16; j++ {
			src[k*BlockQ4_0Size+2+j] = byte(code(k, j) | code(k, j+16)<<4)
		}
	}
	want := make([]float32, 64)
	for i := range want {
		k, j := i/32, i%32
		want[i] = float32(code(k, j)-8) * ds[k]
	}
	requireSameFloats(t, want, decode(t, GGMLQ4_0, src, 64), "q4_0")

	// Hand-computed: byte 0x1F gives element 0 code 15 and element 16 code 1.
	blk := make([]byte, BlockQ4_0Size)
	putHalf(blk, hHalf)
	blk[2] = 0x1F
	got := decode(t, GGMLQ4_0, blk, 32)
	require.Equal(t, float32(3.5), got[0])   // (15-8)·0.5
	require.Equal(t, float32(-3.5), got[16]) // (1-8)·0.5
	require.Equal(t, float32(-4), got[1])    // (0-8)·0.5
}

func TestDequantizeQ8_0(t *testing.T) {
	// Three blocks with scales 0.333251953125, 2^-24 (f16 subnormal) and
	// -0.5; codes cover -128, -127, -1, 0, 1 and 127.
	hs := []uint16{hThird, hMinSub, hNegHalf}
	ds := []float32{0.333251953125, float32(math.Ldexp(1, -24)), -0.5}
	code := func(k, j int) int8 {
		if fixed := []int8{-128, 127, -127, -1, 0, 1}; j < len(fixed) {
			return fixed[j]
		}
		return int8(uint8(11*j + 5*k + 90)) // wraps around from 127 to -128
	}
	src := make([]byte, 3*BlockQ8_0Size)
	want := make([]float32, 3*QK8_0)
	for k := range hs {
		putHalf(src[k*BlockQ8_0Size:], hs[k])
		for j := 0; j < QK8_0; j++ {
			src[k*BlockQ8_0Size+2+j] = byte(code(k, j))
			want[k*QK8_0+j] = float32(code(k, j)) * ds[k]
		}
	}
	requireSameFloats(t, want, decode(t, GGMLQ8_0, src, 3*QK8_0), "q8_0")
}

func TestDequantizeSpecialScales(t *testing.T) {
	// A Q8_0 block whose codes are 5, -5, 0 in turn, under special scales:
	// the decoded value is q·d with IEEE semantics.
	inf, nan, negZero := float32(math.Inf(1)), float32(math.NaN()), float32(math.Copysign(0, -1))
	for _, c := range []struct {
		name string
		h    uint16
		want [3]float32 // for codes 5, -5, 0
	}{
		{"+inf", hPosInf, [3]float32{inf, -inf, nan}},
		{"-inf", hNegInf, [3]float32{-inf, inf, nan}},
		{"nan", hQuietNaN, [3]float32{nan, nan, nan}},
		{"-0", hNegZero, [3]float32{negZero, 0, negZero}},
		{"65504", hMaxHalf, [3]float32{327520, -327520, 0}},
		{"max subnormal", hMaxSub, [3]float32{float32(math.Ldexp(5*1023, -24)), float32(math.Ldexp(-5*1023, -24)), 0}},
	} {
		blk := make([]byte, BlockQ8_0Size)
		putHalf(blk, c.h)
		want := make([]float32, QK8_0)
		for j := 0; j < QK8_0; j++ {
			blk[2+j] = byte([]int8{5, -5, 0}[j%3])
			want[j] = c.want[j%3]
		}
		requireSameFloats(t, want, decode(t, GGMLQ8_0, blk, QK8_0), c.name)
	}
}

// setQ2KCode stores 2-bit code q of element i (0..255) in a Q2_K block's
// qs: element 128h + 32j + l is in byte 32h + l, bits 2j+1..2j.
func setQ2KCode(qs []byte, i, q int) {
	h, j, l := i/128, i%128/32, i%32
	qs[32*h+l] |= byte(q << (2 * j))
}

func TestDequantizeQ2_K(t *testing.T) {
	// Block 0: d = 0.125, dmin = 0.5, sub-block s has scale s and min 15-s.
	// Block 1: d = -2, dmin = 2^-24 (subnormal), scale 7s mod 16, min 11s+3 mod 16.
	type params struct {
		hd, hmin uint16
		d, dmin  float32
		sc, m    func(s int) int
	}
	blocks := []params{
		{hEighth, hHalf, 0.125, 0.5, func(s int) int { return s }, func(s int) int { return 15 - s }},
		{hNeg2, hMinSub, -2, float32(math.Ldexp(1, -24)), func(s int) int { return 7 * s % 16 }, func(s int) int { return (11*s + 3) % 16 }},
	}
	code := func(k, i int) int { return (3*i + i/7 + k) % 4 }
	src := make([]byte, 2*BlockQ2_KSize)
	want := make([]float32, 2*QK_K)
	for k, p := range blocks {
		b := src[k*BlockQ2_KSize : (k+1)*BlockQ2_KSize]
		for s := 0; s < 16; s++ {
			b[s] = byte(p.sc(s) | p.m(s)<<4) // scale in the low nibble, min in the high one
		}
		for i := 0; i < QK_K; i++ {
			setQ2KCode(b[16:80], i, code(k, i))
		}
		putHalf(b[80:], p.hd)
		putHalf(b[82:], p.hmin)
		for i := 0; i < QK_K; i++ {
			s := i / 16
			want[k*QK_K+i] = float32(p.d*float32(p.sc(s))*float32(code(k, i))) - float32(p.dmin*float32(p.m(s)))
		}
	}
	requireSameFloats(t, want, decode(t, GGMLQ2_K, src, 2*QK_K), "q2_K")

	// Hand-computed: qs byte 33 = 0b11_10_01_00 gives elements 129, 161,
	// 193, 225 (sub-blocks 8, 10, 12, 14) codes 0, 1, 2, 3; d = 1, dmin = 0.5.
	blk := make([]byte, BlockQ2_KSize)
	blk[16+33] = 0b11_10_01_00
	blk[8], blk[10], blk[12], blk[14] = 0x21, 0x53, 0x0F, 0xF2
	putHalf(blk[80:], h1)
	putHalf(blk[82:], hHalf)
	got := decode(t, GGMLQ2_K, blk, QK_K)
	require.Equal(t, float32(-1), got[129])   // 1·1·0 - 0.5·2
	require.Equal(t, float32(0.5), got[161])  // 1·3·1 - 0.5·5
	require.Equal(t, float32(30), got[193])   // 1·15·2 - 0.5·0
	require.Equal(t, float32(-1.5), got[225]) // 1·2·3 - 0.5·15
	require.Equal(t, float32(-2.5), got[160]) // same sub-block as 161, code 0
}

// setQ4KScaleMin packs the 6-bit scale sc and min m of sub-block s (0..7)
// into a Q4_K block's 12 scale bytes S: for s < 4, sc and m are the low 6
// bits of S[s] and S[s+4]; for s >= 4, their low 4 bits are the low and
// high nibble of S[s+4] and their top 2 bits are bits 7..6 of S[s-4] (sc)
// and S[s] (m).
func setQ4KScaleMin(S []byte, s, sc, m int) {
	if s < 4 {
		S[s] |= byte(sc)
		S[s+4] |= byte(m)
		return
	}
	S[s+4] |= byte(sc&15 | (m&15)<<4)
	S[s-4] |= byte(sc>>4) << 6
	S[s] |= byte(m>>4) << 6
}

// setQ4KCode stores the 4-bit code q of element i in a Q4_K block's qs:
// element 64c + 32k + l is in byte 32c + l, low nibble for k = 0.
func setQ4KCode(qs []byte, i, q int) {
	c, k, l := i/64, i%64/32, i%32
	qs[32*c+l] |= byte(q << (4 * k))
}

func TestQ4KScaleMinPacking(t *testing.T) {
	// Twelve scale bytes decoded by hand:
	//   s=0..3: sc = S[s]&63 = 1, 2, 3, 63;  m = S[s+4]&63 = 5, 6, 7, 8
	//   s=4: sc = 0xA | (0x41>>6)<<4 = 26, m = 0x9 | (0x05>>6)<<4 = 9
	//   s=5: sc = 0xC | (0x82>>6)<<4 = 44, m = 0xB | (0x46>>6)<<4 = 27
	//   s=6: sc = 0xE | (0xC3>>6)<<4 = 62, m = 0xD | (0x87>>6)<<4 = 45
	//   s=7: sc = 0x0 | (0x3F>>6)<<4 = 0,  m = 0xF | (0xC8>>6)<<4 = 63
	S := [12]byte{0x41, 0x82, 0xC3, 0x3F, 0x05, 0x46, 0x87, 0xC8, 0x9A, 0xBC, 0xDE, 0xF0}
	sc := []int{1, 2, 3, 63, 26, 44, 62, 0}
	m := []int{5, 6, 7, 8, 9, 27, 45, 63}
	blk := BlockQ4_K{Scales: S}
	var packed [12]byte
	for s := 0; s < 8; s++ {
		gotSc, gotM := blk.ScaleMin(s)
		require.Equal(t, []int{sc[s], m[s]}, []int{int(gotSc), int(gotM)}, "sub-block %d", s)
		setQ4KScaleMin(packed[:], s, sc[s], m[s])
	}
	require.Equal(t, S, packed, "the test's packing helper reproduces the hand-made bytes")

	// The same bytes through DequantizeGGML: d = 1, dmin = 0.5, every code 1,
	// so element i is sc(i/32) - m(i/32)/2.
	raw := make([]byte, BlockQ4_KSize)
	putHalf(raw[0:], h1)
	putHalf(raw[2:], hHalf)
	copy(raw[4:16], S[:])
	for i := 16; i < BlockQ4_KSize; i++ {
		raw[i] = 0x11
	}
	got := decode(t, GGMLQ4_K, raw, QK_K)
	for _, c := range []struct {
		i    int
		want float32
	}{{0, -1.5}, {31, -1.5}, {32, -1}, {64, -0.5}, {96, 59}, {128, 21.5}, {160, 30.5}, {223, 39.5}, {224, -31.5}, {255, -31.5}} {
		require.Equal(t, c.want, got[c.i], "element %d", c.i)
	}
}

func TestDequantizeQ4_K(t *testing.T) {
	// Block 0 uses all 6 bits of every scale and min; block 1 negative d
	// and a subnormal dmin.
	type params struct {
		hd, hmin uint16
		d, dmin  float32
		sc, m    [8]int
	}
	blocks := []params{
		{h2m10, hEighth, float32(math.Ldexp(1, -10)), 0.125, [8]int{63, 1, 42, 17, 48, 33, 5, 60}, [8]int{0, 62, 21, 38, 15, 50, 63, 31}},
		{hNeg2, hSub2m15, -2, float32(math.Ldexp(1, -15)), [8]int{16, 32, 47, 0, 31, 63, 12, 55}, [8]int{63, 48, 1, 20, 32, 7, 16, 44}},
	}
	code := func(k, i int) int { return (7*i + i/32 + 5*k) % 16 }
	src := make([]byte, 2*BlockQ4_KSize)
	want := make([]float32, 2*QK_K)
	for k, p := range blocks {
		b := src[k*BlockQ4_KSize : (k+1)*BlockQ4_KSize]
		putHalf(b[0:], p.hd)
		putHalf(b[2:], p.hmin)
		for s := 0; s < 8; s++ {
			setQ4KScaleMin(b[4:16], s, p.sc[s], p.m[s])
		}
		for i := 0; i < QK_K; i++ {
			setQ4KCode(b[16:], i, code(k, i))
		}
		for i := 0; i < QK_K; i++ {
			s := i / 32
			want[k*QK_K+i] = float32(p.d*float32(p.sc[s])*float32(code(k, i))) - float32(p.dmin*float32(p.m[s]))
		}
	}
	requireSameFloats(t, want, decode(t, GGMLQ4_K, src, 2*QK_K), "q4_K")
}

// setQ6KCode stores the 6-bit code q of element i in a Q6_K block: element
// 128h + 32j + l has its low 4 bits in ql byte 64h + 32(j%2) + l (low
// nibble for j < 2) and its high 2 bits in qh byte 32h + l, bits 2j+1..2j.
func setQ6KCode(ql, qh []byte, i, q int) {
	h, j, l := i/128, i%128/32, i%32
	ql[64*h+32*(j%2)+l] |= byte(q&15) << (4 * (j / 2))
	qh[32*h+l] |= byte(q>>4) << (2 * j)
}

func TestDequantizeQ6_K(t *testing.T) {
	// All 16 int8 scales distinct, negative ones included; codes cover 0..63.
	type params struct {
		hd uint16
		d  float32
		sc [16]int8
	}
	blocks := []params{
		{hEighth, 0.125, [16]int8{127, -128, -1, 1, 2, -3, 64, -64, 5, -7, 11, -13, 17, -19, 23, 0}},
		{hSub2m15, float32(math.Ldexp(1, -15)), [16]int8{-2, 3, -5, 7, -11, 13, -17, 19, -23, 29, -31, 37, -41, 43, -47, 53}},
	}
	code := func(k, i int) int { return (13*i + i/64 + 7*k) % 64 }
	src := make([]byte, 2*BlockQ6_KSize)
	want := make([]float32, 2*QK_K)
	for k, p := range blocks {
		b := src[k*BlockQ6_KSize : (k+1)*BlockQ6_KSize]
		for i := 0; i < QK_K; i++ {
			setQ6KCode(b[0:128], b[128:192], i, code(k, i))
		}
		for s := 0; s < 16; s++ {
			b[192+s] = byte(p.sc[s])
		}
		putHalf(b[208:], p.hd)
		for i := 0; i < QK_K; i++ {
			want[k*QK_K+i] = p.d * float32(p.sc[i/16]) * float32(code(k, i)-32)
		}
	}
	requireSameFloats(t, want, decode(t, GGMLQ6_K, src, 2*QK_K), "q6_K")

	// Hand-computed, d = 0.5, all other bytes zero (code 0, i.e. q-32 = -32):
	// element 200 (h=1, j=2, l=8) has ql byte 72's high nibble and qh byte
	// 40's bits 5..4; 0xA0 and 0x30 give code 10 | 3<<4 = 58; scale 12 = -3.
	blk := make([]byte, BlockQ6_KSize)
	blk[72], blk[128+40] = 0xA0, 0x30
	blk[192+12] = 0xFD // -3
	blk[192+2] = 0x80  // -128
	putHalf(blk[208:], hHalf)
	got := decode(t, GGMLQ6_K, blk, QK_K)
	negZero := float32(math.Copysign(0, -1))
	requireSameFloats(t, []float32{
		-39,     // element 200: 0.5·-3·(58-32)
		48,      // element 201: 0.5·-3·(0-32)
		2048,    // element 32: 0.5·-128·(0-32)
		negZero, // element 0: (0.5·0)·-32
		negZero, // element 136: sub-block 8's scale is 0 too
	}, []float32{got[200], got[201], got[32], got[0], got[136]}, "hand-computed q6_K")
}

func TestQuantizeQ8_0RefHandComputed(t *testing.T) {
	x := make([]float32, 64)
	// Block 0: amax 127 → d = 1; ties round away from zero.
	copy(x, []float32{127, 2.5, -2.5, 0.5, -0.5, 1.5, -126.5, 3.49})
	// Block 1: amax 127·2^-20 → d = 2^-20, an f16 subnormal (16·2^-24 = 0x0010);
	// element 32+j is j·2^-20 for j < 32, with j = 31 replaced by -127·2^-20.
	for j := 0; j < 32; j++ {
		x[32+j] = float32(math.Ldexp(float64(j), -20))
	}
	x[63] = float32(math.Ldexp(-127, -20))
	dst := make([]byte, 2*BlockQ8_0Size)
	require.NoError(t, QuantizeQ8_0Ref(x, dst))
	require.Equal(t, []byte{0x00, 0x3C, 127, 3, 0xFD, 1, 0xFF, 2, 0x81, 3}, dst[:10])
	require.Equal(t, make([]byte, 24), dst[10:34], "zeros stay zero")
	require.Equal(t, []byte{0x10, 0x00}, dst[34:36])
	for j := 0; j < 31; j++ {
		require.Equal(t, byte(j), dst[36+j], "code %d", j)
	}
	require.Equal(t, byte(0x81), dst[67]) // -127

	// An all-zero block has d = 0 and codes 0.
	zero := make([]byte, BlockQ8_0Size)
	zero[5] = 0xAA
	require.NoError(t, QuantizeQ8_0Ref(make([]float32, 32), zero))
	require.Equal(t, make([]byte, BlockQ8_0Size), zero)
}

func TestQuantizeQ8_0RefRejectsBadInput(t *testing.T) {
	require.ErrorContains(t, QuantizeQ8_0Ref(make([]float32, 33), make([]byte, 68)), "block size 32")
	require.ErrorContains(t, QuantizeQ8_0Ref(make([]float32, 64), make([]byte, 67)), "need 68 bytes, got 67")
	require.ErrorContains(t, QuantizeQ8_0Ref(make([]float32, 64), make([]byte, 69)), "need 68 bytes, got 69")
	x := make([]float32, 64)
	x[40] = float32(math.NaN())
	require.ErrorContains(t, QuantizeQ8_0Ref(x, make([]byte, 68)), "40")
	x[40] = float32(math.Inf(-1))
	require.ErrorContains(t, QuantizeQ8_0Ref(x, make([]byte, 68)), "q8_0")
	require.NoError(t, QuantizeQ8_0Ref(nil, nil))
}

func TestQuantizeQ8_0RefRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const blocks = 64
	x := make([]float32, blocks*QK8_0)
	for i := range x {
		// Block standard deviations from 2^-16 (scales near 2^-22, f16
		// subnormals) to 2^15.
		x[i] = float32(rng.NormFloat64() * math.Ldexp(1, i/QK8_0/2-16))
	}
	enc := make([]byte, blocks*BlockQ8_0Size)
	require.NoError(t, QuantizeQ8_0Ref(x, enc))
	y := decode(t, GGMLQ8_0, enc, len(x))
	for k := 0; k < blocks; k++ {
		xs := x[k*QK8_0 : (k+1)*QK8_0]
		var amax float64
		for _, v := range xs {
			amax = max(amax, math.Abs(float64(v)))
		}
		d := float64(float32(amax) / 127)
		dh := float64(f16(le16(enc[k*BlockQ8_0Size:])))
		// Codes are x/d rounded with the float32 d (error ≤ d/2), decoded
		// with d's f16 rounding dh, which moves code q's value by |q|·|d-dh|
		// (at most 127·2^-11·d for a normal dh).
		bound := d/2 + 127*math.Abs(d-dh) + 1e-6*d
		for j, v := range xs {
			if err := math.Abs(float64(v) - float64(y[k*QK8_0+j])); err > bound {
				require.Failf(t, "round trip error", "block %d element %d: %v decoded as %v, error %g > %g (d %g)", k, j, v, y[k*QK8_0+j], err, bound, d)
			}
		}
	}
}
