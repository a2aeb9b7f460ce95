package monitoring

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/internal/mocktest"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

var serviceLabels = map[string]string{"app.kubernetes.io/name": "mobile-multimodal-llm", "app.kubernetes.io/instance": "inference"}

func stackArgs() *StackArgs {
	return &StackArgs{GrafanaAdminPassword: pulumi.ToSecret(pulumi.String("grafana-pass")).(pulumi.StringOutput)}
}

// runBoth installs the stack and the inference monitoring the way a
// program composes them: the second takes the first's selector labels.
func runBoth(t *testing.T, stack *StackArgs, inf *InferenceArgs) (*mocktest.Mocks, *PrometheusStack) {
	t.Helper()
	var ps *PrometheusStack
	m := mocktest.MustRunWithProvider(t, "dev", func(ctx *pulumi.Context, k8s pulumi.ResourceOption) error {
		var err error
		if ps, err = NewPrometheusStack(ctx, "monitoring", stack, k8s); err != nil {
			return err
		}
		if inf == nil {
			return nil
		}
		a := *inf
		a.PrometheusLabels = ps.SelectorLabels
		a.DashboardNamespace = ps.NamespaceName
		_, err = NewInference(ctx, "inference-monitoring", &a, k8s, pulumi.DependsOn([]pulumi.Resource{ps}))
		return err
	})
	return m, ps
}

func inferenceArgs() *InferenceArgs {
	return &InferenceArgs{Namespace: "mmllm", ServiceLabels: serviceLabels, RunbookURL: "https://runbooks.example.com/mmllm"}
}

func TestPrometheusStack(t *testing.T) {
	m, ps := runBoth(t, stackArgs(), nil)
	require.Equal(t, "http://kube-prometheus-stack-prometheus.monitoring.svc.cluster.local:9090", ps.URL)
	require.Equal(t, map[string]string{"release": "kube-prometheus-stack"}, ps.SelectorLabels)

	ns := m.One(t, "kubernetes:core/v1:Namespace", "monitoring").Plain()
	require.Equal(t, "restricted", mocktest.At(ns, "metadata", "labels", "pod-security.kubernetes.io/enforce"))

	sec := m.One(t, "kubernetes:core/v1:Secret", "grafana-admin")
	require.True(t, sec.Inputs["stringData"].ContainsSecrets())

	rels := m.OfType("kubernetes:helm.sh/v3:Release")
	require.Len(t, rels, 1)
	r := rels[0].Plain()
	require.Equal(t, "kube-prometheus-stack", r["chart"])
	require.Equal(t, "kube-prometheus-stack", r["name"], "an explicit name, or Pulumi would suffix it and the release label would not match")
	require.Equal(t, DefaultChartVersion, r["version"])
	require.Equal(t, "monitoring", r["namespace"])
	require.Equal(t, DefaultChartRepo, mocktest.At(r, "repositoryOpts", "repo"))
	values := r["values"].(map[string]any)
	require.Equal(t, "kube-prometheus-stack", values["fullnameOverride"])
	spec := mocktest.At(values, "prometheus", "prometheusSpec").(map[string]any)
	release := map[string]any{"matchLabels": map[string]any{"release": "kube-prometheus-stack"}}
	for _, sel := range []string{"serviceMonitorSelector", "podMonitorSelector", "ruleSelector"} {
		require.Equal(t, release, spec[sel], sel)
		ns := strings.TrimSuffix(sel, "Selector") + "NamespaceSelector"
		require.Equal(t, map[string]any{}, spec[ns], "%s: every namespace", ns)
	}
	require.Equal(t, "15d", spec["retention"])
	require.Nil(t, spec["storageSpec"])
	require.Equal(t, false, mocktest.At(values, "nodeExporter", "enabled"), "node-exporter needs host access")
	require.Equal(t, "grafana-admin", mocktest.At(values, "grafana", "admin", "existingSecret"))
	require.Equal(t, map[string]any{"enabled": true, "label": "grafana_dashboard", "labelValue": "1"},
		mocktest.At(values, "grafana", "sidecar", "dashboards"))

	require.Empty(t, m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule"), "the chart version is pinned")
}

func TestPrometheusStackStorage(t *testing.T) {
	args := stackArgs()
	args.StorageSize, args.StorageClass, args.Retention = "50Gi", "fast-ssd", "30d"
	m, _ := runBoth(t, args, nil)
	spec := mocktest.At(m.OfType("kubernetes:helm.sh/v3:Release")[0].Plain(), "values", "prometheus", "prometheusSpec").(map[string]any)
	require.Equal(t, "30d", spec["retention"])
	require.Equal(t, map[string]any{"volumeClaimTemplate": map[string]any{"spec": map[string]any{
		"accessModes":      []any{"ReadWriteOnce"},
		"resources":        map[string]any{"requests": map[string]any{"storage": "50Gi"}},
		"storageClassName": "fast-ssd",
	}}}, spec["storageSpec"])
}

func TestInferenceMonitoring(t *testing.T) {
	m, ps := runBoth(t, stackArgs(), inferenceArgs())

	// Both operator objects carry the label the stack's Prometheus selects.
	for _, typ := range []string{"kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "kubernetes:monitoring.coreos.com/v1:PrometheusRule"} {
		o := m.One(t, typ, "mobile-multimodal-llm").Plain()
		require.Equal(t, "mmllm", mocktest.At(o, "metadata", "namespace"))
		for k, v := range ps.SelectorLabels {
			require.Equal(t, v, mocktest.At(o, "metadata", "labels", k), "%s label %s", typ, k)
		}
	}
	sm := m.One(t, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "mobile-multimodal-llm").Plain()
	require.Equal(t, map[string]any{
		"selector":          map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "mobile-multimodal-llm", "app.kubernetes.io/instance": "inference"}},
		"namespaceSelector": map[string]any{"matchNames": []any{"mmllm"}},
		"endpoints":         []any{map[string]any{"port": "metrics", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s"}},
	}, sm["spec"])

	pr := m.One(t, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "mobile-multimodal-llm").Plain()
	var alerts []string
	for _, g := range mocktest.At(pr, "spec", "groups").([]any) {
		for _, r := range g.(map[string]any)["rules"].([]any) {
			r := r.(map[string]any)
			alerts = append(alerts, r["alert"].(string))
			require.NotEmpty(t, r["expr"])
			require.Contains(t, []any{"warning", "critical"}, mocktest.At(r, "labels", "severity"))
			require.True(t, strings.HasPrefix(mocktest.At(r, "annotations", "runbook_url").(string), "https://runbooks.example.com/mmllm#"))
		}
	}
	require.ElementsMatch(t, []string{"InferenceHighCPU", "InferenceMemoryGrowing", "InferencePodCrashLooping", "InferenceNoReadyReplicas",
		"InferenceP95LatencyHigh", "InferenceErrorRateHigh", "InferenceRedisErrors"}, alerts)

	cm := m.One(t, "kubernetes:core/v1:ConfigMap", "mobile-multimodal-llm-dashboard").Plain()
	require.Equal(t, "monitoring", mocktest.At(cm, "metadata", "namespace"), "where the sidecar looks")
	require.Equal(t, "1", mocktest.At(cm, "metadata", "labels", "grafana_dashboard"))
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal([]byte(mocktest.At(cm, "data", "mobile-multimodal-llm.json").(string)), &dash))
	require.Equal(t, "mobile-multimodal-llm", dash.UID)
	var titles []string
	for _, p := range dash.Panels {
		titles = append(titles, p.Title)
		require.NotEmpty(t, p.Targets, p.Title)
	}
	require.Equal(t, []string{"Request rate", "Inference latency (P95)", "Error rate", "Queue length", "GPU utilization"}, titles)

	// With the alert rules present, even a production stack only misses the
	// DR component's backups.
	require.Empty(t, m.CheckPolicies(t, "production-backup-schedule"))
}

func TestMonitoringRejectsBadArgs(t *testing.T) {
	stackTests := []struct {
		name   string
		mutate func(a *StackArgs)
		want   string
	}{
		{"no password", func(a *StackArgs) { a.GrafanaAdminPassword = nil }, "GrafanaAdminPassword: is required"},
		{"chart range", func(a *StackArgs) { a.ChartVersion = ">=65" }, "ChartVersion:"},
		{"long release", func(a *StackArgs) { a.ReleaseName = "a-very-long-release-name-indeed" }, "ReleaseName:"},
		{"retention", func(a *StackArgs) { a.Retention = "two weeks" }, "Retention:"},
		{"storage", func(a *StackArgs) { a.StorageSize = "lots" }, "StorageSize:"},
	}
	for _, tt := range stackTests {
		t.Run(tt.name, func(t *testing.T) {
			args := stackArgs()
			tt.mutate(args)
			mocktest.RequireRejected(t, mocktest.Construct(NewPrometheusStack, "monitoring", args),
				"monitoring.NewPrometheusStack: invalid args", tt.want)
		})
	}
	infTests := []struct {
		name   string
		mutate func(a *InferenceArgs)
		want   string
	}{
		{"no prometheus labels", func(a *InferenceArgs) { a.PrometheusLabels = nil }, "PrometheusLabels: is required"},
		{"no service labels", func(a *InferenceArgs) { a.ServiceLabels = nil }, "ServiceLabels: is required"},
		{"no dashboard namespace", func(a *InferenceArgs) { a.DashboardNamespace = "" }, "DashboardNamespace:"},
		{"severity label", func(a *InferenceArgs) { a.AlertLabels = map[string]string{"severity": "page"} }, "AlertLabels: must not set severity"},
		{"interval", func(a *InferenceArgs) { a.ScrapeInterval = "30" }, "ScrapeInterval:"},
		{"runbook", func(a *InferenceArgs) { a.RunbookURL = "runbooks" }, "RunbookURL:"},
	}
	for _, tt := range infTests {
		t.Run(tt.name, func(t *testing.T) {
			args := inferenceArgs()
			args.PrometheusLabels, args.DashboardNamespace = map[string]string{"release": "kps"}, "monitoring"
			tt.mutate(args)
			mocktest.RequireRejected(t, mocktest.Construct(NewInference, "inference-monitoring", args),
				"monitoring.NewInference: invalid args", tt.want)
		})
	}
	mocktest.RequireRejected(t, mocktest.Construct(NewPrometheusStack, "monitoring", nil), "monitoring.NewPrometheusStack: args are required")
	mocktest.RequireRejected(t, mocktest.Construct(NewInference, "inference-monitoring", nil), "monitoring.NewInference: args are required")
}
