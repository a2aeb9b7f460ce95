package kernelscmd

import (
	"bytes"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/stretchr/testify/require"
)

func TestListsKernelsAndMarksForcedOne(t *testing.T) {
	t.Setenv(kernels.EnvKernels, "generic")
	var out bytes.Buffer
	require.NoError(t, run(&out))
	require.Regexp(t, `(?m)^generic\s+true\s+0\s+\*$`, out.String())
	require.Contains(t, out.String(), kernels.EnvKernels)
}

func TestUnknownForcedKernelIsAnError(t *testing.T) {
	t.Setenv(kernels.EnvKernels, "nonsense")
	require.ErrorContains(t, run(&bytes.Buffer{}), "unknown kernels")
}
