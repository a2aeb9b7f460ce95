package tokenizer

import "fmt"

// Code points are handled the way llama.cpp's unicode.cpp handles them, which
// differs from Go's unicode/utf8 in three ways:
//   - decoding is lenient: overlong forms (C0 80 is U+0000) and surrogates
//     (ED A0 80 is U+D800) decode like any other sequence, and lead bytes
//     F5..F7 give values above U+10FFFF;
//   - a byte that starts no complete sequence becomes U+FFFD and decoding
//     resumes at the next byte;
//   - encoding writes surrogates as three bytes instead of U+FFFD, and a value
//     above U+10FFFF cannot be encoded (llama.cpp throws; Encode returns an
//     error).

const (
	replacementChar = 0xFFFD
	maxCodepoint    = 0x10FFFF
)

// decodeCodepoints appends the code points of s to dst.
func decodeCodepoints(dst []rune, s string) ([]rune, error) {
	for i := 0; i < len(s); {
		r, n := decodeOne(s[i:])
		if r > maxCodepoint {
			return dst, fmt.Errorf("invalid code point U+%X (bytes % X) at byte %d", r, s[i:i+n], i)
		}
		dst = append(dst, r)
		i += n
	}
	return dst, nil
}

// decodeOne decodes the code point at the start of s (len(s) > 0) and returns
// it with the number of bytes used; an invalid start gives U+FFFD and 1.
func decodeOne(s string) (rune, int) {
	b0 := s[0]
	var n int
	var r rune
	switch {
	case b0 < 0x80:
		return rune(b0), 1
	case b0 < 0xC0: // a continuation byte cannot start a sequence
		return replacementChar, 1
	case b0 < 0xE0:
		n, r = 2, rune(b0&0x1F)
	case b0 < 0xF0:
		n, r = 3, rune(b0&0x0F)
	case b0 < 0xF8:
		n, r = 4, rune(b0&0x07)
	default:
		return replacementChar, 1
	}
	if len(s) < n {
		return replacementChar, 1
	}
	for k := 1; k < n; k++ {
		c := s[k]
		if c&0xC0 != 0x80 {
			return replacementChar, 1
		}
		r = r<<6 | rune(c&0x3F)
	}
	return r, n
}

// appendCodepoint appends the UTF-8 form of r (r <= U+10FFFF) to dst,
// writing surrogates as plain three-byte sequences.
func appendCodepoint(dst []byte, r rune) []byte {
	switch {
	case r < 0x80:
		return append(dst, byte(r))
	case r < 0x800:
		return append(dst, 0xC0|byte(r>>6), 0x80|byte(r)&0x3F)
	case r < 0x10000:
		return append(dst, 0xE0|byte(r>>12), 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
	default:
		return append(dst, 0xF0|byte(r>>18), 0x80|byte(r>>12)&0x3F, 0x80|byte(r>>6)&0x3F, 0x80|byte(r)&0x3F)
	}
}

// normalizeText returns s as the tokenizer sees it: decoded leniently and
// re-encoded, so invalid bytes become U+FFFD and overlong forms shrink. It is
// what Decode(Encode(s)) gives back for text without special tokens.
func normalizeText(s string) (string, error) {
	cps, err := decodeCodepoints(nil, s)
	if err != nil {
		return "", err
	}
	out := make([]byte, 0, len(s))
	for _, r := range cps {
		out = appendCodepoint(out, r)
	}
	return string(out), nil
}
