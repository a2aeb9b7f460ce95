package tokenizer

import "unicode"

// preKind is one of the pre-tokenizer pipelines llama.cpp applies before BPE.
type preKind int

const (
	// preDefault is llama.cpp's fallback (name "default" or no name):
	// "[\p{P}\$\+<=>\^~\|]+", then the GPT-2 expression, then "\p{N}+", then
	// "[0-9][0-9][0-9]".
	preDefault preKind = iota
	// preGPT2 is the GPT-2 expression
	// "'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)".
	preGPT2
	// preStarCoder is "\p{N}" (every digit its own word), then the GPT-2
	// expression.
	preStarCoder
	// preLlama3 is the Llama 3 expression
	// "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
	// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+".
	preLlama3
)

// preInfo is what a pre-tokenizer name means to llama.cpp.
type preInfo struct {
	kind preKind
	// ignoreMerges: a word that is itself a token is emitted whole, without
	// running the merges.
	ignoreMerges bool
	// addBOS is the default of tokenizer.ggml.add_bos_token.
	addBOS bool
}

// lookupPre maps a tokenizer.ggml.pre value to its pipeline, with the names
// llama.cpp (llama-vocab.cpp) gives each pipeline.
func lookupPre(name string) (preInfo, bool) {
	switch name {
	case "", "default":
		return preInfo{kind: preDefault}, true
	case "gpt-2", "phi-2", "mpt", "olmo", "jais", "trillion", "granite-docling", "exaone4",
		"gigachat", "a.x-4.0", "mellum", "modern-bert", "jina-es", "jina-de", "jina-v2-es", "jina-v2-de":
		return preInfo{kind: preGPT2}, true
	case "starcoder", "smollm", "refact", "command-r", "codeshell", "exaone", "minerva-7b", "mellum2":
		return preInfo{kind: preStarCoder}, true
	case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2":
		return preInfo{kind: preLlama3, ignoreMerges: true, addBOS: true}, true
	case "dbrx", "smaug-bpe":
		return preInfo{kind: preLlama3}, true
	}
	return preInfo{}, false
}

// span is a word: the code points [start, end) of the text.
type span struct{ start, end int }

// splitter refines a list of words into smaller ones; a word is never merged
// with its neighbours, so every expression of a pipeline sees one word of the
// previous expression at a time.
type splitter func(cps []rune, in, out []span) []span

// splitters returns the pipeline of a kind.
func (k preKind) splitters() []splitter {
	switch k {
	case preGPT2:
		return []splitter{splitGPT2}
	case preStarCoder:
		return []splitter{splitEachNumber, splitGPT2}
	case preLlama3:
		return []splitter{splitLlama3}
	default:
		return []splitter{splitDefaultPunct, splitGPT2, splitNumberRuns, splitDigitTriples}
	}
}

// pretokenize splits the code points into words; scratch is reused between
// calls.
func (k preKind) pretokenize(cps []rune, scratch *[2][]span) []span {
	cur := append(scratch[0][:0], span{0, len(cps)})
	next := scratch[1][:0]
	if len(cps) == 0 {
		cur = cur[:0]
	}
	for _, split := range k.splitters() {
		next = split(cps, cur, next[:0])
		cur, next = next, cur
	}
	scratch[0], scratch[1] = cur, next
	return cur
}

// Character classes. llama.cpp takes them from its own Unicode tables; here
// they come from Go's unicode package (L, N and White_Space).
type charFlags uint8

const (
	// flagInside is set for every code point inside the current word, so
	// that a zero value means "past the end of the word".
	flagInside charFlags = 1 << iota
	flagLetter
	flagNumber
	flagSpace
)

// classify returns the flags of a code point.
func classify(r rune) charFlags {
	f := flagInside
	switch {
	case r < 0x80:
		switch {
		case (r|0x20) >= 'a' && (r|0x20) <= 'z':
			f |= flagLetter
		case r >= '0' && r <= '9':
			f |= flagNumber
		case r == ' ' || (r >= '\t' && r <= '\r'):
			f |= flagSpace
		}
	case unicode.IsLetter(r):
		f |= flagLetter
	case unicode.IsNumber(r):
		f |= flagNumber
	case unicode.Is(unicode.White_Space, r):
		f |= flagSpace
	}
	return f
}

// flagsAt returns the flags of w[i], or 0 past the end of the word w.
func flagsAt(w []rune, i int) charFlags {
	if i >= len(w) {
		return 0
	}
	return classify(w[i])
}

// isOther reports whether flags f belong to a code point of the word that is
// not a letter, number or white space ("[^\s\p{L}\p{N}]").
func isOther(f charFlags) bool {
	return f != 0 && f&(flagLetter|flagNumber|flagSpace) == 0
}

// runEnd returns the first index from i on whose flags fail keep.
func runEnd(w []rune, i int, keep func(charFlags) bool) int {
	for i < len(w) && keep(classify(w[i])) {
		i++
	}
	return i
}

func isLetter(f charFlags) bool { return f&flagLetter != 0 }
func isNumber(f charFlags) bool { return f&flagNumber != 0 }
func isSpace(f charFlags) bool  { return f&flagSpace != 0 }

// splitWords applies a word-level scanner to every word: next(w, pos) returns
// the length (> 0) of the sub-word starting at pos of the word w.
func splitWords(cps []rune, in, out []span, next func(w []rune, pos int) int) []span {
	for _, sp := range in {
		w := cps[:sp.end]
		for pos := sp.start; pos < sp.end; {
			n := next(w, pos)
			out = append(out, span{pos, pos + n})
			pos += n
		}
	}
	return out
}

// splitMatches splits every word the way llama.cpp's std::regex fallback
// does: match(w, pos) returns the length of a match of the expression at pos
// (0 for none); the leftmost matches become words and so does every run of
// text between two matches.
func splitMatches(cps []rune, in, out []span, match func(w []rune, pos int) int) []span {
	for _, sp := range in {
		w := cps[:sp.end]
		gap := sp.start
		for pos := sp.start; pos < sp.end; {
			n := match(w, pos)
			if n == 0 {
				pos++
				continue
			}
			if pos > gap {
				out = append(out, span{gap, pos})
			}
			out = append(out, span{pos, pos + n})
			pos += n
			gap = pos
		}
		if gap < sp.end {
			out = append(out, span{gap, sp.end})
		}
	}
	return out
}
