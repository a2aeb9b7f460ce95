package stack

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Cluster is where a stack deploys: a component that yields the
// Kubernetes provider every workload component is given, and the cluster's
// kubeconfig. The method set is that of components/global/cloud.Cluster,
// so the cloud clusters (EKS, GKE, AKS) plug in as they are; each kind is
// one case of NewCluster.
type Cluster interface {
	pulumi.ComponentResource
	// KubernetesProvider is the provider for the cluster.
	KubernetesProvider() *kubernetes.Provider
	// KubeconfigSecret is the cluster's kubeconfig, a secret.
	KubeconfigSecret() pulumi.StringOutput
}

// ExistingClusterTypeToken is the ExistingCluster component's type.
const ExistingClusterTypeToken = "mobile-mm-llm:cluster:Existing"

// ExistingCluster is a cluster the stack does not create: it is reached
// through a kubeconfig from secret config.
type ExistingCluster struct {
	pulumi.ResourceState

	provider   *kubernetes.Provider
	kubeconfig pulumi.StringOutput
}

// KubernetesProvider implements Cluster.
func (c *ExistingCluster) KubernetesProvider() *kubernetes.Provider { return c.provider }

// KubeconfigSecret implements Cluster.
func (c *ExistingCluster) KubeconfigSecret() pulumi.StringOutput { return c.kubeconfig }

// ExistingClusterArgs configures an ExistingCluster.
type ExistingClusterArgs struct {
	// Kubeconfig is the cluster's kubeconfig (required, a secret).
	Kubeconfig pulumi.StringInput
	// Context selects one of its contexts (default its current-context).
	Context string
}

// NewExistingCluster returns the provider for an existing cluster, parented
// to the component.
func NewExistingCluster(ctx *pulumi.Context, name string, args *ExistingClusterArgs, opts ...pulumi.ResourceOption) (*ExistingCluster, error) {
	switch {
	case args == nil:
		return nil, fmt.Errorf("NewExistingCluster: args are required")
	case name == "":
		return nil, fmt.Errorf("NewExistingCluster: name is required")
	case args.Kubeconfig == nil:
		return nil, fmt.Errorf("NewExistingCluster %q: Kubeconfig is required", name)
	}
	c := &ExistingCluster{kubeconfig: pulumi.ToSecret(args.Kubeconfig.ToStringOutput()).(pulumi.StringOutput)}
	if err := ctx.RegisterComponentResource(ExistingClusterTypeToken, name, c, opts...); err != nil {
		return nil, fmt.Errorf("NewExistingCluster %q: %w", name, err)
	}
	pa := &kubernetes.ProviderArgs{Kubeconfig: c.kubeconfig}
	if args.Context != "" {
		pa.Context = pulumi.String(args.Context)
	}
	p, err := kubernetes.NewProvider(ctx, name+"-k8s", pa, pulumi.Parent(c))
	if err != nil {
		return nil, fmt.Errorf("NewExistingCluster %q: kubernetes provider: %w", name, err)
	}
	c.provider = p
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{"kubeconfig": c.kubeconfig}); err != nil {
		return nil, fmt.Errorf("NewExistingCluster %q: %w", name, err)
	}
	return c, nil
}

// NewCluster creates (or adopts) the cluster of the configured kind. The
// cloud kinds of issue 6 add a case each, reading their config section and
// secrets here, in the program.
func NewCluster(ctx *pulumi.Context, name string, cfg *Config, sec Secrets) (Cluster, error) {
	switch cfg.Cluster.Kind {
	case ClusterExisting:
		return NewExistingCluster(ctx, name, &ExistingClusterArgs{Kubeconfig: sec.Kubeconfig, Context: cfg.Cluster.Context})
	default:
		return nil, fmt.Errorf("%s.kind: %q is not a cluster kind this program can deploy to", FullKey("cluster"), cfg.Cluster.Kind)
	}
}
