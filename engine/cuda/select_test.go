package cuda

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOpen: with a GPU, Open describes it; without one (this repository's
// CI), its error says why in terms callers fall back on.
func TestOpen(t *testing.T) {
	d, err := Open()
	if err != nil {
		require.True(t, errors.Is(err, ErrNoDriver) || errors.Is(err, ErrNoDevice), "error %v wraps neither ErrNoDriver nor ErrNoDevice", err)
		t.Logf("no GPU here, as expected on CPU machines: %v", err)
		return
	}
	defer func() { require.NoError(t, d.Close()) }()
	require.NotEmpty(t, d.Name)
	require.GreaterOrEqual(t, d.Major, 3)
	require.NotZero(t, d.MemoryBytes)
	require.NotZero(t, d.MaxSharedPerBlock)
	t.Logf("opened %s", d)
}

func TestSelect(t *testing.T) {
	var logged []string
	logf := func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }

	d, err := Select("cpu", logf)
	require.NoError(t, err)
	require.Nil(t, d)
	require.Empty(t, logged, "choosing the CPU logs nothing")

	_, err = Select("tpu", logf)
	require.ErrorContains(t, err, `unknown device "tpu" (want cpu or cuda)`)

	t.Setenv(EnvDevice, "cpu")
	d, err = Select("", logf)
	require.NoError(t, err)
	require.Nil(t, d)

	t.Setenv(EnvDevice, "cuda")
	d, err = Select("", logf)
	require.NoError(t, err, "a missing GPU is a fallback, not an error")
	require.Len(t, logged, 1)
	if d == nil {
		require.Contains(t, logged[0], "cuda: falling back to the CPU kernels: ")
		return
	}
	defer func() { require.NoError(t, d.Close()) }()
	require.Contains(t, logged[0], "cuda: using "+d.Name)
	require.NotEmpty(t, d.KernelInfo())
}
