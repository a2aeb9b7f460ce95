package generate

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestArgmaxTiesToLowestID(t *testing.T) {
	require.Equal(t, 1, Argmax([]float32{0, 3, 3, 1}))
	require.Equal(t, 0, Argmax([]float32{5}))
}

func TestSamplerOptionsValidate(t *testing.T) {
	for _, o := range []SamplerOptions{{Temperature: -1}, {Temperature: float32(math.NaN())}, {TopK: -1}, {TopP: 1.5}} {
		_, err := NewSampler(o)
		require.Error(t, err, "%+v", o)
	}
}

func TestSamplingIsSeededAndRespectsTopK(t *testing.T) {
	logits := []float32{1, 2, 3, 4, 0.5}
	draw := func(seed uint64, k int) []int {
		s, err := NewSampler(SamplerOptions{Temperature: 1, TopK: k, Seed: seed})
		require.NoError(t, err)
		var ids []int
		for range 200 {
			ids = append(ids, s.Sample(logits))
		}
		return ids
	}
	require.Equal(t, draw(7, 0), draw(7, 0), "same seed, same draws")
	require.NotEqual(t, draw(7, 0), draw(8, 0))
	for _, id := range draw(3, 2) {
		require.Contains(t, []int{2, 3}, id, "top-2 keeps only the two largest logits")
	}
}

func TestTopPKeepsTheNucleus(t *testing.T) {
	// probabilities ≈ 0.64, 0.24, 0.09, 0.03: top-p 0.8 keeps the first two.
	logits := []float32{3, 2, 1, 0}
	s, err := NewSampler(SamplerOptions{Temperature: 1, TopP: 0.8, Seed: 1})
	require.NoError(t, err)
	seen := map[int]int{}
	for range 2000 {
		seen[s.Sample(logits)]++
	}
	require.Len(t, seen, 2)
	require.InDelta(t, 0.64/0.88, float64(seen[0])/2000, 0.04)
}

// script is a fake model whose logits make a fixed token sequence greedy.
type script struct {
	ids []int
	i   int
	n   int
}

func (s *script) logits() []float32 {
	l := make([]float32, s.n)
	l[s.ids[s.i]] = 1
	return l
}

func (s *script) Next(ctx context.Context, token int) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.i++
	return s.logits(), nil
}

type vocab []string

func (v vocab) Piece(id int) []byte { return []byte(v[id]) }
func (v vocab) IsEOG(id int) bool   { return id == 0 }

func run(t *testing.T, v vocab, ids []int, opt Options) (Result, []string, error) {
	m := &script{ids: ids, n: len(v)}
	var chunks []string
	res, err := Run(context.Background(), m, v, m.logits(), opt, func(s string) error {
		chunks = append(chunks, s)
		return nil
	})
	return res, chunks, err
}

func TestRunStopsAtEOGAndLength(t *testing.T) {
	v := vocab{"<eos>", "a", "b", "c"}
	res, chunks, err := run(t, v, []int{1, 2, 3, 0}, Options{MaxTokens: 10})
	require.NoError(t, err)
	require.Equal(t, "abc", res.Text)
	require.Equal(t, FinishStop, res.FinishReason)
	require.Equal(t, "abc", strings.Join(chunks, ""))

	res, _, err = run(t, v, []int{1, 2, 3, 0}, Options{MaxTokens: 2})
	require.NoError(t, err)
	require.Equal(t, "ab", res.Text)
	require.Equal(t, FinishLength, res.FinishReason)
	require.Equal(t, []int{1, 2}, res.Tokens)
}

func TestRunStopStringsAreNeverStreamed(t *testing.T) {
	v := vocab{"<eos>", "Hello", " wor", "ld", "<", "end>", "x"}
	res, chunks, err := run(t, v, []int{1, 4, 5, 6, 0}, Options{MaxTokens: 10, Stop: []string{"<end>"}})
	require.NoError(t, err)
	require.Equal(t, "Hello", res.Text)
	require.Equal(t, "Hello", strings.Join(chunks, ""))
	require.Equal(t, FinishStop, res.FinishReason)

	// A held-back prefix that turns out not to be a stop is released.
	res, chunks, err = run(t, v, []int{1, 4, 2, 3, 0}, Options{MaxTokens: 10, Stop: []string{"<end>"}})
	require.NoError(t, err)
	require.Equal(t, "Hello< world", res.Text)
	require.Equal(t, "Hello< world", strings.Join(chunks, ""))
}

func TestRunNeverSplitsUTF8(t *testing.T) {
	v := vocab{"<eos>", "caf", "\xc3", "\xa9", "!"}
	_, chunks, err := run(t, v, []int{1, 2, 3, 4, 0}, Options{MaxTokens: 10})
	require.NoError(t, err)
	for _, c := range chunks {
		require.True(t, strings.ToValidUTF8(c, "?") == c, "chunk %q", c)
	}
	require.Equal(t, "café!", strings.Join(chunks, ""))
}

func TestRunCancellationAndCallbackErrors(t *testing.T) {
	v := vocab{"<eos>", "a"}
	ctx, cancel := context.WithCancel(context.Background())
	m := &script{ids: []int{1, 1, 1, 1, 1, 1}, n: 2}
	calls := 0
	_, err := Run(ctx, m, v, m.logits(), Options{MaxTokens: 5}, func(string) error {
		calls++
		if calls == 2 {
			cancel()
		}
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 2, calls)

	boom := errors.New("client gone")
	m = &script{ids: []int{1, 1, 1}, n: 2}
	_, err = Run(context.Background(), m, v, m.logits(), Options{MaxTokens: 3}, func(string) error { return boom })
	require.ErrorIs(t, err, boom)

	_, err = Run(context.Background(), m, v, m.logits(), Options{MaxTokens: 0}, nil)
	require.Error(t, err)
	_, err = Run(context.Background(), m, v, m.logits(), Options{MaxTokens: 1, Stop: []string{""}}, nil)
	require.Error(t, err)
}
