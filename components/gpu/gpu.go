// Package gpu makes NVIDIA GPUs schedulable: either NVIDIA's device plugin
// as a DaemonSet (for node images that already carry the driver and
// container toolkit, such as EKS accelerated AMIs and GKE's GPU nodes) or
// the NVIDIA GPU operator as a Helm release (driver, toolkit, device plugin
// and DCGM exporter). Both run in their own namespace, the one namespace the
// policies allow to enforce Pod Security "privileged".
package gpu

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the Support component's type.
const TypeToken = "mobile-mm-llm:gpu:Support"

// Mode chooses how GPUs are made available.
type Mode string

const (
	// DevicePlugin runs only NVIDIA's device plugin DaemonSet: the node
	// image provides the driver and the container toolkit.
	DevicePlugin Mode = "device-plugin"
	// Operator installs the NVIDIA GPU operator chart, which manages the
	// driver, the toolkit, the device plugin and the DCGM exporter.
	Operator Mode = "operator"
)

// Namespaces NVIDIA documents for the operator: the policies exempt
// workloads in these (and only these) from the hardening rules, because the
// device plugin writes the kubelet's socket directory as root.
var namespaces = []string{"gpu-operator", "nvidia-gpu-operator"}

// Defaults.
const (
	// DefaultDevicePluginImage is the pinned device plugin image.
	DefaultDevicePluginImage = "nvcr.io/nvidia/k8s-device-plugin:v0.17.1"
	// DefaultOperatorChartVersion is the pinned gpu-operator chart version.
	DefaultOperatorChartVersion = "v24.9.2"
	// DefaultOperatorRepo is NVIDIA's Helm repository.
	DefaultOperatorRepo = "https://helm.ngc.nvidia.com/nvidia"
)

// Args configures a Support.
type Args struct {
	// Mode is DevicePlugin (default) or Operator.
	Mode Mode
	// Namespace is created, enforcing Pod Security "privileged"; it must be
	// "gpu-operator" (default) or "nvidia-gpu-operator".
	Namespace string
	// PartOf is the app.kubernetes.io/part-of label (default kube.DefaultPartOf).
	PartOf string
	// NodeSelector restricts the device plugin to GPU nodes (optional: on
	// other nodes it idles, as FAIL_ON_INIT_ERROR is false). DevicePlugin
	// mode only: the operator finds GPU nodes itself.
	NodeSelector map[string]string
	// DevicePluginImage is the device plugin image (default DefaultDevicePluginImage).
	DevicePluginImage string
	// OperatorChartVersion is the exact gpu-operator chart version
	// (default DefaultOperatorChartVersion).
	OperatorChartVersion string
	// OperatorRepo is the chart repository (default DefaultOperatorRepo).
	OperatorRepo string
	// InstallDriver makes the operator install the NVIDIA driver; leave it
	// false where the node image has one.
	InstallDriver bool
	// ServiceMonitorLabels are put on the operator's DCGM exporter
	// ServiceMonitor so that Prometheus selects it (monitoring.
	// PrometheusStack.SelectorLabels); the GPU utilization panel needs it.
	ServiceMonitorLabels map[string]string
}

// Support is the GPU plumbing of a cluster.
type Support struct {
	pulumi.ResourceState

	// Namespace is the created namespace's name.
	Namespace pulumi.StringOutput `pulumi:"namespace"`
	// Mode is the mode deployed.
	Mode pulumi.StringOutput `pulumi:"mode"`
}

func (args Args) withDefaults() Args {
	a := args
	a.Mode = cmp.Or(a.Mode, DevicePlugin)
	a.Namespace = cmp.Or(a.Namespace, namespaces[0])
	a.PartOf = cmp.Or(a.PartOf, kube.DefaultPartOf)
	a.DevicePluginImage = cmp.Or(a.DevicePluginImage, DefaultDevicePluginImage)
	a.OperatorChartVersion = cmp.Or(a.OperatorChartVersion, DefaultOperatorChartVersion)
	a.OperatorRepo = cmp.Or(a.OperatorRepo, DefaultOperatorRepo)
	return a
}

func (a Args) validate() error {
	c := kube.NewChecker("gpu.NewSupport")
	if a.Mode != DevicePlugin && a.Mode != Operator {
		c.Failf("Mode", "is %q; use %q or %q", a.Mode, DevicePlugin, Operator)
	}
	if !slices.Contains(namespaces, a.Namespace) {
		c.Failf("Namespace", "is %q; use %q or %q, the only namespaces the policies let run privileged pods",
			a.Namespace, namespaces[0], namespaces[1])
	}
	c.Labels("PartOf", map[string]string{kube.PartOfLabel: a.PartOf}, true)
	c.Labels("NodeSelector", a.NodeSelector, false)
	c.Labels("ServiceMonitorLabels", a.ServiceMonitorLabels, false)
	switch a.Mode {
	case DevicePlugin:
		c.Image("DevicePluginImage", a.DevicePluginImage)
		if a.InstallDriver {
			c.Failf("InstallDriver", "needs Mode %q; the device plugin uses the node's driver", Operator)
		}
	case Operator:
		c.ChartVersion("OperatorChartVersion", a.OperatorChartVersion)
		c.URL("OperatorRepo", a.OperatorRepo)
		if len(a.NodeSelector) > 0 {
			c.Failf("NodeSelector", "needs Mode %q; the operator finds GPU nodes through node feature discovery", DevicePlugin)
		}
	}
	return c.Err()
}

// NewSupport deploys the GPU plumbing. Pass the Kubernetes provider with
// pulumi.Provider.
func NewSupport(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Support, error) {
	if err := kube.CheckCall("gpu.NewSupport", name, args); err != nil {
		return nil, err
	}
	a := args.withDefaults()
	if err := a.validate(); err != nil {
		return nil, err
	}
	comp := &Support{}
	if err := ctx.RegisterComponentResource(TypeToken, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("gpu.NewSupport %q: %w", name, err)
	}
	// The component label marks the namespace as the GPU operator's for the
	// policies, whatever the mode.
	labels := kube.Labels(a.PartOf, "nvidia-gpu", name, "gpu-operator")
	ns, err := kube.NewNamespace(ctx, name+"-namespace", a.Namespace, kube.PodSecurityPrivileged, labels, pulumi.Parent(comp))
	if err != nil {
		return nil, fmt.Errorf("gpu.NewSupport %q: %w", name, err)
	}
	b := builder{ctx: ctx, name: name, a: a, comp: comp, labels: labels, ns: ns.Metadata.Name().Elem()}
	if a.Mode == Operator {
		err = b.operator()
	} else {
		err = b.devicePlugin()
	}
	if err != nil {
		return nil, fmt.Errorf("gpu.NewSupport %q: %w", name, err)
	}
	comp.Namespace = b.ns
	comp.Mode = pulumi.String(string(a.Mode)).ToStringOutput()
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{"namespace": comp.Namespace, "mode": comp.Mode}); err != nil {
		return nil, fmt.Errorf("gpu.NewSupport %q: %w", name, err)
	}
	return comp, nil
}

type builder struct {
	ctx    *pulumi.Context
	name   string
	a      Args
	comp   *Support
	labels map[string]string
	ns     pulumi.StringOutput
}
