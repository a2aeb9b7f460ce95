// Package cloud holds what the per-cloud components (components/aws, gcp,
// azure) share: the Cluster interface the infra program plugs clusters in
// through, the exec-plugin kubeconfig and the Kubernetes provider built from
// it, and the required cost-allocation tags.
package cloud

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"
)

// Cluster is a managed Kubernetes cluster component (aws.Cluster,
// gcp.Cluster, azure.Cluster): the workload components deploy through its
// provider.
type Cluster interface {
	pulumi.ComponentResource
	// KubernetesProvider is the provider for the cluster, parented to the
	// component and built from its kubeconfig.
	KubernetesProvider() *kubernetes.Provider
	// KubeconfigSecret is the cluster's kubeconfig, a secret output.
	KubeconfigSecret() pulumi.StringOutput
}

// Access is embedded by every cluster component: the cluster's kubeconfig
// and the Kubernetes provider built from it. It implements the Cluster
// interface's accessors.
type Access struct {
	// Kubeconfig is the cluster's kubeconfig (secret).
	Kubeconfig pulumi.StringOutput `pulumi:"kubeconfig"`
	// Provider is the Kubernetes provider for the cluster.
	Provider *kubernetes.Provider
}

// KubernetesProvider implements Cluster.
func (a *Access) KubernetesProvider() *kubernetes.Provider { return a.Provider }

// KubeconfigSecret implements Cluster.
func (a *Access) KubeconfigSecret() pulumi.StringOutput { return a.Kubeconfig }

// New is every cloud component's constructor protocol: nil args or an
// empty name fail at once (kube.CheckCall); prepare fills defaults and
// reports every bad field naming its Args key, so that nothing is
// registered from bad config; then comp is registered as a component of
// type typ and build creates its children and registers its outputs.
// Errors name the constructor fn ("aws.NewCluster") and the component.
func New[A any, C pulumi.ComponentResource](ctx *pulumi.Context, fn, typ, name string, args *A, comp C, opts []pulumi.ResourceOption,
	prepare func(A) (A, error), build func(A) error) (C, error) {
	var none C
	if err := kube.CheckCall(fn, name, args); err != nil {
		return none, err
	}
	a, err := prepare(*args)
	if err != nil {
		return none, err
	}
	if err := ctx.RegisterComponentResource(typ, name, comp, opts...); err != nil {
		return none, fmt.Errorf("%s %q: %w", fn, name, err)
	}
	if err := build(a); err != nil {
		return none, fmt.Errorf("%s %q: %w", fn, name, err)
	}
	return comp, nil
}

// Exec is the client-go credential plugin a kubeconfig runs to get a token
// (aws eks get-token, gke-gcloud-auth-plugin).
type Exec struct {
	// Command is the plugin executable.
	Command string
	// Args are its arguments.
	Args []string
	// Env is extra environment for it.
	Env map[string]string
	// InstallHint is printed by kubectl when Command is missing.
	InstallHint string
	// ProvideClusterInfo passes the cluster's server and CA to the plugin.
	ProvideClusterInfo bool
}

// KubeconfigArgs describe a one-cluster, one-user kubeconfig.
type KubeconfigArgs struct {
	// Name names the cluster, user and context.
	Name string
	// Server is the API server URL (https://...).
	Server string
	// CAData is the base64-encoded PEM of the API server's CA.
	CAData string
	// Exec is the credential plugin.
	Exec Exec
}

// kubeconfig mirrors the parts of clientcmd's v1 Config the project writes.
type kubeconfig struct {
	APIVersion     string         `yaml:"apiVersion"`
	Kind           string         `yaml:"kind"`
	Clusters       []namedCluster `yaml:"clusters"`
	Users          []namedUser    `yaml:"users"`
	Contexts       []namedContext `yaml:"contexts"`
	CurrentContext string         `yaml:"current-context"`
}

type namedCluster struct {
	Name    string `yaml:"name"`
	Cluster struct {
		Server string `yaml:"server"`
		CAData string `yaml:"certificate-authority-data"`
	} `yaml:"cluster"`
}

type envVar struct {
	Name  string `yaml:"name"`
	Value string `yaml:"value"`
}

type namedUser struct {
	Name string `yaml:"name"`
	User struct {
		Exec struct {
			APIVersion         string   `yaml:"apiVersion"`
			Command            string   `yaml:"command"`
			Args               []string `yaml:"args,omitempty"`
			Env                []envVar `yaml:"env,omitempty"`
			InteractiveMode    string   `yaml:"interactiveMode"`
			InstallHint        string   `yaml:"installHint,omitempty"`
			ProvideClusterInfo bool     `yaml:"provideClusterInfo,omitempty"`
		} `yaml:"exec"`
	} `yaml:"user"`
}

type namedContext struct {
	Name    string `yaml:"name"`
	Context struct {
		Cluster string `yaml:"cluster"`
		User    string `yaml:"user"`
	} `yaml:"context"`
}

// ExecAPIVersion is the client.authentication.k8s.io version the
// kubeconfigs ask their plugins for (aws and gke-gcloud-auth-plugin speak it).
const ExecAPIVersion = "client.authentication.k8s.io/v1beta1"

// Kubeconfig renders a kubeconfig for a and returns it as YAML. Server and
// CAData may be empty while a preview has not created the cluster.
func Kubeconfig(a KubeconfigArgs) (string, error) {
	if a.Name == "" || a.Exec.Command == "" {
		return "", fmt.Errorf("kubeconfig: name (%q) and exec command (%q) are required", a.Name, a.Exec.Command)
	}
	var kc kubeconfig
	kc.APIVersion, kc.Kind, kc.CurrentContext = "v1", "Config", a.Name
	var c namedCluster
	c.Name, c.Cluster.Server, c.Cluster.CAData = a.Name, a.Server, a.CAData
	var u namedUser
	u.Name = a.Name
	e := &u.User.Exec
	e.APIVersion, e.Command, e.Args, e.InteractiveMode = ExecAPIVersion, a.Exec.Command, a.Exec.Args, "Never"
	e.InstallHint, e.ProvideClusterInfo = a.Exec.InstallHint, a.Exec.ProvideClusterInfo
	for _, k := range kube.SortedKeys(a.Exec.Env) {
		e.Env = append(e.Env, envVar{Name: k, Value: a.Exec.Env[k]})
	}
	var x namedContext
	x.Name, x.Context.Cluster, x.Context.User = a.Name, a.Name, a.Name
	kc.Clusters, kc.Users, kc.Contexts = []namedCluster{c}, []namedUser{u}, []namedContext{x}
	out, err := yaml.Marshal(kc)
	if err != nil {
		return "", fmt.Errorf("kubeconfig %q: %w", a.Name, err)
	}
	return string(out), nil
}

// NewKubernetesProvider returns the Kubernetes provider for a cluster
// component: parented to it, configured by kubeconfig (kept secret), and
// created after dependsOn (the node pools, so that workloads scheduled
// through it find nodes).
func NewKubernetesProvider(ctx *pulumi.Context, name string, kubeconfig pulumi.StringOutput, parent pulumi.Resource, dependsOn ...pulumi.Resource) (*kubernetes.Provider, error) {
	p, err := kubernetes.NewProvider(ctx, name+"-k8s", &kubernetes.ProviderArgs{
		Kubeconfig: pulumi.ToSecret(kubeconfig).(pulumi.StringOutput),
	}, pulumi.Parent(parent), pulumi.DependsOn(dependsOn))
	if err != nil {
		return nil, fmt.Errorf("kubernetes provider %q: %w", name+"-k8s", err)
	}
	return p, nil
}

// RequiredTags are the tag (AWS, Azure) or label (GCP) keys every taggable
// resource must carry (the cloud-required-tags policy).
var RequiredTags = []string{"environment", "owner", "cost-center"}

// gcpLabel is a GCP label key or value: lower-case letters, digits, '_' and
// '-', at most 63 characters (keys start with a letter).
var (
	gcpLabelKey   = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	gcpLabelValue = regexp.MustCompile(`^[a-z0-9_-]{0,63}$`)
)

// CheckTags checks that tags hold every RequiredTags key with a non-empty
// value; gcp also applies GCP's label syntax to every entry.
func CheckTags(c *kube.Checker, key string, tags map[string]string, gcp bool) {
	var missing []string
	for _, k := range RequiredTags {
		if strings.TrimSpace(tags[k]) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		c.Failf(key, "lacks %s (required on every cloud resource for cost reports and ownership)", strings.Join(missing, ", "))
	}
	if !gcp {
		return
	}
	for _, k := range kube.SortedKeys(tags) {
		if !gcpLabelKey.MatchString(k) || !gcpLabelValue.MatchString(tags[k]) {
			c.Failf(key, "%q=%q is not a GCP label (lower-case letters, digits, '_' and '-', at most 63 characters)", k, tags[k])
		}
	}
}

// WithTags returns base plus extra (extra wins) as a Pulumi map.
func WithTags(base map[string]string, extra map[string]string) pulumi.StringMap {
	return kube.StringMap(kube.Merge(base, extra))
}

// CheckCIDRs checks an allow-list of API endpoint CIDRs: each must parse
// and none may be the whole internet; required says whether it may be empty.
func CheckCIDRs(c *kube.Checker, key string, cidrs []string, required bool) {
	if required && len(cidrs) == 0 {
		c.Failf(key, "is required: list the operators' and CI's CIDRs allowed to reach the API server")
	}
	for _, v := range cidrs {
		c.CIDR(key, v)
		if slices.Contains([]string{"0.0.0.0/0", "::/0"}, v) {
			c.Failf(key, "%q opens the API server to the whole internet", v)
		}
	}
}
