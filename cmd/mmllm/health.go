package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"time"

	"github.com/spf13/cobra"
)

// version is the release the binary was built from, set at link time:
// go build -ldflags "-X main.version=v1.2.3" (the Dockerfile does).
var version = "dev"

// healthOptions are the `mmllm health` flags.
type healthOptions struct {
	url     string
	timeout time.Duration
}

// newHealthCmd returns `mmllm health`: one GET of a health endpoint that
// exits non-zero unless it answers 2xx. The container image's HEALTHCHECK
// runs it, as the image has no shell and no curl.
func newHealthCmd() *cobra.Command {
	o := &healthOptions{}
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Probe a server's health endpoint; exit non-zero unless it answers 2xx",
		Long: "Send one GET to --url and exit 0 on a 2xx answer, non-zero on any other status, a\n" +
			"redirect, a connection error or a timeout (the container image's HEALTHCHECK).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			status, err := probe(cmd.Context(), o.url, o.timeout)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", o.url, status)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "url", "http://127.0.0.1:8080/health", "health endpoint (http or https)")
	f.DurationVar(&o.timeout, "timeout", 3*time.Second, "give up after this long")
	return cmd
}

// newVersionCmd returns `mmllm version`: the release, Go version and platform.
func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the release this binary was built from",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "mmllm %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		},
	}
}

// probe GETs rawURL once, following no redirect, and returns the status
// line of a 2xx answer or an error saying why the endpoint is unhealthy.
func probe(ctx context.Context, rawURL string, timeout time.Duration) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("health: --url %q is not an http(s) URL with a host", rawURL)
	}
	if timeout <= 0 {
		return "", fmt.Errorf("health: --timeout %v must be above zero", timeout)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("health: %w", err)
	}
	req.Header.Set("User-Agent", "mmllm-health/"+version)
	client := &http.Client{
		// A redirect is an answer of its own, not a healthy one.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return "", fmt.Errorf("health: %s: no answer within %v", u.Redacted(), timeout)
		}
		return "", fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	// Drain a little so the server sees a complete exchange; the body is not judged.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("health: %s answered %s", u.Redacted(), resp.Status)
	}
	return resp.Status, nil
}
