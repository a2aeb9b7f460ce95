package vision

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/tokenizer"
	"github.com/stretchr/testify/require"
)

// visionGolden is the part of vision-golden.json the tests use.
type visionGolden struct {
	SequenceIDs []int32   `json:"sequence_ids"`
	GreedyIDs   []int     `json:"greedy_ids"`
	Margins     []float64 `json:"greedy_step_margin_top1_minus_top2"`
}

func readVisionGolden(t *testing.T) (visionGolden, string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(goldenDir, "vision-golden.json"))
	require.NoError(t, err)
	var g visionGolden
	require.NoError(t, json.Unmarshal(raw, &g))
	prompt, err := os.ReadFile(filepath.Join(goldenDir, "prompt.txt"))
	require.NoError(t, err)
	return g, string(prompt)
}

func goldenTemplate(t *testing.T) (*Template, *tokenizer.Tokenizer) {
	t.Helper()
	cfg, err := tokenizer.ConfigFromFile(openGGUF(t, "tiny-smolvlm-text-f32.gguf"))
	require.NoError(t, err)
	tok, err := tokenizer.New(cfg)
	require.NoError(t, err)
	tmpl, err := NewTemplate(tok)
	require.NoError(t, err)
	return tmpl, tok
}

// TestLayoutGolden lays out the golden prompt for a 2×3 grid and compares
// every position with llama.cpp's mtmd_tokenize.
func TestLayoutGolden(t *testing.T) {
	g, prompt := readVisionGolden(t)
	tmpl, _ := goldenTemplate(t)
	l, err := tmpl.Layout(prompt, []Grid{{Rows: 2, Cols: 3}}, 4, true, true)
	require.NoError(t, err)
	require.Equal(t, 55, l.Positions())
	require.Equal(t, g.SequenceIDs, l.Sequence())
	require.Len(t, l.Chunks, 15)
	var images []int
	for _, c := range l.Chunks {
		if c.IsImage() {
			require.Zero(t, c.Media)
			images = append(images, c.Image)
		}
	}
	require.Equal(t, []int{0, 1, 2, 3, 4, 5, 6}, images, "tiles row-major, then the global view")
}

// TestLayoutShapes checks the format's structure for other grids and
// prompts: no tiles, one tile, two images, and the errors.
func TestLayoutShapes(t *testing.T) {
	tmpl, tok := goldenTemplate(t)
	id := func(text string) int32 {
		v, ok := lookupPiece(tok, text)
		require.True(t, ok, text)
		return v
	}
	fake, global, nl, nl2 := id(textFakeToken), id(textGlobalImg), id("\n"), id("\n\n")
	row1col1 := id("<row_1_col_1>")

	l, err := tmpl.Layout(MediaMarker, []Grid{{}}, 3, true, true)
	require.NoError(t, err)
	require.Equal(t, []int32{nl2, fake, global, -1, -1, -1, fake}, l.Sequence(), "global view only")

	l, err = tmpl.Layout(MediaMarker, []Grid{{Rows: 1, Cols: 1}}, 1, true, true)
	require.NoError(t, err)
	require.Equal(t, []int32{fake, row1col1, -1, nl2, fake, global, -1, fake}, l.Sequence(), "one tile: no row end")

	l, err = tmpl.Layout("A"+MediaMarker+MediaMarker, []Grid{{Rows: 2, Cols: 1}, {}}, 1, true, true)
	require.NoError(t, err)
	seq := l.Sequence()
	require.Equal(t, []int32{fake, id("<row_1_col_1>"), -1, nl, fake, id("<row_2_col_1>"), -1, nl2, fake, global, -1, fake,
		nl2, fake, global, -1, fake}, seq[1:])
	var media []int
	for _, c := range l.Chunks {
		if c.IsImage() {
			media = append(media, c.Media*10+c.Image)
		}
	}
	require.Equal(t, []int{0, 1, 2, 10}, media)

	for _, c := range []struct {
		name   string
		prompt string
		grids  []Grid
		n      int
	}{
		{"more markers than images", MediaMarker + MediaMarker, []Grid{{}}, 4},
		{"fewer markers than images", "text", []Grid{{}}, 4},
		{"half-empty grid", MediaMarker, []Grid{{Rows: 2}}, 4},
		{"negative grid", MediaMarker, []Grid{{Rows: -1, Cols: -1}}, 4},
		{"no tokens per image", MediaMarker, []Grid{{}}, 0},
	} {
		_, err := tmpl.Layout(c.prompt, c.grids, c.n, true, true)
		require.Error(t, err, c.name)
	}
}

// recorder is a Sink that records what it is fed.
type recorder struct {
	seq    []int32     // token ids, -1 for embeddings
	embd   [][]float32 // the embeddings, in order
	logits []int       // positions where logits were asked for
}

func (r *recorder) DecodeToken(_ context.Context, _ *kernels.Pool, token int, logits bool) error {
	r.note(logits)
	r.seq = append(r.seq, int32(token))
	return nil
}

func (r *recorder) DecodeEmbedding(_ context.Context, _ *kernels.Pool, embd []float32, logits bool) error {
	r.note(logits)
	r.seq = append(r.seq, -1)
	r.embd = append(r.embd, embd)
	return nil
}

func (r *recorder) note(logits bool) {
	if logits {
		r.logits = append(r.logits, len(r.seq))
	}
}

// TestLayoutDecode feeds a layout to a recording sink: positions in order,
// each image slot given its own row of the right image's embeddings,
// logits at the last position only; missing or mis-sized embeddings fail.
func TestLayoutDecode(t *testing.T) {
	tmpl, _ := goldenTemplate(t)
	l, err := tmpl.Layout("x"+MediaMarker+"y", []Grid{{Rows: 1, Cols: 2}}, 2, false, true)
	require.NoError(t, err)
	emb := [][]float32{{1, 1, 2, 2}, {3, 3, 4, 4}, {5, 5, 6, 6}} // 2 tiles and the global view, 2 positions of 2 values
	var r recorder
	require.NoError(t, l.Decode(context.Background(), nil, &r, [][][]float32{emb}))
	require.Equal(t, l.Sequence(), r.seq)
	require.Equal(t, []int{l.Positions() - 1}, r.logits)
	require.Equal(t, [][]float32{{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {6, 6}}, r.embd)

	require.Error(t, l.Decode(context.Background(), nil, &recorder{}, nil), "no embeddings")
	require.Error(t, l.Decode(context.Background(), nil, &recorder{}, [][][]float32{emb[:2]}), "global view missing")
	require.Error(t, l.Decode(context.Background(), nil, &recorder{}, [][][]float32{{{1, 2, 3}, emb[1], emb[2]}}), "3 values for 2 positions")
}
