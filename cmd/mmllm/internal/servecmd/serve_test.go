package servecmd

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/cache"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/cache/cachetest"
	"github.com/stretchr/testify/require"
)

// serve starts Run on loopback ports and returns the API and metrics base
// URLs; cancelling ctx makes Run drain and return its error on done.
func serve(t *testing.T, ctx context.Context, o *Options) (apiURL, metricsURL string, done <-chan error) {
	t.Helper()
	ready := make(chan [2]net.Addr, 1)
	o.Addr, o.MetricsAddr, o.ready = "127.0.0.1:0", "127.0.0.1:0", ready
	if o.Slots == 0 {
		o.Slots, o.Queue, o.Threads, o.DrainTimeout = 1, 4, 1, 5*time.Second
		o.MaxQueueWait, o.Deadline = time.Second, 30*time.Second
	}
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, o, io.Discard) }()
	select {
	case addrs := <-ready:
		return "http://" + addrs[0].String(), "http://" + addrs[1].String(), errc
	case err := <-errc:
		t.Fatalf("serve stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	return "", "", nil
}

func waitReady(t *testing.T, apiURL string) {
	t.Helper()
	require.Eventually(t, func() bool {
		resp, err := http.Get(apiURL + "/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond)
}

func TestServeTextModelEndToEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	apiURL, metricsURL, done := serve(t, ctx, &Options{Model: "../../../../testdata/llamacpp/tiny-llama-gpt2vocab-f32.gguf", Name: "tiny"})
	waitReady(t, apiURL)

	body := `{"model":"tiny","messages":[{"role":"user","content":"Hello world"}],"max_tokens":5,"temperature":0}`
	resp, err := http.Post(apiURL+"/v1/chat/completions", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out struct {
		Choices []struct {
			Message      struct{ Content string }
			FinishReason string `json:"finish_reason"`
		}
		Usage struct {
			CompletionTokens int `json:"completion_tokens"`
		}
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.Len(t, out.Choices, 1)
	require.NotEmpty(t, out.Choices[0].Message.Content)
	require.Equal(t, "length", out.Choices[0].FinishReason)
	require.Equal(t, 5, out.Usage.CompletionTokens)

	// A text-only model refuses image tasks with a 400.
	resp2, err := http.Post(apiURL+"/v1/inference", "application/json",
		strings.NewReader(`{"model":"tiny","task":"caption","image":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="}`))
	require.NoError(t, err)
	resp2.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp2.StatusCode)

	m, err := http.Get(metricsURL + "/metrics")
	require.NoError(t, err)
	text, _ := io.ReadAll(m.Body)
	m.Body.Close()
	require.Contains(t, string(text), "mobile_multimodal_requests_total")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	err := Run(context.Background(), &Options{MMProj: "x.gguf"}, io.Discard)
	require.ErrorContains(t, err, "--mmproj needs --model")
	err = Run(context.Background(), &Options{Model: "no-such.gguf"}, io.Discard)
	require.ErrorContains(t, err, "no-such.gguf")
	err = Run(context.Background(), &Options{Device: "tpu"}, io.Discard)
	require.ErrorContains(t, err, `--device: cuda: unknown device "tpu" (want cpu or cuda)`)
}

// TestServeDeviceIsReported asks for the GPU with a model the GPU kernels
// cannot run (F32 weights; and this machine may have no GPU at all): the
// server falls back to the CPU, and /ready and the metrics say so.
func TestServeDeviceIsReported(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	apiURL, metricsURL, done := serve(t, ctx, &Options{Model: "../../../../testdata/llamacpp/tiny-llama-gpt2vocab-f32.gguf", Device: "cuda"})
	waitReady(t, apiURL)
	resp, err := http.Get(apiURL + "/ready")
	require.NoError(t, err)
	var ready struct{ Status, Device, Kernels string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&ready))
	resp.Body.Close()
	require.Equal(t, "ready", ready.Status)
	require.Equal(t, "cpu", ready.Device)
	require.NotEmpty(t, ready.Kernels)
	m, err := http.Get(metricsURL + "/metrics")
	require.NoError(t, err)
	text, _ := io.ReadAll(m.Body)
	m.Body.Close()
	require.Contains(t, string(text), `mobile_multimodal_backend_info{device="cpu",kernels="`+ready.Kernels+`"} 1`)
	cancel()
	require.NoError(t, <-done)
}

// TestServeEmbeddedModelCaption is `make run`'s path: no --model, the
// embedded tiny SmolVLM pair, a caption over HTTP.
func TestServeEmbeddedModelCaption(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	apiURL, _, done := serve(t, ctx, &Options{})
	waitReady(t, apiURL)

	png, err := os.ReadFile("../../../../testdata/llamacpp/vision/image-192x128.png")
	require.NoError(t, err)
	body, _ := json.Marshal(map[string]any{"task": "caption", "image": base64.StdEncoding.EncodeToString(png), "max_tokens": 4})
	resp, err := http.Post(apiURL+"/v1/inference", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out))
	require.Contains(t, out, "text")
	require.NotEmpty(t, out["text"])

	cancel()
	require.NoError(t, <-done)
}

// The Deployment made by components/workload configures the server through
// MMLLM_* variables; flags given on the command line win.
func TestFlagsFromEnv(t *testing.T) {
	cmd := New()
	t.Setenv("MMLLM_ADDR", ":9999")
	t.Setenv("MMLLM_DRAIN_TIMEOUT", "7s")
	t.Setenv("MMLLM_METRICS_ADDR", ":1234")
	t.Setenv("MMLLM_MODELS_DIR", "/models")
	require.NoError(t, cmd.ParseFlags([]string{"--metrics-addr", ":8001"}))
	require.NoError(t, flagsFromEnv(cmd))
	get := func(name string) string { return cmd.Flags().Lookup(name).Value.String() }
	require.Equal(t, ":9999", get("addr"))
	require.Equal(t, "7s", get("drain-timeout"))
	require.Equal(t, ":8001", get("metrics-addr"))
	require.Equal(t, "/models", get("models-dir"))

	t.Setenv("MMLLM_SLOTS", "many")
	require.ErrorContains(t, flagsFromEnv(New()), "MMLLM_SLOTS")
}

func TestModelsDir(t *testing.T) {
	err := Run(context.Background(), &Options{ModelsDir: t.TempDir()}, io.Discard)
	require.ErrorContains(t, err, "model.gguf")
}

// The managed Redis of the cloud stacks: the Deployment sets
// MMLLM_REDIS_ADDR, MMLLM_REDIS_PASSWORD_FILE, MMLLM_REDIS_TLS and (for
// Memorystore) MMLLM_REDIS_CA_FILE; the cache then works over TLS.
func TestRedisOverTLS(t *testing.T) {
	srv := cachetest.StartTLS(t, cachetest.Miniredis, "managed-auth-token")
	pwFile := filepath.Join(t.TempDir(), "password")
	require.NoError(t, os.WriteFile(pwFile, []byte(srv.Password+"\n"), 0o400))

	o := &Options{}
	cmd := newCommand(o)
	t.Setenv("MMLLM_REDIS_ADDR", srv.Addr)
	t.Setenv("MMLLM_REDIS_PASSWORD_FILE", pwFile)
	t.Setenv("MMLLM_REDIS_TLS", "true")
	t.Setenv("MMLLM_REDIS_CA_FILE", srv.CAFile)
	require.NoError(t, cmd.ParseFlags([]string{"--redis-timeout", "1s"}))
	require.NoError(t, flagsFromEnv(cmd))
	require.Equal(t, Options{RedisAddr: srv.Addr, RedisPasswordFile: pwFile, RedisTLS: true, RedisCAFile: srv.CAFile, RedisTimeout: time.Second},
		Options{RedisAddr: o.RedisAddr, RedisPasswordFile: o.RedisPasswordFile, RedisTLS: o.RedisTLS, RedisCAFile: o.RedisCAFile, RedisTimeout: o.RedisTimeout})

	c, closeCache, err := openCache(o)
	require.NoError(t, err)
	defer closeCache()
	key := cache.KeyFor(api.GenerateRequest{Model: "m", Prompt: "p"}, "r")
	require.NoError(t, c.Set(context.Background(), key, api.GenerateResult{Text: "over tls"}))
	got, found, err := c.Get(context.Background(), key)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, "over tls", got.Text)

	// Without --redis-tls the TLS-only server never answers.
	plain := *o
	plain.RedisTLS, plain.RedisCAFile = false, ""
	c, closePlain, err := openCache(&plain)
	require.NoError(t, err)
	defer closePlain()
	require.Error(t, c.Set(context.Background(), key, api.GenerateResult{Text: "x"}))
}

func TestRedisFlagsAreChecked(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.crt")
	require.NoError(t, os.WriteFile(notPEM, []byte("nope"), 0o600))
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"tls without an address", Options{RedisTLS: true}, "need --redis-addr"},
		{"ca file without tls", Options{RedisAddr: "127.0.0.1:6379", RedisCAFile: notPEM, RedisTimeout: time.Second}, "--redis-ca-file needs --redis-tls"},
		{"missing ca file", Options{RedisAddr: "127.0.0.1:6379", RedisTLS: true, RedisCAFile: filepath.Join(dir, "missing.crt"), RedisTimeout: time.Second}, "missing.crt"},
		{"ca file without certificates", Options{RedisAddr: "127.0.0.1:6379", RedisTLS: true, RedisCAFile: notPEM, RedisTimeout: time.Second}, "holds no PEM certificate"},
		{"missing password file", Options{RedisAddr: "127.0.0.1:6379", RedisPasswordFile: filepath.Join(dir, "pw"), RedisTimeout: time.Second}, "pw"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, closeCache, err := openCache(&tc.o)
			closeCache()
			require.ErrorContains(t, err, tc.want)
		})
	}
	c, closeCache, err := openCache(&Options{})
	require.NoError(t, err)
	closeCache()
	require.Nil(t, c, "no --redis-addr: no cache")
}
