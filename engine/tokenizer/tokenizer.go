package tokenizer

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Tokenizer is a byte-level BPE tokenizer built from a Config. It is
// immutable, so one Tokenizer may be used from many goroutines.
type Tokenizer struct {
	texts   []string         // token texts, indexed by id
	types   []TokenType      // token types after llama.cpp's corrections
	ids     map[string]int32 // text -> id; shared with bpe, so it also holds non-token symbols
	pieces  []byte           // the bytes of every token, back to back
	pieceAt []int32          // token id's bytes are pieces[pieceAt[id]:pieceAt[id+1]]
	eog     []bool
	// specials are the ids of control, user-defined and unknown tokens,
	// longest text first (ties: lower id first).
	specials []int32
	special  Special
	pre      preInfo
	addBOS   bool
	addEOS   bool
	bytes    *byteMap
	bpe      *bpeModel
}

// New checks c and builds the tokenizer. Errors name the Config field at
// fault.
func New(c Config) (*Tokenizer, error) {
	t, err := build(c)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return t, nil
}

func build(c Config) (*Tokenizer, error) {
	if c.Model != ModelGPT2 {
		return nil, fmt.Errorf("Model %q is not supported (only %q)", c.Model, ModelGPT2)
	}
	pre, ok := lookupPre(c.Pre)
	if !ok {
		return nil, fmt.Errorf("Pre: unknown pre-tokenizer %q", c.Pre)
	}
	n := len(c.Tokens)
	if n == 0 || n > math.MaxInt32 {
		return nil, fmt.Errorf("Tokens: %d tokens", n)
	}
	t := &Tokenizer{
		texts:  make([]string, n),
		types:  make([]TokenType, n),
		ids:    make(map[string]int32, n),
		eog:    make([]bool, n),
		pre:    pre,
		addBOS: c.AddBOS,
		addEOS: c.AddEOS,
		bytes:  newByteMap(),
	}
	if len(c.TokenTypes) != 0 && len(c.TokenTypes) != n {
		return nil, fmt.Errorf("TokenTypes: %d entries for %d tokens", len(c.TokenTypes), n)
	}
	for id, text := range c.Tokens {
		if text == "" {
			text = "[EMPTY_" + strconv.Itoa(id) + "]" // llama.cpp's name for an empty token
		}
		if prev, dup := t.ids[text]; dup {
			return nil, fmt.Errorf("Tokens[%d] %q duplicates Tokens[%d]", id, text, prev)
		}
		t.ids[text] = int32(id)
		t.texts[id] = text
		t.types[id] = TypeNormal
		if len(c.TokenTypes) != 0 {
			typ := TokenType(c.TokenTypes[id])
			if typ < TypeUndefined || typ > TypeByte {
				return nil, fmt.Errorf("TokenTypes[%d] = %d is not a token type", id, typ)
			}
			t.types[id] = typ
		}
	}
	t.special = Special{BOS: c.BOS, EOS: c.EOS, EOT: c.EOT, UNK: c.UNK, PAD: c.PAD}
	for _, s := range []struct {
		field string
		id    int32
	}{{"BOS", c.BOS}, {"EOS", c.EOS}, {"EOT", c.EOT}, {"UNK", c.UNK}, {"PAD", c.PAD}} {
		if s.id != NoToken && (s.id < 0 || int(s.id) >= n) {
			return nil, fmt.Errorf("%s = %d is not a token id (vocabulary of %d)", s.field, s.id, n)
		}
	}
	if c.AddBOS && c.BOS == NoToken {
		return nil, fmt.Errorf("AddBOS is set but BOS is absent")
	}
	if c.AddEOS && c.EOS == NoToken {
		return nil, fmt.Errorf("AddEOS is set but EOS is absent")
	}
	bpe, err := newBPE(t.texts, t.ids, c.Merges, t.bytes)
	if err != nil {
		return nil, err
	}
	t.bpe = bpe
	t.markSpecialTexts()
	t.buildPieces()
	return t, nil
}

// markSpecialTexts applies llama.cpp's recognition of special tokens by
// text: the end-of-turn token (when EOT is absent), the end-of-generation
// set and the fill-in-the-middle tokens, all made control tokens; then it
// lists the tokens Encode matches as whole strings.
func (t *Tokenizer) markSpecialTexts() {
	n := int32(len(t.texts))
	control := func(id int32) {
		if id != NoToken {
			t.types[id] = TypeControl
		}
	}
	if t.special.EOT == NoToken {
		t.special.EOT = firstByText(t.ids, n, eotTexts())
		control(t.special.EOT)
	}
	for _, group := range fimControlGroups() {
		control(firstByText(t.ids, n, group))
	}
	for _, group := range fimEOGGroups() {
		if id := firstByText(t.ids, n, group); id != NoToken {
			control(id)
			t.eog[id] = true
		}
	}
	for id, text := range t.texts {
		if isEOGText(text) {
			control(int32(id))
			t.eog[id] = true
		}
	}
	for _, id := range []int32{t.special.EOS, t.special.EOT} {
		if id != NoToken {
			t.eog[id] = true
		}
	}
	for id, typ := range t.types {
		if typ == TypeControl || typ == TypeUserDefined || typ == TypeUnknown {
			t.specials = append(t.specials, int32(id))
		}
	}
	slices.SortStableFunc(t.specials, func(a, b int32) int {
		return cmp.Compare(len(t.texts[b]), len(t.texts[a]))
	})
}

// buildPieces computes the bytes of every token (llama.cpp's token_to_piece
// with special tokens rendered): control, unknown and user-defined tokens
// give their text, normal tokens their bytes with the GPT-2 mapping undone,
// byte tokens "<0xXX>" their byte, unused and undefined tokens nothing.
func (t *Tokenizer) buildPieces() {
	t.pieceAt = make([]int32, len(t.texts)+1)
	for id, text := range t.texts {
		switch t.types[id] {
		case TypeControl, TypeUnknown, TypeUserDefined:
			t.pieces = append(t.pieces, text...)
		case TypeNormal:
			t.pieces = t.bytes.unmap(t.pieces, text)
		case TypeByte:
			if b, ok := parseByteToken(text); ok {
				t.pieces = append(t.pieces, b)
			} else {
				t.pieces = t.bytes.unmap(t.pieces, text)
			}
		}
		t.pieceAt[id+1] = int32(len(t.pieces))
	}
}

// parseByteToken parses a byte token's text "<0xXX>".
func parseByteToken(text string) (byte, bool) {
	if len(text) != 6 || text[:3] != "<0x" || text[5] != '>' {
		return 0, false
	}
	v, err := strconv.ParseUint(text[3:5], 16, 8)
	return byte(v), err == nil
}

// NumTokens returns the vocabulary size.
func (t *Tokenizer) NumTokens() int { return len(t.texts) }

// Special returns the special token ids; EOT includes llama.cpp's
// recognition by text.
func (t *Tokenizer) Special() Special { return t.special }

// Lookup returns the id of the token whose text is exactly text.
func (t *Tokenizer) Lookup(text string) (int32, bool) {
	id, ok := t.ids[text]
	return id, ok && int(id) < len(t.texts)
}

// IsEOG reports whether generation ends at token id: EOS, EOT, and the tokens
// llama.cpp recognises by text (see specialtext.go).
func (t *Tokenizer) IsEOG(id int32) bool {
	return id >= 0 && int(id) < len(t.eog) && t.eog[id]
}

// Piece returns the bytes of token id (nil for an id out of range). The
// slice is shared: callers must not modify it.
func (t *Tokenizer) Piece(id int32) []byte {
	if id < 0 || int(id) >= len(t.texts) {
		return nil
	}
	lo, hi := t.pieceAt[id], t.pieceAt[id+1]
	return t.pieces[lo:hi:hi]
}

// Decode returns the concatenated bytes of the tokens. The result need not be
// valid UTF-8 (a character may be split across tokens).
func (t *Tokenizer) Decode(ids []int32) ([]byte, error) {
	var out []byte
	for i, id := range ids {
		if id < 0 || int(id) >= len(t.texts) {
			return nil, fmt.Errorf("tokenizer: decode: ids[%d] = %d is not a token id (vocabulary of %d)", i, id, len(t.texts))
		}
		out = append(out, t.Piece(id)...)
	}
	return out, nil
}
