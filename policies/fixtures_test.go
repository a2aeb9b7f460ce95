package policies

import (
	"fmt"
	"maps"
)

// m and l keep the JSON-like fixtures short.
type (
	m = map[string]any
	l = []any
)

// deleted, as the value of with, removes the key.
type deletedValue struct{}

var deleted = deletedValue{}

// urnOf builds a test URN for a resource.
func urnOf(typ, name string) string {
	return "urn:pulumi:test::mobile-mm-llm::" + typ + "::" + name
}

// res builds a resource with a test URN.
func res(typ, name string, props m) Resource {
	return Resource{URN: urnOf(typ, name), Type: typ, Name: name, Props: props}
}

// meta is Kubernetes metadata with the project's label.
func meta(name, namespace string, labels m) m {
	all := m{PartOfLabel: "mobile-mm-llm"}
	maps.Copy(all, labels)
	md := m{"name": name, "labels": all}
	if namespace != "" {
		md["namespace"] = namespace
	}
	return md
}

// goodContainer passes every container rule.
func goodContainer(name string) m {
	return m{
		"name":  name,
		"image": "ghcr.io/mobile-mm-llm/server:v0.1.0",
		"securityContext": m{
			"allowPrivilegeEscalation": false,
			"readOnlyRootFilesystem":   true,
			"capabilities":             m{"drop": l{"ALL"}},
		},
		"resources": m{
			"requests": m{"cpu": "500m", "memory": "2Gi"},
			"limits":   m{"cpu": "2", "memory": "8Gi"},
		},
		"livenessProbe":  m{"httpGet": m{"path": "/health", "port": 8080.0}},
		"readinessProbe": m{"httpGet": m{"path": "/ready", "port": 8080.0}},
		"ports":          l{m{"containerPort": 8080.0}},
		"volumeMounts":   l{m{"name": "tmp", "mountPath": "/tmp"}, m{"name": "tokens", "mountPath": "/run/secrets/api", "readOnly": true}},
	}
}

// goodPodSpec passes every pod rule.
func goodPodSpec(container string) m {
	return m{
		"serviceAccountName":           "inference",
		"automountServiceAccountToken": false,
		"securityContext": m{
			"runAsNonRoot":   true,
			"runAsUser":      1000.0,
			"fsGroup":        1000.0,
			"seccompProfile": m{"type": "RuntimeDefault"},
		},
		"containers": l{goodContainer(container)},
		"volumes": l{
			m{"name": "tmp", "emptyDir": m{}},
			m{"name": "tokens", "secret": m{"secretName": "api-tokens", "defaultMode": 0o400}},
		},
	}
}

// workloadRes builds a compliant workload of any kind in namespace mmllm,
// its pods labelled app=name.
func workloadRes(kind, name string) Resource {
	podLabels := m{"app": name}
	template := m{"metadata": m{"labels": podLabels}, "spec": goodPodSpec(name)}
	var spec m
	switch kind {
	case "Pod":
		return res("kubernetes:core/v1:Pod", name, m{"metadata": meta(name, "mmllm", podLabels), "spec": goodPodSpec(name)})
	case "Job":
		spec = m{"template": template}
	case "CronJob":
		spec = m{"schedule": "0 3 * * *", "jobTemplate": m{"spec": m{"template": template}}}
	default:
		spec = m{"selector": m{"matchLabels": podLabels}, "template": template}
	}
	group := map[string]string{"Job": "batch/v1", "CronJob": "batch/v1"}[kind]
	if group == "" {
		group = "apps/v1"
	}
	return res("kubernetes:"+group+":"+kind, name, m{"metadata": meta(name, "mmllm", nil), "spec": spec})
}

// podSpecPath is where workloadRes's kinds keep the pod spec, for with.
func podSpecPath(kind string) []any {
	var out []any
	for _, p := range podSpecPaths[kind] {
		out = append(out, p)
	}
	return out
}

// compliantStack is a production stack that passes every rule: the
// inference workload and its companions, and a cluster, Redis and bucket on
// each cloud.
func compliantStack() []Resource {
	gpu := workloadRes("Deployment", "inference")
	gpu = with(gpu, m{"cpu": "2", "memory": "8Gi", GPUTaintKey: 1.0}, "spec", "template", "spec", "containers", 0, "resources", "limits")
	gpu = with(gpu, l{m{"key": GPUTaintKey, "operator": "Exists", "effect": "NoSchedule"}}, "spec", "template", "spec", "tolerations")

	devicePlugin := workloadRes("DaemonSet", "device-plugin")
	devicePlugin = with(devicePlugin, "gpu-operator", "metadata", "namespace")
	devicePlugin = with(devicePlugin, l{m{"name": "plugins", "hostPath": m{"path": "/var/lib/kubelet/device-plugins"}}}, "spec", "template", "spec", "volumes")
	devicePlugin = with(devicePlugin, true, "spec", "template", "spec", "containers", 0, "securityContext", "privileged")

	backup := workloadRes("CronJob", "backup")
	backup = with(backup, m{PartOfLabel: "mobile-mm-llm", ComponentLabel: BackupComponent}, "metadata", "labels")

	bucketV2 := res(typeS3BucketV2, "models", m{"bucket": "mmllm-models-use1", "tags": tags()})
	versioning := res(typeS3Versioning, "models-versioning", m{"bucket": Unknown{}, "versioningConfiguration": m{"status": "Enabled"}})
	versioning.PropertyDeps = map[string][]string{"bucket": {bucketV2.URN}}

	eksKey := res(typeAWSKey, "eks-secrets", m{"enableKeyRotation": true})
	eksKey.Provider = m{"defaultTags": `{"tags":{"environment":"production","owner":"platform","cost-center":"ml-42"}}`}

	return []Resource{
		res("kubernetes:core/v1:Namespace", "mmllm", m{"metadata": meta("mmllm", "", m{PodSecurityEnforceLabel: "restricted"})}),
		res("kubernetes:core/v1:Namespace", "gpu-operator", m{"metadata": meta("gpu-operator", "", m{PodSecurityEnforceLabel: "privileged"})}),
		res("kubernetes:core/v1:ServiceAccount", "inference", m{"metadata": meta("inference", "mmllm", nil), "automountServiceAccountToken": false}),
		gpu,
		workloadRes("StatefulSet", "redis"),
		devicePlugin,
		backup,
		res("kubernetes:core/v1:Service", "inference", m{"metadata": meta("inference", "mmllm", nil),
			"spec": m{"type": "ClusterIP", "selector": m{"app": "inference"}, "ports": l{m{"port": 80.0, "targetPort": 8080.0}}}}),
		res("kubernetes:networking.k8s.io/v1:Ingress", "inference", m{"metadata": meta("inference", "mmllm", nil), "spec": m{
			"tls":   l{m{"hosts": l{"api.mmllm.example.com"}, "secretName": "api-tls"}},
			"rules": l{m{"host": "api.mmllm.example.com"}},
		}}),
		res("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "inference", m{"metadata": meta("inference", "mmllm", nil), "spec": m{
			"minReplicas": 3.0, "maxReplicas": 10.0, "scaleTargetRef": m{"apiVersion": "apps/v1", "kind": "Deployment", "name": "inference"},
		}}),
		res("kubernetes:policy/v1:PodDisruptionBudget", "inference", m{"metadata": meta("inference", "mmllm", nil),
			"spec": m{"minAvailable": 2.0, "selector": m{"matchLabels": m{"app": "inference"}}}}),
		res("kubernetes:networking.k8s.io/v1:NetworkPolicy", "default-deny", m{"metadata": meta("default-deny", "mmllm", nil),
			"spec": m{"podSelector": m{}, "policyTypes": l{"Ingress", "Egress"}}}),
		res("kubernetes:networking.k8s.io/v1:NetworkPolicy", "gpu-operator-default-deny", m{"metadata": meta("gpu-operator-default-deny", "gpu-operator", nil),
			"spec": m{"podSelector": m{}, "policyTypes": l{"Ingress"}}}),
		res("kubernetes:rbac.authorization.k8s.io/v1:Role", "inference", m{"metadata": meta("inference", "mmllm", nil),
			"rules": l{m{"apiGroups": l{""}, "resources": l{"configmaps"}, "verbs": l{"get", "watch"}}}}),
		res("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "inference", m{"metadata": meta("inference", "mmllm", nil),
			"roleRef": m{"kind": "Role", "name": "inference"}, "subjects": l{m{"kind": "ServiceAccount", "name": "inference"}}}),
		res("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "alerts", m{"metadata": meta("alerts", "mmllm", nil), "spec": m{
			"groups": l{m{"name": "inference", "rules": l{m{"alert": "HighCPU", "expr": "avg(rate(cpu[5m])) > 0.8", "for": "5m"}}}},
		}}),
		res("kubernetes:helm.sh/v3:Release", "kube-prometheus-stack", m{"chart": "kube-prometheus-stack", "version": "65.1.0"}),

		eksKey,
		res(typeEKS, "gpu", m{"tags": tags(),
			"vpcConfig":              m{"endpointPublicAccess": true, "publicAccessCidrs": l{"203.0.113.0/24"}},
			"encryptionConfig":       m{"provider": m{"keyArn": Unknown{}}, "resources": l{"secrets"}},
			"enabledClusterLogTypes": l{"api", "audit", "authenticator", "controllerManager", "scheduler"},
		}),
		res(typeEKSNodeGroup, "gpu", m{"tags": tags(), "scalingConfig": m{"minSize": 1.0, "maxSize": 4.0, "desiredSize": 2.0}}),
		bucketV2,
		res(typeS3Encryption, "models-sse", m{"bucket": "mmllm-models-use1",
			"rules": l{m{"applyServerSideEncryptionByDefault": m{"sseAlgorithm": "aws:kms"}}}}),
		versioning,
		res(typeS3PublicBlock, "models-pab", m{"bucket": "mmllm-models-use1",
			"blockPublicAcls": true, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": true}),
		res(typeS3Replication, "models-replication", m{"bucket": "mmllm-models-use1", "rules": l{m{"status": "Enabled"}}}),
		res(typeElastiCache, "cache", m{"tags": tags(), "transitEncryptionEnabled": true, "authToken": "s3cret",
			"atRestEncryptionEnabled": true, "subnetGroupName": "private", "securityGroupIds": l{"sg-1"}, "snapshotRetentionLimit": 7.0}),

		res(typeGKE, "gke", m{"resourceLabels": tags(), "removeDefaultNodePool": true,
			"privateClusterConfig": m{"enablePrivateEndpoint": true, "enablePrivateNodes": true},
			"databaseEncryption":   m{"state": "ENCRYPTED", "keyName": "projects/p/locations/l/keyRings/r/cryptoKeys/k"},
			"loggingConfig":        m{"enableComponents": l{"SYSTEM_COMPONENTS", "APISERVER", "WORKLOADS"}},
		}),
		res(typeGKENodePool, "gke-gpu", m{"autoscaling": m{"minNodeCount": 0.0, "maxNodeCount": 4.0}, "nodeConfig": m{"resourceLabels": tags()}}),
		res(typeGCPCryptoKey, "gke-secrets", m{"rotationPeriod": "7776000s", "labels": tags()}),
		res(typeGCSBucket, "models-gcs", m{"location": "ASIA", "uniformBucketLevelAccess": true, "publicAccessPrevention": "enforced",
			"versioning": m{"enabled": true}, "labels": tags()}),
		res(typeMemorystore, "cache-gcp", m{"authEnabled": true, "transitEncryptionMode": "SERVER_AUTHENTICATION",
			"authorizedNetwork": "projects/p/global/networks/vpc", "persistenceConfig": m{"persistenceMode": "RDB"}, "labels": tags()}),

		res(typeAKS, "aks", m{"tags": tags(),
			"apiServerAccessProfile": m{"enablePrivateCluster": true},
			"securityProfile":        m{"azureKeyVaultKms": m{"enabled": true, "keyId": "https://vault/keys/aks/1"}},
			"addonProfiles":          m{"omsagent": m{"enabled": true}},
			"agentPoolProfiles":      l{m{"name": "gpu", "enableAutoScaling": true, "minCount": 1.0, "maxCount": 3.0, "count": 1.0}},
		}),
		res(typeAzureVaultKey, "aks-kms", m{"properties": m{"rotationPolicy": m{"lifetimeActions": l{m{"action": m{"type": "Rotate"}}}}}}),
		res(typeAzureStorage, "models-az", m{"accountName": "mmllmmodels", "sku": m{"name": "Standard_RAGZRS"},
			"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": false, "tags": tags()}),
		res(typeAzureBlobConfig, "models-az-blob", m{"accountName": "mmllmmodels", "isVersioningEnabled": true}),
		res(typeAzureRedis, "cache-az", m{"enableNonSslPort": false, "minimumTlsVersion": "1.2", "publicNetworkAccess": "Disabled",
			"redisConfiguration": m{"rdbBackupEnabled": "true"}, "tags": tags()}),
	}
}

// tags are the required cloud tags.
func tags() m {
	return m{"environment": "production", "owner": "platform", "cost-center": "ml-42"}
}

var production = StackInfo{Name: "prod-us-east-1", Production: true}

var development = StackInfo{Name: "dev", Production: false}

// good returns the compliant stack's resource of the given logical name
// and type suffix (names repeat across kinds: "inference").
func good(typ, name string) Resource {
	for _, r := range compliantStack() {
		if r.Name == name && normalType(r.Type) == typ {
			return r
		}
	}
	panic(fmt.Sprintf("no fixture %s %q", typ, name))
}

// stackWith returns the compliant stack with the resources of the same
// type and name replaced by rs, or added.
func stackWith(rs ...Resource) []Resource { return replaced(compliantStack(), rs...) }

// replaced returns stack with the resources of the same type and name
// replaced by rs, or added.
func replaced(stack []Resource, rs ...Resource) []Resource {
	stack = append([]Resource(nil), stack...)
	for _, r := range rs {
		replaced := false
		for i := range stack {
			if stack[i].Type == r.Type && stack[i].Name == r.Name {
				stack[i], replaced = r, true
			}
		}
		if !replaced {
			stack = append(stack, r)
		}
	}
	return stack
}

// stackWithout returns the compliant stack without the resources of the
// given types.
func stackWithout(types ...string) []Resource {
	var out []Resource
	for _, r := range compliantStack() {
		if !r.is(types...) {
			out = append(out, r)
		}
	}
	return out
}

// with returns a copy of r with the value at path (object keys and list
// indices) set to v, or removed if v is deleted.
func with(r Resource, v any, path ...any) Resource {
	r.Props = deepCopy(r.Props).(m)
	var cur any = r.Props
	for i, p := range path {
		last := i == len(path)-1
		switch key := p.(type) {
		case string:
			obj := cur.(m)
			if last {
				if v == deleted {
					delete(obj, key)
				} else {
					obj[key] = v
				}
				return r
			}
			if obj[key] == nil {
				obj[key] = m{}
			}
			cur = obj[key]
		case int:
			list := cur.(l)
			if last {
				list[key] = v
				return r
			}
			cur = list[key]
		}
	}
	return r
}

// deepCopy copies JSON-like values.
func deepCopy(v any) any {
	switch v := v.(type) {
	case m:
		out := make(m, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case l:
		out := make(l, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// withAt is with, with a path prefix (a pod spec path) prepended.
func withAt(r Resource, v any, prefix []any, path ...any) Resource {
	return with(r, v, append(append([]any{}, prefix...), path...)...)
}
