package monitoring

import (
	"fmt"
	"strings"
)

// Rule is one Prometheus alerting rule.
type Rule struct {
	// Alert is the alert's name.
	Alert string `json:"alert" yaml:"alert"`
	// Expr is the PromQL condition; every series it returns is an alert.
	Expr string `json:"expr" yaml:"expr"`
	// For is how long Expr must hold before the alert fires.
	For string `json:"for,omitempty" yaml:"for,omitempty"`
	// Labels are added to the alert (severity, routing).
	Labels map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
	// Annotations are its templated summary, description and runbook link.
	Annotations map[string]string `json:"annotations,omitempty" yaml:"annotations,omitempty"`
}

// RuleGroup is a named group of rules, as in a Prometheus rules file and a
// PrometheusRule's spec.groups.
type RuleGroup struct {
	// Name names the group.
	Name string `json:"name" yaml:"name"`
	// Rules are evaluated together, in order.
	Rules []Rule `json:"rules" yaml:"rules"`
}

// Target is what the alerts and the dashboard watch: the server's
// Kubernetes names, which the Prometheus operator and kube-state-metrics
// put on every series as labels.
type Target struct {
	// Namespace is the server's namespace.
	Namespace string
	// Service is its Service (the operator's "service" label).
	Service string
	// Deployment is its Deployment; its pods are named Deployment-<hash>-<id>.
	Deployment string
	// Container is the server container's name.
	Container string
}

// selector renders a PromQL label matcher list with extra matchers.
func (t Target) selector(extra ...string) string {
	return "{" + strings.Join(append([]string{fmt.Sprintf(`namespace="%s"`, t.Namespace)}, extra...), ", ") + "}"
}

// server selects the server's own metrics (scraped through its Service).
func (t Target) server(extra ...string) string {
	return t.selector(append([]string{fmt.Sprintf(`service="%s"`, t.Service)}, extra...)...)
}

// pods selects cAdvisor and kube-state-metrics series of the server's
// container.
func (t Target) pods(extra ...string) string {
	return t.selector(append([]string{fmt.Sprintf(`pod=~"%s-.*"`, t.Deployment), fmt.Sprintf(`container="%s"`, t.Container)}, extra...)...)
}

// Thresholds from the deployment guide's runbooks and SLA.
const (
	cpuLimitFraction = 0.8   // CPU above 80% of the limit
	p95LatencySecond = 0.5   // P95 above 500 ms (a bucket edge of the server's histogram)
	errorRatio       = 0.001 // more than 0.1% of requests fail
	memoryGrowth     = 1.2   // working set 20% above what it was a day ago
)

// AlertRules returns the runbooks' alerts for t: high CPU, high P95
// latency, error rate, memory growing for 24 hours, Redis (cache) errors,
// crash-looping pods and no ready replicas. runbookURL, when set, is
// linked from every alert with the alert's name as the anchor; labels are
// added to every alert (routing, team).
func AlertRules(t Target, runbookURL string, labels map[string]string) []RuleGroup {
	rule := func(name, severity, expr, forDur, summary, description string) Rule {
		l := map[string]string{"severity": severity}
		for k, v := range labels {
			l[k] = v
		}
		ann := map[string]string{"summary": summary, "description": description}
		if runbookURL != "" {
			ann["runbook_url"] = runbookURL + "#" + strings.ToLower(name)
		}
		return Rule{Alert: name, Expr: expr, For: forDur, Labels: l, Annotations: ann}
	}
	cpu := fmt.Sprintf(`sum by (namespace, pod) (rate(container_cpu_usage_seconds_total%s[5m]))
  / on (namespace, pod)
sum by (namespace, pod) (kube_pod_container_resource_limits%s)
  > %g`, t.pods(), t.pods(`resource="cpu"`), cpuLimitFraction)
	p95 := fmt.Sprintf(`histogram_quantile(0.95, sum by (le) (rate(mobile_multimodal_inference_duration_seconds_bucket%s[5m]))) > %g`,
		t.server(), p95LatencySecond)
	errs := fmt.Sprintf(`sum(rate(mobile_multimodal_requests_total%s[5m]))
  / sum(rate(mobile_multimodal_requests_total%s[5m]))
  > %g`, t.server(`status=~"5.."`), t.server(), errorRatio)
	mem := t.pods()
	memory := fmt.Sprintf(`(
  sum by (namespace, pod) (avg_over_time(container_memory_working_set_bytes%s[1h]))
    / sum by (namespace, pod) (avg_over_time(container_memory_working_set_bytes%s[1h] offset 23h))
    > %g
)
and on (namespace, pod)
(sum by (namespace, pod) (deriv(container_memory_working_set_bytes%s[24h])) > 0)`, mem, mem, memoryGrowth, mem)
	redis := fmt.Sprintf(`sum(rate(mobile_multimodal_cache_errors_total%s[5m])) > 0`, t.server())
	crash := fmt.Sprintf(`max_over_time(kube_pod_container_status_waiting_reason%s[5m]) >= 1`,
		t.selector(`reason="CrashLoopBackOff"`))
	ready := fmt.Sprintf(`kube_deployment_status_replicas_available%s == 0`,
		t.selector(fmt.Sprintf(`deployment="%s"`, t.Deployment)))
	return []RuleGroup{
		{Name: "mobile-multimodal-llm.resources", Rules: []Rule{
			rule("InferenceHighCPU", "warning", cpu, "5m",
				"Inference pod {{ $labels.pod }} uses more than 80% of its CPU limit",
				"CPU is at {{ $value | humanizePercentage }} of the limit for 5 minutes. Scale up and check the request pattern and queue length (runbook: High CPU Usage Response)."),
			rule("InferenceMemoryGrowing", "warning", memory, "1h",
				"Inference pod {{ $labels.pod }} memory has grown for 24 hours",
				"The working set is {{ $value | humanize }}x what it was a day ago and still rising: a likely leak. Do a rolling restart and take a heap profile (runbook: Memory Leak Response)."),
			rule("InferencePodCrashLooping", "critical", crash, "10m",
				"Pod {{ $labels.pod }} ({{ $labels.container }}) is crash-looping",
				"The container has been in CrashLoopBackOff for 10 minutes; read its previous logs (kubectl logs --previous)."),
			rule("InferenceNoReadyReplicas", "critical", ready, "2m",
				"The inference Deployment has no available replicas",
				"Every request fails: no pod passes /ready. Check pod events, image pulls and model loading."),
		}},
		{Name: "mobile-multimodal-llm.slo", Rules: []Rule{
			rule("InferenceP95LatencyHigh", "warning", p95, "5m",
				"Inference P95 latency is above 500 ms",
				"P95 is {{ $value | humanizeDuration }} for 5 minutes, over the SLA's 500 ms."),
			rule("InferenceErrorRateHigh", "critical", errs, "5m",
				"More than 0.1% of inference requests fail",
				"{{ $value | humanizePercentage }} of requests answer 5xx over 5 minutes, over the SLA's 0.1%."),
			rule("InferenceRedisErrors", "warning", redis, "5m",
				"The inference servers cannot reach Redis",
				"Cache operations fail ({{ $value | humanize }}/s); requests run uncached. Check the Redis pod and its NetworkPolicy (runbook: Database Connection Issues)."),
		}},
	}
}
