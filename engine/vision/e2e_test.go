package vision

import (
	"context"
	"math"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/decoder"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/generate"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/stretchr/testify/require"
)

// TestEndToEndGolden runs the whole golden case: PNG -> tiles -> encoder ->
// layout -> text model, and compares the last-position logits with
// llama.cpp's, then the greedy continuation up to the first step whose
// margin is below twice the tolerance.
func TestEndToEndGolden(t *testing.T) {
	const tol = 1e-4
	g, prompt := readVisionGolden(t)
	e := loadGoldenEncoder(t)
	m, err := decoder.Load(openGGUF(t, "tiny-smolvlm-text-f32.gguf"))
	require.NoError(t, err)
	tmpl, _ := goldenTemplate(t)
	p := kernels.NewPool(1, nil)
	defer p.Close()
	ctx := context.Background()

	batch := goldenBatch(t, e)
	emb, err := e.Encode(ctx, p, batch)
	require.NoError(t, err)
	l, err := tmpl.Layout(prompt, []Grid{batch.Grid}, e.TokensPerImage(), true, true)
	require.NoError(t, err)
	require.Equal(t, g.SequenceIDs, l.Sequence())

	s, err := m.NewState(128)
	require.NoError(t, err)
	require.NoError(t, l.Decode(ctx, p, s, [][][]float32{emb}))
	require.Equal(t, 55, s.Pos)
	want := readGolden(t, "last_logits.f32")
	require.Len(t, s.Logits, len(want))
	var worst float64
	for i := range want {
		worst = math.Max(worst, math.Abs(float64(want[i]-s.Logits[i])))
	}
	t.Logf("max |logit - llama.cpp| = %.2e", worst)
	require.Less(t, worst, tol)

	for step, id := range g.GreedyIDs {
		if g.Margins[step] < 2*tol {
			t.Logf("stopping the greedy comparison at step %d (margin %.4f)", step, g.Margins[step])
			break
		}
		require.Equal(t, id, generate.Argmax(s.Logits), "greedy step %d", step)
		require.NoError(t, s.DecodeToken(ctx, p, id, true))
	}
}
