package tokenizer

// GPT-2's byte-level BPE never sees raw bytes: each byte is first replaced by
// a printable character. Bytes that are printable Latin-1 characters
// ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other 68 bytes
// (controls, space, DEL, NBSP, soft hyphen...) are given the characters
// U+0100, U+0101, ... in increasing byte order. So ' ' (0x20) is 'Ġ' (U+0120)
// and '\n' is 'Ċ' (U+010A).

// numMappedRunes bounds the characters the mapping uses: U+0000..U+0143.
const numMappedRunes = 256 + 68

// byteMap is the GPT-2 byte-to-unicode mapping and its inverse.
type byteMap struct {
	toRune [256]rune
	toByte [numMappedRunes]int16 // -1 where the character stands for no byte
}

// selfMapped reports whether byte b stands for itself.
func selfMapped(b int) bool {
	return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
}

// newByteMap builds the mapping.
func newByteMap() *byteMap {
	m := &byteMap{}
	for i := range m.toByte {
		m.toByte[i] = -1
	}
	next := rune(256)
	for b := 0; b < 256; b++ {
		r := rune(b)
		if !selfMapped(b) {
			r = next
			next++
		}
		m.toRune[b] = r
		m.toByte[r] = int16(b)
	}
	return m
}

// byteOf returns the byte that character r stands for.
func (m *byteMap) byteOf(r rune) (byte, bool) {
	if r < 0 || r >= numMappedRunes || m.toByte[r] < 0 {
		return 0, false
	}
	return byte(m.toByte[r]), true
}

// unmap undoes the mapping on a token's text: each character that stands for
// a byte becomes that byte. A character outside the mapping (which a
// well-formed byte-level vocabulary never has) is kept as its UTF-8 bytes;
// llama.cpp writes an "[UNK_BYTE_...]" marker there instead.
func (m *byteMap) unmap(dst []byte, text string) []byte {
	for i := 0; i < len(text); {
		r, n := decodeOne(text[i:])
		if b, ok := m.byteOf(r); ok {
			dst = append(dst, b)
		} else {
			dst = append(dst, text[i:i+n]...)
		}
		i += n
	}
	return dst
}
