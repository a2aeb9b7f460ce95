package policies

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// PartOfLabel is the label every Kubernetes object of the project carries,
// with the project's name as its value.
const PartOfLabel = "app.kubernetes.io/part-of"

// PodSecurityEnforceLabel is the Namespace label that sets the Pod Security
// admission level.
const PodSecurityEnforceLabel = "pod-security.kubernetes.io/enforce"

func checkPodSecurityLabels(r Resource, _ StackInfo) ([]string, error) {
	if r.k8sKind() != "Namespace" {
		return nil, nil
	}
	labels, err := props(r).at("metadata", "labels").stringMap()
	if err != nil {
		return nil, err
	}
	level := labels[PodSecurityEnforceLabel]
	if level == "restricted" {
		return nil, nil
	}
	gpuOperator := isGPUOperatorNamespace(r.k8sName()) || labels[ComponentLabel] == "gpu-operator"
	if (gpuOperator || isChaosMeshNamespace(labels)) && (level == "privileged" || level == "baseline") {
		return nil, nil
	}
	if level == "" {
		return []string{fmt.Sprintf("has no %s label; set it to restricted (only the GPU operator's and Chaos Mesh's namespaces may be privileged)", PodSecurityEnforceLabel)}, nil
	}
	return []string{fmt.Sprintf("enforces Pod Security level %q; set %s to restricted (only the GPU operator's namespace, %s, and Chaos Mesh's, labelled %s=%s and %s=%s, may be privileged)",
		level, PodSecurityEnforceLabel, strings.Join(gpuOperatorNamespaces, " or "), NameLabel, ChaosMeshName, ComponentLabel, ChaosComponent)}, nil
}

// Chaos Mesh's namespace is the second exception to Pod Security
// "restricted": its chaos-daemon runs privileged in the host's PID
// namespace with the container runtime's socket mounted. The namespace is
// recognised by its labels, both of them, as components/chaos sets them,
// not by its name, so that another namespace called chaos-mesh is not
// exempt by accident.
const (
	// NameLabel is the standard label naming the application.
	NameLabel = "app.kubernetes.io/name"
	// ChaosMeshName is NameLabel's value on Chaos Mesh's namespace.
	ChaosMeshName = "chaos-mesh"
	// ChaosComponent is ComponentLabel's value on Chaos Mesh's namespace.
	ChaosComponent = "chaos"
)

// isChaosMeshNamespace reports whether a Namespace's labels mark it as
// Chaos Mesh's.
func isChaosMeshNamespace(labels map[string]string) bool {
	return labels[NameLabel] == ChaosMeshName && labels[ComponentLabel] == ChaosComponent
}

// internalLoadBalancerAnnotations are the cloud annotations that make a
// LoadBalancer Service internal, with the value that does.
var internalLoadBalancerAnnotations = map[string]string{
	"service.beta.kubernetes.io/aws-load-balancer-internal":   "true",
	"service.beta.kubernetes.io/aws-load-balancer-scheme":     "internal",
	"networking.gke.io/load-balancer-type":                    "internal",
	"cloud.google.com/load-balancer-type":                     "internal",
	"service.beta.kubernetes.io/azure-load-balancer-internal": "true",
}

func checkPublicServices(r Resource, _ StackInfo) ([]string, error) {
	if r.k8sKind() != "Service" {
		return nil, nil
	}
	typ, _, err := props(r).at("spec", "type").str()
	if err != nil {
		return nil, err
	}
	var msgs []string
	switch typ {
	case "NodePort":
		msgs = append(msgs, "is a NodePort Service, reachable on every node; use ClusterIP behind the Ingress")
	case "LoadBalancer":
		ann, err := props(r).at("metadata", "annotations").stringMap()
		if err != nil {
			return nil, err
		}
		internal := false
		for k, want := range internalLoadBalancerAnnotations {
			internal = internal || strings.EqualFold(ann[k], want)
		}
		if !internal {
			msgs = append(msgs, "is a public LoadBalancer Service; use ClusterIP behind the TLS Ingress, or annotate it as an internal load balancer")
		}
	}
	ips, err := props(r).at("spec", "externalIPs").strings()
	if err != nil {
		return msgs, err
	}
	if len(ips) > 0 {
		msgs = append(msgs, fmt.Sprintf("exposes externalIPs %v; remove spec.externalIPs", ips))
	}
	return msgs, nil
}

func checkIngressTLS(r Resource, _ StackInfo) ([]string, error) {
	if r.k8sKind() != "Ingress" {
		return nil, nil
	}
	tls, err := props(r).at("spec", "tls").items()
	if err != nil {
		return nil, err
	}
	if len(tls) == 0 {
		return []string{"has no spec.tls; add a TLS entry with a certificate Secret covering its hosts"}, nil
	}
	var covered []string
	for _, t := range tls {
		hosts, err := t.key("hosts").strings()
		if err != nil {
			return nil, err
		}
		covered = append(covered, hosts...)
	}
	rules, err := props(r).at("spec", "rules").items()
	if err != nil {
		return nil, err
	}
	var msgs []string
	for _, rule := range rules {
		host, set, err := rule.key("host").str()
		if err != nil {
			return msgs, err
		}
		if set && host != "" && !slices.ContainsFunc(covered, func(c string) bool { return hostMatches(c, host) }) {
			msgs = append(msgs, fmt.Sprintf("serves host %q without TLS; add it to spec.tls[].hosts", host))
		}
	}
	return msgs, nil
}

// hostMatches reports whether a TLS host (possibly "*.example.com") covers
// host.
func hostMatches(pattern, host string) bool {
	if rest, ok := strings.CutPrefix(pattern, "*."); ok {
		_, parent, found := strings.Cut(host, ".")
		return found && parent == rest
	}
	return pattern == host
}

func checkWildcardRBAC(r Resource, _ StackInfo) ([]string, error) {
	if kind := r.k8sKind(); kind != "Role" && kind != "ClusterRole" {
		return nil, nil
	}
	rules, err := props(r).key("rules").items()
	if err != nil {
		return nil, err
	}
	var msgs []string
	for i, rule := range rules {
		var wild []string
		for _, field := range []string{"apiGroups", "resources", "verbs", "nonResourceURLs"} {
			vals, err := rule.key(field).strings()
			if err != nil {
				return msgs, err
			}
			if slices.Contains(vals, "*") {
				wild = append(wild, field)
			}
		}
		if len(wild) > 0 {
			msgs = append(msgs, fmt.Sprintf("rule %d grants \"*\" in %s; list the exact API groups, resources and verbs needed", i, strings.Join(wild, ", ")))
		}
	}
	return msgs, nil
}

func checkClusterAdminBinding(r Resource, _ StackInfo) ([]string, error) {
	if kind := r.k8sKind(); kind != "RoleBinding" && kind != "ClusterRoleBinding" {
		return nil, nil
	}
	name, _, err := props(r).at("roleRef", "name").str()
	if err != nil {
		return nil, err
	}
	if name == "cluster-admin" {
		return []string{"binds the cluster-admin ClusterRole; bind a Role with only the permissions needed"}, nil
	}
	return nil, nil
}

// minReplicas is the fewest replicas an autoscaler may scale to.
func minReplicas(stack StackInfo) int64 {
	if stack.Production {
		return 3
	}
	return 2
}

// autoscalerOf reads an autoscaler's minimum replicas field and default:
// HorizontalPodAutoscaler spec.minReplicas (default 1) or KEDA ScaledObject
// spec.minReplicaCount (default 0). ok is false for other resources.
func autoscalerOf(r Resource) (field string, def int64, ok bool) {
	switch {
	case r.k8sKind() == "HorizontalPodAutoscaler":
		return "minReplicas", 1, true
	case r.k8sKind() == "ScaledObject" && strings.HasPrefix(r.Type, "kubernetes:keda.sh/"):
		return "minReplicaCount", 0, true
	}
	return "", 0, false
}

func checkAutoscalerMin(r Resource, stack StackInfo) ([]string, error) {
	field, def, ok := autoscalerOf(r)
	if !ok {
		return nil, nil
	}
	floor, set, err := props(r).at("spec", field).integer()
	if err != nil {
		return nil, err
	}
	if !set {
		floor = def
	}
	want := minReplicas(stack)
	if floor >= want {
		return nil, nil
	}
	where := "a non-production stack"
	if stack.Production {
		where = "a production stack"
	}
	return []string{fmt.Sprintf("may scale down to %d replicas (spec.%s); set spec.%s to at least %d in %s", floor, field, field, want, where)}, nil
}

// exactVersion is an exact chart version: semver, optionally with a v.
var exactVersion = regexp.MustCompile(`^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

func checkHelmChartPinned(r Resource, _ StackInfo) ([]string, error) {
	if !r.is("kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart") {
		return nil, nil
	}
	chart, _, err := props(r).key("chart").str()
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(chart, "./") || strings.HasPrefix(chart, "../") || strings.HasPrefix(chart, "/") {
		return nil, nil // a chart in the repository is pinned by the commit
	}
	version, set, err := props(r).key("version").str()
	if err != nil {
		return nil, err
	}
	switch {
	case !set || version == "":
		return []string{fmt.Sprintf("does not pin the version of chart %q; set version to an exact release", chart)}, nil
	case !exactVersion.MatchString(version):
		return []string{fmt.Sprintf("pins chart %q to %q, which is not one release; set version to an exact release", chart, version)}, nil
	}
	return nil, nil
}

func checkK8sLabels(r Resource, _ StackInfo) ([]string, error) {
	if r.k8sKind() == "" {
		return nil, nil
	}
	labels, err := props(r).at("metadata", "labels").stringMap()
	if err != nil {
		return nil, err
	}
	if labels[PartOfLabel] == "" {
		return []string{fmt.Sprintf("has no metadata.labels[%q]; label it with the project's name", PartOfLabel)}, nil
	}
	return nil, nil
}
