package gpu

import (
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/internal/mocktest"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

func run(t *testing.T, args *Args) *mocktest.Mocks {
	t.Helper()
	return mocktest.MustRunWithProvider(t, "dev", func(ctx *pulumi.Context, k8s pulumi.ResourceOption) error {
		_, err := NewSupport(ctx, "gpu", args, k8s)
		return err
	})
}

func TestDevicePlugin(t *testing.T) {
	m := run(t, &Args{NodeSelector: map[string]string{"k8s.amazonaws.com/accelerator": "nvidia-tesla-t4"}})
	ns := m.One(t, "kubernetes:core/v1:Namespace", "gpu-operator").Plain()
	labels := ns["metadata"].(map[string]any)["labels"].(map[string]any)
	require.Equal(t, "privileged", labels["pod-security.kubernetes.io/enforce"])
	require.Equal(t, "gpu-operator", labels["app.kubernetes.io/component"])

	ds := m.One(t, "kubernetes:apps/v1:DaemonSet", "nvidia-device-plugin").Plain()
	require.Equal(t, "gpu-operator", mocktest.At(ds, "metadata", "namespace"))
	pod := mocktest.At(ds, "spec", "template", "spec").(map[string]any)
	require.Contains(t, pod["tolerations"], map[string]any{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"})
	require.Equal(t, map[string]any{"k8s.amazonaws.com/accelerator": "nvidia-tesla-t4"}, pod["nodeSelector"])
	require.Equal(t, "system-node-critical", pod["priorityClassName"])
	require.Equal(t, false, pod["automountServiceAccountToken"])
	require.Equal(t, "/var/lib/kubelet/device-plugins", mocktest.At(pod, "volumes", 0, "hostPath", "path"))
	c := mocktest.At(pod, "containers", 0).(map[string]any)
	require.Equal(t, DefaultDevicePluginImage, c["image"])
	require.Equal(t, false, mocktest.At(c, "securityContext", "allowPrivilegeEscalation"))
	require.Equal(t, []any{"ALL"}, mocktest.At(c, "securityContext", "capabilities", "drop"))

	np := m.One(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "default-deny").Plain()
	require.Equal(t, []any{"Ingress", "Egress"}, mocktest.At(np, "spec", "policyTypes"))
	require.Empty(t, m.OfType("kubernetes:helm.sh/v3:Release"))

	// The hostPath mount and root user pass only because of the GPU
	// operator namespace exception; everything else is checked in full.
	require.Empty(t, m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule"))
}

func TestOperator(t *testing.T) {
	m := run(t, &Args{Mode: Operator, Namespace: "nvidia-gpu-operator", ServiceMonitorLabels: map[string]string{"release": "kps"}})
	rel := m.OfType("kubernetes:helm.sh/v3:Release")
	require.Len(t, rel, 1)
	r := rel[0].Plain()
	require.Equal(t, "gpu-operator", r["chart"])
	require.Equal(t, DefaultOperatorChartVersion, r["version"])
	require.Equal(t, "nvidia-gpu-operator", r["namespace"])
	require.Equal(t, DefaultOperatorRepo, mocktest.At(r, "repositoryOpts", "repo"))
	require.Equal(t, false, mocktest.At(r, "values", "driver", "enabled"), "the node image's driver is used")
	require.Equal(t, true, mocktest.At(r, "values", "dcgmExporter", "serviceMonitor", "enabled"))
	require.Equal(t, true, mocktest.At(r, "values", "dcgmExporter", "serviceMonitor", "honorLabels"))
	require.Equal(t, map[string]any{"release": "kps"}, mocktest.At(r, "values", "dcgmExporter", "serviceMonitor", "additionalLabels"))
	require.Empty(t, m.OfType("kubernetes:apps/v1:DaemonSet"))
	require.Equal(t, "privileged", mocktest.At(m.One(t, "kubernetes:core/v1:Namespace", "nvidia-gpu-operator").Plain(),
		"metadata", "labels", "pod-security.kubernetes.io/enforce"))
	require.Empty(t, m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule"), "the chart version is pinned")
}

func TestSupportRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name string
		args Args
		want string
	}{
		{"unknown mode", Args{Mode: "gpu-magic"}, `Mode: is "gpu-magic"`},
		{"other namespace", Args{Namespace: "kube-system"}, "Namespace:"},
		{"floating image", Args{DevicePluginImage: "nvcr.io/nvidia/k8s-device-plugin"}, "DevicePluginImage:"},
		{"driver without operator", Args{InstallDriver: true}, "InstallDriver:"},
		{"chart range", Args{Mode: Operator, OperatorChartVersion: "~24.9"}, "OperatorChartVersion:"},
		{"selector with operator", Args{Mode: Operator, NodeSelector: map[string]string{"gpu": "true"}}, "NodeSelector:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mocktest.RequireRejected(t, mocktest.Construct(NewSupport, "gpu", &tt.args), "gpu.NewSupport: invalid args", tt.want)
		})
	}
	mocktest.RequireRejected(t, mocktest.Construct(NewSupport, "gpu", nil), "gpu.NewSupport: args are required")
}
