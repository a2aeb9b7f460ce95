package monitoring

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/workload"
	"github.com/mobile-mm-llm/mobile-mm-llm/server"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// recorder is a Registerer that notes the name of every metric registered
// through it.
type recorder struct {
	*prometheus.Registry
	names map[string]bool
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (r *recorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			r.names[m[1]] = true
		}
	}
	return r.Registry.Register(c)
}

func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// idleEngine is an Engine that serves nothing; the server only needs it to
// start.
type idleEngine struct{}

func (idleEngine) Models() []api.ModelInfo { return []api.ModelInfo{{ID: "m"}} }
func (idleEngine) Ready() bool             { return false }
func (idleEngine) Generate(context.Context, api.GenerateRequest, func(string) error) (api.GenerateResult, error) {
	return api.GenerateResult{}, errors.New("idle")
}

// serverMetricNames returns the metrics the real server registers.
func serverMetricNames(t *testing.T) map[string]bool {
	t.Helper()
	reg := &recorder{Registry: prometheus.NewRegistry(), names: map[string]bool{}}
	gin.SetMode(gin.ReleaseMode)
	_, err := server.New(slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{Engine: idleEngine{}, Registerer: reg, Gatherer: reg.Registry})
	require.NoError(t, err)
	require.NotEmpty(t, reg.names)
	return reg.names
}

// seriesName is a PromQL metric name followed by a label matcher or range.
var seriesName = regexp.MustCompile(`\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{\[]`)

// TestQueriesUseServerMetrics checks that every mobile_multimodal_* series
// the dashboard, the alerts and the autoscaler (KEDA's query) read is one
// the server exports (histograms through their _bucket series).
func TestQueriesUseServerMetrics(t *testing.T) {
	have := serverMetricNames(t)
	exprs := []string{workload.QueueLengthQuery("mmllm", "mobile-multimodal-llm")}
	for _, p := range DashboardPanels(testTarget) {
		for _, q := range p.Queries {
			exprs = append(exprs, q.Expr)
		}
	}
	for _, g := range AlertRules(testTarget, "", nil) {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	var used []string
	for _, e := range exprs {
		for _, m := range seriesName.FindAllStringSubmatch(e, -1) {
			name := m[1]
			if !strings.HasPrefix(name, "mobile_multimodal_") {
				continue
			}
			used = append(used, name)
			base := name
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				base = strings.TrimSuffix(base, suffix)
			}
			require.True(t, have[name] || have[base], "%s (in %s) is not a metric the server exports", name, e)
		}
	}
	slices.Sort(used)
	used = slices.Compact(used)
	require.Subset(t, used, []string{"mobile_multimodal_requests_total", "mobile_multimodal_errors_total",
		"mobile_multimodal_inference_duration_seconds_bucket", "mobile_multimodal_inference_queue_length",
		"mobile_multimodal_cache_errors_total"})
	require.True(t, have["mobile_multimodal_inference_queue_length"], "the autoscaler's metric")
}
