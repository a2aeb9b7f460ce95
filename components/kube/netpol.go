package kube

import (
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Peer selects pods by podLabels in the namespace named namespace (selected
// by its kubernetes.io/metadata.name label); empty podLabels select every
// pod of that namespace, and an empty namespace means the policy's own.
func Peer(namespace string, podLabels map[string]string) networkingv1.NetworkPolicyPeerArgs {
	p := networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{MatchLabels: StringMap(podLabels)}}
	if namespace != "" {
		p.NamespaceSelector = MatchLabels(map[string]string{NamespaceNameLabel: namespace})
	}
	return p
}

// Ports returns NetworkPolicy ports of one protocol ("TCP" or "UDP").
func Ports(protocol string, ports ...int) networkingv1.NetworkPolicyPortArray {
	out := make(networkingv1.NetworkPolicyPortArray, 0, len(ports))
	for _, p := range ports {
		out = append(out, networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String(protocol), Port: pulumi.Int(p)})
	}
	return out
}

// PolicyTypes lists both directions: a policy that names both and lists no
// rule for one of them denies that direction.
func PolicyTypes() pulumi.StringArray { return StringArray("Ingress", "Egress") }
