package server

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/cache"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/internal/redistest"
	"github.com/stretchr/testify/require"
)

func newCachedServer(t *testing.T, addr string) *testServer {
	t.Helper()
	rdb, err := cache.NewClient(addr, "", 200*time.Millisecond)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rdb.Close() })
	c, err := cache.New(rdb, cache.Options{Timeout: 100 * time.Millisecond})
	require.NoError(t, err)
	return newTestServer(t, func(o *Options) { o.Cache = c })
}

func (ts *testServer) infer(t *testing.T, body map[string]any) InferenceResponse {
	t.Helper()
	rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", body))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var resp InferenceResponse
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &resp))
	return resp
}

func cacheCounts(t *testing.T, ts *testServer) (hits, misses, getErrs, setErrs float64) {
	fams := ts.scrape(t)
	return metricValue(fams, "mobile_multimodal_cache_hits_total", nil),
		metricValue(fams, "mobile_multimodal_cache_misses_total", nil),
		metricValue(fams, "mobile_multimodal_cache_errors_total", map[string]string{"op": "get"}),
		metricValue(fams, "mobile_multimodal_cache_errors_total", map[string]string{"op": "set"})
}

func TestCacheHitOnIdenticalGreedyRequest(t *testing.T) {
	ts := newCachedServer(t, miniredis.RunT(t).Addr())
	body := inferenceBody(t, "vqa", "what is it?", 4, 4)
	first := ts.infer(t, body)
	second := ts.infer(t, body)
	require.False(t, first.Cached)
	require.True(t, second.Cached)
	require.Equal(t, first.Text, second.Text)
	require.Equal(t, first.Usage, second.Usage)
	require.Zero(t, second.Timings.DecodeMS, "a hit spends no engine time")
	require.EqualValues(t, 1, ts.engine.calls.Load())

	// Another question, or another image, is another entry.
	other := inferenceBody(t, "vqa", "what is it not?", 4, 4)
	require.False(t, ts.infer(t, other).Cached)
	require.False(t, ts.infer(t, inferenceBody(t, "vqa", "what is it?", 4, 5)).Cached)
	require.EqualValues(t, 3, ts.engine.calls.Load())

	hits, misses, getErrs, setErrs := cacheCounts(t, ts)
	require.EqualValues(t, 1, hits)
	require.EqualValues(t, 3, misses)
	require.Zero(t, getErrs+setErrs)
	fams := ts.scrape(t)
	require.EqualValues(t, 1, metricValue(fams, "mobile_multimodal_cache_hits_total", map[string]string{"model": testModel, "task": "vqa"}))
}

func TestCacheBypassForSampling(t *testing.T) {
	mr := miniredis.RunT(t)
	ts := newCachedServer(t, mr.Addr())
	body := inferenceBody(t, "caption", "", 4, 4)
	body["temperature"] = 0.8
	require.False(t, ts.infer(t, body).Cached)
	require.False(t, ts.infer(t, body).Cached)
	require.EqualValues(t, 2, ts.engine.calls.Load())
	hits, misses, _, _ := cacheCounts(t, ts)
	require.Zero(t, hits+misses, "sampled requests never touch the cache")
	require.Empty(t, mr.Keys())
}

func TestRedisDownStillServes(t *testing.T) {
	mr := miniredis.RunT(t)
	ts := newCachedServer(t, mr.Addr())
	mr.Close()
	body := inferenceBody(t, "caption", "", 4, 4)
	start := time.Now()
	resp := ts.infer(t, body)
	require.False(t, resp.Cached)
	require.Equal(t, expectedText("caption", "", "4x4"), resp.Text)
	require.Less(t, time.Since(start), time.Second)
	_, _, getErrs, setErrs := cacheCounts(t, ts)
	require.EqualValues(t, 1, getErrs)
	require.EqualValues(t, 1, setErrs)
}

func TestRealRedisStoppedMidTest(t *testing.T) {
	srv := redistest.Start(t)
	ts := newCachedServer(t, srv.Addr)
	body := inferenceBody(t, "ocr", "", 4, 4)
	require.False(t, ts.infer(t, body).Cached)
	require.True(t, ts.infer(t, body).Cached)

	srv.Stop()
	start := time.Now()
	resp := ts.infer(t, body)
	require.False(t, resp.Cached, "with Redis gone the engine answers")
	require.Equal(t, expectedText("ocr", "", "4x4"), resp.Text)
	require.Less(t, time.Since(start), time.Second)
	require.EqualValues(t, 2, ts.engine.calls.Load())
	hits, _, getErrs, _ := cacheCounts(t, ts)
	require.EqualValues(t, 1, hits)
	require.EqualValues(t, 1, getErrs)
}
