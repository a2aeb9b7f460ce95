package monitoring

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

var testTarget = Target{Namespace: "mmllm", Service: "mobile-multimodal-llm", Deployment: "mobile-multimodal-llm", Container: "server"}

// writeRules writes groups as a Prometheus rules file.
func writeRules(t *testing.T, dir string, groups []RuleGroup) string {
	t.Helper()
	b, err := yaml.Marshal(map[string]any{"groups": groups})
	require.NoError(t, err)
	path := filepath.Join(dir, "rules.yml")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}

// promtool runs promtool when it is installed (Debian package
// "prometheus"); without it only the Go-side checks run.
func promtool(t *testing.T, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not on PATH: make test installs Debian's prometheus package (scripts/deps.sh)")
		}
		t.Log("promtool is not on PATH (apt-get install prometheus): only the Go-side checks ran")
		return
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	require.NoError(t, err, "promtool %s:\n%s", strings.Join(args, " "), out)
	t.Logf("promtool %s: %s", args[0]+" "+args[1], strings.TrimSpace(string(out)))
}

func TestAlertRulesFile(t *testing.T) {
	groups := AlertRules(testTarget, "https://runbooks.example.com/mmllm", map[string]string{"team": "ml-platform"})
	path := writeRules(t, t.TempDir(), groups)

	// The file reads back as the rules, and each alert filters on the
	// server's namespace (Prometheus evaluates rules over every namespace).
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var back struct {
		Groups []RuleGroup `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal(b, &back))
	require.Equal(t, groups, back.Groups)
	for _, g := range groups {
		for _, r := range g.Rules {
			require.Contains(t, r.Expr, `namespace="mmllm"`, r.Alert)
			require.NotEmpty(t, r.For, r.Alert)
			require.Equal(t, "ml-platform", r.Labels["team"])
			require.Equal(t, "https://runbooks.example.com/mmllm#"+strings.ToLower(r.Alert), r.Annotations["runbook_url"])
		}
	}
	promtool(t, "check", "rules", path)
}

// TestAlertRulesFire runs promtool's rule unit tests: every alert fires on
// series that break its threshold and stays quiet on healthy ones. The
// annotations are dropped from the copy under test (promtool compares
// rendered annotations; `check rules` validates their templates).
func TestAlertRulesFire(t *testing.T) {
	groups := AlertRules(testTarget, "", nil)
	for gi := range groups {
		for ri := range groups[gi].Rules {
			groups[gi].Rules[ri].Annotations = nil
		}
	}
	dir := t.TempDir()
	writeRules(t, dir, groups)

	const pod, other = "mobile-multimodal-llm-5d9c8-abcde", "mobile-multimodal-llm-5d9c8-fghij"
	srv := `namespace="mmllm", service="mobile-multimodal-llm"`
	ctr := func(p string) string { return `namespace="mmllm", pod="` + p + `", container="server"` }
	type series struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	}
	type alert struct {
		Labels map[string]string `yaml:"exp_labels"`
	}
	type check struct {
		EvalTime  string  `yaml:"eval_time"`
		AlertName string  `yaml:"alertname"`
		Expected  []alert `yaml:"exp_alerts"`
	}
	type group struct {
		Interval string   `yaml:"interval"`
		Input    []series `yaml:"input_series"`
		Checks   []check  `yaml:"alert_rule_test"`
	}
	// 25 hours of one-minute samples, enough for the 24-hour memory alert.
	const n = "x1500"
	unhealthy := group{Interval: "1m", Input: []series{
		// 0.9 cores of a 1-core limit on pod; other stays at 0.5.
		{`container_cpu_usage_seconds_total{` + ctr(pod) + `}`, "0+54" + n},
		{`container_cpu_usage_seconds_total{` + ctr(other) + `}`, "0+30" + n},
		{`kube_pod_container_resource_limits{` + ctr(pod) + `, resource="cpu"}`, "1" + n},
		{`kube_pod_container_resource_limits{` + ctr(other) + `, resource="cpu"}`, "1" + n},
		// Every request takes between 0.5 and 1 s.
		{`mobile_multimodal_inference_duration_seconds_bucket{` + srv + `, le="0.5"}`, "0" + n},
		{`mobile_multimodal_inference_duration_seconds_bucket{` + srv + `, le="1"}`, "0+10" + n},
		{`mobile_multimodal_inference_duration_seconds_bucket{` + srv + `, le="+Inf"}`, "0+10" + n},
		// 2 of every 1002 requests answer 503: 0.2%.
		{`mobile_multimodal_requests_total{` + srv + `, status="200"}`, "0+1000" + n},
		{`mobile_multimodal_requests_total{` + srv + `, status="503"}`, "0+2" + n},
		{`mobile_multimodal_cache_errors_total{` + srv + `, op="get"}`, "0+1" + n},
		// pod's working set grows 1 MB a minute; other's is flat.
		{`container_memory_working_set_bytes{` + ctr(pod) + `}`, "1e9+1e6" + n},
		{`container_memory_working_set_bytes{` + ctr(other) + `}`, "2e9" + n},
		{`kube_pod_container_status_waiting_reason{namespace="mmllm", pod="redis-0", container="redis", reason="CrashLoopBackOff"}`, "1" + n},
		{`kube_deployment_status_replicas_available{namespace="mmllm", deployment="mobile-multimodal-llm"}`, "0" + n},
	}}
	healthy := group{Interval: "1m", Input: []series{
		{`container_cpu_usage_seconds_total{` + ctr(pod) + `}`, "0+30" + n},
		{`kube_pod_container_resource_limits{` + ctr(pod) + `, resource="cpu"}`, "1" + n},
		{`mobile_multimodal_inference_duration_seconds_bucket{` + srv + `, le="0.5"}`, "0+10" + n},
		{`mobile_multimodal_inference_duration_seconds_bucket{` + srv + `, le="1"}`, "0+10" + n},
		{`mobile_multimodal_inference_duration_seconds_bucket{` + srv + `, le="+Inf"}`, "0+10" + n},
		{`mobile_multimodal_requests_total{` + srv + `, status="200"}`, "0+1000" + n},
		{`mobile_multimodal_requests_total{` + srv + `, status="404"}`, "0+50" + n}, // client errors are not the SLA's
		{`mobile_multimodal_requests_total{` + srv + `, status="503"}`, "0+0.5" + n},
		{`mobile_multimodal_cache_errors_total{` + srv + `, op="get"}`, "0" + n},
		{`container_memory_working_set_bytes{` + ctr(pod) + `}`, "2e9" + n},
		{`kube_pod_container_status_waiting_reason{namespace="mmllm", pod="redis-0", container="redis", reason="CrashLoopBackOff"}`, "0" + n},
		{`kube_deployment_status_replicas_available{namespace="mmllm", deployment="mobile-multimodal-llm"}`, "3" + n},
	}}
	firing := map[string]map[string]string{
		"InferenceHighCPU":         {"namespace": "mmllm", "pod": pod},
		"InferenceMemoryGrowing":   {"namespace": "mmllm", "pod": pod},
		"InferencePodCrashLooping": {"namespace": "mmllm", "pod": "redis-0", "container": "redis", "reason": "CrashLoopBackOff"},
		"InferenceNoReadyReplicas": {"namespace": "mmllm", "deployment": "mobile-multimodal-llm"},
		"InferenceP95LatencyHigh":  {},
		"InferenceErrorRateHigh":   {},
		"InferenceRedisErrors":     {},
	}
	severity := map[string]string{}
	for _, g := range groups {
		for _, r := range g.Rules {
			severity[r.Alert] = r.Labels["severity"]
		}
	}
	require.Len(t, severity, len(firing), "a unit test for every alert")
	for name, labels := range firing {
		want := map[string]string{"severity": severity[name]}
		for k, v := range labels {
			want[k] = v
		}
		unhealthy.Checks = append(unhealthy.Checks, check{EvalTime: "25h", AlertName: name, Expected: []alert{{Labels: want}}})
		healthy.Checks = append(healthy.Checks, check{EvalTime: "25h", AlertName: name, Expected: []alert{}})
	}
	b, err := yaml.Marshal(map[string]any{
		"rule_files":          []string{"rules.yml"},
		"evaluation_interval": "1m",
		"tests":               []group{unhealthy, healthy},
	})
	require.NoError(t, err)
	tests := filepath.Join(dir, "rules_test.yml")
	require.NoError(t, os.WriteFile(tests, b, 0o644))
	promtool(t, "test", "rules", tests)
}
