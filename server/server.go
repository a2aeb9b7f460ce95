// Package server is the inference API over the engine, built on gin:
//
//   - POST /v1/inference: the native endpoint (caption, ocr, vqa) of the
//     deployment guide;
//   - POST /v1/chat/completions and GET /v1/models: the OpenAI-compatible
//     layer (package openai), translated onto the same pipeline;
//   - GET /health (process alive) and GET /ready (model loaded and warmed,
//     not draining), without auth;
//   - Prometheus metrics, served by MetricsHandler on a listener of their
//     own (port 8000 in the deployment guide).
//
// Every inference request goes through the same pipeline: bearer-token
// auth and per-token rate limit (package auth), body limit, request and
// image validation (package api), the Redis result cache for greedy
// requests (package cache), and admission control in front of the engine
// (package sched).
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/auth"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/cache"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/flight"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/openai"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/sched"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Defaults for Options' zero values, and the cap on a computed Retry-After.
const (
	DefaultMaxBodyBytes = 16 << 20
	DefaultRetryAfter   = time.Second
	// MaxRetryAfter caps the Retry-After of a 503 for load, which the
	// queue's predicted wait sets.
	MaxRetryAfter = time.Minute
)

// DefaultSched returns the admission control used when Options.Sched is
// zero: one generation at a time (the engine uses every core for one), a
// short queue, and a maximum queue wait of half a second, so that an
// overloaded server refuses within a second (a request predicted to wait
// longer is refused at once, see sched.Scheduler.PredictWait).
func DefaultSched() sched.Options {
	return sched.Options{Slots: 1, QueueSize: 16, MaxQueueWait: 500 * time.Millisecond, Deadline: 30 * time.Second}
}

// Options configure a Server.
type Options struct {
	// Engine runs the model (required).
	Engine Engine
	// Registerer receives the metrics; nil creates a private registry (with
	// the Go and process collectors). Never the global registry unless the
	// caller passes it.
	Registerer prometheus.Registerer
	// Gatherer is what MetricsHandler serves; nil uses Registerer when it is
	// also a Gatherer (as a *prometheus.Registry is).
	Gatherer prometheus.Gatherer
	// Sched sizes admission control; the zero value means DefaultSched().
	Sched sched.Options
	// Limits bound each request (zero fields take api.DefaultLimits()).
	Limits api.Limits
	// MaxBodyBytes bounds a request body (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Auth configures bearer tokens and their rate limit; no tokens means
	// no auth (logged as a warning).
	Auth auth.Options
	// Cache is the Redis result cache; nil disables caching.
	Cache *cache.Cache
	// ImageDomains allow https image URLs in chat requests (see package
	// openai); none allows only data URIs.
	ImageDomains []string
	// FetchTimeout bounds one image download (default 10 s).
	FetchTimeout time.Duration
	// Backend says where the engine computes, for /ready and the
	// mobile_multimodal_backend_info metric (left out when Device is empty).
	Backend Backend
	// RetryAfter is the Retry-After sent with 503 not_ready (default 1 s).
	// A 503 for load (queue_full, queue_timeout) carries the predicted
	// queue wait instead, and a 429 the time the token's bucket needs to
	// refill.
	RetryAfter time.Duration
}

// Backend describes where the engine computes.
type Backend struct {
	// Device is "cpu" or "cuda".
	Device string
	// Kernels names the kernel set (the CPU's: generic, avx2, avx512, neon,
	// neondot; or the GPU's name).
	Kernels string
}

// Server is the HTTP API. Build it with New; serve Handler on the API
// port and MetricsHandler on the metrics port; call Drain on SIGTERM
// before shutting the listeners down.
type Server struct {
	log        *slog.Logger
	engine     Engine
	sched      *sched.Scheduler
	cache      *cache.Cache
	auth       *auth.Authenticator
	limits     api.Limits
	maxBody    int64
	retryAfter time.Duration
	backend    Backend
	metrics    *metrics
	gatherer   prometheus.Gatherer
	flights    flight.Group[cache.Key, api.Completion] // identical greedy requests in flight
	openai     *openai.Handler
	handler    http.Handler
	draining   atomic.Bool
	active     tracker
}

// New returns a server for opts, logging to logger (nil: slog.Default()).
func New(logger *slog.Logger, opts Options) (*Server, error) {
	if logger == nil {
		logger = slog.Default()
	}
	if opts.Engine == nil {
		return nil, errors.New("server: no engine")
	}
	if opts.MaxBodyBytes < 0 || opts.RetryAfter < 0 {
		return nil, fmt.Errorf("server: negative body limit %d or Retry-After %v", opts.MaxBodyBytes, opts.RetryAfter)
	}
	s := &Server{
		log:        logger,
		engine:     opts.Engine,
		cache:      opts.Cache,
		limits:     opts.Limits.WithDefaults(),
		maxBody:    cmpOr(opts.MaxBodyBytes, DefaultMaxBodyBytes),
		retryAfter: cmpOr(opts.RetryAfter, DefaultRetryAfter),
		backend:    opts.Backend,
	}
	schedOpts := opts.Sched
	if schedOpts == (sched.Options{}) {
		schedOpts = DefaultSched()
	}
	var err error
	if s.sched, err = sched.New(schedOpts); err != nil {
		return nil, fmt.Errorf("server: admission control: %w", err)
	}
	if s.auth, err = auth.New(opts.Auth); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if !s.auth.Enabled() {
		logger.Warn("no API tokens configured: inference endpoints are open to anyone who can reach them")
	}
	reg, gath, err := registries(opts.Registerer, opts.Gatherer)
	if err != nil {
		return nil, err
	}
	s.gatherer = gath
	s.metrics, err = newMetrics(reg, gauges{
		queued:   func() float64 { return float64(s.sched.Queued()) },
		running:  func() float64 { return float64(s.sched.Running()) },
		inFlight: func() float64 { return float64(s.active.count()) },
	}, opts.Backend)
	if err != nil {
		return nil, err
	}
	s.openai, err = openai.New(core{s}, openai.Options{Limits: s.limits, ImageDomains: opts.ImageDomains, FetchTimeout: opts.FetchTimeout})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.handler = s.routes()
	return s, nil
}

// registries resolves the metric registerer and gatherer.
func registries(reg prometheus.Registerer, gath prometheus.Gatherer) (prometheus.Registerer, prometheus.Gatherer, error) {
	if reg == nil {
		r := prometheus.NewRegistry()
		if err := r.Register(collectors.NewGoCollector()); err != nil {
			return nil, nil, fmt.Errorf("server: registering the Go collector: %w", err)
		}
		if err := r.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
			return nil, nil, fmt.Errorf("server: registering the process collector: %w", err)
		}
		reg = r
	}
	if gath == nil {
		g, ok := reg.(prometheus.Gatherer)
		if !ok {
			return nil, nil, errors.New("server: the metrics registerer is not a gatherer; set Options.Gatherer")
		}
		gath = g
	}
	return reg, gath, nil
}

func cmpOr[T int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// Handler returns the API's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// MetricsHandler returns the Prometheus text-format handler, to be served
// on its own listener (port 8000 in the deployment guide).
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{})
}

// Ready reports what /ready answers: the engine is loaded and warmed and
// the server is not draining.
func (s *Server) Ready() bool { return !s.draining.Load() && s.engine.Ready() }

// Drain makes /ready fail from now on (so load balancers stop sending
// work) and waits until no inference request is in flight or ctx ends.
// Requests that still arrive are served. Call it on SIGTERM, then shut the
// HTTP servers down.
func (s *Server) Drain(ctx context.Context) error {
	s.draining.Store(true)
	s.log.Info("draining", "in_flight", s.active.count())
	if err := s.active.wait(ctx); err != nil {
		return fmt.Errorf("server: drain gave up with %d requests in flight: %w", s.active.count(), err)
	}
	s.log.Info("drained")
	return nil
}

// tracker counts requests in flight and lets Drain wait for none.
type tracker struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0
}

func (t *tracker) add() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		t.idle = make(chan struct{})
	}
	t.n++
}

func (t *tracker) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	if t.n == 0 {
		close(t.idle)
	}
}

func (t *tracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// wait returns nil once nothing is in flight, or ctx's error.
func (t *tracker) wait(ctx context.Context) error {
	t.mu.Lock()
	if t.n == 0 {
		t.mu.Unlock()
		return nil
	}
	idle := t.idle
	t.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
