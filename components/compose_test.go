// Package components_test composes every component the way the infra
// program will, and checks the whole set against the policies and against
// each other (selectors of one component matching labels of another).
package components_test

import (
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/gpu"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/internal/mocktest"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/keda"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/monitoring"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/redis"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/security"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/workload"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

const ns = "mmllm"

func secret(s string) pulumi.StringOutput {
	return pulumi.ToSecret(pulumi.String(s)).(pulumi.StringOutput)
}

// program is a whole GPU deployment on one cluster.
func program(ctx *pulumi.Context, k8s pulumi.ResourceOption) error {
	prom, err := monitoring.NewPrometheusStack(ctx, "monitoring", &monitoring.StackArgs{
		GrafanaAdminPassword: secret("grafana-admin-password"),
	}, k8s)
	if err != nil {
		return err
	}
	gpus, err := gpu.NewSupport(ctx, "gpu", &gpu.Args{Mode: gpu.DevicePlugin}, k8s)
	if err != nil {
		return err
	}
	autoscaler, err := keda.NewOperator(ctx, "keda", &keda.Args{}, k8s)
	if err != nil {
		return err
	}
	inf, err := workload.NewInference(ctx, "inference", &workload.Args{
		Namespace: ns,
		Image:     "ghcr.io/mobile-mm-llm/mmllm:v0.3.1",
		APITokens: secret("token-1\ntoken-2"),
		GPU:       workload.GPU{Count: 1, NodeSelector: map[string]string{"nvidia.com/gpu.present": "true"}},
		Redis:     &workload.Redis{Address: pulumi.String(redis.ServiceAddress("redis", ns)), PasswordSecret: redis.AuthSecretName("redis")},
		Autoscaling: workload.Autoscaling{
			PrometheusAddress: prom.URL,
		},
		Ingress: workload.Ingress{Host: "api.example.com", TLSSecretName: "api-tls",
			Annotations: map[string]string{"cert-manager.io/cluster-issuer": "letsencrypt"}},
	}, k8s, pulumi.DependsOn([]pulumi.Resource{gpus, autoscaler}))
	if err != nil {
		return err
	}
	afterNamespace := pulumi.DependsOn([]pulumi.Resource{inf})
	cache, err := redis.NewRedis(ctx, "cache", &redis.Args{
		Namespace:       ns,
		Password:        secret("a-long-redis-password"),
		ClientPodLabels: inf.SelectorLabels,
	}, k8s, afterNamespace)
	if err != nil {
		return err
	}
	if _, err := security.NewBaseline(ctx, "security", &security.Args{
		Namespace:           ns,
		AppPodLabels:        inf.SelectorLabels,
		MonitoringNamespace: prom.NamespaceName,
		Redis:               &security.Peer{PodLabels: cache.PodLabels},
		OperatorGroups:      []string{"mmllm-oncall"},
	}, k8s, afterNamespace); err != nil {
		return err
	}
	_, err = monitoring.NewInference(ctx, "inference-monitoring", &monitoring.InferenceArgs{
		Namespace:          ns,
		ServiceLabels:      inf.SelectorLabels,
		PrometheusLabels:   prom.SelectorLabels,
		DashboardNamespace: prom.NamespaceName,
	}, k8s, pulumi.DependsOn([]pulumi.Resource{prom, inf}))
	return err
}

func TestComposedStackPassesPolicies(t *testing.T) {
	m := mocktest.MustRunWithProvider(t, "prod-eu", program)
	require.Equal(t, 8, m.OutputRegistrations(), "seven components and the stack")
	// Only the DR component's backup schedule is missing from the slice.
	require.Empty(t, m.CheckPolicies(t, "production-backup-schedule"))
}

// subset reports whether every entry of sel is in labels.
func subset(t *testing.T, sel, labels any, what string) {
	t.Helper()
	s, ok := sel.(map[string]any)
	require.True(t, ok && len(s) > 0, "%s: empty selector", what)
	l, ok := labels.(map[string]any)
	require.True(t, ok, "%s: no labels", what)
	for k, v := range s {
		require.Equal(t, v, l[k], "%s: label %s", what, k)
	}
}

func TestComposedSelectorsMatch(t *testing.T) {
	m := mocktest.MustRunWithProvider(t, "dev", program)
	dep := m.One(t, "kubernetes:apps/v1:Deployment", workload.DefaultAppName).Plain()
	podLabels := mocktest.At(dep, "spec", "template", "metadata", "labels")
	redisPods := mocktest.At(m.One(t, "kubernetes:apps/v1:StatefulSet", "redis").Plain(), "spec", "template", "metadata", "labels")
	svcLabels := mocktest.At(m.One(t, "kubernetes:core/v1:Service", workload.DefaultAppName).Plain(), "metadata", "labels")

	np := func(name string) map[string]any {
		return m.One(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", name).Plain()
	}
	subset(t, mocktest.At(np("redis-clients"), "spec", "ingress", 0, "from", 0, "podSelector", "matchLabels"), podLabels,
		"Redis admits the inference pods")
	subset(t, mocktest.At(np("mobile-multimodal-llm-inference-egress"), "spec", "egress", 0, "to", 0, "podSelector", "matchLabels"), redisPods,
		"the inference pods may reach Redis")
	subset(t, mocktest.At(np("mobile-multimodal-llm-inference-ingress"), "spec", "podSelector", "matchLabels"), podLabels,
		"the ingress allow rule selects the inference pods")
	require.Equal(t, map[string]any{"kubernetes.io/metadata.name": "monitoring"},
		mocktest.At(np("mobile-multimodal-llm-inference-ingress"), "spec", "ingress", 1, "from", 0, "namespaceSelector", "matchLabels"),
		"Prometheus's namespace may scrape")

	sm := m.One(t, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", workload.DefaultAppName).Plain()
	subset(t, mocktest.At(sm, "spec", "selector", "matchLabels"), svcLabels, "the ServiceMonitor selects the Service")
	// Registrations come in any order: pick the Prometheus release, not KEDA's.
	var rel map[string]any
	for _, r := range m.OfType("kubernetes:helm.sh/v3:Release") {
		if p := r.Plain(); p["chart"] == "kube-prometheus-stack" {
			rel = p
		}
	}
	require.NotNil(t, rel, "the kube-prometheus-stack release")
	for _, typ := range []string{"ServiceMonitor", "PrometheusRule"} {
		o := m.One(t, "kubernetes:monitoring.coreos.com/v1:"+typ, workload.DefaultAppName).Plain()
		subset(t, mocktest.At(rel, "values", "prometheus", "prometheusSpec", map[string]string{
			"ServiceMonitor": "serviceMonitorSelector", "PrometheusRule": "ruleSelector"}[typ], "matchLabels"),
			mocktest.At(o, "metadata", "labels"), "the Prometheus selects the "+typ)
	}

	so := m.One(t, "kubernetes:keda.sh/v1alpha1:ScaledObject", workload.DefaultAppName).Plain()
	require.Equal(t, "http://kube-prometheus-stack-prometheus.monitoring.svc.cluster.local:9090",
		mocktest.At(so, "spec", "triggers", 2, "metadata", "serverAddress"), "KEDA queries the stack's Prometheus")

	pod := mocktest.At(dep, "spec", "template", "spec")
	require.Contains(t, mocktest.At(pod, "volumes"), map[string]any{"name": "redis-password",
		"secret": map[string]any{"secretName": "redis-auth", "defaultMode": float64(0o440)}}, "the server mounts Redis's password Secret")
	require.Equal(t, redis.ServiceAddress("redis", ns), envValue(t, mocktest.At(pod, "containers", 0, "env"), "MMLLM_REDIS_ADDR"))
	require.NotEmpty(t, m.OfType("kubernetes:apps/v1:DaemonSet"), "the device plugin makes nvidia.com/gpu schedulable")
}

func envValue(t *testing.T, env any, name string) string {
	t.Helper()
	for _, e := range env.([]any) {
		if e := e.(map[string]any); e["name"] == name {
			return e["value"].(string)
		}
	}
	t.Fatalf("no env var %s", name)
	return ""
}
