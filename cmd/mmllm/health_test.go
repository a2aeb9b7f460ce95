package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// runRoot runs the mmllm command line with args and returns its output.
func runRoot(args ...string) (string, error) {
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestHealth(t *testing.T) {
	var gotAgent string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAgent = r.UserAgent()
		switch r.URL.Path {
		case "/health":
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		case "/ready":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/moved":
			http.Redirect(w, r, "/health", http.StatusMovedPermanently)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	out, err := runRoot("health", "--url", srv.URL+"/health")
	require.NoError(t, err)
	require.Equal(t, srv.URL+"/health: 200 OK\n", out)
	require.Equal(t, "mmllm-health/"+version, gotAgent)

	for _, tc := range []struct{ path, says string }{
		{"/ready", "answered 503 Service Unavailable"},
		{"/moved", "answered 301 Moved Permanently"}, // a redirect is not followed
		{"/nope", "answered 404 Not Found"},
	} {
		_, err := runRoot("health", "--url", srv.URL+tc.path)
		require.ErrorContains(t, err, tc.says, tc.path)
	}
}

func TestHealthFailures(t *testing.T) {
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(hang)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	start := time.Now()
	_, err := probe(context.Background(), slow.URL+"/health", 200*time.Millisecond)
	require.ErrorContains(t, err, "no answer within 200ms")
	require.Less(t, time.Since(start), 3*time.Second)

	_, err = probe(context.Background(), closed.URL+"/health", time.Second)
	require.ErrorContains(t, err, "health:")

	for _, bad := range []string{"127.0.0.1:8080/health", "ftp://127.0.0.1/health", "http:///health", "://"} {
		_, err := runRoot("health", "--url", bad)
		require.ErrorContains(t, err, "is not an http(s) URL with a host", bad)
	}
	_, err = runRoot("health", "--timeout", "0s")
	require.ErrorContains(t, err, "--timeout 0s must be above zero")
	_, err = runRoot("health", "extra")
	require.Error(t, err, "no positional arguments")
}

func TestVersion(t *testing.T) {
	out, err := runRoot("version")
	require.NoError(t, err)
	require.Equal(t, "mmllm "+version+" ("+runtime.Version()+", "+runtime.GOOS+"/"+runtime.GOARCH+")\n", out)
}
