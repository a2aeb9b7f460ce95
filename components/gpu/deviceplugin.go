package gpu

import (
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// devicePluginDir is where the kubelet looks for device plugin sockets.
const devicePluginDir = "/var/lib/kubelet/device-plugins"

func (b builder) meta(name string) *metav1.ObjectMetaArgs {
	m := kube.Metadata(name, "", b.labels)
	m.Namespace = b.ns
	return m
}

// devicePlugin creates NVIDIA's device plugin DaemonSet, its
// ServiceAccount, and a NetworkPolicy denying the namespace all traffic: the
// plugin talks to the kubelet over a unix socket only.
func (b builder) devicePlugin() error {
	const name = "nvidia-device-plugin"
	child := pulumi.Parent(b.comp)
	sa, err := corev1.NewServiceAccount(b.ctx, b.name+"-sa", &corev1.ServiceAccountArgs{
		Metadata: b.meta(name), AutomountServiceAccountToken: pulumi.Bool(false),
	}, child)
	if err != nil {
		return fmt.Errorf("service account: %w", err)
	}
	selector := kube.Selector(name, b.name)
	// The image has no health endpoint and upstream defines no probes: the
	// probes check that the plugin binary runs in the container (the driver
	// libraries it loads are mounted by the runtime).
	probe := func() *corev1.ProbeArgs {
		return &corev1.ProbeArgs{
			Exec:          &corev1.ExecActionArgs{Command: kube.StringArray("nvidia-device-plugin", "--version")},
			PeriodSeconds: pulumi.Int(60), TimeoutSeconds: pulumi.Int(10),
		}
	}
	container := corev1.ContainerArgs{
		Name:  pulumi.String("nvidia-device-plugin"),
		Image: pulumi.String(b.a.DevicePluginImage),
		Env: corev1.EnvVarArray{
			// Idle instead of crash-looping on nodes without GPUs.
			corev1.EnvVarArgs{Name: pulumi.String("FAIL_ON_INIT_ERROR"), Value: pulumi.String("false")},
		},
		SecurityContext: &corev1.SecurityContextArgs{
			AllowPrivilegeEscalation: pulumi.Bool(false),
			Capabilities:             &corev1.CapabilitiesArgs{Drop: kube.StringArray("ALL")},
			SeccompProfile:           &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
		},
		Resources:      kube.Resources{CPURequest: "50m", CPULimit: "200m", MemoryRequest: "64Mi", MemoryLimit: "256Mi"}.Requirements(nil),
		LivenessProbe:  probe(),
		ReadinessProbe: probe(),
		VolumeMounts: corev1.VolumeMountArray{corev1.VolumeMountArgs{
			Name: pulumi.String("device-plugins"), MountPath: pulumi.String(devicePluginDir),
		}},
	}
	tolerations := append(kube.GPUTolerations(), corev1.TolerationArgs{
		Key: pulumi.String("CriticalAddonsOnly"), Operator: pulumi.String("Exists"),
	})
	pod := &corev1.PodSpecArgs{
		ServiceAccountName:           sa.Metadata.Name().Elem(),
		AutomountServiceAccountToken: pulumi.Bool(false),
		PriorityClassName:            pulumi.String("system-node-critical"),
		Tolerations:                  tolerations,
		Containers:                   corev1.ContainerArray{container},
		Volumes: corev1.VolumeArray{corev1.VolumeArgs{
			Name:     pulumi.String("device-plugins"),
			HostPath: &corev1.HostPathVolumeSourceArgs{Path: pulumi.String(devicePluginDir), Type: pulumi.String("Directory")},
		}},
	}
	if len(b.a.NodeSelector) > 0 {
		pod.NodeSelector = kube.StringMap(b.a.NodeSelector)
	}
	if _, err := appsv1.NewDaemonSet(b.ctx, b.name+"-device-plugin", &appsv1.DaemonSetArgs{
		Metadata: b.meta(name),
		Spec: &appsv1.DaemonSetSpecArgs{
			Selector:       kube.MatchLabels(selector),
			UpdateStrategy: &appsv1.DaemonSetUpdateStrategyArgs{Type: pulumi.String("RollingUpdate")},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: kube.StringMap(kube.Merge(b.labels, selector))},
				Spec:     pod,
			},
		},
	}, child); err != nil {
		return fmt.Errorf("device plugin daemon set: %w", err)
	}
	if _, err := networkingv1.NewNetworkPolicy(b.ctx, b.name+"-default-deny", &networkingv1.NetworkPolicyArgs{
		Metadata: b.meta("default-deny"),
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: &metav1.LabelSelectorArgs{},
			PolicyTypes: kube.PolicyTypes(),
		},
	}, child); err != nil {
		return fmt.Errorf("network policy: %w", err)
	}
	return nil
}
