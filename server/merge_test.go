package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
	"github.com/stretchr/testify/require"
)

// concurrently sends n copies of the request mk builds and returns their
// answers.
func (ts *testServer) concurrently(n int, mk func() *http.Request) []<-chan *httptest.ResponseRecorder {
	outs := make([]<-chan *httptest.ResponseRecorder, n)
	for i := range outs {
		outs[i] = ts.async(mk())
	}
	return outs
}

func TestIdenticalGreedyRequestsInFlightAreMerged(t *testing.T) {
	const n = 8
	for _, cached := range []bool{false, true} {
		t.Run(map[bool]string{false: "no cache", true: "cache"}[cached], func(t *testing.T) {
			var ts *testServer
			if cached {
				ts = newCachedServer(t, miniredis.RunT(t).Addr())
			} else {
				ts = newTestServer(t, nil)
			}
			ts.engine.block = make(chan struct{})
			body := inferenceBody(t, "vqa", "what is it?", 4, 3)
			outs := ts.concurrently(n, func() *http.Request { return jsonRequest(t, http.MethodPost, "/v1/inference", body) })
			ts.engine.waitStarted(t, 1)
			eventually(t, func() bool { return ts.flights.Waiting() == n }, "every request should wait for the one generation")
			require.Zero(t, ts.sched.Queued(), "the merged requests hold no place in the queue")
			close(ts.engine.block)

			want := expectedText(api.TaskVQA, "what is it?", "4x3")
			ids := map[string]bool{}
			for _, out := range outs {
				rec := <-out
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				var resp InferenceResponse
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
				require.Equal(t, want, resp.Text)
				require.Equal(t, "stop", resp.FinishReason)
				require.Equal(t, len(strings.Fields(want)), resp.Usage.CompletionTokens)
				require.False(t, resp.Cached)
				ids[resp.ID] = true
			}
			require.Len(t, ids, n, "each answer keeps its own request id")
			require.EqualValues(t, 1, ts.engine.calls.Load(), "one generation for all of them")

			fams := ts.scrape(t)
			labels := map[string]string{"model": testModel, "task": "vqa"}
			require.EqualValues(t, n-1, metricValue(fams, "mobile_multimodal_merged_requests_total", labels))
			require.EqualValues(t, n, metricValue(fams, "mobile_multimodal_requests_total", map[string]string{"status": "200"}))
			require.EqualValues(t, len(strings.Fields(want)), metricValue(fams, "mobile_multimodal_tokens_generated_total", labels),
				"tokens are counted once, as generated")
			require.EqualValues(t, 1, metricValue(fams, "mobile_multimodal_queue_wait_seconds", labels), "one admission")
			if cached {
				hits, misses, getErrs, setErrs := cacheCounts(t, ts)
				require.Zero(t, hits)
				require.EqualValues(t, n, misses)
				require.Zero(t, getErrs+setErrs)
				require.True(t, ts.infer(t, body).Cached, "the one generation was stored")
			}
			require.Zero(t, ts.flights.Waiting())
		})
	}
}

func TestRequestsThatCannotBeMergedRunEachTime(t *testing.T) {
	const n = 4
	for _, tc := range []struct {
		name string
		mk   func(t *testing.T) *http.Request
	}{
		{"sampling", func(t *testing.T) *http.Request {
			body := inferenceBody(t, "caption", "", 4, 4)
			body["temperature"] = 0.7
			body["seed"] = 1
			return jsonRequest(t, http.MethodPost, "/v1/inference", body)
		}},
		{"streaming", func(t *testing.T) *http.Request {
			return jsonRequest(t, http.MethodPost, "/v1/chat/completions", chatBody(t, true, nil))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, func(o *Options) { o.Sched = DefaultSched(); o.Sched.Slots = n })
			ts.engine.block = make(chan struct{})
			outs := ts.concurrently(n, func() *http.Request { return tc.mk(t) })
			ts.engine.waitStarted(t, n) // all n generations run at once
			close(ts.engine.block)
			for _, out := range outs {
				require.Equal(t, http.StatusOK, (<-out).Code)
			}
			require.EqualValues(t, n, ts.engine.calls.Load())
			require.Zero(t, metricValue(ts.scrape(t), "mobile_multimodal_merged_requests_total", nil))
		})
	}
}

func TestAMergedRequestLeavingDoesNotFailTheOthers(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.engine.block = make(chan struct{})
	srv := liveServer(t, ts)
	body := inferenceBody(t, "caption", "", 3, 3)

	// The first request starts the generation; its client then goes away.
	ctx, cancel := context.WithCancel(context.Background())
	first := postLive(ctx, t, srv, body)
	ts.engine.waitStarted(t, 1)
	second := ts.async(jsonRequest(t, http.MethodPost, "/v1/inference", body))
	eventually(t, func() bool { return ts.flights.Waiting() == 2 }, "the second request should join the first")
	cancel()
	require.ErrorIs(t, <-first, context.Canceled)
	eventually(t, func() bool { return ts.flights.Waiting() == 1 }, "the first request should leave")
	require.Zero(t, ts.engine.cancelled.Load(), "the generation goes on for the request still waiting")

	close(ts.engine.block)
	rec := <-second
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var resp InferenceResponse
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	require.Equal(t, expectedText(api.TaskCaption, "", "3x3"), resp.Text)
	require.EqualValues(t, 1, ts.engine.calls.Load())
	eventually(t, func() bool {
		return metricValue(ts.scrape(t), "mobile_multimodal_requests_total", map[string]string{"status": "499"}) == 1
	}, "the request that left is counted as 499")
}

func TestOverloadIsRefusedWithinASecond(t *testing.T) {
	// The default admission control over an engine slower than the load:
	// every request is answered, or refused with 503 and a Retry-After,
	// well within a second.
	const burst = 24
	for _, tc := range []struct {
		name  string
		delay time.Duration // per generation; 0: the engine never finishes
	}{
		{"engine stuck, service time unknown", 0},
		{"engine at 150 ms a request", 150 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, nil)
			require.Less(t, ts.sched.Options().MaxQueueWait, time.Second)
			if tc.delay > 0 {
				ts.engine.delay = tc.delay
				ts.infer(t, inferenceBody(t, "caption", "warm-up", 2, 2)) // measures the service time
			} else {
				ts.engine.block = make(chan struct{})
				defer close(ts.engine.block)
				go ts.serve(captionRequest(t, "stuck"))
				ts.engine.waitStarted(t, 1)
			}
			type answer struct {
				code       int
				retryAfter string
				took       time.Duration
			}
			answers := make(chan answer, burst)
			for i := range burst {
				go func() {
					start := time.Now()
					rec := ts.serve(captionRequest(t, "burst "+string(rune('a'+i))))
					answers <- answer{rec.Code, rec.Header().Get("Retry-After"), time.Since(start)}
				}()
			}
			refused := 0
			for range burst {
				a := <-answers
				switch a.code {
				case http.StatusOK:
					require.NotZero(t, tc.delay, "nothing completes on a stuck engine")
				case http.StatusServiceUnavailable:
					refused++
					require.Less(t, a.took, time.Second, "a refusal comes within a second")
					require.NotEmpty(t, a.retryAfter)
				default:
					t.Fatalf("status %d under overload", a.code)
				}
			}
			require.Greater(t, refused, burst/2, "the engine cannot take most of the burst")
		})
	}
}
