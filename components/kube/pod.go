package kube

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Pod Security admission levels
// (https://kubernetes.io/docs/concepts/security/pod-security-standards/).
const (
	// PodSecurityRestricted is the level every namespace of the project enforces.
	PodSecurityRestricted = "restricted"
	// PodSecurityPrivileged is the level only the GPU operator's namespace may
	// enforce (the policies' documented exception).
	PodSecurityPrivileged = "privileged"
)

// GPUResource is the extended resource NVIDIA's device plugin advertises.
const GPUResource = "nvidia.com/gpu"

// PodSecurityLabels returns the Namespace labels that enforce, audit and
// warn at level, against the latest version of the standards.
func PodSecurityLabels(level string) map[string]string {
	return map[string]string{
		"pod-security.kubernetes.io/enforce":         level,
		"pod-security.kubernetes.io/enforce-version": "latest",
		"pod-security.kubernetes.io/audit":           level,
		"pod-security.kubernetes.io/warn":            level,
	}
}

// NewNamespace creates the Namespace name enforcing Pod Security level, with
// labels.
func NewNamespace(ctx *pulumi.Context, resourceName, name, level string, labels map[string]string,
	opts ...pulumi.ResourceOption) (*corev1.Namespace, error) {
	ns, err := corev1.NewNamespace(ctx, resourceName, &corev1.NamespaceArgs{
		Metadata: Metadata(name, "", Merge(labels, PodSecurityLabels(level))),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("namespace %q: %w", name, err)
	}
	return ns, nil
}

// NewServiceAccount creates a ServiceAccount that does not automount its API
// token: none of the project's pods call the Kubernetes API.
func NewServiceAccount(ctx *pulumi.Context, resourceName, name, namespace string, labels map[string]string,
	opts ...pulumi.ResourceOption) (*corev1.ServiceAccount, error) {
	sa, err := corev1.NewServiceAccount(ctx, resourceName, &corev1.ServiceAccountArgs{
		Metadata:                     Metadata(name, namespace, labels),
		AutomountServiceAccountToken: pulumi.Bool(false),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("service account %s/%s: %w", namespace, name, err)
	}
	return sa, nil
}

// RestrictedPodSecurityContext is the deployment guide's pod securityContext:
// non-root with UID, GID and fsGroup uid, and the RuntimeDefault seccomp
// profile.
func RestrictedPodSecurityContext(uid int) *corev1.PodSecurityContextArgs {
	return &corev1.PodSecurityContextArgs{
		RunAsNonRoot:   pulumi.Bool(true),
		RunAsUser:      pulumi.Int(uid),
		RunAsGroup:     pulumi.Int(uid),
		FsGroup:        pulumi.Int(uid),
		SeccompProfile: &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
}

// RestrictedContainerSecurityContext is the deployment guide's container
// securityContext: no privilege escalation, a read-only root filesystem,
// every capability dropped, non-root, RuntimeDefault seccomp.
func RestrictedContainerSecurityContext() *corev1.SecurityContextArgs {
	return &corev1.SecurityContextArgs{
		AllowPrivilegeEscalation: pulumi.Bool(false),
		ReadOnlyRootFilesystem:   pulumi.Bool(true),
		RunAsNonRoot:             pulumi.Bool(true),
		Capabilities:             &corev1.CapabilitiesArgs{Drop: StringArray("ALL")},
		SeccompProfile:           &corev1.SeccompProfileArgs{Type: pulumi.String("RuntimeDefault")},
	}
}

// GPUTolerations tolerates the taint GPU node pools carry (key
// nvidia.com/gpu, effect NoSchedule; GKE adds it itself).
func GPUTolerations() corev1.TolerationArray {
	return corev1.TolerationArray{corev1.TolerationArgs{
		Key: pulumi.String(GPUResource), Operator: pulumi.String("Exists"), Effect: pulumi.String("NoSchedule"),
	}}
}

// SecretFileMode is the mode of mounted Secret files: readable by the owner
// and the pod's fsGroup (the non-root user's group), by nobody else.
const SecretFileMode = 0o440

// SecretVolume is a volume of the Secret secretName's keys as files of mode
// SecretFileMode.
func SecretVolume(volume string, secretName pulumi.StringInput) corev1.VolumeArgs {
	return corev1.VolumeArgs{Name: pulumi.String(volume), Secret: &corev1.SecretVolumeSourceArgs{
		SecretName: secretName, DefaultMode: pulumi.Int(SecretFileMode),
	}}
}
