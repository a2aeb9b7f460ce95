package tokenizer

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// words runs a pre-tokenizer and returns the words as strings.
func words(t *testing.T, pre, text string) []string {
	t.Helper()
	info, ok := lookupPre(pre)
	require.True(t, ok, pre)
	cps, err := decodeCodepoints(nil, text)
	require.NoError(t, err)
	var scratch [2][]span
	var out []string
	for _, w := range info.kind.pretokenize(cps, &scratch) {
		out = append(out, string(cps[w.start:w.end]))
	}
	return out
}

// TestPretokenize checks the pre-tokenizers on strings whose split follows by
// hand from llama.cpp's regular expressions (see the comments of
// splitters.go).
func TestPretokenize(t *testing.T) {
	for _, c := range []struct {
		pre, text string
		want      []string
	}{
		{"gpt-2", "", nil},
		{"gpt-2", "Hello world", []string{"Hello", " world"}},
		{"gpt-2", "  Hello", []string{" ", " Hello"}},
		{"gpt-2", "I'm 12 o'clock!!", []string{"I", "'m", " 12", " o", "'", "clock", "!!"}},
		{"gpt-2", "we'RE they're", []string{"we", "'", "RE", " they", "'re"}},
		{"gpt-2", "a  \n b", []string{"a", "  \n", " b"}},
		{"gpt-2", "a  ", []string{"a", "  "}},
		{"gpt-2", "x ++y", []string{"x", " ++", "y"}},
		{"gpt-2", "naïve café ½", []string{"naïve", " café", " ½"}},
		{"gpt-2", "\u3000\u3000a", []string{"\u3000", "\u3000", "a"}},
		{"starcoder", "abc123 4", []string{"abc", "1", "2", "3", " ", "4"}},
		{"smollm", "x=42;", []string{"x", "=", "4", "2", ";"}},
		{"llama3", "Hello WORLD's 12345 ok", []string{"Hello", " WORLD", "'s", " ", "123", "45", " ok"}},
		{"llama3", "x\n\n  y", []string{"x", "\n\n", " ", " y"}},
		{"llama3", "!!!\n\nabc", []string{"!!!\n\n", "abc"}},
		{"llama3", "$hello 'S", []string{"$hello", " '", "S"}},
		{"llama3", "'S", []string{"'S"}},
		{"default", "a+b=3.14159 done", []string{"a", "+", "b", "=", "3", ".", "141", "59", " done"}},
		{"default", "x\u00a7\u00a7y", []string{"x", "\u00a7\u00a7", "y"}},
	} {
		require.Equal(t, c.want, words(t, c.pre, c.text), "%s %q", c.pre, c.text)
	}
}

// TestLookupPre checks the names and the flags llama.cpp attaches to them.
func TestLookupPre(t *testing.T) {
	for name, want := range map[string]preInfo{
		"":          {kind: preDefault},
		"default":   {kind: preDefault},
		"gpt-2":     {kind: preGPT2},
		"starcoder": {kind: preStarCoder},
		"smollm":    {kind: preStarCoder},
		"llama3":    {kind: preLlama3, ignoreMerges: true, addBOS: true},
		"llama-bpe": {kind: preLlama3, ignoreMerges: true, addBOS: true},
		"dbrx":      {kind: preLlama3},
	} {
		got, ok := lookupPre(name)
		require.True(t, ok, name)
		require.Equal(t, want, got, name)
	}
	_, ok := lookupPre("qwen2")
	require.False(t, ok, "a pipeline this package does not implement is refused")
}
