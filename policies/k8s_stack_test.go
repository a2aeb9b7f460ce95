package policies

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	typeDeployment = "kubernetes:apps/v1:Deployment"
	typePDB        = "kubernetes:policy/v1:PodDisruptionBudget"
	typeNetPol     = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	typeHPA        = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
)

// stackCase is a case over a whole stack.
func stackCase(name string, stack StackInfo, resources []Resource, msg string, want ...string) ruleCase {
	return ruleCase{name: name, stack: stack, resources: resources, want: want, msg: msg}
}

func pdbWith(v any, path ...any) Resource { return with(good(typePDB, "inference"), v, path...) }

func netpolSelecting(sel m) Resource {
	return res(typeNetPol, "inference-only", m{"metadata": meta("inference-only", "mmllm", nil), "spec": m{"podSelector": sel}})
}

var k8sStackCases = map[string][]ruleCase{
	"k8s-pdb-per-deployment": {
		stackCase("compliant", production, compliantStack(), ""),
		stackCase("no PDB", production, stackWithout(typePDB), "has no PodDisruptionBudget", "inference"),
		stackCase("PDB in another namespace", production, stackWith(pdbWith("other", "metadata", "namespace")), `namespace "mmllm"`, "inference"),
		stackCase("PDB selecting other pods", production, stackWith(pdbWith("api", "spec", "selector", "matchLabels", "app")), "has no PodDisruptionBudget", "inference"),
		stackCase("PDB selecting nothing", production, stackWith(pdbWith(m{}, "spec", "selector")), "has no PodDisruptionBudget", "inference"),
		stackCase("PDB with matchExpressions", production, stackWith(pdbWith(m{"matchExpressions": l{m{"key": "app", "operator": "In", "values": l{"inference", "api"}}}},
			"spec", "selector")), ""),
		stackCase("PDB selector of the wrong shape", production, stackWith(pdbWith(m{"matchExpressions": l{m{"key": "app", "operator": "Near"}}},
			"spec", "selector")), "", "inference", "inference"),
	},
	"k8s-network-policy-coverage": {
		stackCase("default deny covers all", production, compliantStack(), ""),
		stackCase("no NetworkPolicy", production, stackWithout(typeNetPol), "no NetworkPolicy selects", "inference", "redis", "device-plugin", "backup"),
		stackCase("policy for one app", production, append(stackWithout(typeNetPol), netpolSelecting(m{"matchLabels": m{"app": "inference"}})), "",
			"redis", "device-plugin", "backup"),
		stackCase("NotIn expression", production, append(stackWithout(typeNetPol), netpolSelecting(m{"matchExpressions": l{m{"key": "app", "operator": "NotIn", "values": l{"redis"}}}})), "",
			"redis", "device-plugin"),
		stackCase("unreadable workload", production, stackWith(with(good(typeDeployment, "inference"), 3.0, "spec", "template", "spec", "containers")),
			"cannot be checked", "inference"),
	},
	"k8s-autoscaler-owns-replicas": {
		stackCase("compliant", production, compliantStack(), ""),
		stackCase("replicas under an HPA", production, stackWith(with(good(typeDeployment, "inference"), 3.0, "spec", "replicas")),
			`HorizontalPodAutoscaler "inference"`, "inference"),
		stackCase("replicas under a ScaledObject found by dependency", production, scaledByDependency(), `ScaledObject "inference"`, "inference"),
		stackCase("replicas without an autoscaler", production, stackWith(with(api(), 3.0, "spec", "replicas")), ""),
	},
}

// scaledByDependency is the compliant stack with the HPA replaced by a
// ScaledObject whose target name is unknown (computed from the Deployment)
// and a Deployment that fixes its replicas.
func scaledByDependency() []Resource {
	so := res("kubernetes:keda.sh/v1alpha1:ScaledObject", "inference", m{"metadata": meta("inference", "mmllm", nil),
		"spec": m{"minReplicaCount": 3.0, "scaleTargetRef": m{"name": Unknown{}}}})
	dep := with(good(typeDeployment, "inference"), 2.0, "spec", "replicas")
	dep = with(dep, deleted, "metadata", "name")
	so.PropertyDeps = map[string][]string{"spec": {dep.URN}}
	var out []Resource
	for _, r := range stackWith(dep) {
		if !r.is(typeHPA) {
			out = append(out, r)
		}
	}
	return append(out, so)
}

func TestK8sStackRules(t *testing.T) { runCases(t, k8sStackCases) }

func TestSelectorMatches(t *testing.T) {
	labels := map[string]string{"app": "inference", "tier": "gpu"}
	for _, c := range []struct {
		sel  m
		want bool
	}{
		{m{}, true},
		{m{"matchLabels": m{"app": "inference"}}, true},
		{m{"matchLabels": m{"app": "redis"}}, false},
		{m{"matchExpressions": l{m{"key": "tier", "operator": "Exists"}}}, true},
		{m{"matchExpressions": l{m{"key": "zone", "operator": "DoesNotExist"}}}, true},
		{m{"matchExpressions": l{m{"key": "tier", "operator": "DoesNotExist"}}}, false},
		{m{"matchExpressions": l{m{"key": "tier", "operator": "NotIn", "values": l{"gpu"}}}}, false},
		{m{"matchLabels": m{"app": "inference"}, "matchExpressions": l{m{"key": "tier", "operator": "In", "values": l{"cpu"}}}}, false},
	} {
		s, err := parseSelector(node{v: c.sel})
		require.NoError(t, err)
		require.Equal(t, c.want, s.matches(labels), "%v", c.sel)
	}
}
