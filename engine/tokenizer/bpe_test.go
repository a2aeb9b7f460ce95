package tokenizer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestByteMap checks GPT-2's byte-to-unicode table at its known points.
func TestByteMap(t *testing.T) {
	m := newByteMap()
	for b, r := range map[byte]rune{
		'!': '!', 'a': 'a', '~': '~', 0xA1: '¡', 0xFF: 'ÿ', // printable bytes stand for themselves
		0x00: 'Ā', ' ': 'Ġ', '\n': 'Ċ', 0x7F: 'ġ', 0x80: 'Ģ', 0xA0: 'ł', 0xAD: 'Ń',
	} {
		require.Equal(t, r, m.toRune[b], "byte %#x", b)
		back, ok := m.byteOf(r)
		require.True(t, ok)
		require.Equal(t, b, back)
	}
	_, ok := m.byteOf('Ņ') // U+0145, one past the table
	require.False(t, ok)
	require.Equal(t, []byte("x \n\xad"), m.unmap(nil, "xĠĊŃ"))
	require.Equal(t, []byte("€!"), m.unmap(nil, "€!"), "characters outside the table are kept")
}

// byteVocab returns a gpt2 Config whose first 256 tokens are the GPT-2
// characters of the bytes 0..255, followed by extra tokens.
func byteVocab(pre string, extra []string, merges ...string) Config {
	m := newByteMap()
	tokens := make([]string, 0, 256+len(extra))
	for b := range 256 {
		tokens = append(tokens, string(m.toRune[b]))
	}
	return Config{
		Model: ModelGPT2, Pre: pre, Tokens: append(tokens, extra...), Merges: merges,
		BOS: NoToken, EOS: NoToken, EOT: NoToken, UNK: NoToken, PAD: NoToken,
	}
}

// encodeTexts encodes text and returns the token texts.
func encodeTexts(t *testing.T, tok *Tokenizer, text string, parseSpecial bool) []string {
	t.Helper()
	ids, err := tok.Encode(text, false, parseSpecial)
	require.NoError(t, err)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = tok.texts[id]
	}
	return out
}

// TestBPEMerges checks the merge loop: lowest rank first, leftmost on ties,
// the first listing of a duplicate merge, and llama.cpp's fallback for a
// merged symbol that is no token.
func TestBPEMerges(t *testing.T) {
	for _, c := range []struct {
		name   string
		extra  []string
		merges []string
		text   string
		want   []string
	}{
		{"chain", []string{"ab", "abc"}, []string{"a b", "ab c"}, "abc", []string{"abc"}},
		{"rank decides", []string{"ab", "bc"}, []string{"b c", "a b"}, "abc", []string{"a", "bc"}},
		{"rank decides 2", []string{"ab", "bc"}, []string{"a b", "b c"}, "abc", []string{"ab", "c"}},
		{"leftmost on ties", []string{"aa"}, []string{"a a"}, "aaa", []string{"aa", "a"}},
		{"all pairs", []string{"aa", "aaaa"}, []string{"a a", "aa aa"}, "aaaaa", []string{"aaaa", "a"}},
		{"first listing wins", []string{"ab", "bc"}, []string{"b c", "a b", "b c"}, "abc", []string{"a", "bc"}},
		{"no merges", nil, nil, "abc", []string{"a", "b", "c"}},
		{"space joins word", []string{"Ġa"}, []string{"Ġ a"}, "a a", []string{"a", "Ġa"}},
		// "Ġ a" merges into "Ġa", which is no token: llama.cpp then emits the
		// one-byte tokens among the bytes of "Ġa" (C4 A0 61): only "a".
		{"merged non-token", nil, []string{"Ġ a"}, " a", []string{"a"}},
	} {
		tok, err := New(byteVocab("gpt-2", c.extra, c.merges...))
		require.NoError(t, err, c.name)
		require.Equal(t, c.want, encodeTexts(t, tok, c.text, false), c.name)
	}
}

// TestIgnoreMerges checks llama3's rule: a word that is a token is emitted
// whole even where the merges cannot build it; dbrx has the same expression
// without the rule.
func TestIgnoreMerges(t *testing.T) {
	cfg := byteVocab("llama3", []string{"abc"})
	cfg.BOS, cfg.AddBOS = 0, true
	llama3, err := New(cfg)
	require.NoError(t, err)
	require.Equal(t, []string{"abc", "Ġ", "a", "b"}, encodeTexts(t, llama3, "abc ab", false))
	ids, err := llama3.Encode("abc", true, false)
	require.NoError(t, err)
	require.Equal(t, []int32{0, 256}, ids, "BOS, then the word")

	dbrx, err := New(byteVocab("dbrx", []string{"abc"}))
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b", "c"}, encodeTexts(t, dbrx, "abc", false))
}
