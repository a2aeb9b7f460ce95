// Package chaos installs Chaos Mesh and the deployment guide's chaos
// experiment: a PodChaos that fails (or kills) a share of the inference
// pods for a while, once or on a cron schedule, so that the autoscaler, the
// PodDisruptionBudget, the readiness probes and the alerts are seen to cope.
// It is opt-in per stack: the infra program calls NewMesh only where the
// stack's config enables chaos.
//
// Chaos Mesh's chaos-daemon runs privileged with the host's PID namespace
// and the container runtime's socket mounted, so its namespace enforces
// Pod Security "privileged"; the controller is installed namespace-scoped
// (clusterScoped: false), so it may only touch pods of the target namespace.
package chaos

import (
	"cmp"
	"fmt"
	"path"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the Mesh component's type.
const TypeToken = "mobile-mm-llm:chaos:Mesh"

// Chart defaults.
const (
	// DefaultChartVersion is the pinned chaos-mesh chart version (its images
	// are the same release).
	DefaultChartVersion = "2.7.3"
	// DefaultChartRepo is Chaos Mesh's Helm repository.
	DefaultChartRepo = "https://charts.chaos-mesh.org"
	// DefaultNamespace is the namespace Chaos Mesh is installed in.
	DefaultNamespace = "chaos-mesh"
	// DefaultPauseImage replaces the containers of a pod-failure target; the
	// chart's default lives on the deprecated gcr.io/google-containers.
	DefaultPauseImage = "registry.k8s.io/pause:3.10"
)

// Runtime is the node's container runtime, which chaos-daemon talks to.
type Runtime string

// The runtimes the chaos-mesh chart supports.
const (
	// Containerd is containerd (EKS, GKE, AKS, kind, k3s).
	Containerd Runtime = "containerd"
	// CRIO is CRI-O (OpenShift).
	CRIO Runtime = "crio"
	// Docker is dockershim-era Docker Engine.
	Docker Runtime = "docker"
)

// defaultSockets are each runtime's usual socket path (k3s keeps
// containerd's under /run/k3s/containerd/containerd.sock: set SocketPath).
var defaultSockets = map[Runtime]string{
	Containerd: "/run/containerd/containerd.sock",
	CRIO:       "/var/run/crio/crio.sock",
	Docker:     "/var/run/docker.sock",
}

// Args configures a Mesh. TargetNamespace and TargetLabels are required;
// every other field has a default.
type Args struct {
	// Namespace is created for Chaos Mesh, enforcing Pod Security
	// "privileged" (default DefaultNamespace).
	Namespace string
	// PartOf is the app.kubernetes.io/part-of label (default kube.DefaultPartOf).
	PartOf string
	// ChartVersion is the exact chart version (default DefaultChartVersion).
	ChartVersion string
	// ChartRepo is the chart repository (default DefaultChartRepo).
	ChartRepo string
	// Runtime is the nodes' container runtime (default Containerd).
	Runtime Runtime
	// SocketPath is the runtime's socket on the nodes (default: the
	// runtime's usual path).
	SocketPath string
	// PauseImage replaces a failed pod's containers (default DefaultPauseImage).
	PauseImage string
	// TargetNamespace is the inference workload's namespace: the only one
	// the namespace-scoped controller may inject chaos into, and where the
	// experiment lives. Pass pulumi.DependsOn the workload, which creates it.
	TargetNamespace string
	// TargetLabels select the inference pods (workload.Inference's
	// SelectorLabels).
	TargetLabels map[string]string
	// Experiment is the PodChaos experiment (default the guide's).
	Experiment Experiment
}

// Mesh is the installed Chaos Mesh and its experiment.
type Mesh struct {
	pulumi.ResourceState

	// Namespace is Chaos Mesh's namespace.
	Namespace pulumi.StringOutput `pulumi:"namespace"`
	// ExperimentKind is "PodChaos" (one run) or "Schedule" (a cron schedule
	// of PodChaos runs).
	ExperimentKind pulumi.StringOutput `pulumi:"experimentKind"`
	// ExperimentName is the experiment object's name in TargetNamespace.
	ExperimentName pulumi.StringOutput `pulumi:"experimentName"`
}

func (args Args) withDefaults() Args {
	a := args
	a.Namespace = cmp.Or(a.Namespace, DefaultNamespace)
	a.PartOf = cmp.Or(a.PartOf, kube.DefaultPartOf)
	a.ChartVersion = cmp.Or(a.ChartVersion, DefaultChartVersion)
	a.ChartRepo = cmp.Or(a.ChartRepo, DefaultChartRepo)
	a.Runtime = cmp.Or(a.Runtime, Containerd)
	a.SocketPath = cmp.Or(a.SocketPath, defaultSockets[a.Runtime])
	a.PauseImage = cmp.Or(a.PauseImage, DefaultPauseImage)
	a.Experiment = a.Experiment.withDefaults()
	return a
}

func (a Args) validate() error {
	c := kube.NewChecker("chaos.NewMesh")
	c.Name("Namespace", a.Namespace)
	c.Labels("PartOf", map[string]string{kube.PartOfLabel: a.PartOf}, true)
	c.ChartVersion("ChartVersion", a.ChartVersion)
	c.URL("ChartRepo", a.ChartRepo)
	c.Image("PauseImage", a.PauseImage)
	c.Required("TargetNamespace", a.TargetNamespace)
	if a.TargetNamespace != "" {
		c.Name("TargetNamespace", a.TargetNamespace)
	}
	if a.TargetNamespace == a.Namespace {
		c.Failf("TargetNamespace", "is Chaos Mesh's own namespace %q; name the inference workload's", a.Namespace)
	}
	c.Labels("TargetLabels", a.TargetLabels, true)
	a.checkSettings(c, func(field string) string { return field })
	return c.Err()
}

// CheckSettings reports to c every bad value among the settings a stack's
// config gives Mesh (Runtime, SocketPath and the Experiment's fields),
// after filling their defaults as NewMesh does. key names a field from its
// Args path ("Runtime", "Experiment.Action"), so that the infra program's
// messages name its config keys; NewMesh checks them again under their
// Args names.
func CheckSettings(c *kube.Checker, args Args, key func(field string) string) {
	args.withDefaults().checkSettings(c, key)
}

// checkSettings checks defaulted settings (see CheckSettings).
func (a Args) checkSettings(c *kube.Checker, key func(field string) string) {
	if _, ok := defaultSockets[a.Runtime]; !ok {
		c.Failf(key("Runtime"), "is %q; use %q, %q or %q", a.Runtime, Containerd, CRIO, Docker)
	}
	if a.SocketPath != "" && (!path.IsAbs(a.SocketPath) || path.Clean(a.SocketPath) != a.SocketPath) {
		c.Failf(key("SocketPath"), "%q is not a clean absolute path such as /run/containerd/containerd.sock", a.SocketPath)
	}
	a.Experiment.validate(c, func(field string) string { return key("Experiment." + field) })
}

// NewMesh installs Chaos Mesh (namespace-scoped to TargetNamespace) and
// creates the experiment against the pods TargetLabels select. Pass the
// Kubernetes provider with pulumi.Provider and pulumi.DependsOn the workload.
func NewMesh(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Mesh, error) {
	if err := kube.CheckCall("chaos.NewMesh", name, args); err != nil {
		return nil, err
	}
	a := args.withDefaults()
	if err := a.validate(); err != nil {
		return nil, err
	}
	comp := &Mesh{}
	if err := ctx.RegisterComponentResource(TypeToken, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("chaos.NewMesh %q: %w", name, err)
	}
	labels := kube.Labels(a.PartOf, "chaos-mesh", name, "chaos")
	// chaos-daemon is privileged, uses the host PID namespace and mounts the
	// runtime socket: nothing below "privileged" admits it.
	ns, err := kube.NewNamespace(ctx, name+"-namespace", a.Namespace, kube.PodSecurityPrivileged, labels, pulumi.Parent(comp))
	if err != nil {
		return nil, fmt.Errorf("chaos.NewMesh %q: %w", name, err)
	}
	release, err := helmv3.NewRelease(ctx, name+"-release", &helmv3.ReleaseArgs{
		Name:           pulumi.String("chaos-mesh"),
		Chart:          pulumi.String("chaos-mesh"),
		Version:        pulumi.String(a.ChartVersion),
		Namespace:      ns.Metadata.Name().Elem(),
		RepositoryOpts: &helmv3.RepositoryOptsArgs{Repo: pulumi.String(a.ChartRepo)},
		Values:         a.values(),
		Atomic:         pulumi.Bool(true),
		Timeout:        pulumi.Int(600),
	}, pulumi.Parent(comp))
	if err != nil {
		return nil, fmt.Errorf("chaos.NewMesh %q: release: %w", name, err)
	}
	e := a.Experiment
	kind, spec := "PodChaos", e.podChaosSpec(a.TargetNamespace, a.TargetLabels)
	if e.Schedule != "" {
		kind, spec = "Schedule", e.scheduleSpec(spec)
	}
	exp, err := apiextensions.NewCustomResource(ctx, name+"-experiment", &apiextensions.CustomResourceArgs{
		ApiVersion:  pulumi.String(APIVersion),
		Kind:        pulumi.String(kind),
		Metadata:    kube.Metadata(e.Name, a.TargetNamespace, labels),
		OtherFields: kubernetes.UntypedArgs{"spec": spec},
		// The CRDs and the validating webhook come with the release.
	}, pulumi.Parent(comp), pulumi.DependsOn([]pulumi.Resource{release}))
	if err != nil {
		return nil, fmt.Errorf("chaos.NewMesh %q: experiment %s: %w", name, kind, err)
	}
	comp.Namespace = ns.Metadata.Name().Elem()
	comp.ExperimentKind = pulumi.String(kind).ToStringOutput()
	comp.ExperimentName = exp.Metadata.Name().Elem()
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"namespace": comp.Namespace, "experimentKind": comp.ExperimentKind, "experimentName": comp.ExperimentName,
	}); err != nil {
		return nil, fmt.Errorf("chaos.NewMesh %q: %w", name, err)
	}
	return comp, nil
}

// values are the chart's values: controller namespace-scoped to the target,
// chaos-daemon on the configured runtime socket, no dashboard (a NodePort
// UI with write access by default; use kubectl and the manifests instead).
func (a Args) values() pulumi.Map {
	return pulumi.Map{
		"clusterScoped": pulumi.Bool(false),
		"controllerManager": pulumi.Map{
			"targetNamespace": pulumi.String(a.TargetNamespace),
			"podChaos": pulumi.Map{"podFailure": pulumi.Map{
				"pauseImage": pulumi.String(a.PauseImage),
			}},
		},
		"chaosDaemon": pulumi.Map{
			"runtime":    pulumi.String(string(a.Runtime)),
			"socketPath": pulumi.String(a.SocketPath),
		},
		"dashboard": pulumi.Map{"create": pulumi.Bool(false)},
		"dnsServer": pulumi.Map{"create": pulumi.Bool(false)},
	}
}
