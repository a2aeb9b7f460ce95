package quant

// QK_K is the super-block size of ggml's K-quants.
const QK_K = 256

// Byte sizes of the K-quant blocks.
const (
	BlockQ2_KSize = QK_K/16 + QK_K/4 + 2 + 2      // 84
	BlockQ4_KSize = 2 + 2 + 12 + QK_K/2           // 144
	BlockQ6_KSize = QK_K/2 + QK_K/4 + QK_K/16 + 2 // 210
)

// BlockQ2_K is one super-block of ggml's Q2_K: 256 weights in 16
// sub-blocks of 16, 84 bytes, 2.625 bits per weight.
//
//	offset size  field
//	0      16    Scales  byte s: sub-block s's scale sc in bits 3..0, its min m in bits 7..4
//	16     64    Qs      2-bit codes: weight i = 128h + 32j + l (h in 0..1, j in 0..3,
//	                     l in 0..31) is in byte 32h + l, bits 2j+1..2j
//	80     2     D       f16 super-block scale of the scales
//	82     2     Dmin    f16 super-block scale of the mins
//
// weight i = (D·sc)·q - Dmin·m with sc, m of sub-block s = i/16, q in 0..3.
type BlockQ2_K struct {
	Scales [QK_K / 16]uint8
	Qs     [QK_K / 4]uint8
	D      uint16
	Dmin   uint16
}

// decodeBlockQ2_K reads a block from the first BlockQ2_KSize bytes of b.
func decodeBlockQ2_K(b []byte) (blk BlockQ2_K) {
	copy(blk.Scales[:], b[0:16])
	copy(blk.Qs[:], b[16:80])
	blk.D = le16(b[80:])
	blk.Dmin = le16(b[82:])
	return blk
}

// Dequantize writes the block's 256 weights to dst.
func (b BlockQ2_K) Dequantize(dst *[QK_K]float32) {
	d, dmin := f16(b.D), f16(b.Dmin)
	for h := 0; h < 2; h++ { // each half of 128 weights uses 32 code bytes
		qs := b.Qs[32*h : 32*h+32]
		for j := 0; j < 4; j++ { // bit pair j of those bytes holds weights 32j..32j+31
			for k := 0; k < 2; k++ { // two sub-blocks of 16
				s := 8*h + 2*j + k
				// The conversion keeps ml rounded on its own, so that the
				// subtraction below is never fused with this product.
				dl, ml := d*float32(b.Scales[s]&15), float32(dmin*float32(b.Scales[s]>>4))
				for l, q := range qs[16*k : 16*k+16] {
					dst[16*s+l] = float32(dl*float32(q>>(2*j)&3)) - ml
				}
			}
		}
	}
}

// BlockQ4_K is one super-block of ggml's Q4_K: 256 weights in 8 sub-blocks
// of 32, 144 bytes, 4.5 bits per weight.
//
//	offset size  field
//	0      2     D       f16 super-block scale of the scales
//	2      2     Dmin    f16 super-block scale of the mins
//	4      12    Scales  eight 6-bit scales sc and eight 6-bit mins m (see ScaleMin)
//	16     128   Qs      4-bit codes: weight i = 64c + 32k + l (c in 0..3, k in 0..1,
//	                     l in 0..31) is in byte 32c + l, low nibble if k = 0, high if k = 1
//
// weight i = (D·sc)·q - Dmin·m with sc, m of sub-block s = i/32, q in 0..15.
type BlockQ4_K struct {
	D      uint16
	Dmin   uint16
	Scales [12]uint8
	Qs     [QK_K / 2]uint8
}

// decodeBlockQ4_K reads a block from the first BlockQ4_KSize bytes of b.
func decodeBlockQ4_K(b []byte) (blk BlockQ4_K) {
	blk.D = le16(b)
	blk.Dmin = le16(b[2:])
	copy(blk.Scales[:], b[4:16])
	copy(blk.Qs[:], b[16:BlockQ4_KSize])
	return blk
}

// ScaleMin returns the 6-bit scale and min of sub-block s (0..7), packed in
// Scales (bytes S0..S11) as ggml's get_scale_min_k4 reads them:
//
//	s < 4:  sc = S[s] bits 5..0,                   m = S[s+4] bits 5..0
//	s >= 4: sc = S[s+4] bits 3..0 | S[s-4] bits 7..6 << 4,
//	        m  = S[s+4] bits 7..4 | S[s] bits 7..6 << 4
//
// s is taken modulo 8.
func (b BlockQ4_K) ScaleMin(s int) (sc, m uint8) {
	s &= 7
	if s < 4 {
		return b.Scales[s] & 63, b.Scales[s+4] & 63
	}
	sc = b.Scales[s+4]&15 | b.Scales[s-4]>>6<<4
	m = b.Scales[s+4]>>4 | b.Scales[s]>>6<<4
	return sc, m
}

// Dequantize writes the block's 256 weights to dst.
func (b BlockQ4_K) Dequantize(dst *[QK_K]float32) {
	d, dmin := f16(b.D), f16(b.Dmin)
	for s := 0; s < QK_K/32; s++ {
		sc, m := b.ScaleMin(s)
		dl, ml := d*float32(sc), float32(dmin*float32(m)) // no fused multiply-subtract, as for Q2_K
		qs := b.Qs[32*(s/2) : 32*(s/2)+32]
		shift := 4 * (s % 2)
		for l, q := range qs {
			dst[32*s+l] = float32(dl*float32(q>>shift&15)) - ml
		}
	}
}

// BlockQ6_K is one super-block of ggml's Q6_K: 256 weights in 16 sub-blocks
// of 16, 210 bytes, 6.5625 bits per weight.
//
//	offset size  field
//	0      128   Ql      low 4 bits of the codes: weight i = 128h + 32j + l (h in 0..1,
//	                     j in 0..3, l in 0..31) is in byte 64h + 32(j%2) + l,
//	                     low nibble if j < 2, high nibble if j >= 2
//	128    64    Qh      high 2 bits of the codes: weight i is in byte 32h + l, bits 2j+1..2j
//	192    16    Scales  int8 scale sc of sub-block s = i/16
//	208    2     D       f16 super-block scale
//
// weight i = (D·sc)·(q - 32), q = Ql bits | Qh bits << 4 in 0..63.
type BlockQ6_K struct {
	Ql     [QK_K / 2]uint8
	Qh     [QK_K / 4]uint8
	Scales [QK_K / 16]int8
	D      uint16
}

// decodeBlockQ6_K reads a block from the first BlockQ6_KSize bytes of b.
func decodeBlockQ6_K(b []byte) (blk BlockQ6_K) {
	copy(blk.Ql[:], b[0:128])
	copy(blk.Qh[:], b[128:192])
	for s := range blk.Scales {
		blk.Scales[s] = int8(b[192+s])
	}
	blk.D = le16(b[208:])
	return blk
}

// Dequantize writes the block's 256 weights to dst.
func (b BlockQ6_K) Dequantize(dst *[QK_K]float32) {
	d := f16(b.D)
	for h := 0; h < 2; h++ { // each half of 128 weights uses 64 Ql and 32 Qh bytes
		ql, qh, sc, y := b.Ql[64*h:64*h+64], b.Qh[32*h:32*h+32], b.Scales[8*h:8*h+8], dst[128*h:128*h+128]
		for l := 0; l < 32; l++ {
			lo, hi, high := ql[l], ql[32+l], qh[l]
			s := l / 16
			y[l] = d * float32(sc[s]) * float32(int(lo&15|high&3<<4)-32)
			y[32+l] = d * float32(sc[s+2]) * float32(int(hi&15|high>>2&3<<4)-32)
			y[64+l] = d * float32(sc[s+4]) * float32(int(lo>>4|high>>4&3<<4)-32)
			y[96+l] = d * float32(sc[s+6]) * float32(int(hi>>4|high>>6<<4)-32)
		}
	}
}
