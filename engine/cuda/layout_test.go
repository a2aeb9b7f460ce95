package cuda

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quant"
	"github.com/stretchr/testify/require"
)

// unpack reads vector t back from a buffer in the layout.
func (l q8Layout) unpack(src []byte, t int) *quant.Q8 {
	q := &quant.Q8{N: l.n, Qs: make([]int8, l.n), D: make([]float32, l.groups), S: make([]float32, l.groups)}
	for i := range q.Qs {
		q.Qs[i] = int8(src[l.qs+t*l.n+i])
	}
	for g := range q.D {
		q.D[g] = math.Float32frombits(binary.LittleEndian.Uint32(src[l.d+4*(t*l.groups+g):]))
		q.S[g] = math.Float32frombits(binary.LittleEndian.Uint32(src[l.s+4*(t*l.groups+g):]))
	}
	return q
}

func TestQ8LayoutPacksEveryVector(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, c := range []struct{ n, vectors, used int }{{32, 1, 1}, {576, 1, 1}, {576, 13, 13}, {1536, 8, 5}, {96, 3, 2}} {
		l, err := newQ8Layout(c.n, c.vectors)
		require.NoError(t, err)
		// The kernels load each vector's group codes as two 16-byte words,
		// and the sections must not overlap.
		for v := range c.vectors {
			require.Zero(t, (l.qs+v*l.n)%32, "codes of vector %d", v)
		}
		require.Zero(t, l.d%256)
		require.Zero(t, l.s%256)
		require.GreaterOrEqual(t, l.d, l.qs+c.vectors*c.n)
		require.GreaterOrEqual(t, l.s, l.d+4*c.vectors*c.n/32)
		require.Equal(t, l.s+4*c.vectors*c.n/32, l.size)

		xs := make([]*quant.Q8, c.used)
		for i := range xs {
			xs[i] = randomQ8(t, rng, c.n, float32(i+1))
		}
		buf := make([]byte, l.size)
		require.NoError(t, l.pack(xs, buf))
		for i, x := range xs {
			require.Equal(t, x, l.unpack(buf, i), "vector %d of %d×%d", i, c.vectors, c.n)
		}
	}
}

func TestQ8LayoutErrors(t *testing.T) {
	for _, c := range []struct{ n, vectors int }{{0, 1}, {33, 1}, {64, 0}, {-32, 2}} {
		_, err := newQ8Layout(c.n, c.vectors)
		require.Error(t, err, "%d×%d", c.n, c.vectors)
	}
	l, err := newQ8Layout(64, 2)
	require.NoError(t, err)
	x := randomQ8(t, rand.New(rand.NewPCG(1, 1)), 64, 1)
	short := randomQ8(t, rand.New(rand.NewPCG(1, 1)), 32, 1)
	require.ErrorContains(t, l.pack([]*quant.Q8{x, x, x}, make([]byte, l.size)), "3 Q8 vectors for a buffer of 2")
	require.ErrorContains(t, l.pack(nil, make([]byte, l.size)), "0 Q8 vectors")
	require.ErrorContains(t, l.pack([]*quant.Q8{x, short}, make([]byte, l.size)), "vector 1 is not 64 activations")
	require.ErrorContains(t, l.pack([]*quant.Q8{x, nil}, make([]byte, l.size)), "vector 1")
	require.ErrorContains(t, l.pack([]*quant.Q8{x}, make([]byte, l.size-1)), "staging")
}
