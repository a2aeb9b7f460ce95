// Package monitoring is Prometheus and Grafana for the project: the
// kube-prometheus-stack chart as a Helm release (PrometheusStack), and the
// inference server's ServiceMonitor, alert rules and Grafana dashboard
// (Inference).
package monitoring

import (
	"cmp"
	"fmt"
	"regexp"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// StackTypeToken is the PrometheusStack component's type.
const StackTypeToken = "mobile-mm-llm:monitoring:PrometheusStack"

// Chart defaults.
const (
	// DefaultChartVersion is the pinned kube-prometheus-stack chart version.
	DefaultChartVersion = "65.1.1"
	// DefaultChartRepo is the prometheus-community Helm repository.
	DefaultChartRepo = "https://prometheus-community.github.io/helm-charts"
	// DefaultReleaseName is the Helm release name; it is also the chart's
	// fullnameOverride, so Service names are predictable.
	DefaultReleaseName = "kube-prometheus-stack"
	// ReleaseLabel is the label the Prometheus selects ServiceMonitors,
	// PodMonitors and PrometheusRules by, with the release name as value.
	ReleaseLabel = "release"
	// DashboardLabel marks ConfigMaps the Grafana dashboard sidecar loads.
	DashboardLabel = "grafana_dashboard"
	// DashboardLabelValue is DashboardLabel's value.
	DashboardLabelValue = "1"
)

// StackArgs configures a PrometheusStack. GrafanaAdminPassword is required.
type StackArgs struct {
	// Namespace is created, enforcing Pod Security "restricted" (default "monitoring").
	Namespace string
	// ReleaseName is the Helm release's name, at most 26 characters (the
	// chart truncates longer ones) (default DefaultReleaseName).
	ReleaseName string
	// PartOf is the app.kubernetes.io/part-of label (default kube.DefaultPartOf).
	PartOf string
	// ChartVersion is the exact chart version (default DefaultChartVersion).
	ChartVersion string
	// ChartRepo is the chart repository (default DefaultChartRepo).
	ChartRepo string
	// GrafanaAdminPassword is Grafana's admin password, from secret config;
	// the chart's well-known default is never used.
	GrafanaAdminPassword pulumi.StringInput
	// Retention is how long Prometheus keeps samples (default "15d").
	Retention string
	// StorageSize, when set, gives Prometheus a PersistentVolumeClaim of that
	// size instead of an emptyDir.
	StorageSize string
	// StorageClass is the claim's StorageClass (default: the cluster's).
	StorageClass string
}

// PrometheusStack is the installed kube-prometheus-stack.
type PrometheusStack struct {
	pulumi.ResourceState

	// Namespace is the created namespace's name.
	Namespace pulumi.StringOutput `pulumi:"namespace"`
	// ReleaseName is the Helm release's name.
	ReleaseName pulumi.StringOutput `pulumi:"releaseName"`
	// PrometheusURL is Prometheus's in-cluster URL.
	PrometheusURL pulumi.StringOutput `pulumi:"prometheusUrl"`

	// URL is PrometheusURL as a plain string, known when NewPrometheusStack
	// returns (for workload.Autoscaling.PrometheusAddress).
	URL string
	// SelectorLabels are the labels ServiceMonitors, PodMonitors and
	// PrometheusRules need for this Prometheus to load them.
	SelectorLabels map[string]string
	// NamespaceName is Namespace as a plain string (Grafana's dashboards go there).
	NamespaceName string
}

// retentionPattern is a Prometheus retention duration.
var retentionPattern = regexp.MustCompile(`^[1-9][0-9]*(ms|s|m|h|d|w|y)$`)

func (args StackArgs) withDefaults() StackArgs {
	a := args
	a.Namespace = cmp.Or(a.Namespace, "monitoring")
	a.ReleaseName = cmp.Or(a.ReleaseName, DefaultReleaseName)
	a.PartOf = cmp.Or(a.PartOf, kube.DefaultPartOf)
	a.ChartVersion = cmp.Or(a.ChartVersion, DefaultChartVersion)
	a.ChartRepo = cmp.Or(a.ChartRepo, DefaultChartRepo)
	a.Retention = cmp.Or(a.Retention, "15d")
	return a
}

func (a StackArgs) validate() error {
	c := kube.NewChecker("monitoring.NewPrometheusStack")
	c.Name("Namespace", a.Namespace)
	c.Name("ReleaseName", a.ReleaseName)
	if len(a.ReleaseName) > 26 {
		c.Failf("ReleaseName", "%q is longer than 26 characters, which the chart truncates, breaking the Service names", a.ReleaseName)
	}
	c.Labels("PartOf", map[string]string{kube.PartOfLabel: a.PartOf}, true)
	c.ChartVersion("ChartVersion", a.ChartVersion)
	c.URL("ChartRepo", a.ChartRepo)
	if a.GrafanaAdminPassword == nil {
		c.Failf("GrafanaAdminPassword", "is required (a secret config value)")
	}
	if !retentionPattern.MatchString(a.Retention) {
		c.Failf("Retention", "%q is not a Prometheus duration such as 15d or 12h", a.Retention)
	}
	if a.StorageSize != "" {
		c.Quantity("StorageSize", a.StorageSize)
	}
	if a.StorageClass != "" {
		c.Name("StorageClass", a.StorageClass)
	}
	return c.Err()
}

// NewPrometheusStack installs kube-prometheus-stack. Pass the Kubernetes
// provider with pulumi.Provider.
func NewPrometheusStack(ctx *pulumi.Context, name string, args *StackArgs, opts ...pulumi.ResourceOption) (*PrometheusStack, error) {
	if err := kube.CheckCall("monitoring.NewPrometheusStack", name, args); err != nil {
		return nil, err
	}
	a := args.withDefaults()
	if err := a.validate(); err != nil {
		return nil, err
	}
	comp := &PrometheusStack{
		URL:            fmt.Sprintf("http://%s-prometheus.%s.svc.cluster.local:9090", a.ReleaseName, a.Namespace),
		SelectorLabels: map[string]string{ReleaseLabel: a.ReleaseName},
		NamespaceName:  a.Namespace,
	}
	if err := ctx.RegisterComponentResource(StackTypeToken, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("monitoring.NewPrometheusStack %q: %w", name, err)
	}
	if err := buildStack(ctx, name, a, comp); err != nil {
		return nil, fmt.Errorf("monitoring.NewPrometheusStack %q: %w", name, err)
	}
	return comp, nil
}

func buildStack(ctx *pulumi.Context, name string, a StackArgs, comp *PrometheusStack) error {
	labels := kube.Labels(a.PartOf, "kube-prometheus-stack", name, "monitoring")
	child := pulumi.Parent(comp)
	ns, err := kube.NewNamespace(ctx, name+"-namespace", a.Namespace, kube.PodSecurityRestricted, labels, child)
	if err != nil {
		return err
	}
	nsName := ns.Metadata.Name().Elem()
	meta := kube.Metadata("grafana-admin", "", labels)
	meta.Namespace = nsName
	admin, err := corev1.NewSecret(ctx, name+"-grafana-admin", &corev1.SecretArgs{
		Metadata: meta,
		Type:     pulumi.String("Opaque"),
		StringData: pulumi.StringMap{
			"admin-user":     pulumi.String("admin"),
			"admin-password": pulumi.ToSecret(a.GrafanaAdminPassword.ToStringOutput()).(pulumi.StringOutput),
		},
	}, child)
	if err != nil {
		return fmt.Errorf("grafana admin secret: %w", err)
	}
	rel, err := helmv3.NewRelease(ctx, name+"-release", &helmv3.ReleaseArgs{
		Name:           pulumi.String(a.ReleaseName),
		Chart:          pulumi.String("kube-prometheus-stack"),
		Version:        pulumi.String(a.ChartVersion),
		Namespace:      nsName,
		RepositoryOpts: &helmv3.RepositoryOptsArgs{Repo: pulumi.String(a.ChartRepo)},
		Values:         stackValues(a, admin.Metadata.Name().Elem()),
		Atomic:         pulumi.Bool(true),
		Timeout:        pulumi.Int(900),
	}, child)
	if err != nil {
		return fmt.Errorf("kube-prometheus-stack release: %w", err)
	}
	comp.Namespace = nsName
	comp.ReleaseName = rel.Name.Elem()
	comp.PrometheusURL = pulumi.String(comp.URL).ToStringOutput()
	return ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"namespace":     comp.Namespace,
		"releaseName":   comp.ReleaseName,
		"prometheusUrl": comp.PrometheusURL,
	})
}

// stackValues are the chart values. The chart's default selectors only pick
// up ServiceMonitors, PodMonitors and PrometheusRules labelled with the
// Helm release's name; the values say so explicitly (in every namespace),
// so the selector does not depend on serviceMonitorSelectorNilUsesHelmValues
// or on how the release was named.
func stackValues(a StackArgs, adminSecret pulumi.StringInput) pulumi.Map {
	release := pulumi.Map{"matchLabels": pulumi.StringMap{ReleaseLabel: pulumi.String(a.ReleaseName)}}
	spec := pulumi.Map{
		"serviceMonitorSelector":          release,
		"serviceMonitorNamespaceSelector": pulumi.Map{},
		"podMonitorSelector":              release,
		"podMonitorNamespaceSelector":     pulumi.Map{},
		"ruleSelector":                    release,
		"ruleNamespaceSelector":           pulumi.Map{},
		"retention":                       pulumi.String(a.Retention),
	}
	if a.StorageSize != "" {
		claim := pulumi.Map{
			"accessModes": pulumi.StringArray{pulumi.String("ReadWriteOnce")},
			"resources":   pulumi.Map{"requests": pulumi.StringMap{"storage": pulumi.String(a.StorageSize)}},
		}
		if a.StorageClass != "" {
			claim["storageClassName"] = pulumi.String(a.StorageClass)
		}
		spec["storageSpec"] = pulumi.Map{"volumeClaimTemplate": pulumi.Map{"spec": claim}}
	}
	return pulumi.Map{
		"fullnameOverride": pulumi.String(a.ReleaseName),
		"prometheus":       pulumi.Map{"prometheusSpec": spec},
		"grafana": pulumi.Map{
			"admin": pulumi.Map{
				"existingSecret": adminSecret,
				"userKey":        pulumi.String("admin-user"),
				"passwordKey":    pulumi.String("admin-password"),
			},
			"sidecar": pulumi.Map{"dashboards": pulumi.Map{
				"enabled":    pulumi.Bool(true),
				"label":      pulumi.String(DashboardLabel),
				"labelValue": pulumi.String(DashboardLabelValue),
			}},
		},
		// node-exporter needs the host's network and PID namespaces and
		// hostPath mounts, which Pod Security "restricted" refuses; the alerts
		// and dashboard use cAdvisor (through the kubelet) and
		// kube-state-metrics instead.
		"nodeExporter": pulumi.Map{"enabled": pulumi.Bool(false)},
	}
}
