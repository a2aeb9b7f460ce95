package workflows

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/stretchr/testify/require"
)

const smokeToken = "smoke-token-123"

// runSmoke runs scripts/smoke-test.sh with args and extra environment,
// and returns its exit code and combined output.
func runSmoke(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	script := filepath.Join(repoRoot(t), "scripts", "smoke-test.sh")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{script}, args...)...)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToLower(k) {
		case "http_proxy", "https_proxy", "all_proxy", "mmllm_api_token":
			continue // the test's servers are on loopback; the token is the test's
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	}
	t.Fatalf("smoke-test.sh: %v\n%s", err, out.String())
	return 0, ""
}

func TestSmokeScriptLints(t *testing.T) {
	script := filepath.Join(repoRoot(t), "scripts", "smoke-test.sh")
	out, err := exec.Command("bash", "-n", script).CombinedOutput()
	require.NoError(t, err, "bash -n: %s", out)
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		out, err := exec.Command(sc, script).CombinedOutput()
		require.NoError(t, err, "shellcheck: %s", out)
	} else {
		t.Log("shellcheck is not installed: only bash -n checked the script")
	}
}

// fakeServer answers like the inference server, with the given statuses,
// and checks the script's inference request as the real server would.
type fakeServer struct {
	health, ready, infer int
	readyAfter           int32 // /ready answers 503 this many times first
	inferBody            string
	readyCalls           atomic.Int32
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/health":
		w.WriteHeader(f.health)
	case "/ready":
		if f.readyCalls.Add(1) <= f.readyAfter {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(f.ready)
	case "/v1/inference":
		if msg := checkInferenceRequest(r); msg != "" {
			http.Error(w, msg, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.infer)
		_, _ = w.Write([]byte(f.inferBody))
	default:
		http.NotFound(w, r)
	}
}

// checkInferenceRequest returns what is wrong with the script's request.
func checkInferenceRequest(r *http.Request) string {
	if r.Method != http.MethodPost {
		return "not a POST"
	}
	if r.Header.Get("Authorization") != "Bearer "+smokeToken {
		return "wrong Authorization header: " + r.Header.Get("Authorization")
	}
	if r.Header.Get("Content-Type") != "application/json" {
		return "not JSON"
	}
	var req struct {
		Task      string `json:"task"`
		Image     string `json:"image"`
		MaxTokens int    `json:"max_tokens"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return "body: " + err.Error()
	}
	raw, err := base64.StdEncoding.DecodeString(req.Image)
	if err != nil {
		return "image is not base64"
	}
	if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
		return "image is not a PNG: " + err.Error()
	}
	if req.Task != "caption" || req.MaxTokens <= 0 {
		return "want task caption with a positive max_tokens"
	}
	return ""
}

func TestSmokeScriptAgainstFakeServer(t *testing.T) {
	quick := []string{"MMLLM_API_TOKEN=" + smokeToken, "SMOKE_ATTEMPTS=2", "SMOKE_WAIT=0", "SMOKE_TIMEOUT=5"}
	ok := `{"id":"r1","model":"tiny","task":"caption","text":"a small gradient"}`
	for _, tc := range []struct {
		name string
		srv  *fakeServer
		env  []string
		code int
		says string
	}{
		{"healthy", &fakeServer{health: 200, ready: 200, infer: 200, inferBody: ok}, nil, 0, "smoke: OK"},
		{"ready after a retry", &fakeServer{health: 200, ready: 200, readyAfter: 1, infer: 200, inferBody: ok}, nil, 0, "/ready: 503 (try 1 of 2)"},
		{"never ready", &fakeServer{health: 200, ready: 503, infer: 200, inferBody: ok}, nil, 1, "/ready answered 503, not 200"},
		{"unhealthy", &fakeServer{health: 500, ready: 200, infer: 200, inferBody: ok}, nil, 1, "/health answered 500, not 200"},
		{"inference fails", &fakeServer{health: 200, ready: 200, infer: 503, inferBody: `{"error":{"code":"queue_full"}}`}, nil, 1, "/v1/inference answered 503, not 200"},
		{"wrong token", &fakeServer{health: 200, ready: 200, infer: 200, inferBody: ok}, []string{"MMLLM_API_TOKEN=other"}, 1, "answered 400"},
		{"empty text", &fakeServer{health: 200, ready: 200, infer: 200, inferBody: `{"text":""}`}, nil, 1, `without a non-empty "text"`},
		{"blank text", &fakeServer{health: 200, ready: 200, infer: 200, inferBody: `{"text":" \n "}`}, nil, 1, `without a non-empty "text"`},
		{"no text", &fakeServer{health: 200, ready: 200, infer: 200, inferBody: `{"id":"r1"}`}, nil, 1, `without a non-empty "text"`},
		{"text not a string", &fakeServer{health: 200, ready: 200, infer: 200, inferBody: `{"text":7}`}, nil, 1, `without a non-empty "text"`},
		{"not JSON", &fakeServer{health: 200, ready: 200, infer: 200, inferBody: `<html>ok</html>`}, nil, 1, `without a non-empty "text"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.srv)
			defer srv.Close()
			code, out := runSmoke(t, append(quick, tc.env...), srv.URL+"/")
			require.Equal(t, tc.code, code, out)
			require.Contains(t, out, tc.says)
			require.NotContains(t, out, smokeToken, "the token is never printed")
		})
	}

	t.Run("nothing listening", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		code, out := runSmoke(t, quick, srv.URL)
		require.Equal(t, 1, code, out)
		require.Contains(t, out, "/health answered 000")
	})
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		says string
	}{
		{"no token", []string{"SMOKE_ATTEMPTS=1"}, []string{"http://127.0.0.1:9"}, "MMLLM_API_TOKEN is empty"},
		{"no URL", quick, nil, "usage:"},
		{"not http", quick, []string{"ftp://127.0.0.1/"}, "usage:"},
		{"bad attempts", append(quick, "SMOKE_ATTEMPTS=zero"), []string{"http://127.0.0.1:9"}, "SMOKE_ATTEMPTS must be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runSmoke(t, tc.env, tc.args...)
			require.Equal(t, 2, code, out)
			require.Contains(t, out, tc.says)
		})
	}
}

// freePort returns a loopback port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestSmokeScriptAgainstServe runs the script against the real server: the
// binary the Dockerfile builds, started with the image's default command
// (serve, the embedded model) on free loopback ports, with one API token.
func TestSmokeScriptAgainstServe(t *testing.T) {
	bin := dockerBinary(t)
	df := parseRepoDockerfile(t)
	cmdInstr, ok := Last[*instructions.CmdCommand](imageStage(t, df))
	require.True(t, ok)
	argv, err := df.ExecForm(cmdInstr)
	require.NoError(t, err)
	api, metrics := freePort(t), freePort(t)
	srv := exec.Command(bin, append(argv, "--addr", "127.0.0.1:"+strconv.Itoa(api),
		"--metrics-addr", "127.0.0.1:"+strconv.Itoa(metrics), "--threads", "1")...)
	srv.Env = append(os.Environ(), "MMLLM_API_TOKENS="+smokeToken, "TMPDIR="+t.TempDir())
	var log bytes.Buffer
	srv.Stdout, srv.Stderr = &log, &log
	require.NoError(t, srv.Start())
	defer func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- srv.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = srv.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("server log:\n%s", log.String())
		}
	}()

	base := "http://127.0.0.1:" + strconv.Itoa(api)
	env := []string{"MMLLM_API_TOKEN=" + smokeToken, "SMOKE_ATTEMPTS=60", "SMOKE_WAIT=1", "SMOKE_TIMEOUT=60"}
	code, out := runSmoke(t, env, base)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "smoke: POST /v1/inference (caption): 200")
	require.Contains(t, out, "smoke: OK "+base)

	code, out = runSmoke(t, []string{"MMLLM_API_TOKEN=not-a-token", "SMOKE_ATTEMPTS=1", "SMOKE_WAIT=0"}, base)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "/v1/inference answered 401", "the server enforces the token, and the script notices")
}
