package policies

import "testing"

func namespace(name string, labels m) Resource {
	return res("kubernetes:core/v1:Namespace", name, m{"metadata": meta(name, "", labels)})
}

func service(typ string, annotations m) Resource {
	md := meta("api", "mmllm", nil)
	if annotations != nil {
		md["annotations"] = annotations
	}
	return res("kubernetes:core/v1:Service", "api", m{"metadata": md, "spec": m{"type": typ}})
}

func ingress(tls l, hosts ...string) Resource {
	var rules l
	for _, h := range hosts {
		rules = append(rules, m{"host": h})
	}
	spec := m{"rules": rules}
	if tls != nil {
		spec["tls"] = tls
	}
	return res("kubernetes:networking.k8s.io/v1:Ingress", "api", m{"metadata": meta("api", "mmllm", nil), "spec": spec})
}

func role(kind string, rules l) Resource {
	return res("kubernetes:rbac.authorization.k8s.io/v1:"+kind, "api", m{"metadata": meta("api", "", nil), "rules": rules})
}

func hpa(minReplicas any) Resource {
	spec := m{"maxReplicas": 10.0, "scaleTargetRef": m{"kind": "Deployment", "name": "api"}}
	if minReplicas != nil {
		spec["minReplicas"] = minReplicas
	}
	return res("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "api", m{"metadata": meta("api", "mmllm", nil), "spec": spec})
}

func scaledObject(minReplicas any) Resource {
	spec := m{"scaleTargetRef": m{"name": "api"}}
	if minReplicas != nil {
		spec["minReplicaCount"] = minReplicas
	}
	return res("kubernetes:keda.sh/v1alpha1:ScaledObject", "api", m{"metadata": meta("api", "mmllm", nil), "spec": spec})
}

func release(chart, version string) Resource {
	p := m{"chart": chart}
	if version != "" {
		p["version"] = version
	}
	return res("kubernetes:helm.sh/v3:Release", "monitoring", p)
}

var objectCases = map[string][]ruleCase{
	"k8s-pod-security-restricted": {
		one("restricted", namespace("mmllm", m{PodSecurityEnforceLabel: "restricted"}), false, ""),
		one("GPU operator privileged", namespace("gpu-operator", m{PodSecurityEnforceLabel: "privileged"}), false, ""),
		one("GPU operator by label", namespace("nvidia", m{PodSecurityEnforceLabel: "privileged", ComponentLabel: "gpu-operator"}), false, ""),
		one("other namespace privileged", namespace("tools", m{PodSecurityEnforceLabel: "privileged"}), true, `level "privileged"`),
		one("Chaos Mesh by its labels", namespace("chaos-testing", m{PodSecurityEnforceLabel: "privileged", NameLabel: ChaosMeshName, ComponentLabel: ChaosComponent}), false, ""),
		one("Chaos Mesh's name without its labels", namespace("chaos-mesh", m{PodSecurityEnforceLabel: "privileged"}), true, `level "privileged"`),
		one("Chaos Mesh's component label alone", namespace("tools", m{PodSecurityEnforceLabel: "privileged", ComponentLabel: ChaosComponent}), true, "Chaos Mesh's"),
		one("baseline", namespace("mmllm", m{PodSecurityEnforceLabel: "baseline"}), true, `level "baseline"`),
		one("no label", namespace("mmllm", nil), true, "has no pod-security.kubernetes.io/enforce label"),
	},
	"k8s-no-public-services": {
		one("ClusterIP", service("ClusterIP", nil), false, ""),
		one("internal AWS load balancer", service("LoadBalancer", m{"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}), false, ""),
		one("internal GKE load balancer", service("LoadBalancer", m{"networking.gke.io/load-balancer-type": "Internal"}), false, ""),
		one("NodePort", service("NodePort", nil), true, "NodePort"),
		one("public LoadBalancer", service("LoadBalancer", nil), true, "public LoadBalancer"),
		one("external IPs", with(service("ClusterIP", nil), l{"198.51.100.7"}, "spec", "externalIPs"), true, "externalIPs"),
	},
	"k8s-ingress-tls": {
		one("covered", ingress(l{m{"hosts": l{"api.example.com"}}}, "api.example.com"), false, ""),
		one("wildcard certificate", ingress(l{m{"hosts": l{"*.example.com"}}}, "api.example.com", "www.example.com"), false, ""),
		one("no TLS", ingress(nil, "api.example.com"), true, "has no spec.tls"),
		one("host left out", ingress(l{m{"hosts": l{"api.example.com"}}}, "api.example.com", "admin.example.com"), true, `"admin.example.com" without TLS`),
		one("wildcard covers one level only", ingress(l{m{"hosts": l{"*.example.com"}}}, "a.b.example.com"), true, "without TLS"),
	},
	"k8s-no-wildcard-rbac": {
		one("explicit", role("Role", l{m{"apiGroups": l{""}, "resources": l{"pods"}, "verbs": l{"get"}}}), false, ""),
		one("all verbs", role("Role", l{m{"apiGroups": l{""}, "resources": l{"pods"}, "verbs": l{"*"}}}), true, `"*" in verbs`),
		one("all resources of all groups", role("ClusterRole", l{m{"apiGroups": l{"*"}, "resources": l{"*"}, "verbs": l{"get"}}}), true, "apiGroups, resources"),
	},
	"k8s-no-cluster-admin-binding": {
		one("scoped role", good("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "inference"), false, ""),
		one("cluster-admin", res("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "ci", m{"metadata": meta("ci", "", nil),
			"roleRef": m{"kind": "ClusterRole", "name": "cluster-admin"}}), true, "cluster-admin"),
	},
	"k8s-autoscaler-min-replicas": {
		one("production HPA at 3", hpa(3.0), false, "").inProduction(),
		one("production HPA at 2", hpa(2.0), true, "at least 3 in a production stack").inProduction(),
		one("development HPA at 2", hpa(2.0), false, ""),
		one("HPA default is 1", hpa(nil), true, "down to 1 replicas"),
		one("ScaledObject default is 0", scaledObject(nil), true, "down to 0 replicas"),
		one("production ScaledObject at 3", scaledObject(3.0), false, "").inProduction(),
		one("ScaledObject of the wrong shape", scaledObject("three"), true, "must be a whole number"),
	},
	"k8s-helm-chart-pinned": {
		one("exact", release("kube-prometheus-stack", "65.1.0"), false, ""),
		one("local chart", release("./charts/mmllm", ""), false, ""),
		one("no version", release("kube-prometheus-stack", ""), true, "does not pin"),
		one("range", release("kube-prometheus-stack", "^65.0.0"), true, `"^65.0.0"`),
	},
	"k8s-required-labels": {
		one("labelled", api(), false, ""),
		one("unlabelled", with(api(), m{"team": "ml"}, "metadata", "labels"), true, PartOfLabel),
		one("Helm release is not an object", release("x", "1.0.0"), false, ""),
		one("labels of the wrong shape", with(api(), "mobile-mm-llm", "metadata", "labels"), true, "must be an object"),
	},
}

func TestObjectRules(t *testing.T) { runCases(t, objectCases) }
