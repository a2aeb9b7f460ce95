package gguf

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParse feeds arbitrary bytes to the parser. It must never panic; an
// error must name the file; a file that parses must give every tensor's
// bytes and survive a copy through Writer with the same metadata encoding,
// tensor infos and data. The seeds are the fixtures' headers (up to their
// data sections), the whole mmproj fixture and a file with every value type.
// The large seeds make minimizing slow: fuzz with e.g.
// go test ./engine/gguf -run '^$' -fuzz FuzzParse -fuzzminimizetime 2s.
func FuzzParse(f *testing.F) {
	for _, rel := range allFixtures {
		data, err := os.ReadFile(fixture(rel))
		require.NoError(f, err)
		g, err := Parse(rel, data)
		require.NoError(f, err)
		f.Add(data[:min(len(data), int(g.DataOffset()))])
	}
	mmproj, err := os.ReadFile(fixture("vision/tiny-smolvlm-mmproj-f32.gguf"))
	require.NoError(f, err)
	f.Add(mmproj)
	file, _ := buildTestFile(f, 0)
	f.Add(file)

	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse("fuzz.gguf", data)
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "gguf: fuzz.gguf: "), err.Error())
			return
		}
		for _, ti := range g.Tensors() {
			b, err := g.TensorData(ti.Name)
			require.NoError(t, err)
			require.EqualValues(t, ti.Size, len(b))
		}
		var buf bytes.Buffer
		_, err = copyFile(t, g).WriteTo(&buf)
		require.NoError(t, err)
		h, err := Parse("copy.gguf", buf.Bytes())
		require.NoError(t, err)
		requireSameContent(t, g, h)
	})
}

// requireSameContent checks that two files hold the same alignment,
// metadata (compared encoded, as NaN floats are not equal to themselves),
// tensor names, types, dims and bytes.
func requireSameContent(t testing.TB, g, h *File) {
	t.Helper()
	require.Equal(t, g.Alignment(), h.Alignment())
	gm, hm := g.Metadata(), h.Metadata()
	require.Len(t, hm, len(gm))
	for i := range gm {
		require.Equal(t, appendKV(nil, gm[i]), appendKV(nil, hm[i]))
	}
	gt, ht := g.Tensors(), h.Tensors()
	require.Len(t, ht, len(gt))
	for i := range gt {
		require.Equal(t, gt[i].Name, ht[i].Name)
		require.Equal(t, gt[i].Type, ht[i].Type)
		require.Equal(t, gt[i].Dims, ht[i].Dims)
		a, err := g.TensorData(gt[i].Name)
		require.NoError(t, err)
		b, err := h.TensorData(ht[i].Name)
		require.NoError(t, err)
		require.True(t, bytes.Equal(a, b), gt[i].Name)
	}
}
