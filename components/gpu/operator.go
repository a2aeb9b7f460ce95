package gpu

import (
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// operator installs the gpu-operator chart. Its objects are opaque to the
// engine (a helm.sh/v3 Release), so they are judged by the namespace's Pod
// Security level; no NetworkPolicy is added, as the operator and its
// validators talk to the API server and to each other.
func (b builder) operator() error {
	values := pulumi.Map{
		"driver":  pulumi.Map{"enabled": pulumi.Bool(b.a.InstallDriver)},
		"toolkit": pulumi.Map{"enabled": pulumi.Bool(true)},
		// honorLabels keeps the exporter's pod and namespace labels (those of
		// the pod using the GPU), which the dashboard's GPU panel selects on.
		"dcgmExporter": pulumi.Map{"serviceMonitor": pulumi.Map{
			"enabled":          pulumi.Bool(true),
			"honorLabels":      pulumi.Bool(true),
			"additionalLabels": kube.StringMap(b.a.ServiceMonitorLabels),
		}},
	}
	if _, err := helmv3.NewRelease(b.ctx, b.name+"-operator", &helmv3.ReleaseArgs{
		Name:           pulumi.String("gpu-operator"),
		Chart:          pulumi.String("gpu-operator"),
		Version:        pulumi.String(b.a.OperatorChartVersion),
		Namespace:      b.ns,
		RepositoryOpts: &helmv3.RepositoryOptsArgs{Repo: pulumi.String(b.a.OperatorRepo)},
		Values:         values,
		// The chart installs its CRDs (ClusterPolicy, NVIDIADriver).
		SkipCrds: pulumi.Bool(false),
		Atomic:   pulumi.Bool(true),
		Timeout:  pulumi.Int(900),
	}, pulumi.Parent(b.comp)); err != nil {
		return fmt.Errorf("gpu-operator release: %w", err)
	}
	return nil
}
