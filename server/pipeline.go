package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/cache"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/sched"
)

// core is the pipeline as the OpenAI layer sees it.
type core struct{ s *Server }

// Models lists the engine's models.
func (c core) Models() []api.ModelInfo { return c.s.engine.Models() }

// Model resolves a request's model name.
func (c core) Model(name string) (api.ModelInfo, error) { return c.s.model(name) }

// Fail answers gc with err.
func (c core) Fail(gc *gin.Context, err error) { c.s.fail(gc, err) }

// Generate runs req through the server's pipeline.
func (c core) Generate(gc *gin.Context, req api.GenerateRequest, onToken func(string) error) (api.Completion, error) {
	return c.s.generate(gc, req, onToken)
}

// model returns the model name asks for: the engine's first when name is
// empty.
func (s *Server) model(name string) (api.ModelInfo, error) {
	models := s.engine.Models()
	if len(models) == 0 {
		return api.ModelInfo{}, s.notReady()
	}
	if name == "" {
		return models[0], nil
	}
	for _, m := range models {
		if m.ID == name {
			return m, nil
		}
	}
	return api.ModelInfo{}, apiErr(http.StatusNotFound, "model_not_found", fmt.Sprintf("model %q is not served here (GET /v1/models lists them)", name))
}

func (s *Server) notReady() *api.Error {
	return &api.Error{Status: http.StatusServiceUnavailable, Code: "not_ready",
		Message: "the model is still loading", RetryAfter: s.retryAfter}
}

// generate runs one request through the pipeline: model and task checks,
// the cache (greedy requests only), admission control, image decoding and
// the engine. Errors come back as *api.Error values, already recorded on
// c for the logs and metrics.
func (s *Server) generate(c *gin.Context, req api.GenerateRequest, onToken func(string) error) (api.Completion, error) {
	comp, err := s.run(c, req, onToken)
	if err != nil {
		return comp, s.record(c, err)
	}
	return comp, nil
}

func (s *Server) run(c *gin.Context, req api.GenerateRequest, onToken func(string) error) (api.Completion, error) {
	start := time.Now()
	c.Set(keyTask, string(req.Task))
	model, err := s.model(req.Model)
	if err != nil {
		return api.Completion{}, err
	}
	req.Model = model.ID
	c.Set(keyModel, model.ID)
	if !model.Supports(req.Task) {
		return api.Completion{}, api.BadRequest("unsupported_task", fmt.Sprintf("model %q does not do %s", model.ID, req.Task))
	}
	if !s.engine.Ready() {
		return api.Completion{}, s.notReady()
	}
	labels := []string{model.ID, string(req.Task)}
	ctx := c.Request.Context()
	reqID := c.GetString(keyRequestID)

	// Greedy decoding gives the same answer every time: such requests may
	// be cached and, while one runs, its identical twins share its run.
	deterministic := cache.Cacheable(req)
	var key cache.Key
	if deterministic {
		key = cache.KeyFor(req, model.Revision)
	}
	if deterministic && s.cache != nil {
		if res, found := s.cacheGet(ctx, reqID, key, labels); found {
			return api.Completion{Model: model.ID, Result: res, Cached: true, Total: time.Since(start)}, nil
		}
	}
	work := func(ctx context.Context) (api.Completion, error) {
		return s.execute(ctx, reqID, req, onToken, labels, key, deterministic && s.cache != nil)
	}
	var comp api.Completion
	if deterministic && onToken == nil {
		// A streamed request needs its own token callbacks: never merged.
		var joined bool
		comp, joined, err = s.flights.Do(ctx, key, work)
		if joined {
			s.metrics.merged.WithLabelValues(labels...).Inc()
		}
	} else {
		comp, err = work(ctx)
	}
	if err != nil {
		return comp, s.classify(ctx, err)
	}
	comp.Model, comp.Total = model.ID, time.Since(start)
	return comp, nil
}

// cacheGet looks key up, counting the hit, miss or error.
func (s *Server) cacheGet(ctx context.Context, reqID string, key cache.Key, labels []string) (api.GenerateResult, bool) {
	res, found, err := s.cache.Get(ctx, key)
	switch {
	case err != nil:
		s.metrics.cacheErrors.WithLabelValues("get").Inc()
		s.metrics.cacheMisses.WithLabelValues(labels...).Inc()
		s.log.Debug("cache get failed", "request_id", reqID, "error", err)
	case found:
		s.metrics.cacheHits.WithLabelValues(labels...).Inc()
	default:
		s.metrics.cacheMisses.WithLabelValues(labels...).Inc()
	}
	return res, found
}

// execute runs req on the engine under admission control (image decoding
// included) and stores a cacheable result. It runs once per request, or
// once for a group of identical greedy requests merged in flight, with ctx
// then ending only when all of them have gone.
func (s *Server) execute(ctx context.Context, reqID string, req api.GenerateRequest, onToken func(string) error,
	labels []string, key cache.Key, store bool) (api.Completion, error) {
	var comp api.Completion
	waited, err := s.sched.Do(ctx, func(ctx context.Context) error {
		for i, im := range req.Images {
			if err := im.Decode(); err != nil {
				return api.Within(err, fmt.Sprintf("image %d", i))
			}
		}
		res, err := s.engine.Generate(ctx, req, onToken)
		comp.Result = res
		return err
	})
	comp.QueueWait = waited
	if err == nil || !errors.Is(err, sched.ErrQueueFull) {
		s.metrics.queueWait.WithLabelValues(labels...).Observe(waited.Seconds())
	}
	if err != nil {
		return comp, err
	}
	s.metrics.tokens.WithLabelValues(labels...).Add(float64(comp.Result.CompletionTokens))
	if store {
		// The answer is complete: store it even if the client has gone.
		if err := s.cache.Set(context.WithoutCancel(ctx), key, comp.Result); err != nil {
			s.metrics.cacheErrors.WithLabelValues("set").Inc()
			s.log.Debug("cache set failed", "request_id", reqID, "error", err)
		}
	}
	return comp, nil
}

// busyRetryAfter is the Retry-After of a request refused for load: when
// the scheduler predicts a newcomer would get a slot (queue length, slots
// and the measured service time), at most MaxRetryAfter. api.WriteError
// rounds it up to whole seconds, at least 1.
func (s *Server) busyRetryAfter() time.Duration {
	return min(s.sched.PredictWait(), MaxRetryAfter)
}

// classify maps an admission or engine error onto the answer it gets.
func (s *Server) classify(ctx context.Context, err error) error {
	var e *api.Error
	switch {
	case errors.Is(err, sched.ErrQueueFull):
		return &api.Error{Status: http.StatusServiceUnavailable, Code: "queue_full",
			Message: "the server is at capacity; retry later", RetryAfter: s.busyRetryAfter()}
	case errors.Is(err, sched.ErrQueueTimeout):
		return &api.Error{Status: http.StatusServiceUnavailable, Code: "queue_timeout",
			Message: "the request waited too long for the engine; retry later", RetryAfter: s.busyRetryAfter()}
	case errors.Is(err, sched.ErrDeadline):
		return apiErr(http.StatusGatewayTimeout, "deadline_exceeded", "the request ran past its deadline")
	case ctx.Err() != nil:
		return apiErr(api.StatusClientClosed, "client_closed_request", "the client went away")
	case errors.As(err, &e):
		return e
	}
	return fmt.Errorf("server: engine: %w", err)
}
