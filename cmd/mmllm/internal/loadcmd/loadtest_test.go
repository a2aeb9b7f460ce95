package loadcmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/loadtest"
	"github.com/stretchr/testify/require"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// execute runs the command with args and returns its output and error.
func execute(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := New()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestStubRunMeetsAnErrorFreeSLA(t *testing.T) {
	t.Setenv(EnvToken, "tok-from-env") // the stub then requires it
	out, err := execute(t, "--stub", "--stub-delay", "2ms", "--rate", "100", "--duration", "200ms",
		"--targets", "caption,cached,sampled,chat", "--max-error-rate", "0", "--max-p95", "0")
	require.NoError(t, err, out)
	require.Contains(t, out, "offered     100 req/s for 200ms: 20 requests\n")
	require.Contains(t, out, "status      200: 20\n")
	require.Contains(t, out, "SLA   ok    sent 20 of 20 planned requests\n")
	require.Contains(t, out, "SLA   ok    error rate 0.000% <= 0.000% (0 errors)\n")
	require.NotContains(t, out, "p95 (all)", "--max-p95 0 leaves latency unchecked")
}

func TestTokenFromFlagOrEnvironment(t *testing.T) {
	// The stub requires one token; others are refused.
	stub, err := loadtest.StartStub(loadtest.StubOptions{Tokens: []string{"right"}})
	require.NoError(t, err)
	defer func() { require.NoError(t, stub.Close()) }()
	for _, tc := range []struct {
		name, env string
		flag      []string
		ok        bool
	}{
		{"env", "right", nil, true},
		{"flag", "", []string{"--token", "right"}, true},
		{"wrong flag wins over env", "right", []string{"--token", "wrong"}, false},
		{"none", "", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvToken, tc.env)
			out, err := execute(t, append([]string{"--url", stub.URL, "--rate", "100", "--duration", "100ms"}, tc.flag...)...)
			if tc.ok {
				require.NoError(t, err, out)
				require.Contains(t, out, "status      200: 10\n")
				return
			}
			require.ErrorIs(t, err, loadtest.ErrSLA)
			require.Contains(t, out, "status      401: 10\n")
			require.Contains(t, out, "failed      10 × 401 unauthorized\n")
			require.Contains(t, out, "SLA   MISS  error rate 100.000% <= 0.100% (10 errors)\n")
		})
	}
}

func TestOverloadShedsWith503(t *testing.T) {
	args := []string{"--stub", "--stub-delay", "50ms", "--stub-slots", "1", "--stub-queue", "1",
		"--rate", "200", "--duration", "50ms", "--max-p95", "0", "--max-error-rate", "0"}
	out, err := execute(t, args...)
	require.ErrorIs(t, err, loadtest.ErrSLA, out)
	require.Contains(t, out, "503 queue_full")

	out, err = execute(t, append(args, "--shed-ok", "--max-shed-latency", "1m")...)
	require.NoError(t, err, out)
	require.Contains(t, out, "SLA   ok    slowest 503")
}

func TestFlagErrors(t *testing.T) {
	_, err := execute(t, "--url", "http://198.51.100.7:8080", "--duration", "1s")
	require.ErrorContains(t, err, "not a loopback address")
	_, err = execute(t, "--targets", "caption,ocr", "--stub")
	require.ErrorContains(t, err, `unknown target "ocr"`)
	_, err = execute(t, "--image", filepath.Join(t.TempDir(), "missing.png"), "--stub")
	require.ErrorContains(t, err, "missing.png")
	bad := filepath.Join(t.TempDir(), "bad.png")
	require.NoError(t, os.WriteFile(bad, []byte("plain text"), 0o600))
	_, err = execute(t, "--image", bad, "--stub", "--duration", "10ms")
	require.ErrorContains(t, err, "want a PNG or JPEG")
	_, err = execute(t, "--rate", "0", "--stub")
	require.ErrorContains(t, err, "rate 0")
}
