package server

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/auth"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/cache"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
)

func TestMetricsScrape(t *testing.T) {
	const token = "metrics-test-token-1"
	rdb, err := cache.NewClient(miniredis.RunT(t).Addr(), "", 100*time.Millisecond)
	require.NoError(t, err)
	c, err := cache.New(rdb, cache.Options{})
	require.NoError(t, err)
	ts := newTestServer(t, func(o *Options) {
		o.Cache = c
		o.Auth = auth.Options{Tokens: []string{token}}
	})
	authz := []string{"Authorization", "Bearer " + token}
	body := inferenceBody(t, "caption", "", 3, 3)
	for range 2 { // a miss, then a hit
		rec := ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", body, authz...))
		require.Equal(t, http.StatusOK, rec.Code)
	}
	require.Equal(t, http.StatusBadRequest, ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", `{`, authz...)).Code)
	require.Equal(t, http.StatusUnauthorized, ts.serve(jsonRequest(t, http.MethodPost, "/v1/inference", body)).Code)

	fams := ts.scrape(t)
	for name, typ := range map[string]dto.MetricType{
		"mobile_multimodal_requests_total":             dto.MetricType_COUNTER,
		"mobile_multimodal_errors_total":               dto.MetricType_COUNTER,
		"mobile_multimodal_inference_duration_seconds": dto.MetricType_HISTOGRAM,
		"mobile_multimodal_queue_wait_seconds":         dto.MetricType_HISTOGRAM,
		"mobile_multimodal_inference_queue_length":     dto.MetricType_GAUGE,
		"inference_queue_length":                       dto.MetricType_GAUGE,
		"mobile_multimodal_in_flight_requests":         dto.MetricType_GAUGE,
		"mobile_multimodal_engine_busy_slots":          dto.MetricType_GAUGE,
		"mobile_multimodal_rejections_total":           dto.MetricType_COUNTER,
		"mobile_multimodal_cache_hits_total":           dto.MetricType_COUNTER,
		"mobile_multimodal_cache_misses_total":         dto.MetricType_COUNTER,
		"mobile_multimodal_tokens_generated_total":     dto.MetricType_COUNTER,
	} {
		fam, ok := fams[name]
		require.True(t, ok, "metric %s is missing", name)
		require.Equal(t, typ, fam.GetType(), name)
		require.NotEmpty(t, fam.GetHelp(), name)
	}

	requireLabelNames(t, fams["mobile_multimodal_requests_total"], "model", "status", "task")
	requireLabelNames(t, fams["mobile_multimodal_errors_total"], "model", "status", "task")
	requireLabelNames(t, fams["mobile_multimodal_inference_duration_seconds"], "model", "task")
	requireLabelNames(t, fams["mobile_multimodal_rejections_total"], "reason")

	ok := map[string]string{"model": testModel, "task": "caption", "status": "200"}
	require.EqualValues(t, 2, metricValue(fams, "mobile_multimodal_requests_total", ok))
	require.EqualValues(t, 1, metricValue(fams, "mobile_multimodal_errors_total", map[string]string{"task": "unknown", "status": "400"}))
	require.EqualValues(t, 1, metricValue(fams, "mobile_multimodal_errors_total", map[string]string{"model": "unknown", "status": "401"}))
	require.EqualValues(t, 2, metricValue(fams, "mobile_multimodal_inference_duration_seconds", map[string]string{"model": testModel, "task": "caption"}))
	require.EqualValues(t, 1, metricValue(fams, "mobile_multimodal_queue_wait_seconds", nil), "only the engine run waits for a slot")
	require.EqualValues(t, len(strings.Fields(expectedText("caption", "", "3x3"))),
		metricValue(fams, "mobile_multimodal_tokens_generated_total", nil), "cache hits generate nothing")
	require.Zero(t, metricValue(fams, "mobile_multimodal_inference_queue_length", nil))
	require.Zero(t, metricValue(fams, "mobile_multimodal_in_flight_requests", nil))

	// The latency histogram has a bucket edge at exactly the SLA's 0.5 s.
	for _, m := range fams["mobile_multimodal_inference_duration_seconds"].GetMetric() {
		var bounds []float64
		for _, b := range m.GetHistogram().GetBucket() {
			bounds = append(bounds, b.GetUpperBound())
		}
		require.Contains(t, bounds, 0.5)
		require.True(t, sort.Float64sAreSorted(bounds))
	}

	// Labels are bounded: nothing per user or per token anywhere.
	allowed := []string{"model", "task", "status", "reason", "op"}
	for name, fam := range fams {
		if !strings.HasPrefix(name, "mobile_multimodal_") && name != "inference_queue_length" {
			continue
		}
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				require.Contains(t, allowed, l.GetName(), name)
				require.NotContains(t, l.GetValue(), token, name)
			}
		}
	}
}

func requireLabelNames(t *testing.T, fam *dto.MetricFamily, want ...string) {
	t.Helper()
	require.NotEmpty(t, fam.GetMetric())
	for _, m := range fam.GetMetric() {
		var names []string
		for _, l := range m.GetLabel() {
			names = append(names, l.GetName())
		}
		slices.Sort(names)
		require.Equal(t, want, names, fam.GetName())
	}
}
