package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/server"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/auth"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/cache"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/sched"
)

// StubModel is the model id a StubEngine serves.
const StubModel = "stub"

// StubEngine is a server.Engine without a model: it answers every task
// with a fixed text after Delay. Under it, a run measures the server's own
// path (HTTP, JSON, auth, image decoding, admission control, metrics).
type StubEngine struct {
	// Delay is the time each generation takes (0: none).
	Delay time.Duration
}

// stubText is what a StubEngine answers, one word per token.
const stubText = "a stub answer from the load test engine"

// Models lists the one stub model, with every task.
func (e *StubEngine) Models() []api.ModelInfo {
	return []api.ModelInfo{{ID: StubModel, Revision: "stub", OwnedBy: "loadtest",
		Tasks: []api.Task{api.TaskCaption, api.TaskOCR, api.TaskVQA, api.TaskChat}}}
}

// Ready is always true.
func (e *StubEngine) Ready() bool { return true }

// Generate waits Delay (or until ctx ends), then answers stubText.
func (e *StubEngine) Generate(ctx context.Context, _ api.GenerateRequest, onToken func(string) error) (api.GenerateResult, error) {
	start := time.Now()
	if e.Delay > 0 {
		t := time.NewTimer(e.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return api.GenerateResult{}, fmt.Errorf("stub engine: %w", ctx.Err())
		}
	}
	words := strings.SplitAfter(stubText, " ")
	if onToken != nil {
		for _, w := range words {
			if err := onToken(w); err != nil {
				return api.GenerateResult{}, fmt.Errorf("stub engine: %w", err)
			}
		}
	}
	return api.GenerateResult{Text: stubText, PromptTokens: 16, CompletionTokens: len(words), FinishReason: "stop",
		Timings: api.Timings{Decode: time.Since(start)}}, nil
}

// StubOptions configure StartStub.
type StubOptions struct {
	// Delay is the StubEngine's time per generation.
	Delay time.Duration
	// Sched sizes admission control (zero: server.DefaultSched()).
	Sched sched.Options
	// Tokens, when any, are required as bearer tokens.
	Tokens []string
	// Cache, when set, is the server's result cache.
	Cache *cache.Cache
	// Log receives the server's logs as text (nil: discarded, but still
	// formatted, so logging costs what it does in production).
	Log io.Writer
}

// Stub is an API server over a StubEngine on a loopback port.
type Stub struct {
	// URL is the API's base URL, http://127.0.0.1:PORT.
	URL  string
	http *http.Server
	done chan error
}

// StartStub serves a StubEngine on 127.0.0.1 at a free port until Close.
func StartStub(o StubOptions) (*Stub, error) {
	logOut := o.Log
	if logOut == nil {
		logOut = io.Discard
	}
	srv, err := server.New(slog.New(slog.NewTextHandler(logOut, nil)), server.Options{
		Engine: &StubEngine{Delay: o.Delay},
		Sched:  o.Sched,
		Auth:   auth.Options{Tokens: o.Tokens},
		Cache:  o.Cache,
	})
	if err != nil {
		return nil, fmt.Errorf("loadtest: stub server: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("loadtest: stub server: %w", err)
	}
	s := &Stub{URL: "http://" + ln.Addr().String(), done: make(chan error, 1),
		http: &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}}
	go func() { s.done <- s.http.Serve(ln) }()
	return s, nil
}

// Close stops the server, letting in-flight requests finish for up to
// five seconds.
func (s *Stub) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.http.Close())
	}
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	if err != nil {
		return fmt.Errorf("loadtest: stopping the stub server: %w", err)
	}
	return nil
}
