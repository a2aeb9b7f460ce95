package runtime

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/cuda/cudatest"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/decoder"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quantize"
	"github.com/stretchr/testify/require"
)

// TestGPURuntimeMatchesCPU serves the same chat requests from a runtime
// whose decoder runs on the GPU and from one on the CPU, the tiny model
// quantized with the int8 recipe: the greedy answers are equal, one at a
// time and four at once (their decode steps batched on the GPU). It needs an NVIDIA GPU and skips without one
// (fails instead under cudatest.EnvRequire=1, as scripts/gpu-check.sh runs it).
func TestGPURuntimeMatchesCPU(t *testing.T) {
	d := cudatest.Device(t)

	src, err := gguf.Open(filepath.Join(testdata, "tiny-llama-gpt2vocab-f32.gguf"))
	require.NoError(t, err)
	defer src.Close()
	recipe, err := quantize.RecipeByName("int8")
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = quantize.Write(context.Background(), src, &buf, quantize.Options{Recipe: recipe})
	require.NoError(t, err)
	f, err := gguf.Parse("tiny-int8", buf.Bytes())
	require.NoError(t, err)

	var logged []string
	gpu, err := Open(f, nil, Options{Threads: 1, Sequences: 4, Context: 128, Device: d,
		Logf: func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, gpu.Close()) })
	require.Equal(t, "cuda", gpu.Device(), "the decoder runs on the GPU (log: %v)", logged)
	gb, ok := gpu.batch.(*batcher[*decoder.GPUState])
	require.True(t, ok, "the GPU runtime batches its sequences' decode steps")
	gb.window = time.Minute // a step waits for every generating request
	cpu, err := Open(f, nil, Options{Threads: 1, Sequences: 1, Context: 128})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, cpu.Close()) })

	reqs := []Request{chat("Hello world", 12), chat("The quick brown fox", 7), chat("What is two plus two?", 10), chat("Hello world", 5)}
	want := make([]string, len(reqs))
	ctx := context.Background()
	for i, req := range reqs {
		c, err := cpu.Generate(ctx, req, nil)
		require.NoError(t, err)
		g, err := gpu.Generate(ctx, req, nil)
		require.NoError(t, err)
		require.Equal(t, c.Text, g.Text, "request %d", i)
		require.Equal(t, c.CompletionTokens, g.CompletionTokens, "request %d", i)
		want[i] = c.Text
	}
	got := make([]string, len(reqs))
	var wg sync.WaitGroup
	for i, req := range reqs {
		wg.Go(func() {
			res, err := gpu.Generate(ctx, req, nil)
			require.NoError(t, err)
			got[i] = res.Text
		})
	}
	wg.Wait()
	require.Equal(t, want, got, "four requests at once on the GPU")
	t.Logf("GPU runtime on %s: %d requests equal to the CPU's; %d decode steps in %d batches",
		d.Name, len(reqs), gb.served.Load(), gb.batches.Load())
}
