package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/auth"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/sched"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func TestInferenceOK(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, tc := range []struct{ task, question string }{
		{"caption", ""}, {"ocr", ""}, {"vqa", "what colour is it?"},
	} {
		t.Run(tc.task, func(t *testing.T) {
			rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", inferenceBody(t, tc.task, tc.question, 6, 4)))
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			var resp InferenceResponse
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
			require.Equal(t, expectedText(api.Task(tc.task), tc.question, "6x4"), resp.Text)
			require.Equal(t, testModel, resp.Model)
			require.Equal(t, tc.task, resp.Task)
			require.Equal(t, "stop", resp.FinishReason)
			require.False(t, resp.Cached)
			require.Equal(t, 74, resp.Usage.PromptTokens)
			require.Equal(t, len(strings.Fields(resp.Text)), resp.Usage.CompletionTokens)
			require.Equal(t, resp.Usage.PromptTokens+resp.Usage.CompletionTokens, resp.Usage.TotalTokens)
			require.InDelta(t, 2.0, resp.Timings.DecodeMS, 1e-9)
			require.InDelta(t, 1.0, resp.Timings.PrefillMS, 1e-9)
			require.GreaterOrEqual(t, resp.Timings.TotalMS, resp.Timings.QueueMS)
			require.Equal(t, rec.Header().Get("X-Request-ID"), resp.ID)
		})
	}
}

func TestInferenceDefaultsAndDataURI(t *testing.T) {
	ts := newTestServer(t, nil)
	body := map[string]any{"task": "caption", "image": "data:image/png;base64," + pngBase64(t, 3, 3)}
	rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", body))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var resp InferenceResponse
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	require.Equal(t, testModel, resp.Model, "no model means the engine's first")
}

func TestInferenceBadRequests(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.Limits.MaxImagePixels = 100 })
	ok := func() map[string]any { return inferenceBody(t, "caption", "", 5, 5) }
	with := func(k string, v any) map[string]any { b := ok(); b[k] = v; return b }
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"malformed JSON", `{"task": "caption", "image": `, 400, "invalid_json"},
		{"empty body", ``, 400, "invalid_json"},
		{"wrong field type", `{"task": 3}`, 400, "invalid_json"},
		{"bad base64", with("image", "@@not base64@@"), 400, "invalid_base64"},
		{"missing image", with("image", ""), 400, "missing_image"},
		{"unknown task", with("task", "translate"), 400, "invalid_task"},
		{"chat task", with("task", "chat"), 400, "invalid_task"},
		{"vqa without question", with("task", "vqa"), 400, "missing_question"},
		{"not an image", with("image", "aGVsbG8gd29ybGQ="), 400, "invalid_image"},
		{"over the pixel limit", with("image", pngBase64(t, 11, 10)), 400, "image_too_large"},
		{"bad temperature", with("temperature", 3), 400, "invalid_temperature"},
		{"unknown model", with("model", "gpt-9"), 404, "model_not_found"},
		{"task the model lacks", with("model", "captioner"), 200, ""},
		{"unsupported task", func() map[string]any { b := with("model", "captioner"); b["task"] = "ocr"; return b }(), 400, "unsupported_task"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", tc.body))
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			if tc.code != "" {
				require.Equal(t, tc.code, errorCode(t, rec))
			}
		})
	}
	require.EqualValues(t, 1, ts.engine.calls.Load(), "only the valid request reaches the engine")
}

// unreadable fails the test if the handler reads the body.
type unreadable struct{ t *testing.T }

func (u unreadable) Read([]byte) (int, error) {
	u.t.Error("the body was read although its declared length is over the limit")
	return 0, io.EOF
}

func TestBodyLimit(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.MaxBodyBytes = 4096 })

	req := httptest.NewRequest(http.MethodPost, "/v1/inference", unreadable{t})
	req.ContentLength = 1 << 30
	rec := ts.serve(req)
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	require.Equal(t, "body_too_large", errorCode(t, rec))

	// Without a declared length the limit stops the read.
	big := inferenceBody(t, "caption", strings.Repeat("x", 8000), 2, 2)
	raw, err := json.Marshal(big)
	require.NoError(t, err)
	req = httptest.NewRequest(http.MethodPost, "/v1/inference", io.MultiReader(strings.NewReader(string(raw))))
	req.ContentLength = -1
	rec = ts.serve(req)
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code, rec.Body.String())
	require.Equal(t, "body_too_large", errorCode(t, rec))

	rec = ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", inferenceBody(t, "caption", "", 2, 2)))
	require.Equal(t, http.StatusOK, rec.Code, "a body under the limit passes")
}

func TestAuth(t *testing.T) {
	const token = "s3cret-token-for-tests"
	ts := newTestServer(t, func(o *Options) { o.Auth = auth.Options{Tokens: []string{token}, Rate: 1, Burst: 1} })
	body := inferenceBody(t, "caption", "", 2, 2)

	for _, hdr := range []string{"", "Bearer wrong-token", "Basic " + token} {
		rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", body, "Authorization", hdr))
		require.Equal(t, http.StatusUnauthorized, rec.Code, hdr)
		require.Equal(t, "unauthorized", errorCode(t, rec))
	}
	rec := ts.serve(jsonRequest(t, http.MethodGet, "/v1/models", nil))
	require.Equal(t, http.StatusUnauthorized, rec.Code, "listing models needs a token too")

	for _, path := range []string{"/health", "/ready"} {
		rec := ts.serve(httptest.NewRequest(http.MethodGet, path, nil))
		require.Equal(t, http.StatusOK, rec.Code, path+" needs no token")
	}

	rec = ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", body, "Authorization", "Bearer "+token))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	rec = ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", body, "Authorization", "Bearer "+token))
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.Equal(t, "rate_limited", errorCode(t, rec))
	require.Equal(t, "1", rec.Header().Get("Retry-After"))
	require.EqualValues(t, 1, ts.engine.calls.Load())

	fams := ts.scrape(t)
	require.EqualValues(t, 4, metricValue(fams, "mobile_multimodal_rejections_total", map[string]string{"reason": "unauthorized"}))
	require.EqualValues(t, 3, metricValue(fams, "mobile_multimodal_requests_total", map[string]string{"status": "401", "model": "unknown"}))
	require.EqualValues(t, 1, metricValue(fams, "mobile_multimodal_rejections_total", map[string]string{"reason": "rate_limited"}))
	require.EqualValues(t, 1, metricValue(fams, "mobile_multimodal_requests_total", map[string]string{"status": "429", "model": "unknown"}))
}

// async sends a request to the handler in a goroutine.
func (ts *testServer) async(req *http.Request) <-chan *httptest.ResponseRecorder {
	out := make(chan *httptest.ResponseRecorder, 1)
	go func() { out <- ts.serve(req) }()
	return out
}

// captionRequest is a greedy caption request; distinct questions make
// distinct requests (identical ones in flight would be merged).
func captionRequest(t *testing.T, question string) *http.Request {
	return jsonRequest(t, http.MethodPost, "/v1/inference", inferenceBody(t, "caption", question, 2, 2))
}

func TestQueueFullAnswers503WithRetryAfter(t *testing.T) {
	ts := newTestServer(t, func(o *Options) {
		o.Sched = sched.Options{Slots: 1, QueueSize: 1, MaxQueueWait: 5 * time.Second, ServiceTime: 2 * time.Second}
	})
	ts.engine.block = make(chan struct{})
	running := ts.async(captionRequest(t, "running"))
	ts.engine.waitStarted(t, 1)
	queued := ts.async(captionRequest(t, "queued"))
	eventually(t, func() bool { return ts.sched.Queued() == 1 }, "the second request should queue")

	rec := ts.serve(captionRequest(t, "refused"))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Equal(t, "queue_full", errorCode(t, rec))
	require.Equal(t, "4", rec.Header().Get("Retry-After"), "one queued ahead and itself, 2 s each on one slot")

	fams := ts.scrape(t)
	require.EqualValues(t, 1, metricValue(fams, "mobile_multimodal_inference_queue_length", nil))
	require.EqualValues(t, 1, metricValue(fams, "inference_queue_length", nil))
	require.EqualValues(t, 2, metricValue(fams, "mobile_multimodal_in_flight_requests", nil))
	require.EqualValues(t, 1, metricValue(fams, "mobile_multimodal_engine_busy_slots", nil))
	require.EqualValues(t, 1, metricValue(fams, "mobile_multimodal_rejections_total", map[string]string{"reason": "queue_full"}))

	close(ts.engine.block)
	require.Equal(t, http.StatusOK, (<-running).Code)
	require.Equal(t, http.StatusOK, (<-queued).Code)
	require.EqualValues(t, 2, ts.engine.calls.Load())
}

// saturate starts one request per slot on a blocked engine and queues
// queued more, and returns a function that unblocks the engine and checks
// they all succeed.
func (ts *testServer) saturate(t *testing.T, queued int) (finish func()) {
	t.Helper()
	ts.engine.block = make(chan struct{})
	slots := ts.sched.Options().Slots
	var outs []<-chan *httptest.ResponseRecorder
	for i := range slots {
		outs = append(outs, ts.async(captionRequest(t, fmt.Sprintf("running %d", i))))
	}
	ts.engine.waitStarted(t, slots)
	for i := range queued {
		outs = append(outs, ts.async(captionRequest(t, fmt.Sprintf("queued %d", i))))
		eventually(t, func() bool { return ts.sched.Queued() == i+1 }, "the request should queue")
	}
	return func() {
		close(ts.engine.block)
		for _, out := range outs {
			require.Equal(t, http.StatusOK, (<-out).Code)
		}
	}
}

func TestRetryAfterFollowsTheQueue(t *testing.T) {
	for _, tc := range []struct {
		slots, queue int
		service      time.Duration
		want         string // ceil((queue + 1) × service / slots), capped at 60
	}{
		{1, 0, 1500 * time.Millisecond, "2"},
		{1, 1, 1500 * time.Millisecond, "3"},
		{1, 3, 1500 * time.Millisecond, "6"},
		{2, 3, 1500 * time.Millisecond, "3"},
		{1, 0, 200 * time.Millisecond, "1"},
		{1, 2, 10 * time.Minute, "60"},
	} {
		t.Run(fmt.Sprintf("%d slots, %d queued, %v", tc.slots, tc.queue, tc.service), func(t *testing.T) {
			ts := newTestServer(t, func(o *Options) {
				o.Sched = sched.Options{Slots: tc.slots, QueueSize: tc.queue, ServiceTime: tc.service}
			})
			finish := ts.saturate(t, tc.queue)
			rec := ts.serve(captionRequest(t, "refused"))
			require.Equal(t, http.StatusServiceUnavailable, rec.Code)
			require.Equal(t, "queue_full", errorCode(t, rec))
			require.Equal(t, tc.want, rec.Header().Get("Retry-After"))
			finish()
		})
	}
}

func TestQueueTimeoutAnswers503(t *testing.T) {
	ts := newTestServer(t, func(o *Options) {
		o.Sched = sched.Options{Slots: 1, QueueSize: 4, MaxQueueWait: 30 * time.Millisecond, ServiceTime: time.Millisecond}
	})
	ts.engine.block = make(chan struct{})
	running := ts.async(captionRequest(t, "running"))
	ts.engine.waitStarted(t, 1)
	rec := ts.serve(captionRequest(t, "timed out"))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Equal(t, "queue_timeout", errorCode(t, rec))
	require.Equal(t, "1", rec.Header().Get("Retry-After"))
	close(ts.engine.block)
	require.Equal(t, http.StatusOK, (<-running).Code)
}

func TestDeadlineAnswers504AndStopsTheEngine(t *testing.T) {
	ts := newTestServer(t, func(o *Options) {
		o.Sched = sched.Options{Slots: 1, Deadline: 30 * time.Millisecond}
	})
	ts.engine.block = make(chan struct{})
	defer close(ts.engine.block)
	rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", inferenceBody(t, "caption", "", 2, 2)))
	require.Equal(t, http.StatusGatewayTimeout, rec.Code)
	require.Equal(t, "deadline_exceeded", errorCode(t, rec))
	require.EqualValues(t, 1, ts.engine.cancelled.Load())
}

// liveServer serves ts over a real loopback connection, so a client can
// go away.
func liveServer(t *testing.T, ts *testServer) *httptest.Server {
	srv := httptest.NewServer(ts.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func postLive(ctx context.Context, t *testing.T, srv *httptest.Server, body map[string]any) <-chan error {
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/inference", strings.NewReader(string(raw)))
	require.NoError(t, err)
	out := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		out <- err
	}()
	return out
}

func TestClientDisconnectCancelsRunningWork(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.engine.block = make(chan struct{})
	defer close(ts.engine.block)
	srv := liveServer(t, ts)
	ctx, cancel := context.WithCancel(context.Background())
	done := postLive(ctx, t, srv, inferenceBody(t, "caption", "", 2, 2))
	ts.engine.waitStarted(t, 1)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	eventually(t, func() bool { return ts.engine.cancelled.Load() == 1 }, "the engine should see the cancellation")
	eventually(t, func() bool {
		return metricValue(ts.scrape(t), "mobile_multimodal_requests_total", map[string]string{"status": "499", "task": "caption"}) == 1
	}, "the request should be counted as 499")
}

func TestClientDisconnectRemovesQueuedWork(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.Sched = sched.Options{Slots: 1, QueueSize: 2, MaxQueueWait: 10 * time.Second} })
	ts.engine.block = make(chan struct{})
	srv := liveServer(t, ts)
	running := postLive(context.Background(), t, srv, inferenceBody(t, "caption", "", 2, 2))
	ts.engine.waitStarted(t, 1)

	ctx, cancel := context.WithCancel(context.Background())
	queued := postLive(ctx, t, srv, inferenceBody(t, "ocr", "", 2, 2))
	eventually(t, func() bool { return ts.sched.Queued() == 1 }, "the second request should queue")
	cancel()
	require.ErrorIs(t, <-queued, context.Canceled)
	eventually(t, func() bool { return ts.sched.Queued() == 0 }, "the cancelled request should leave the queue")

	close(ts.engine.block)
	require.NoError(t, <-running)
	require.EqualValues(t, 1, ts.engine.calls.Load(), "the cancelled request never reaches the engine")
}

func TestReadiness(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.engine.ready.Store(false)
	check := func(want int, status string) {
		t.Helper()
		rec := ts.serve(httptest.NewRequest(http.MethodGet, "/ready", nil))
		require.Equal(t, want, rec.Code)
		require.JSONEq(t, `{"status":"`+status+`"}`, rec.Body.String())
	}
	check(http.StatusServiceUnavailable, "loading")
	require.Equal(t, http.StatusOK, ts.serve(httptest.NewRequest(http.MethodGet, "/health", nil)).Code, "alive while loading")
	rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", inferenceBody(t, "caption", "", 2, 2)))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Equal(t, "not_ready", errorCode(t, rec))
	require.Equal(t, "1", rec.Header().Get("Retry-After"))
	require.False(t, ts.Ready())

	ts.engine.ready.Store(true)
	check(http.StatusOK, "ready")
	require.True(t, ts.Ready())
}

// TestBackendIsReported checks that /ready and the metrics say where the
// engine computes when the server is told, and leave it out otherwise.
func TestBackendIsReported(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.Backend = Backend{Device: "cuda", Kernels: "NVIDIA H100"} })
	rec := ts.serve(httptest.NewRequest(http.MethodGet, "/ready", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.JSONEq(t, `{"status":"ready","device":"cuda","kernels":"NVIDIA H100"}`, rec.Body.String())
	ts.engine.ready.Store(false)
	rec = ts.serve(httptest.NewRequest(http.MethodGet, "/ready", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.JSONEq(t, `{"status":"loading","device":"cuda","kernels":"NVIDIA H100"}`, rec.Body.String())
	fams := ts.scrape(t)
	require.Equal(t, 1.0, metricValue(fams, "mobile_multimodal_backend_info", map[string]string{"device": "cuda", "kernels": "NVIDIA H100"}))

	plain := newTestServer(t, nil)
	require.NotContains(t, plain.scrape(t), "mobile_multimodal_backend_info")
}

func TestDrainWaitsForInFlightWork(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.engine.block = make(chan struct{})
	running := ts.async(jsonRequest(t, http.MethodPost, "/v1/inference", inferenceBody(t, "caption", "", 2, 2)))
	ts.engine.waitStarted(t, 1)

	drained := make(chan error, 1)
	go func() { drained <- ts.Drain(context.Background()) }()
	eventually(t, func() bool { return !ts.Ready() }, "draining must fail readiness at once")
	rec := ts.serve(httptest.NewRequest(http.MethodGet, "/ready", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.JSONEq(t, `{"status":"draining"}`, rec.Body.String())
	select {
	case err := <-drained:
		t.Fatalf("Drain returned %v with a request in flight", err)
	case <-time.After(30 * time.Millisecond):
	}
	close(ts.engine.block)
	require.Equal(t, http.StatusOK, (<-running).Code)
	require.NoError(t, <-drained)
}

func TestDrainGivesUpAtItsDeadline(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.engine.block = make(chan struct{})
	running := ts.async(jsonRequest(t, http.MethodPost, "/v1/inference", inferenceBody(t, "caption", "", 2, 2)))
	ts.engine.waitStarted(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := ts.Drain(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "1 requests in flight")
	close(ts.engine.block)
	require.Equal(t, http.StatusOK, (<-running).Code)
	require.NoError(t, ts.Drain(context.Background()), "nothing left in flight")
}

func TestEngineFailuresAre500s(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", inferenceBody(t, "vqa", "panic", 2, 2)))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.Equal(t, "internal_error", errorCode(t, rec))

	ts.engine.fail = errEngine
	rec = ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", inferenceBody(t, "caption", "", 2, 2)))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.NotContains(t, rec.Body.String(), "layer 7", "internal errors are logged, not sent")

	ts.engine.fail = api.BadRequest("prompt_too_long", "the prompt does not fit")
	rec = ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", inferenceBody(t, "caption", "", 2, 2)))
	require.Equal(t, http.StatusBadRequest, rec.Code, "an engine's *api.Error keeps its status")
	require.Equal(t, "prompt_too_long", errorCode(t, rec))

	ts.engine.fail = nil
	rec = ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", inferenceBody(t, "caption", "", 2, 2)))
	require.Equal(t, http.StatusOK, rec.Code, "the server keeps serving after a panic; the slot was released")
	fams := ts.scrape(t)
	require.EqualValues(t, 2, metricValue(fams, "mobile_multimodal_errors_total", map[string]string{"status": "500"}))
}

func TestRequestID(t *testing.T) {
	ts := newTestServer(t, nil)
	req := httptest.NewRequest(http.MethodGet, "/health", nil)
	req.Header.Set("X-Request-ID", "abc-123.x_y")
	require.Equal(t, "abc-123.x_y", ts.serve(req).Header().Get("X-Request-ID"))

	req = httptest.NewRequest(http.MethodGet, "/health", nil)
	req.Header.Set("X-Request-ID", "bad id\nwith newline")
	id := ts.serve(req).Header().Get("X-Request-ID")
	require.Regexp(t, `^[0-9a-f]{32}$`, id)
	require.NotEqual(t, id, ts.serve(httptest.NewRequest(http.MethodGet, "/health", nil)).Header().Get("X-Request-ID"))
}

func TestUnknownRoutes(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.serve(httptest.NewRequest(http.MethodGet, "/v2/nothing", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Equal(t, "not_found", errorCode(t, rec))
	rec = ts.serve(httptest.NewRequest(http.MethodGet, "/v1/inference", nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
}

func TestNewValidates(t *testing.T) {
	log := quietLogger()
	_, err := New(log, Options{})
	require.Error(t, err)
	_, err = New(log, Options{Engine: newFakeEngine(), Sched: sched.Options{Slots: -1}})
	require.Error(t, err)
	_, err = New(log, Options{Engine: newFakeEngine(), Auth: auth.Options{Tokens: []string{"a b"}}})
	require.Error(t, err)
	_, err = New(log, Options{Engine: newFakeEngine(), ImageDomains: []string{"https://x.com/"}})
	require.Error(t, err)
	_, err = New(log, Options{Engine: newFakeEngine(), MaxBodyBytes: -1})
	require.Error(t, err)
	wrapped := prometheus.WrapRegistererWith(prometheus.Labels{"pod": "a"}, prometheus.NewRegistry())
	_, err = New(log, Options{Engine: newFakeEngine(), Registerer: wrapped})
	require.ErrorContains(t, err, "not a gatherer")

	// Two servers on one registry collide instead of silently sharing it.
	ts := newTestServer(t, nil)
	_, err = New(log, Options{Engine: newFakeEngine(), Registerer: ts.reg})
	require.Error(t, err)

	// Without a registry the server makes its own, with the Go collector.
	s, err := New(log, Options{Engine: newFakeEngine()})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	s.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Contains(t, rec.Body.String(), "go_goroutines")
}

func TestConcurrentRequests(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.Sched = sched.Options{Slots: 2, QueueSize: 64, MaxQueueWait: 5 * time.Second} })
	var wg sync.WaitGroup
	codes := make(chan int, 32)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			task := []string{"caption", "ocr", "vqa"}[i%3]
			codes <- ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", inferenceBody(t, task, "q", 3, 3))).Code
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		require.Equal(t, http.StatusOK, c)
	}
	require.Zero(t, ts.sched.Queued())
	require.NoError(t, ts.Drain(context.Background()))
}

func TestRateLimitRetryAfterIsTheRefillTime(t *testing.T) {
	const token = "s3cret-token-for-tests"
	ts := newTestServer(t, func(o *Options) { o.Auth = auth.Options{Tokens: []string{token}, Rate: 0.25, Burst: 1} })
	body := inferenceBody(t, "caption", "", 2, 2)
	rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", body, "Authorization", "Bearer "+token))
	require.Equal(t, http.StatusOK, rec.Code)
	rec = ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", body, "Authorization", "Bearer "+token))
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.Equal(t, "4", rec.Header().Get("Retry-After"), "one token every 4 s")
}
