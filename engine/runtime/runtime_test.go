package runtime

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/generate"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/stretchr/testify/require"
)

const testdata = "../../testdata/llamacpp"

func openText(t *testing.T, opt Options) *Runtime {
	t.Helper()
	f, err := gguf.Open(filepath.Join(testdata, "tiny-llama-gpt2vocab-f32.gguf"))
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	r, err := Open(f, nil, opt)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Close()) })
	return r
}

func chat(text string, maxTokens int) Request {
	return Request{Task: Chat, Messages: []Message{{Role: "user", Text: text}},
		Options: generate.Options{MaxTokens: maxTokens}}
}

func TestChatIsDeterministicAndStreams(t *testing.T) {
	r := openText(t, Options{Threads: 1, Sequences: 2, Context: 128})
	var streamed strings.Builder
	a, err := r.Generate(context.Background(), chat("Hello world", 8), func(s string) error {
		streamed.WriteString(s)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 8, a.CompletionTokens)
	require.Equal(t, generate.FinishLength, a.FinishReason)
	require.Equal(t, a.Text, streamed.String())
	require.NotEmpty(t, a.Text)
	require.Positive(t, a.PromptTokens)

	// The state is reset between requests, and concurrent requests do not
	// disturb each other.
	var wg sync.WaitGroup
	results := make([]Result, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			results[i], err = r.Generate(context.Background(), chat("Hello world", 8), nil)
			require.NoError(t, err)
		}()
	}
	wg.Wait()
	for _, b := range results {
		require.Equal(t, a.Text, b.Text)
		require.Equal(t, a.PromptTokens, b.PromptTokens)
	}
	other, err := r.Generate(context.Background(), chat("The quick brown fox", 8), nil)
	require.NoError(t, err)
	require.NotEqual(t, a.Text, other.Text)
}

func TestBadRequests(t *testing.T) {
	r := openText(t, Options{Threads: 1, Context: 16})
	ctx := context.Background()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for name, req := range map[string]Request{
		"vqa without question":  {Task: VQA, Image: img, Options: generate.Options{MaxTokens: 4}},
		"caption without image": {Task: Caption, Options: generate.Options{MaxTokens: 4}},
		"image on a text model": {Task: Caption, Image: img, Options: generate.Options{MaxTokens: 4}},
		"unknown task":          {Task: "translate", Options: generate.Options{MaxTokens: 4}},
		"unknown role":          {Task: Chat, Messages: []Message{{Role: "robot", Text: "hi"}}, Options: generate.Options{MaxTokens: 4}},
		"empty chat":            {Task: Chat, Options: generate.Options{MaxTokens: 4}},
		"prompt over context":   chat(strings.Repeat("word ", 40), 4),
	} {
		_, err := r.Generate(ctx, req, nil)
		require.ErrorIs(t, err, ErrBadRequest, name)
	}
}

func TestCancellation(t *testing.T) {
	r := openText(t, Options{Threads: 1, Context: 128})
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := r.Generate(ctx, chat("Hello", 50), func(string) error {
		if n++; n == 2 {
			cancel()
		}
		return nil
	})
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
	// The sequence went back to the pool: another request runs.
	_, err = r.Generate(context.Background(), chat("Hello", 2), nil)
	require.NoError(t, err)
}

// TestCaptionMatchesLlamaCpp runs the caption task on the tiny SmolVLM pair:
// the default caption prompt is exactly the golden prompt of
// testdata/llamacpp/vision, so the prompt must take its 55 positions and the
// greedy answer must be llama.cpp's 16 tokens.
func TestCaptionMatchesLlamaCpp(t *testing.T) {
	dir := filepath.Join(testdata, "vision")
	text, err := gguf.Open(filepath.Join(dir, "tiny-smolvlm-text-f32.gguf"))
	require.NoError(t, err)
	defer text.Close()
	mmproj, err := gguf.Open(filepath.Join(dir, "tiny-smolvlm-mmproj-f32.gguf"))
	require.NoError(t, err)
	defer mmproj.Close()
	r, err := Open(text, mmproj, Options{Threads: 1, Context: 128})
	require.NoError(t, err)
	defer r.Close()
	require.True(t, r.Vision())

	raw, err := os.ReadFile(filepath.Join(dir, "vision-golden.json"))
	require.NoError(t, err)
	var g struct {
		Pieces    []string `json:"greedy_pieces_hex"`
		Positions int      `json:"n_positions"`
	}
	require.NoError(t, json.Unmarshal(raw, &g))
	var want []byte
	for _, p := range g.Pieces {
		b, err := hex.DecodeString(p)
		require.NoError(t, err)
		want = append(want, b...)
	}

	f, err := os.Open(filepath.Join(dir, "image-192x128.png"))
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	res, err := r.Generate(context.Background(), Request{Task: Caption, Image: img,
		Options: generate.Options{MaxTokens: len(g.Pieces)}}, nil)
	require.NoError(t, err)
	require.Equal(t, g.Positions, res.PromptTokens)
	require.Equal(t, string(want), res.Text)
	require.Equal(t, len(g.Pieces), res.CompletionTokens)
}
