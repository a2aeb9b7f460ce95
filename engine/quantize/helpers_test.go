package quantize

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/decoder"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/generate"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/stretchr/testify/require"
)

const (
	testdata = "../../testdata/llamacpp"
	fixture  = testdata + "/tiny-llama-gpt2vocab-f32.gguf"
	prompts  = 3 // golden/tiny-f32-promptN.json, N = 1..3
)

// openFixture opens the tiny F32 llama model.
func openFixture(t testing.TB) *gguf.File {
	t.Helper()
	f, err := gguf.Open(fixture)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

// promptIDs returns the token ids of golden prompt n.
func promptIDs(t testing.TB, n int) []int {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testdata, "golden", fmt.Sprintf("tiny-f32-prompt%d.json", n)))
	require.NoError(t, err)
	var g struct {
		TokenIDs []int `json:"token_ids"`
	}
	require.NoError(t, json.Unmarshal(raw, &g))
	require.NotEmpty(t, g.TokenIDs)
	return g.TokenIDs
}

// lastLogits loads f with the decoder and returns the last-position logits
// of golden prompts 1..n.
func lastLogits(t testing.TB, f *gguf.File, n int) [][]float32 {
	t.Helper()
	m, err := decoder.Load(f)
	require.NoError(t, err)
	p := kernels.NewPool(1, nil)
	defer p.Close()
	var out [][]float32
	for prompt := 1; prompt <= n; prompt++ {
		ids := promptIDs(t, prompt)
		s, err := m.NewState(len(ids))
		require.NoError(t, err)
		for i, id := range ids {
			require.NoError(t, s.DecodeToken(context.Background(), p, id, i == len(ids)-1))
		}
		out = append(out, append([]float32(nil), s.Logits...))
	}
	return out
}

// convert runs Write into memory and parses the result.
func convert(t testing.TB, in *gguf.File, r Recipe) (*gguf.File, *Summary) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := Write(context.Background(), in, &buf, Options{Recipe: r})
	require.NoError(t, err)
	f, err := gguf.Parse("converted-"+r.Name, buf.Bytes())
	require.NoError(t, err)
	return f, sum
}

// drift is how far quantized logits are from the reference, averaged over
// prompts.
type drift struct {
	RMS   float64 // RMS of the logit differences
	KL    float64 // KL(softmax(ref) ‖ softmax(got)) in nats
	Top1  int     // prompts whose argmax is unchanged
	Count int     // prompts
}

// compareLogits measures got against ref, prompt by prompt.
func compareLogits(ref, got [][]float32) drift {
	d := drift{Count: len(ref)}
	for i := range ref {
		var sq float64
		for j := range ref[i] {
			e := float64(got[i][j]) - float64(ref[i][j])
			sq += e * e
		}
		d.RMS += math.Sqrt(sq/float64(len(ref[i]))) / float64(len(ref))
		d.KL += klDivergence(ref[i], got[i]) / float64(len(ref))
		if generate.Argmax(ref[i]) == generate.Argmax(got[i]) {
			d.Top1++
		}
	}
	return d
}

// klDivergence returns KL(softmax(p) ‖ softmax(q)) in nats, in float64.
func klDivergence(p, q []float32) float64 {
	lp, lq := logSoftmax(p), logSoftmax(q)
	var kl float64
	for i := range lp {
		kl += math.Exp(lp[i]) * (lp[i] - lq[i])
	}
	return kl
}

func logSoftmax(x []float32) []float64 {
	hi := math.Inf(-1)
	for _, v := range x {
		hi = math.Max(hi, float64(v))
	}
	var sum float64
	for _, v := range x {
		sum += math.Exp(float64(v) - hi)
	}
	lse := hi + math.Log(sum)
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v) - lse
	}
	return out
}
