// Package kube holds what the project's Kubernetes components share: the
// standard labels, object metadata, Pod Security namespace labels, the
// restricted security contexts, container resources, NetworkPolicy peers and
// the Args checker that names the offending key in every error.
package kube

import (
	"maps"
	"slices"

	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Standard label keys (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/).
const (
	// NameLabel names the application.
	NameLabel = "app.kubernetes.io/name"
	// InstanceLabel names one installation of the application.
	InstanceLabel = "app.kubernetes.io/instance"
	// ComponentLabel names the object's role ("inference", "cache").
	ComponentLabel = "app.kubernetes.io/component"
	// PartOfLabel names the project; the policy rules require it on every object.
	PartOfLabel = "app.kubernetes.io/part-of"
	// ManagedByLabel names the tool that manages the object.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// NamespaceNameLabel is the label Kubernetes (1.21+) puts on every
	// Namespace with its own name; NetworkPolicies select namespaces by it.
	NamespaceNameLabel = "kubernetes.io/metadata.name"
)

// DefaultPartOf is the value of PartOfLabel when Args leave it empty.
const DefaultPartOf = "mobile-mm-llm"

// Labels returns the standard labels of an object of application app,
// installation instance and role component, part of partOf.
func Labels(partOf, app, instance, component string) map[string]string {
	return map[string]string{
		NameLabel:      app,
		InstanceLabel:  instance,
		ComponentLabel: component,
		PartOfLabel:    partOf,
		ManagedByLabel: "pulumi",
	}
}

// Selector returns the labels that select the pods of one installation of
// an application: the stable subset of Labels.
func Selector(app, instance string) map[string]string {
	return map[string]string{NameLabel: app, InstanceLabel: instance}
}

// Merge returns one map with every entry of ms; later maps win.
func Merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

// StringMap converts a plain map to a Pulumi input.
func StringMap(m map[string]string) pulumi.StringMap {
	out := make(pulumi.StringMap, len(m))
	for k, v := range m {
		out[k] = pulumi.String(v)
	}
	return out
}

// StringArray converts plain strings to a Pulumi input.
func StringArray(ss ...string) pulumi.StringArray {
	out := make(pulumi.StringArray, 0, len(ss))
	for _, s := range ss {
		out = append(out, pulumi.String(s))
	}
	return out
}

// Metadata returns object metadata with an explicit name (so Services keep
// stable DNS names and runbooks can name the objects), a namespace ("" for
// cluster-scoped objects) and labels.
func Metadata(name, namespace string, labels map[string]string) *metav1.ObjectMetaArgs {
	m := &metav1.ObjectMetaArgs{Name: pulumi.String(name), Labels: StringMap(labels)}
	if namespace != "" {
		m.Namespace = pulumi.String(namespace)
	}
	return m
}

// MatchLabels returns a label selector matching exactly labels.
func MatchLabels(labels map[string]string) *metav1.LabelSelectorArgs {
	return &metav1.LabelSelectorArgs{MatchLabels: StringMap(labels)}
}

// SortedKeys returns m's keys in order, for deterministic output.
func SortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
