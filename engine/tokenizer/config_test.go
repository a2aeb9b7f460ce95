package tokenizer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNewValidation checks that New refuses bad configurations and names the
// field at fault.
func TestNewValidation(t *testing.T) {
	for _, c := range []struct {
		name   string
		edit   func(*Config)
		substr string
	}{
		{"model", func(c *Config) { c.Model = "llama" }, `Model "llama"`},
		{"pre", func(c *Config) { c.Pre = "qwen2" }, `Pre: unknown pre-tokenizer "qwen2"`},
		{"no tokens", func(c *Config) { c.Tokens = nil }, "Tokens: 0 tokens"},
		{"types length", func(c *Config) { c.TokenTypes = []int32{1, 1} }, "TokenTypes: 2 entries for 258 tokens"},
		{"type value", func(c *Config) {
			c.TokenTypes = make([]int32, len(c.Tokens))
			c.TokenTypes[7] = 9
		}, "TokenTypes[7] = 9"},
		{"duplicate", func(c *Config) { c.Tokens[257] = "a" }, `Tokens[257] "a" duplicates Tokens[97]`},
		{"merge left", func(c *Config) { c.Merges = []string{"a b", "zz b"} }, `Merges[1] "zz b": left part "zz"`},
		{"merge right", func(c *Config) { c.Merges = []string{"a zz"} }, `Merges[0] "a zz": right part "zz"`},
		{"merge space", func(c *Config) { c.Merges = []string{"ab"} }, `Merges[0] "ab": no space`},
		{"merge empty", func(c *Config) { c.Merges = []string{""} }, `Merges[0] "": no space`},
		{"bos range", func(c *Config) { c.BOS = 258 }, "BOS = 258 is not a token id"},
		{"eos negative", func(c *Config) { c.EOS = -2 }, "EOS = -2"},
		{"pad range", func(c *Config) { c.PAD = 1 << 20 }, "PAD = 1048576"},
		{"add bos", func(c *Config) { c.AddBOS = true }, "AddBOS is set but BOS is absent"},
		{"add eos", func(c *Config) { c.AddEOS = true }, "AddEOS is set but EOS is absent"},
	} {
		cfg := byteVocab("gpt-2", []string{"ab", "<s>"}, "a b")
		_, err := New(cfg)
		require.NoError(t, err, "the unedited configuration is valid")
		c.edit(&cfg)
		_, err = New(cfg)
		require.ErrorContains(t, err, c.substr, c.name)
	}
}

// TestNewEmptyToken checks llama.cpp's renaming of empty tokens.
func TestNewEmptyToken(t *testing.T) {
	cfg := byteVocab("gpt-2", []string{""})
	tok, err := New(cfg)
	require.NoError(t, err)
	id, ok := tok.Lookup("[EMPTY_256]")
	require.True(t, ok)
	require.Equal(t, int32(256), id)
}

// TestConfigFromGGUF checks the keys read from llama.cpp's GPT-2 vocabulary
// and the errors for files that lack them.
func TestConfigFromGGUF(t *testing.T) {
	cfg, err := ConfigFromGGUF(filepath.Join(llamaDir, "vocab", "ggml-vocab-gpt-2.gguf"))
	require.NoError(t, err)
	require.Equal(t, ModelGPT2, cfg.Model)
	require.Equal(t, "gpt-2", cfg.Pre)
	require.Len(t, cfg.Tokens, 50257)
	require.Len(t, cfg.TokenTypes, 50257)
	require.Len(t, cfg.Merges, 50000)
	require.Equal(t, "Ġ t", cfg.Merges[0])
	require.Equal(t, "<|endoftext|>", cfg.Tokens[50256])
	require.Equal(t, int32(TypeControl), cfg.TokenTypes[50256])
	require.Equal(t, int32(50256), cfg.BOS)
	require.Equal(t, int32(50256), cfg.EOS)
	require.Equal(t, NoToken, cfg.UNK)
	require.False(t, cfg.AddBOS)
	require.False(t, cfg.AddEOS)

	// Truncated and foreign files are errors, not panics.
	whole, err := os.ReadFile(filepath.Join(llamaDir, "vocab", "ggml-vocab-gpt-2.gguf"))
	require.NoError(t, err)
	for _, data := range [][]byte{whole[:1000], whole[:len(whole)/2], []byte("not a gguf file at all")} {
		path := filepath.Join(t.TempDir(), "bad.gguf")
		require.NoError(t, os.WriteFile(path, data, 0o600))
		_, err = ConfigFromGGUF(path)
		require.ErrorContains(t, err, path)
	}

	_, err = ConfigFromGGUF(filepath.Join(llamaDir, "no-such-file.gguf"))
	require.ErrorContains(t, err, "no-such-file.gguf")
	_, err = ConfigFromGGUF(filepath.Join(llamaDir, "vision", "tiny-smolvlm-mmproj-f32.gguf"))
	require.ErrorContains(t, err, "key tokenizer.ggml.model is missing")
	require.ErrorContains(t, err, "key tokenizer.ggml.tokens is missing")
}
