package infercmd

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const tiny = "../../../../testdata/llamacpp/tiny-llama-gpt2vocab-f32.gguf"

func TestChatPrintsTheAnswer(t *testing.T) {
	var a, b bytes.Buffer
	o := &Options{Model: tiny, Task: "chat", Question: "Hello world", MaxTokens: 6, Threads: 1}
	require.NoError(t, Run(context.Background(), o, &a))
	require.NoError(t, Run(context.Background(), o, &b))
	require.True(t, strings.HasSuffix(a.String(), "\n"))
	require.Greater(t, len(strings.TrimSpace(a.String())), 0)
	require.Equal(t, a.String(), b.String(), "greedy decoding is deterministic")
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	require.ErrorContains(t, Run(ctx, &Options{MMProj: "p.gguf", Task: "caption", MaxTokens: 1}, &bytes.Buffer{}), "--mmproj needs --model")
	require.ErrorContains(t, Run(ctx, &Options{Model: tiny, Task: "caption", Image: "missing.png", MaxTokens: 1}, &bytes.Buffer{}), "missing.png")
	require.ErrorContains(t, Run(ctx, &Options{Model: tiny, Task: "caption", Image: tiny, MaxTokens: 1}, &bytes.Buffer{}), "not a JPEG, PNG or WebP")
	require.ErrorContains(t, Run(ctx, &Options{Model: tiny, Task: "vqa", MaxTokens: 1}, &bytes.Buffer{}), "needs a question")
}
