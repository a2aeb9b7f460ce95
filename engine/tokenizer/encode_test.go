package tokenizer

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestInvalidUTF8 checks llama.cpp's handling of bad UTF-8: every byte that
// starts no complete sequence is U+FFFD, overlong forms decode to their value,
// surrogates pass through, and values above U+10FFFF are refused.
func TestInvalidUTF8(t *testing.T) {
	tok := loadTokenizer(t, filepath.Join("vocab", "ggml-vocab-gpt-2.gguf"))
	const fffd = "\xef\xbf\xbd"
	for _, c := range []struct{ in, want string }{
		{"\xff", fffd},
		{"a\x80b", "a" + fffd + "b"},
		{"\xe2\x82", fffd + fffd},            // truncated "€"
		{"\xe2\x82 x", fffd + fffd + " x"},   // "€" cut short by a space
		{"\xf0\x9f\x98", fffd + fffd + fffd}, // truncated emoji
		{"\xc0\x80", "\x00"},                 // overlong NUL
		{"\xe0\x81\x81z", "Az"},              // overlong 'A'
		{"\xed\xa0\x80", "\xed\xa0\x80"},     // surrogate U+D800, kept
		{"\xf8\x88\x80\x80\x80", fffd + fffd + fffd + fffd + fffd},
		{"ok \xfe\xfe ok", "ok " + fffd + fffd + " ok"},
	} {
		norm, err := normalizeText(c.in)
		require.NoError(t, err, "%q", c.in)
		require.Equal(t, c.want, norm, "%q", c.in)

		ids, err := tok.Encode(c.in, false, false)
		require.NoError(t, err, "%q", c.in)
		back, err := tok.Decode(ids)
		require.NoError(t, err)
		require.Equal(t, c.want, string(back), "%q decodes to the normalized text", c.in)
		same, err := tok.Encode(c.want, false, false)
		require.NoError(t, err)
		require.Equal(t, same, ids, "%q tokenizes like its normalized text", c.in)
	}
	for _, in := range []string{"\xf4\x90\x80\x80", "a \xf7\xbf\xbf\xbf"} {
		_, err := tok.Encode(in, false, false)
		require.ErrorContains(t, err, "invalid code point", "%q is above U+10FFFF", in)
	}
}

// TestSpecialTokens checks the matching of special tokens in the text:
// control tokens only with parseSpecial, user-defined tokens always, longest
// first, and their pieces.
func TestSpecialTokens(t *testing.T) {
	cfg := byteVocab("gpt-2", []string{"<c>", "<c><u>", "<u>", "<|im_end|>"})
	types := make([]int32, len(cfg.Tokens))
	for i := range types {
		types[i] = int32(TypeNormal)
	}
	types[256], types[257], types[258] = int32(TypeControl), int32(TypeControl), int32(TypeUserDefined)
	cfg.TokenTypes = types
	tok, err := New(cfg)
	require.NoError(t, err)

	require.Equal(t, []string{"x", "<c><u>", "<u>", "<c>", "y"}, encodeTexts(t, tok, "x<c><u><u><c>y", true))
	require.Equal(t, []string{"<", "c", ">", "<u>", "<u>", "<", "c", ">", "y"}, encodeTexts(t, tok, "<c><u><u><c>y", false))
	// "<|im_end|>" is normal in the file but llama.cpp makes it a control
	// token (and an end-of-generation token) by its text.
	require.Equal(t, []string{"<|im_end|>"}, encodeTexts(t, tok, "<|im_end|>", true))
	require.Len(t, encodeTexts(t, tok, "<|im_end|>", false), 10)
	require.True(t, tok.IsEOG(259))
	require.False(t, tok.IsEOG(256))
	require.Equal(t, int32(259), tok.Special().EOT)
	require.Equal(t, []byte("<c><u>"), tok.Piece(257))

	ids, err := tok.Encode("", true, true)
	require.NoError(t, err)
	require.Empty(t, ids)
}

// TestAddSpecial checks BOS and EOS around the text when the vocabulary asks
// for them, and only with addSpecial.
func TestAddSpecial(t *testing.T) {
	cfg := byteVocab("gpt-2", []string{"<s>", "</s>"})
	cfg.BOS, cfg.EOS, cfg.AddBOS, cfg.AddEOS = 256, 257, true, true
	tok, err := New(cfg)
	require.NoError(t, err)
	ids, err := tok.Encode("a", true, false)
	require.NoError(t, err)
	require.Equal(t, []int32{256, 'a', 257}, ids)
	ids, err = tok.Encode("", true, false)
	require.NoError(t, err)
	require.Equal(t, []int32{256, 257}, ids)
	ids, err = tok.Encode("a", false, false)
	require.NoError(t, err)
	require.Equal(t, []int32{'a'}, ids)
	require.True(t, tok.IsEOG(257), "EOS ends generation")
}

// TestDecodeErrors checks ids outside the vocabulary.
func TestDecodeErrors(t *testing.T) {
	tok, err := New(byteVocab("gpt-2", nil))
	require.NoError(t, err)
	_, err = tok.Decode([]int32{'a', 256})
	require.ErrorContains(t, err, "ids[1] = 256")
	_, err = tok.Decode([]int32{-1})
	require.ErrorContains(t, err, "ids[0] = -1")
	require.Nil(t, tok.Piece(256))
	require.Nil(t, tok.Piece(-3))
	require.False(t, tok.IsEOG(-1))
	require.False(t, tok.IsEOG(1000))
	_, ok := tok.Lookup("ab")
	require.False(t, ok)
}

// TestPieceTypes checks the bytes of each token type.
func TestPieceTypes(t *testing.T) {
	cfg := byteVocab("gpt-2", []string{"<0x0A>", "<0xZZ>", "unused", "undef", "Ġhi"})
	types := make([]int32, len(cfg.Tokens))
	for i := range types {
		types[i] = int32(TypeNormal)
	}
	types[256], types[257], types[258], types[259] = int32(TypeByte), int32(TypeByte), int32(TypeUnused), int32(TypeUndefined)
	cfg.TokenTypes = types
	tok, err := New(cfg)
	require.NoError(t, err)
	require.Equal(t, []byte("\n"), tok.Piece(256))
	require.Equal(t, []byte("<0xZZ>"), tok.Piece(257), "not a byte token name: decoded as text")
	require.Empty(t, tok.Piece(258))
	require.Empty(t, tok.Piece(259))
	require.Equal(t, []byte(" hi"), tok.Piece(260))
}
