// Package keda installs KEDA, the autoscaler the inference workload's
// ScaledObject needs: its operator creates and owns the HPA, and its
// metrics server serves the Prometheus queue-length trigger to it.
package keda

import (
	"cmp"
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the Operator component's type.
const TypeToken = "mobile-mm-llm:keda:Operator"

// Chart defaults.
const (
	// DefaultChartVersion is the pinned kedacore/keda chart version.
	DefaultChartVersion = "2.18.1"
	// DefaultChartRepo is KEDA's Helm repository.
	DefaultChartRepo = "https://kedacore.github.io/charts"
)

// Args configures an Operator; every field has a default.
type Args struct {
	// Namespace is created, enforcing Pod Security "restricted" (default "keda").
	Namespace string
	// PartOf is the app.kubernetes.io/part-of label (default kube.DefaultPartOf).
	PartOf string
	// ChartVersion is the exact chart version (default DefaultChartVersion).
	ChartVersion string
	// ChartRepo is the chart repository (default DefaultChartRepo).
	ChartRepo string
}

// Operator is the installed KEDA.
type Operator struct {
	pulumi.ResourceState

	// Namespace is the created namespace's name.
	Namespace pulumi.StringOutput `pulumi:"namespace"`
}

func (args Args) withDefaults() Args {
	a := args
	a.Namespace = cmp.Or(a.Namespace, "keda")
	a.PartOf = cmp.Or(a.PartOf, kube.DefaultPartOf)
	a.ChartVersion = cmp.Or(a.ChartVersion, DefaultChartVersion)
	a.ChartRepo = cmp.Or(a.ChartRepo, DefaultChartRepo)
	return a
}

func (a Args) validate() error {
	c := kube.NewChecker("keda.NewOperator")
	c.Name("Namespace", a.Namespace)
	c.Labels("PartOf", map[string]string{kube.PartOfLabel: a.PartOf}, true)
	c.ChartVersion("ChartVersion", a.ChartVersion)
	c.URL("ChartRepo", a.ChartRepo)
	return c.Err()
}

// NewOperator installs KEDA (its CRDs, operator, metrics API server and
// admission webhooks). Pass the Kubernetes provider with pulumi.Provider;
// the workload's ScaledObject should pulumi.DependsOn it.
func NewOperator(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Operator, error) {
	if err := kube.CheckCall("keda.NewOperator", name, args); err != nil {
		return nil, err
	}
	a := args.withDefaults()
	if err := a.validate(); err != nil {
		return nil, err
	}
	comp := &Operator{}
	if err := ctx.RegisterComponentResource(TypeToken, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("keda.NewOperator %q: %w", name, err)
	}
	labels := kube.Labels(a.PartOf, "keda", name, "autoscaling")
	ns, err := kube.NewNamespace(ctx, name+"-namespace", a.Namespace, kube.PodSecurityRestricted, labels, pulumi.Parent(comp))
	if err != nil {
		return nil, fmt.Errorf("keda.NewOperator %q: %w", name, err)
	}
	if _, err := helmv3.NewRelease(ctx, name+"-release", &helmv3.ReleaseArgs{
		Name:           pulumi.String("keda"),
		Chart:          pulumi.String("keda"),
		Version:        pulumi.String(a.ChartVersion),
		Namespace:      ns.Metadata.Name().Elem(),
		RepositoryOpts: &helmv3.RepositoryOptsArgs{Repo: pulumi.String(a.ChartRepo)},
		Atomic:         pulumi.Bool(true),
	}, pulumi.Parent(comp)); err != nil {
		return nil, fmt.Errorf("keda.NewOperator %q: release: %w", name, err)
	}
	comp.Namespace = ns.Metadata.Name().Elem()
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{"namespace": comp.Namespace}); err != nil {
		return nil, fmt.Errorf("keda.NewOperator %q: %w", name, err)
	}
	return comp, nil
}
