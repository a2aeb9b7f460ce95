package models

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDefaultParses(t *testing.T) {
	text, mmproj, err := Default()
	require.NoError(t, err)
	arch, err := text.String("general.architecture")
	require.NoError(t, err)
	require.Equal(t, "llama", arch)
	proj, err := mmproj.String("clip.projector_type")
	require.NoError(t, err)
	require.Equal(t, "idefics3", proj)
}

// The embedded files are the documented fixtures, byte for byte.
func TestEmbeddedFilesAreTheFixtures(t *testing.T) {
	for name, got := range map[string][]byte{"tiny-smolvlm-text-f32.gguf": text, "tiny-smolvlm-mmproj-f32.gguf": mmproj} {
		want, err := os.ReadFile("../testdata/llamacpp/vision/" + name)
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), name)
	}
}
