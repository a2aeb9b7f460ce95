package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

const testModel = "mobile-mm-llm-int2"

// fakeEngine answers deterministically from its input and can be made to
// block until released or cancelled.
type fakeEngine struct {
	ready     atomic.Bool
	tasks     []api.Task
	calls     atomic.Int64
	cancelled atomic.Int64  // generations stopped by their context
	block     chan struct{} // when not nil, Generate waits for it to close
	delay     time.Duration // how long each Generate takes
	started   chan struct{} // receives a value per Generate call (while not full)
	fail      error         // returned by Generate when set
	failLate  bool          // fail only after streaming the text
}

func newFakeEngine() *fakeEngine {
	e := &fakeEngine{tasks: []api.Task{api.TaskCaption, api.TaskOCR, api.TaskVQA, api.TaskChat},
		started: make(chan struct{}, 64)}
	e.ready.Store(true)
	return e
}

func (e *fakeEngine) Models() []api.ModelInfo {
	return []api.ModelInfo{
		{ID: testModel, Revision: "r1", Tasks: e.tasks, Created: time.Unix(1700000000, 0)},
		{ID: "captioner", Revision: "r1", Tasks: []api.Task{api.TaskCaption}},
	}
}

func (e *fakeEngine) Ready() bool { return e.ready.Load() }

// expectedText is what the fake answers: the task, each image's size and
// the prompt (for chat, the text parts of the messages).
func expectedText(task api.Task, prompt string, sizes ...string) string {
	return fmt.Sprintf("%s [%s] %s", task, strings.Join(sizes, " "), prompt)
}

func (e *fakeEngine) Generate(ctx context.Context, req api.GenerateRequest, onToken func(string) error) (api.GenerateResult, error) {
	e.calls.Add(1)
	select {
	case e.started <- struct{}{}:
	default: // nobody is counting starts (a fuzz run): never block on it
	}
	var sizes []string
	for i, im := range req.Images {
		if im.Pixels == nil {
			return api.GenerateResult{}, fmt.Errorf("image %d reached the engine undecoded", i)
		}
		b := im.Pixels.Bounds()
		sizes = append(sizes, fmt.Sprintf("%dx%d", b.Dx(), b.Dy()))
	}
	prompt := req.Prompt
	for _, m := range req.Messages {
		for _, p := range m.Parts {
			if p.Kind == api.PartText {
				prompt += p.Text
			}
		}
	}
	if prompt == "panic" {
		panic("the fake engine was asked to panic")
	}
	if e.block != nil {
		select {
		case <-e.block:
		case <-ctx.Done():
			e.cancelled.Add(1)
			return api.GenerateResult{}, ctx.Err()
		}
	}
	if e.delay > 0 {
		t := time.NewTimer(e.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			e.cancelled.Add(1)
			return api.GenerateResult{}, ctx.Err()
		}
	}
	if e.fail != nil && !e.failLate {
		return api.GenerateResult{}, e.fail
	}
	text := expectedText(req.Task, prompt, sizes...)
	var pieces []string
	for _, p := range strings.SplitAfter(text, " ") {
		if p != "" {
			pieces = append(pieces, p)
		}
	}
	for _, p := range pieces {
		if onToken != nil {
			if err := onToken(p); err != nil {
				return api.GenerateResult{}, err
			}
		}
	}
	if e.fail != nil {
		return api.GenerateResult{}, e.fail
	}
	return api.GenerateResult{Text: text, PromptTokens: 10 + len(req.Images)*64, CompletionTokens: len(pieces),
		FinishReason: "stop", Timings: api.Timings{Prefill: time.Millisecond, Decode: 2 * time.Millisecond}}, nil
}

// waitStarted waits for n Generate calls to start.
func (e *fakeEngine) waitStarted(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-e.started:
		case <-time.After(5 * time.Second):
			t.Fatal("the engine was never called")
		}
	}
}

// testServer is a server over a fake engine with its own registry.
type testServer struct {
	*Server
	engine *fakeEngine
	reg    *prometheus.Registry
}

func newTestServer(t testing.TB, configure func(*Options)) *testServer {
	t.Helper()
	eng := newFakeEngine()
	reg := prometheus.NewRegistry()
	opts := Options{Engine: eng, Registerer: reg}
	if configure != nil {
		configure(&opts)
	}
	s, err := New(quietLogger(), opts)
	require.NoError(t, err)
	return &testServer{Server: s, engine: eng, reg: reg}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// serve sends one request to the API handler.
func (ts *testServer) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	ts.Handler().ServeHTTP(rec, req)
	return rec
}

func jsonRequest(t testing.TB, method, path string, body any, header ...string) *http.Request {
	t.Helper()
	var r io.Reader = http.NoBody
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		r = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

// pngBytes encodes a w x h test image.
func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 7, 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

func pngBase64(t testing.TB, w, h int) string {
	return base64.StdEncoding.EncodeToString(pngBytes(t, w, h))
}

// inferenceBody is a native request for task on a w x h image.
func inferenceBody(t testing.TB, task, question string, w, h int) map[string]any {
	return map[string]any{"model": testModel, "task": task, "image": pngBase64(t, w, h), "question": question}
}

// errorCode decodes an error body and checks its shape.
func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error *struct {
			Message string `json:"message"`
			Type    string `json:"type"`
			Code    string `json:"code"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
	require.NotNil(t, body.Error, rec.Body.String())
	require.NotEmpty(t, body.Error.Message)
	require.NotEmpty(t, body.Error.Type)
	return body.Error.Code
}

// scrape reads the metrics handler's text output back into families.
func (ts *testServer) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	rec := httptest.NewRecorder()
	ts.MetricsHandler().ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Header().Get("Content-Type"), "text/plain")
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(rec.Body)
	require.NoError(t, err)
	return fams
}

// metricValue returns the value of the counter or gauge in family name
// whose labels include want (0 when absent).
func metricValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	fam, ok := fams[name]
	if !ok {
		return 0
	}
	var sum float64
	for _, m := range fam.GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// eventually waits for cond, for the server-side effects of a client that
// went away.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 5*time.Second, 2*time.Millisecond, msg)
}

var errEngine = errors.New("fake engine: out of memory at layer 7")
