package tokenizer

import (
	"strings"
	"unicode"
)

// The expressions llama.cpp runs before BPE, written as scanners. Each
// scanner gets the word w (the slice ends where the word ends) and a position
// inside it and returns the length of the piece that starts there; the
// alternatives of the expression are tried in order, as a backtracking regex
// engine would.

// splitGPT2 is "'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+".
func splitGPT2(cps []rune, in, out []span) []span {
	return splitWords(cps, in, out, gpt2Piece)
}

func gpt2Piece(w []rune, pos int) int {
	if n := contraction(w, pos, false); n > 0 {
		return n
	}
	// " ?X+" for the classes letter, number and other.
	start := pos
	if w[pos] == ' ' {
		start++
	}
	f := flagsAt(w, start)
	for _, class := range []func(charFlags) bool{isLetter, isNumber, isOther} {
		if class(f) {
			return runEnd(w, start, class) - pos
		}
	}
	return spacePiece(w, pos)
}

// splitLlama3 is "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+".
func splitLlama3(cps []rune, in, out []span) []span {
	return splitWords(cps, in, out, llama3Piece)
}

func llama3Piece(w []rune, pos int) int {
	if n := contraction(w, pos, true); n > 0 {
		return n
	}
	r := w[pos]
	f := classify(r)
	// "[^\r\n\p{L}\p{N}]?\p{L}+": one optional non-letter prefix.
	if r != '\r' && r != '\n' && !isNumber(f) && (isLetter(f) || isLetter(flagsAt(w, pos+1))) {
		return runEnd(w, pos+1, isLetter) - pos
	}
	if isNumber(f) {
		return min(runEnd(w, pos, isNumber)-pos, 3)
	}
	// " ?[^\s\p{L}\p{N}]+[\r\n]*"
	start := pos
	if r == ' ' {
		start++
	}
	if isOther(flagsAt(w, start)) {
		end := runEnd(w, start, isOther)
		for end < len(w) && (w[end] == '\r' || w[end] == '\n') {
			end++
		}
		return end - pos
	}
	// "\s*[\r\n]+": the white space run up to its last line break.
	end := runEnd(w, pos, isSpace)
	for k := end - 1; k >= pos; k-- {
		if w[k] == '\r' || w[k] == '\n' {
			return k + 1 - pos
		}
	}
	return spacePiece(w, pos)
}

// contraction matches "'s|'t|'re|'ve|'m|'ll|'d" at pos (ignoring the case of
// the letters when fold is set) and returns its length, or 0.
func contraction(w []rune, pos int, fold bool) int {
	if w[pos] != '\'' || pos+1 >= len(w) {
		return 0
	}
	lower := func(r rune) rune {
		if fold {
			return unicode.ToLower(r)
		}
		return r
	}
	switch lower(w[pos+1]) {
	case 's', 't', 'm', 'd':
		return 2
	}
	if pos+2 < len(w) {
		a, b := lower(w[pos+1]), lower(w[pos+2])
		if ((a == 'r' || a == 'v') && b == 'e') || (a == 'l' && b == 'l') {
			return 3
		}
	}
	return 0
}

// spacePiece is "\s+(?!\S)|\s+" at pos: a run of white space, less its last
// character when a non-space follows (that one joins the next word), or a
// single code point when pos is no white space at all.
func spacePiece(w []rune, pos int) int {
	n := runEnd(w, pos, isSpace) - pos
	switch {
	case n > 1 && pos+n < len(w):
		return n - 1
	case n > 0:
		return n
	default:
		return 1
	}
}

// splitEachNumber is "\p{N}": every number code point is a word of its own.
func splitEachNumber(cps []rune, in, out []span) []span {
	return splitMatches(cps, in, out, func(w []rune, pos int) int {
		if isNumber(classify(w[pos])) {
			return 1
		}
		return 0
	})
}

// splitNumberRuns is "\p{N}+".
func splitNumberRuns(cps []rune, in, out []span) []span {
	return splitMatches(cps, in, out, func(w []rune, pos int) int {
		return runEnd(w, pos, isNumber) - pos
	})
}

// defaultPunctASCII are the ASCII characters of "[\p{P}\$\+<=>\^~\|]".
const defaultPunctASCII = "!\"#%&'()*,-./:;?@[\\]_{}$+<=>^~|"

// splitDefaultPunct is "[\p{P}\$\+<=>\^~\|]+".
func splitDefaultPunct(cps []rune, in, out []span) []span {
	punct := func(r rune) bool {
		if r < 0x80 {
			return strings.ContainsRune(defaultPunctASCII, r)
		}
		return !isSpace(classify(r)) && unicode.IsPunct(r)
	}
	return splitMatches(cps, in, out, func(w []rune, pos int) int {
		end := pos
		for end < len(w) && punct(w[end]) {
			end++
		}
		return end - pos
	})
}

// splitDigitTriples is "[0-9][0-9][0-9]".
func splitDigitTriples(cps []rune, in, out []span) []span {
	digit := func(r rune) bool { return r >= '0' && r <= '9' }
	return splitMatches(cps, in, out, func(w []rune, pos int) int {
		if pos+3 <= len(w) && digit(w[pos]) && digit(w[pos+1]) && digit(w[pos+2]) {
			return 3
		}
		return 0
	})
}
