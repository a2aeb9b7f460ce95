package tokenizer

import (
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// FuzzEncode checks, for any input, that Encode does not panic, that it fails
// only where the text holds a value above U+10FFFF, and that Decode gives the
// text back: exactly when it is valid UTF-8, as normalized (invalid bytes as
// U+FFFD) otherwise. Both pre-tokenizer pipelines of the test vocabularies
// and both settings of parseSpecial are exercised.
func FuzzEncode(f *testing.F) {
	var toks []*Tokenizer
	for _, name := range vocabFiles {
		toks = append(toks, loadTokenizer(f, filepath.Join("vocab", name)))
		for _, c := range loadVocabCases(f, name) {
			f.Add(c.text)
		}
	}
	for _, s := range []string{"\xff\xfe", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "a<|endoftext|>b", "<fim_prefix>x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		norm, normErr := normalizeText(s)
		for _, tok := range toks {
			for _, parse := range []bool{false, true} {
				ids, err := tok.Encode(s, true, parse)
				if normErr != nil {
					require.Error(t, err)
					continue
				}
				require.NoError(t, err)
				back, err := tok.Decode(ids)
				require.NoError(t, err)
				require.Equal(t, norm, string(back))
				if utf8.ValidString(s) {
					require.Equal(t, s, string(back))
				}
			}
		}
	})
}
