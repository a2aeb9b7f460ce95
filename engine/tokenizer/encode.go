package tokenizer

import (
	"fmt"
	"strings"
)

// fragment is a piece of the text after special tokens were cut out: either
// raw text (token == NoToken) or one special token.
type fragment struct {
	text  string
	token int32
}

// encodeState is the scratch space of one Encode call.
type encodeState struct {
	cps    []rune
	spans  [2][]span
	word   []byte
	mapped []byte
	bpe    bpeWork
}

// Encode returns the token ids of text. addSpecial adds BOS / EOS where the
// vocabulary asks for them; parseSpecial lets control and unknown tokens be
// matched in the text (user-defined tokens always are). Invalid UTF-8 is
// tokenized as U+FFFD per bad byte, as llama.cpp does; a sequence that
// decodes above U+10FFFF is an error (llama.cpp throws on it).
func (t *Tokenizer) Encode(text string, addSpecial, parseSpecial bool) ([]int32, error) {
	out := make([]int32, 0, len(text)/3+2)
	if addSpecial && t.addBOS {
		out = append(out, t.special.BOS)
	}
	var st encodeState
	for _, f := range t.partition(text, parseSpecial) {
		if f.token != NoToken {
			out = append(out, f.token)
			continue
		}
		var err error
		if out, err = t.encodeRaw(&st, f.text, out); err != nil {
			return nil, fmt.Errorf("tokenizer: encode: %w", err)
		}
	}
	if addSpecial && t.addEOS {
		out = append(out, t.special.EOS)
	}
	return out, nil
}

// partition cuts the special tokens out of text, as llama.cpp's
// tokenizer_st_partition does: token by token (longest first), every
// occurrence in every raw fragment, leftmost first.
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	if text == "" {
		return nil
	}
	frags := []fragment{{text: text, token: NoToken}}
	var next []fragment
	for _, id := range t.specials {
		if !parseSpecial && t.types[id] != TypeUserDefined {
			continue
		}
		tok := t.texts[id]
		if !strings.Contains(text, tok) {
			continue // then no fragment holds it either
		}
		next = next[:0]
		for _, f := range frags {
			if f.token != NoToken {
				next = append(next, f)
				continue
			}
			rest := f.text
			for {
				i := strings.Index(rest, tok)
				if i < 0 {
					break
				}
				if i > 0 {
					next = append(next, fragment{text: rest[:i], token: NoToken})
				}
				next = append(next, fragment{token: id})
				rest = rest[i+len(tok):]
			}
			if rest != "" {
				next = append(next, fragment{text: rest, token: NoToken})
			}
		}
		frags, next = next, frags
	}
	return frags
}

// encodeRaw appends the tokens of text that holds no special token.
func (t *Tokenizer) encodeRaw(st *encodeState, text string, out []int32) ([]int32, error) {
	var err error
	if st.cps, err = decodeCodepoints(st.cps[:0], text); err != nil {
		return out, err
	}
	for _, w := range t.pre.kind.pretokenize(st.cps, &st.spans) {
		st.word = st.word[:0]
		for _, r := range st.cps[w.start:w.end] {
			st.word = appendCodepoint(st.word, r)
		}
		if t.pre.ignoreMerges {
			st.mapped = st.mapped[:0]
			for _, b := range st.word {
				st.mapped = appendCodepoint(st.mapped, t.bytes.toRune[b])
			}
			if id, ok := t.Lookup(string(st.mapped)); ok {
				out = append(out, id)
				continue
			}
		}
		out = t.bpe.encodeWord(&st.bpe, st.word, out)
	}
	return out, nil
}
