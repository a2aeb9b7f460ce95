package tokenizer

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestVocabVectors checks every test string of llama.cpp's tokenizer test
// (test-tokenizer-0: add_special = false, parse_special = false) and that
// the ids decode back to the string.
func TestVocabVectors(t *testing.T) {
	for _, name := range vocabFiles {
		t.Run(name, func(t *testing.T) {
			tok := loadTokenizer(t, filepath.Join("vocab", name))
			cases := loadVocabCases(t, name)
			for i, c := range cases {
				got, err := tok.Encode(c.text, false, false)
				require.NoError(t, err, "string %d %q", i, c.text)
				require.Equal(t, c.ids, got, "string %d %q", i, c.text)
				back, err := tok.Decode(got)
				require.NoError(t, err)
				require.Equal(t, c.text, string(back), "string %d round trip", i)
			}
			t.Logf("%s: %d of %d test strings match llama.cpp", name, len(cases), len(cases))
		})
	}
}

// goldenPrompt is the part of golden/tiny-f32-promptN.json used here.
type goldenPrompt struct {
	Prompt         string   `json:"prompt"`
	TokenIDs       []int32  `json:"token_ids"`
	TokenPiecesHex []string `json:"token_pieces_hex"`
	GreedyIDs      []int32  `json:"greedy_ids"`
	GreedyPieceHex []string `json:"greedy_pieces_hex"`
	Tokenize       struct {
		AddSpecial   bool `json:"add_special"`
		ParseSpecial bool `json:"parse_special"`
	} `json:"tokenize"`
}

// TestGoldenPrompts checks the prompts of the tiny model: ids with the
// settings llama.cpp used, and the bytes of the prompt and generated tokens.
func TestGoldenPrompts(t *testing.T) {
	tok := loadTokenizer(t, "tiny-llama-gpt2vocab-f32.gguf")
	require.Equal(t, Special{BOS: 50256, EOS: 50256, EOT: 50256, UNK: NoToken, PAD: NoToken}, tok.Special())
	require.True(t, tok.IsEOG(50256))
	require.False(t, tok.IsEOG(198))
	for n := 1; n <= 3; n++ {
		t.Run(fmt.Sprintf("prompt%d", n), func(t *testing.T) {
			text, err := os.ReadFile(filepath.Join(llamaDir, "golden", fmt.Sprintf("prompt%d.txt", n)))
			require.NoError(t, err)
			raw, err := os.ReadFile(filepath.Join(llamaDir, "golden", fmt.Sprintf("tiny-f32-prompt%d.json", n)))
			require.NoError(t, err)
			var g goldenPrompt
			require.NoError(t, json.Unmarshal(raw, &g))
			require.Equal(t, g.Prompt, string(text))

			ids, err := tok.Encode(string(text), g.Tokenize.AddSpecial, g.Tokenize.ParseSpecial)
			require.NoError(t, err)
			require.Equal(t, g.TokenIDs, ids)
			requirePieces(t, tok, g.TokenIDs, g.TokenPiecesHex)
			requirePieces(t, tok, g.GreedyIDs, g.GreedyPieceHex)
			back, err := tok.Decode(ids)
			require.NoError(t, err)
			require.Equal(t, string(text), string(back))
		})
	}
}

// requirePieces checks Piece against llama.cpp's hex dump of token bytes.
func requirePieces(t *testing.T, tok *Tokenizer, ids []int32, hexes []string) {
	t.Helper()
	require.Len(t, hexes, len(ids))
	for i, id := range ids {
		want, err := hex.DecodeString(hexes[i])
		require.NoError(t, err)
		require.Equal(t, want, tok.Piece(id), "token %d (id %d)", i, id)
	}
}

// visionGolden is the part of vision/vision-golden.json used here.
type visionGolden struct {
	Prompt      string `json:"prompt"`
	MediaMarker string `json:"media_marker"`
	Chunks      []struct {
		Type           string   `json:"type"`
		TokenIDs       []int32  `json:"token_ids"`
		TokenPiecesHex []string `json:"token_pieces_hex"`
	} `json:"chunks"`
}

// TestVisionPrompt checks the SmolVLM-style vocabulary (starcoder merges plus
// 40 control tokens) with special tokens parsed: the prompt text around the
// image marker, and every text chunk mtmd produced.
func TestVisionPrompt(t *testing.T) {
	tok := loadTokenizer(t, filepath.Join("vision", "tiny-smolvlm-text-f32.gguf"))
	require.Equal(t, 49192, tok.NumTokens())
	raw, err := os.ReadFile(filepath.Join(llamaDir, "vision", "vision-golden.json"))
	require.NoError(t, err)
	var g visionGolden
	require.NoError(t, json.Unmarshal(raw, &g))
	prompt, err := os.ReadFile(filepath.Join(llamaDir, "vision", "prompt.txt"))
	require.NoError(t, err)
	require.Equal(t, g.Prompt, string(prompt))

	eou, ok := tok.Lookup("<end_of_utterance>")
	require.True(t, ok)
	require.Equal(t, int32(49154), eou)
	require.True(t, tok.IsEOG(eou), "<end_of_utterance> ends generation")
	require.True(t, tok.IsEOG(0), "<|endoftext|> (EOS) ends generation")
	require.False(t, tok.IsEOG(49152), "<fake_token_around_image> does not")

	// The text before and after the image marker.
	before, after, found := strings.Cut(string(prompt), g.MediaMarker)
	require.True(t, found)
	first, last := g.Chunks[0].TokenIDs, g.Chunks[len(g.Chunks)-1].TokenIDs
	ids, err := tok.Encode(before, true, true)
	require.NoError(t, err)
	require.Equal(t, first[:2], ids)
	ids, err = tok.Encode(after, true, true)
	require.NoError(t, err)
	require.Equal(t, last[1:], ids)
	require.Equal(t, int32(49154), ids[4])
	ids, err = tok.Encode(after, true, false)
	require.NoError(t, err)
	require.NotContains(t, ids, int32(49154), "without parse_special the control token is plain text")

	// Every text chunk, rebuilt from its pieces, tokenizes to its ids.
	nText := 0
	for i, c := range g.Chunks {
		if c.Type != "text" {
			continue
		}
		nText++
		var text []byte
		for _, h := range c.TokenPiecesHex {
			b, err := hex.DecodeString(h)
			require.NoError(t, err)
			text = append(text, b...)
		}
		ids, err := tok.Encode(string(text), false, true)
		require.NoError(t, err)
		require.Equal(t, c.TokenIDs, ids, "chunk %d %q", i, text)
		requirePieces(t, tok, c.TokenIDs, c.TokenPiecesHex)
	}
	require.Equal(t, 8, nText)
}
