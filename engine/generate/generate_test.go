package generate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
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

// referenceSample is the plain algorithm the Sampler must agree with: sort
// every token, cut top-k, cut the top-p prefix, draw with u.
func referenceSample(logits []float32, opt SamplerOptions, u float64) int {
	m := logits[Argmax(logits)]
	c := make([]candidate, len(logits))
	for i, v := range logits {
		c[i] = candidate{i, math.Exp(float64(v-m) / float64(opt.Temperature))}
	}
	sortCandidates(c)
	if opt.TopK > 0 && opt.TopK < len(c) {
		c = c[:opt.TopK]
	}
	sum := 0.0
	for _, v := range c {
		sum += v.p
	}
	if p := float64(opt.TopP); p > 0 && p < 1 {
		acc := 0.0
		for i := range c {
			acc += c[i].p / sum
			if acc >= p {
				c = c[:i+1]
				break
			}
		}
		sum = 0
		for _, v := range c {
			sum += v.p
		}
	}
	r := u * sum
	for _, v := range c {
		if r < v.p {
			return v.id
		}
		r -= v.p
	}
	return c[len(c)-1].id
}

func TestSamplerMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	logits := make([]float32, 3000)
	for i := range logits {
		logits[i] = float32(rng.NormFloat64() * 3)
	}
	logits[17] = logits[18] // a tie
	for _, opt := range []SamplerOptions{
		{Temperature: 0.7, TopK: 40, Seed: 1}, {Temperature: 1, TopP: 0.9, Seed: 2},
		{Temperature: 1.3, TopK: 100, TopP: 0.5, Seed: 3}, {Temperature: 0.5, TopP: 0.3, Seed: 4},
	} {
		s, err := NewSampler(opt)
		require.NoError(t, err)
		shadow := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15))
		for range 300 {
			require.Equal(t, referenceSample(logits, opt, shadow.Float64()), s.Sample(logits), "%+v", opt)
		}
	}
}

// BenchmarkSample measures one draw over a SmolVLM-sized vocabulary.
func BenchmarkSample(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	logits := make([]float32, 49152)
	for i := range logits {
		logits[i] = float32(rng.NormFloat64() * 3)
	}
	for _, opt := range []SamplerOptions{{Temperature: 0.8}, {Temperature: 0.8, TopK: 40}, {Temperature: 0.8, TopP: 0.9}, {Temperature: 0.8, TopK: 40, TopP: 0.9}} {
		b.Run(fmt.Sprintf("k%d_p%.1f", opt.TopK, opt.TopP), func(b *testing.B) {
			s, _ := NewSampler(opt)
			for b.Loop() {
				s.Sample(logits)
			}
		})
	}
}
