package monitoring

import (
	"cmp"
	"encoding/json"
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// InferenceTypeToken is the Inference component's type.
const InferenceTypeToken = "mobile-mm-llm:monitoring:Inference"

// The Prometheus operator's API (https://prometheus-operator.dev/docs/api-reference/api/).
const operatorAPIVersion = "monitoring.coreos.com/v1"

// InferenceArgs configures an Inference. Namespace, ServiceLabels,
// PrometheusLabels and DashboardNamespace are required.
type InferenceArgs struct {
	// Namespace is the inference server's namespace; the ServiceMonitor and
	// PrometheusRule go there.
	Namespace string
	// PartOf is the app.kubernetes.io/part-of label (default kube.DefaultPartOf).
	PartOf string
	// AppName names the objects, and is the default Service and Deployment
	// name (default "mobile-multimodal-llm").
	AppName string
	// ServiceName is the server's Service (default AppName).
	ServiceName string
	// DeploymentName is the server's Deployment (default AppName).
	DeploymentName string
	// ContainerName is the server's container (default "server").
	ContainerName string
	// ServiceLabels select the server's Service (workload.Inference.SelectorLabels).
	ServiceLabels map[string]string
	// MetricsPort is the Service port name to scrape (default "metrics").
	MetricsPort string
	// ScrapeInterval is how often Prometheus scrapes (default "30s", the guide's).
	ScrapeInterval string
	// PrometheusLabels are the labels the Prometheus selects its
	// ServiceMonitors and PrometheusRules by (PrometheusStack.SelectorLabels).
	PrometheusLabels map[string]string
	// DashboardNamespace is where the Grafana sidecar looks for dashboard
	// ConfigMaps (PrometheusStack.NamespaceName).
	DashboardNamespace string
	// RunbookURL, when set, is linked from every alert.
	RunbookURL string
	// AlertLabels are added to every alert (routing, team).
	AlertLabels map[string]string
}

// Inference is the inference server's monitoring.
type Inference struct {
	pulumi.ResourceState

	// ServiceMonitorName is the ServiceMonitor's name.
	ServiceMonitorName pulumi.StringOutput `pulumi:"serviceMonitorName"`
	// PrometheusRuleName is the PrometheusRule's name.
	PrometheusRuleName pulumi.StringOutput `pulumi:"prometheusRuleName"`
	// DashboardConfigMapName is the dashboard ConfigMap's name.
	DashboardConfigMapName pulumi.StringOutput `pulumi:"dashboardConfigMapName"`
}

func (args InferenceArgs) withDefaults() InferenceArgs {
	a := args
	a.PartOf = cmp.Or(a.PartOf, kube.DefaultPartOf)
	a.AppName = cmp.Or(a.AppName, "mobile-multimodal-llm")
	a.ServiceName = cmp.Or(a.ServiceName, a.AppName)
	a.DeploymentName = cmp.Or(a.DeploymentName, a.AppName)
	a.ContainerName = cmp.Or(a.ContainerName, "server")
	a.MetricsPort = cmp.Or(a.MetricsPort, "metrics")
	a.ScrapeInterval = cmp.Or(a.ScrapeInterval, "30s")
	return a
}

func (a InferenceArgs) validate() error {
	c := kube.NewChecker("monitoring.NewInference")
	c.Name("Namespace", a.Namespace)
	c.Labels("PartOf", map[string]string{kube.PartOfLabel: a.PartOf}, true)
	c.Name("AppName", a.AppName)
	c.Name("ServiceName", a.ServiceName)
	c.Name("DeploymentName", a.DeploymentName)
	c.Name("ContainerName", a.ContainerName)
	c.Labels("ServiceLabels", a.ServiceLabels, true)
	c.Name("MetricsPort", a.MetricsPort)
	if !retentionPattern.MatchString(a.ScrapeInterval) {
		c.Failf("ScrapeInterval", "%q is not a Prometheus duration such as 30s", a.ScrapeInterval)
	}
	c.Labels("PrometheusLabels", a.PrometheusLabels, true)
	c.Name("DashboardNamespace", a.DashboardNamespace)
	if a.RunbookURL != "" {
		c.URL("RunbookURL", a.RunbookURL)
	}
	c.Labels("AlertLabels", a.AlertLabels, false)
	if _, ok := a.AlertLabels["severity"]; ok {
		c.Failf("AlertLabels", "must not set severity; each alert sets its own")
	}
	return c.Err()
}

// target is what the rules and the dashboard watch.
func (a InferenceArgs) target() Target {
	return Target{Namespace: a.Namespace, Service: a.ServiceName, Deployment: a.DeploymentName, Container: a.ContainerName}
}

// NewInference creates the inference server's ServiceMonitor,
// PrometheusRule and Grafana dashboard. Pass the Kubernetes provider with
// pulumi.Provider, and pulumi.DependsOn the PrometheusStack (for the CRDs)
// and the workload (for the namespace).
func NewInference(ctx *pulumi.Context, name string, args *InferenceArgs, opts ...pulumi.ResourceOption) (*Inference, error) {
	if err := kube.CheckCall("monitoring.NewInference", name, args); err != nil {
		return nil, err
	}
	a := args.withDefaults()
	if err := a.validate(); err != nil {
		return nil, err
	}
	dashboard, err := DashboardJSON(a.AppName, "Mobile Multi-Modal LLM", DashboardPanels(a.target()))
	if err != nil {
		return nil, fmt.Errorf("monitoring.NewInference %q: %w", name, err)
	}
	groups, err := plain(AlertRules(a.target(), a.RunbookURL, a.AlertLabels))
	if err != nil {
		return nil, fmt.Errorf("monitoring.NewInference %q: %w", name, err)
	}
	comp := &Inference{}
	if err := ctx.RegisterComponentResource(InferenceTypeToken, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("monitoring.NewInference %q: %w", name, err)
	}
	labels := kube.Labels(a.PartOf, a.AppName, name, "monitoring")
	promLabels := kube.Merge(labels, a.PrometheusLabels)
	child := pulumi.Parent(comp)
	sm, err := apiextensions.NewCustomResource(ctx, name+"-servicemonitor", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String(operatorAPIVersion),
		Kind:       pulumi.String("ServiceMonitor"),
		Metadata:   kube.Metadata(a.AppName, a.Namespace, promLabels),
		OtherFields: kubernetes.UntypedArgs{"spec": map[string]any{
			"selector":          map[string]any{"matchLabels": a.ServiceLabels},
			"namespaceSelector": map[string]any{"matchNames": []string{a.Namespace}},
			"endpoints": []any{map[string]any{
				"port": a.MetricsPort, "path": "/metrics", "interval": a.ScrapeInterval, "scrapeTimeout": "10s",
			}},
		}},
	}, child)
	if err != nil {
		return nil, fmt.Errorf("monitoring.NewInference %q: service monitor: %w", name, err)
	}
	pr, err := apiextensions.NewCustomResource(ctx, name+"-rules", &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String(operatorAPIVersion),
		Kind:        pulumi.String("PrometheusRule"),
		Metadata:    kube.Metadata(a.AppName, a.Namespace, promLabels),
		OtherFields: kubernetes.UntypedArgs{"spec": map[string]any{"groups": groups}},
	}, child)
	if err != nil {
		return nil, fmt.Errorf("monitoring.NewInference %q: prometheus rule: %w", name, err)
	}
	cm, err := corev1.NewConfigMap(ctx, name+"-dashboard", &corev1.ConfigMapArgs{
		Metadata: kube.Metadata(a.AppName+"-dashboard", a.DashboardNamespace,
			kube.Merge(labels, map[string]string{DashboardLabel: DashboardLabelValue})),
		Data: pulumi.StringMap{a.AppName + ".json": pulumi.String(dashboard)},
	}, child)
	if err != nil {
		return nil, fmt.Errorf("monitoring.NewInference %q: dashboard: %w", name, err)
	}
	comp.ServiceMonitorName = sm.Metadata.Name().Elem()
	comp.PrometheusRuleName = pr.Metadata.Name().Elem()
	comp.DashboardConfigMapName = cm.Metadata.Name().Elem()
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"serviceMonitorName":     comp.ServiceMonitorName,
		"prometheusRuleName":     comp.PrometheusRuleName,
		"dashboardConfigMapName": comp.DashboardConfigMapName,
	}); err != nil {
		return nil, fmt.Errorf("monitoring.NewInference %q: %w", name, err)
	}
	return comp, nil
}

// plain turns rule groups into the JSON-like values a CustomResource's
// untyped fields carry.
func plain(groups []RuleGroup) ([]any, error) {
	b, err := json.Marshal(groups)
	if err != nil {
		return nil, fmt.Errorf("alert rules: %w", err)
	}
	var out []any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("alert rules: %w", err)
	}
	return out, nil
}
