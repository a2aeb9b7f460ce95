package tokenizer

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// llamaDir is the llama.cpp golden data of the repository.
var llamaDir = filepath.Join("..", "..", "testdata", "llamacpp")

// vocabSeparator separates the test strings of a llama.cpp .inp file.
const vocabSeparator = "\n__ggml_vocab_test__\n"

// vocabFiles are llama.cpp's vocab-only GGUFs with test vectors.
var vocabFiles = []string{"ggml-vocab-gpt-2.gguf", "ggml-vocab-starcoder.gguf"}

// loadTokenizer builds the tokenizer of a GGUF file under llamaDir.
func loadTokenizer(tb testing.TB, rel string) *Tokenizer {
	tb.Helper()
	cfg, err := ConfigFromGGUF(filepath.Join(llamaDir, rel))
	require.NoError(tb, err)
	tok, err := New(cfg)
	require.NoError(tb, err)
	return tok
}

// vocabCase is one test string of a .inp file and the ids llama.cpp gave it.
type vocabCase struct {
	text string
	ids  []int32
}

// loadVocabCases reads the .inp / .out pair of a vocab GGUF.
func loadVocabCases(tb testing.TB, name string) []vocabCase {
	tb.Helper()
	inp, err := os.ReadFile(filepath.Join(llamaDir, "vocab", name+".inp"))
	require.NoError(tb, err)
	outp, err := os.ReadFile(filepath.Join(llamaDir, "vocab", name+".out"))
	require.NoError(tb, err)
	// The file ends with a separator: there is no test string after it.
	texts := strings.Split(strings.TrimSuffix(string(inp), vocabSeparator), vocabSeparator)
	lines := strings.Split(strings.TrimRight(string(outp), "\n"), "\n")
	require.Len(tb, lines, len(texts), "%s: one .out line per test string", name)
	cases := make([]vocabCase, len(texts))
	for i, text := range texts {
		ids := []int32{}
		for _, f := range strings.Fields(lines[i]) {
			v, err := strconv.ParseInt(f, 10, 32)
			require.NoError(tb, err, "%s.out line %d", name, i+1)
			ids = append(ids, int32(v))
		}
		cases[i] = vocabCase{text: text, ids: ids}
	}
	return cases
}
