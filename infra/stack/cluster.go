package stack

import (
	"fmt"
	"path/filepath"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Cluster is where a stack deploys: a component that yields the
// Kubernetes provider every workload component is given, and the cluster's
// kubeconfig. The method set is that of components/global/cloud.Cluster,
// so the cloud clusters (aws.Cluster, gcp.Cluster, azure.Cluster) plug in
// as they are; each kind is one case of NewCluster.
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
// through a kubeconfig from secret config, or not at all in render mode,
// where the provider writes the manifests to a directory.
type ExistingCluster struct {
	pulumi.ResourceState

	provider   *kubernetes.Provider
	kubeconfig pulumi.StringOutput
}

// KubernetesProvider implements Cluster.
func (c *ExistingCluster) KubernetesProvider() *kubernetes.Provider { return c.provider }

// KubeconfigSecret implements Cluster; empty in render mode.
func (c *ExistingCluster) KubeconfigSecret() pulumi.StringOutput { return c.kubeconfig }

// ExistingClusterArgs configures an ExistingCluster: Kubeconfig, or
// RenderDir.
type ExistingClusterArgs struct {
	// Kubeconfig is the cluster's kubeconfig (a secret; required unless
	// RenderDir is set).
	Kubeconfig pulumi.StringInput
	// Context selects one of its contexts (default its current-context).
	Context string
	// RenderDir, if set, makes the provider write every manifest as YAML
	// under this directory instead of applying it (renderYamlToDirectory).
	RenderDir string
}

// NewExistingCluster returns the provider for an existing cluster, parented
// to the component.
func NewExistingCluster(ctx *pulumi.Context, name string, args *ExistingClusterArgs, opts ...pulumi.ResourceOption) (*ExistingCluster, error) {
	switch {
	case args == nil:
		return nil, fmt.Errorf("NewExistingCluster: args are required")
	case name == "":
		return nil, fmt.Errorf("NewExistingCluster: name is required")
	case args.Kubeconfig == nil && args.RenderDir == "":
		return nil, fmt.Errorf("NewExistingCluster %q: Kubeconfig is required (or RenderDir, to render the manifests)", name)
	case args.Kubeconfig != nil && args.RenderDir != "":
		return nil, fmt.Errorf("NewExistingCluster %q: Kubeconfig and RenderDir exclude each other: render mode reaches no cluster", name)
	}
	kubeconfig := args.Kubeconfig
	if kubeconfig == nil {
		kubeconfig = pulumi.String("")
	}
	c := &ExistingCluster{kubeconfig: pulumi.ToSecret(kubeconfig.ToStringOutput()).(pulumi.StringOutput)}
	if err := ctx.RegisterComponentResource(ExistingClusterTypeToken, name, c, opts...); err != nil {
		return nil, fmt.Errorf("NewExistingCluster %q: %w", name, err)
	}
	pa := &kubernetes.ProviderArgs{}
	if args.RenderDir != "" {
		pa.RenderYamlToDirectory = pulumi.String(args.RenderDir)
	} else {
		pa.Kubeconfig = c.kubeconfig
	}
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

// RenderPath resolves cluster.renderDir: a relative path is taken from
// root, the project's root directory (ctx.RootDirectory(), where
// Pulumi.yaml is), so that the manifests land in the same place whatever
// directory the program or the provider runs in; root "" (under mocks)
// keeps it as it is.
func RenderPath(root, renderDir string) string {
	if renderDir == "" || filepath.IsAbs(renderDir) || root == "" {
		return renderDir
	}
	return filepath.Join(root, renderDir)
}

// NewCluster creates (or adopts) the cluster of the configured kind: an
// existing one through the secret kubeconfig (or rendered to
// cluster.renderDir), or an EKS, GKE or AKS cluster of components/aws, gcp
// or azure through the providers p (NewCloudProviders; nil for existing).
// Every kind is a Cluster, so what deploys on it does not depend on the
// kind.
func NewCluster(ctx *pulumi.Context, name string, cfg *Config, sec Secrets, p *CloudProviders) (Cluster, error) {
	switch {
	case cfg.Cluster.Kind == ClusterExisting:
		return NewExistingCluster(ctx, name, &ExistingClusterArgs{Kubeconfig: sec.Kubeconfig, Context: cfg.Cluster.Context,
			RenderDir: RenderPath(ctx.RootDirectory(), cfg.Cluster.RenderDir)})
	case cfg.CloudKind() && p != nil:
		return newCloudCluster(ctx, name, cfg, p)
	case cfg.CloudKind():
		return nil, fmt.Errorf("%s.kind: %q needs its cloud providers (NewCloudProviders)", FullKey("cluster"), cfg.Cluster.Kind)
	default:
		return nil, fmt.Errorf("%s.kind: %q is not a cluster kind this program can deploy to", FullKey("cluster"), cfg.Cluster.Kind)
	}
}
