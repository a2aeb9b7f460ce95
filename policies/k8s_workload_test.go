package policies

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// api is a compliant Deployment named "api".
func api() Resource { return workloadRes("Deployment", "api") }

// apiWith is api with a value set below its pod spec.
func apiWith(v any, path ...any) Resource {
	return withAt(api(), v, podSpecPath("Deployment"), path...)
}

// ofKind is a compliant workload of kind with a value set below its pod spec.
func ofKind(kind string, v any, path ...any) Resource {
	return withAt(workloadRes(kind, "w-"+kind), v, podSpecPath(kind), path...)
}

// withInit is api with an extra init container built from goodContainer.
func withInit(change func(c m)) Resource {
	c := goodContainer("setup")
	change(c)
	return apiWith(l{c}, "initContainers")
}

var workloadCases = map[string][]ruleCase{
	"k8s-no-privileged": {
		one("compliant", api(), false, ""),
		one("privileged container", apiWith(true, "containers", 0, "securityContext", "privileged"), true, `container "api" runs privileged`),
		one("privileged CronJob", ofKind("CronJob", true, "containers", 0, "securityContext", "privileged"), true, "privileged"),
		one("privileged bare Pod", ofKind("Pod", true, "containers", 0, "securityContext", "privileged"), true, "privileged"),
		one("GPU operator namespace is exempt", good("kubernetes:apps/v1:DaemonSet", "device-plugin"), false, ""),
		one("containers of the wrong shape", apiWith("server", "containers"), true, "must be a list"),
		one("unknown privileged flag", apiWith(Unknown{}, "containers", 0, "securityContext", "privileged"), true, "unknown until the update"),
	},
	"k8s-no-host-namespaces": {
		one("compliant", api(), false, ""),
		one("hostNetwork", apiWith(true, "hostNetwork"), true, "spec.template.spec.hostNetwork"),
		one("hostPID on a bare Pod", ofKind("Pod", true, "hostPID"), true, "spec.hostPID"),
		one("hostIPC on a StatefulSet", ofKind("StatefulSet", true, "hostIPC"), true, "hostIPC"),
		one("hostNetwork false", apiWith(false, "hostNetwork"), false, ""),
	},
	"k8s-no-host-ports": {
		one("compliant", api(), false, ""),
		one("hostPort", apiWith(l{m{"containerPort": 8080.0, "hostPort": 8080.0}}, "containers", 0, "ports"), true, "hostPort 8080"),
	},
	"k8s-no-privilege-escalation": {
		one("compliant", api(), false, ""),
		one("unset", apiWith(deleted, "containers", 0, "securityContext", "allowPrivilegeEscalation"), true, "allowPrivilegeEscalation"),
		one("true on a Job", ofKind("Job", true, "containers", 0, "securityContext", "allowPrivilegeEscalation"), true, "allowPrivilegeEscalation"),
		one("init container", withInit(func(c m) { delete(c["securityContext"].(m), "allowPrivilegeEscalation") }), true, `init container "setup"`),
	},
	"k8s-run-as-non-root": {
		one("pod level", api(), false, ""),
		one("container level", withAt(apiWith(m{"seccompProfile": m{"type": "RuntimeDefault"}}, "securityContext"),
			m{"runAsNonRoot": true, "runAsUser": 1001.0, "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true},
			podSpecPath("Deployment"), "containers", 0, "securityContext"), false, ""),
		one("container overrides to root", apiWith(0.0, "containers", 0, "securityContext", "runAsUser"), true, "runs as UID 0"),
		one("low UID", apiWith(999.0, "securityContext", "runAsUser"), true, "UID 999"),
		one("no UID", apiWith(deleted, "securityContext", "runAsUser"), true, "sets no runAsUser"),
		one("runAsNonRoot unset", apiWith(deleted, "securityContext", "runAsNonRoot"), true, "runAsNonRoot: true"),
		one("UID of the wrong shape", apiWith("root", "securityContext", "runAsUser"), true, "must be a whole number"),
	},
	"k8s-drop-all-capabilities": {
		one("compliant", api(), false, ""),
		one("NET_BIND_SERVICE added back", apiWith(m{"drop": l{"ALL"}, "add": l{"NET_BIND_SERVICE"}}, "containers", 0, "securityContext", "capabilities"), false, ""),
		one("nothing dropped", apiWith(deleted, "containers", 0, "securityContext", "capabilities"), true, "drop ALL"),
		one("SYS_ADMIN added", apiWith(m{"drop": l{"ALL"}, "add": l{"SYS_ADMIN"}}, "containers", 0, "securityContext", "capabilities"), true, "SYS_ADMIN"),
	},
	"k8s-seccomp-runtime-default": {
		one("pod level", api(), false, ""),
		one("Localhost profile in the container", apiWith(m{"type": "Localhost", "localhostProfile": "p.json"}, "containers", 0, "securityContext", "seccompProfile"), false, ""),
		one("container Unconfined", apiWith(m{"type": "Unconfined"}, "containers", 0, "securityContext", "seccompProfile"), true, `"Unconfined"`),
		one("none", apiWith(deleted, "securityContext", "seccompProfile"), true, "no seccomp profile"),
	},
	"k8s-readonly-root-filesystem": {
		one("compliant", api(), false, ""),
		one("writable", apiWith(false, "containers", 0, "securityContext", "readOnlyRootFilesystem"), true, "readOnlyRootFilesystem"),
	},
	"k8s-no-hostpath": {
		one("compliant", api(), false, ""),
		one("hostPath volume", apiWith(l{m{"name": "docker", "hostPath": m{"path": "/var/run/docker.sock"}}}, "volumes"), true, `hostPath volume "docker"`),
	},
	"k8s-resources": {
		one("compliant", api(), false, ""),
		one("no memory limit", apiWith(m{"cpu": "2"}, "containers", 0, "resources", "limits"), true, "resources.limits.memory"),
		one("no resources on an init container", withInit(func(c m) { delete(c, "resources") }), true, "resources.requests.cpu"),
	},
	"k8s-gpu-toleration": {
		one("GPU with toleration", good("kubernetes:apps/v1:Deployment", "inference"), false, ""),
		one("no GPU, no toleration", api(), false, ""),
		one("GPU without toleration", with(good("kubernetes:apps/v1:Deployment", "inference"), deleted, "spec", "template", "spec", "tolerations"), true, "does not tolerate"),
		one("toleration of the wrong effect", with(good("kubernetes:apps/v1:Deployment", "inference"),
			l{m{"key": GPUTaintKey, "operator": "Exists", "effect": "NoExecute"}}, "spec", "template", "spec", "tolerations"), true, "does not tolerate"),
		one("GPU request without limit", withAt(with(good("kubernetes:apps/v1:Deployment", "inference"), m{"cpu": "1", "memory": "1Gi", GPUTaintKey: "1"},
			"spec", "template", "spec", "containers", 0, "resources", "requests"), m{"cpu": "2", "memory": "8Gi"}, podSpecPath("Deployment"),
			"containers", 0, "resources", "limits"), true, "without a limit"),
	},
	"k8s-probes": {
		one("compliant", api(), false, ""),
		one("no readiness", apiWith(deleted, "containers", 0, "readinessProbe"), true, "readinessProbe"),
		one("Job needs none", ofKind("Job", deleted, "containers", 0, "livenessProbe"), false, ""),
		one("init container needs none", withInit(func(c m) { delete(c, "livenessProbe"); delete(c, "readinessProbe") }), false, ""),
	},
	"k8s-image-pinned": {
		one("tag", api(), false, ""),
		one("digest", apiWith("ghcr.io/x/server@sha256:"+sha, "containers", 0, "image"), false, ""),
		one("registry port and tag", apiWith("registry.local:5000/server:1.2", "containers", 0, "image"), false, ""),
		one("latest", apiWith("ghcr.io/x/server:latest", "containers", 0, "image"), true, "floats on latest"),
		one("untagged", apiWith("nginx", "containers", 0, "image"), true, "has no tag"),
		one("registry port, untagged", apiWith("registry.local:5000/server", "containers", 0, "image"), true, "has no tag"),
		one("no image", apiWith(deleted, "containers", 0, "image"), true, "has no image"),
	},
	"k8s-no-default-service-account": {
		one("dedicated", api(), false, ""),
		one("unset", apiWith(deleted, "serviceAccountName"), true, "default service account"),
		one("default", apiWith("default", "serviceAccountName"), true, "default service account"),
	},
	"k8s-no-token-automount": {
		one("pod opts out", api(), false, ""),
		one("pod opts in explicitly", apiWith(true, "automountServiceAccountToken"), false, ""),
		one("pod leaves it unset", apiWith(deleted, "automountServiceAccountToken"), true, "automountServiceAccountToken"),
		one("ServiceAccount opts out", good("kubernetes:core/v1:ServiceAccount", "inference"), false, ""),
		one("ServiceAccount leaves it unset", with(good("kubernetes:core/v1:ServiceAccount", "inference"), deleted, "automountServiceAccountToken"), true, "automountServiceAccountToken: false"),
	},
	"k8s-secrets-as-files": {
		one("mounted", api(), false, ""),
		one("ConfigMap in env", apiWith(l{m{"name": "MODE", "valueFrom": m{"configMapKeyRef": m{"name": "cfg", "key": "mode"}}}}, "containers", 0, "env"), false, ""),
		one("secretKeyRef", apiWith(l{m{"name": "API_TOKEN", "valueFrom": m{"secretKeyRef": m{"name": "api-tokens", "key": "token"}}}}, "containers", 0, "env"), true, "env var API_TOKEN"),
		one("envFrom secretRef", apiWith(l{m{"secretRef": m{"name": "api-tokens"}}}, "containers", 0, "envFrom"), true, "envFrom"),
	},
}

const sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestWorkloadRules(t *testing.T) { runCases(t, workloadCases) }

// TestPodSpecPathPerKind checks that every workload kind's pod spec is found
// where that kind keeps it.
func TestPodSpecPathPerKind(t *testing.T) {
	for kind := range podSpecPaths {
		if kind == "ReplicationController" {
			continue // core/v1, built below
		}
		r := ofKind(kind, true, "containers", 0, "securityContext", "privileged")
		w, ok, err := workloadOf(r)
		require.NoError(t, err, kind)
		require.True(t, ok, kind)
		require.Equal(t, kind, w.kind)
		require.Equal(t, "w-"+kind, w.labels["app"], kind)
		require.Len(t, w.containers, 1, kind)
		msg, err := checkPrivileged(w, w.containers[0])
		require.NoError(t, err)
		require.NotEmpty(t, msg, kind)
	}
	_, ok, err := workloadOf(good("kubernetes:core/v1:Service", "inference"))
	require.NoError(t, err)
	require.False(t, ok, "a Service runs no pods")
}

func TestWorkloadWithoutContainersIsAnError(t *testing.T) {
	_, ok, err := workloadOf(apiWith(l{}, "containers"))
	require.True(t, ok)
	require.ErrorContains(t, err, "spec.template.spec.containers is missing or empty")
}

func TestImageProblem(t *testing.T) {
	for image, pinned := range map[string]bool{
		"server:v1":                    true,
		"ghcr.io/a/b:1.2.3":            true,
		"ghcr.io/a/b@sha256:" + sha:    true,
		"localhost:5000/b:2":           true,
		"ghcr.io/a/b":                  false,
		"ghcr.io/a/b:latest":           false,
		"ghcr.io/a/b@sha256:abc":       false,
		"ghcr.io/a/b:":                 false,
		"localhost:5000/b":             false,
		"ghcr.io/a/b:1@sha256:" + sha:  true,
		"ghcr.io/a/b@md5:" + sha[:32]:  false,
		"docker.io/library/nginx:1.27": true,
	} {
		require.Equal(t, pinned, imageProblem(image) == "", image)
	}
}
