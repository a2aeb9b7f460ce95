package policies

import (
	"fmt"
	"slices"
	"strings"
)

// Resource is one resource as the rules see it: its Pulumi type token and
// its input properties as plain JSON-like values (map[string]any, []any,
// string, float64, bool, nil, Unknown, Opaque). Kubernetes objects carry the
// object itself ("metadata", "spec", ...), as the pulumi-kubernetes provider
// receives it.
type Resource struct {
	// URN is the resource's Pulumi URN; it may be empty in tests.
	URN string
	// Type is the type token, e.g. "kubernetes:apps/v1:Deployment".
	Type string
	// Name is the logical name the program gave the resource.
	Name string
	// ID is the provider's physical ID when known (stack checks, mocks).
	ID string
	// Props are the resource's input properties.
	Props map[string]any
	// PropertyDeps maps a top-level property to the URNs of the resources
	// its value was computed from; stack rules use it to link a companion
	// resource (a bucket's versioning) to the resource it configures even
	// when the linking value is unknown during a preview.
	PropertyDeps map[string][]string
	// Provider holds the inputs of the resource's explicit provider, if any
	// (an AWS provider's defaultTags apply to every resource it manages).
	Provider map[string]any
}

// StackInfo is what rules know about the stack being checked.
type StackInfo struct {
	// Name is the stack's name.
	Name string
	// Production marks a production stack: some rules are stricter there
	// (three autoscaler replicas, replicated buckets, backups, alerts).
	Production bool
}

// NewStackInfo returns the StackInfo of the stack name, production when the
// stack's configured environment is "production" or "prod" or, with no
// environment configured, when one of the name's dash-, dot- or
// underscore-separated words is "prod" or "production".
func NewStackInfo(name, environment string) StackInfo {
	env := strings.ToLower(strings.TrimSpace(environment))
	if env != "" {
		return StackInfo{Name: name, Production: env == "production" || env == "prod"}
	}
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return r == '-' || r == '.' || r == '_' || r == '/'
	})
	prod := slices.ContainsFunc(words, func(w string) bool { return w == "prod" || w == "production" })
	return StackInfo{Name: name, Production: prod}
}

// typeParts splits a type token "pkg:module:Name" into its parts; for
// azure-native the API version suffix of the module ("storage/v20230101")
// is dropped, so rules match every version of a resource.
func typeParts(token string) (pkg, module, name string) {
	parts := strings.Split(token, ":")
	if len(parts) != 3 {
		return "", "", ""
	}
	pkg, module, name = parts[0], parts[1], parts[2]
	if pkg == "azure-native" {
		module, _, _ = strings.Cut(module, "/")
	}
	return pkg, module, name
}

// normalType is the token with the azure-native module version dropped.
func normalType(token string) string {
	pkg, module, name := typeParts(token)
	if pkg == "" {
		return token
	}
	return pkg + ":" + module + ":" + name
}

// is reports whether the resource has one of the type tokens.
func (r Resource) is(tokens ...string) bool {
	return slices.Contains(tokens, normalType(r.Type))
}

// kubernetesModulesWithoutObjects are pulumi-kubernetes modules whose
// resources are not Kubernetes objects themselves.
var kubernetesModulesWithoutObjects = []string{"helm.sh", "yaml", "kustomize"}

// k8sKind returns the Kubernetes kind of a pulumi-kubernetes object
// resource ("Deployment"), or "" for anything else, including Helm releases,
// YAML groups and the server-side-apply Patch resources.
func (r Resource) k8sKind() string {
	pkg, module, name := typeParts(r.Type)
	if pkg != "kubernetes" {
		return ""
	}
	group, _, _ := strings.Cut(module, "/")
	if slices.Contains(kubernetesModulesWithoutObjects, group) || strings.HasSuffix(name, "Patch") ||
		strings.HasSuffix(name, "List") {
		return ""
	}
	return name
}

// label names the resource in messages: its kind and logical name.
func (r Resource) label() string {
	_, _, kind := typeParts(r.Type)
	if kind == "" {
		kind = "resource"
	}
	return fmt.Sprintf("%s %q", kind, r.Name)
}

// k8sNamespace returns a Kubernetes object's namespace, "default" when it is
// not set and "(unknown)" when it is computed.
func (r Resource) k8sNamespace() string {
	n := props(r).at("metadata", "namespace")
	if _, ok := n.v.(Unknown); ok {
		return "(unknown)"
	}
	return n.nameOr("default")
}

// k8sName returns a Kubernetes object's metadata.name, or the logical name
// when metadata.name is not a known string (Pulumi auto-names it).
func (r Resource) k8sName() string {
	return props(r).at("metadata", "name").nameOr(r.Name)
}

// dependsOn reports whether the property prop of r was computed from the
// resource with URN urn.
func (r Resource) dependsOn(prop, urn string) bool {
	return urn != "" && slices.Contains(r.PropertyDeps[prop], urn)
}
