package policies

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// GPUTaintKey is the taint the project puts on GPU nodes (GKE puts it there
// itself): pods that ask for GPUs must tolerate it.
const GPUTaintKey = "nvidia.com/gpu"

// gpuOperatorNamespaces are the namespaces NVIDIA's GPU operator is
// documented to run in: the one exception to Pod Security "restricted",
// because its driver and toolkit pods need the host.
var gpuOperatorNamespaces = []string{"gpu-operator", "nvidia-gpu-operator"}

// ComponentLabel is the standard label naming an object's role: value
// "gpu-operator" marks a Namespace of another name as the GPU operator's,
// value "backup" marks a CronJob as the stack's backup job.
const ComponentLabel = "app.kubernetes.io/component"

func isGPUOperatorNamespace(name string) bool { return slices.Contains(gpuOperatorNamespaces, name) }

// podSpecPaths says where each workload kind keeps its pod spec.
var podSpecPaths = map[string][]string{
	"Pod":                   {"spec"},
	"Deployment":            {"spec", "template", "spec"},
	"StatefulSet":           {"spec", "template", "spec"},
	"DaemonSet":             {"spec", "template", "spec"},
	"ReplicaSet":            {"spec", "template", "spec"},
	"ReplicationController": {"spec", "template", "spec"},
	"Job":                   {"spec", "template", "spec"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
}

// longRunningKinds are the workloads that serve and so need probes.
var longRunningKinds = []string{"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"}

// workload is a resource that runs pods, with its pod spec read out.
type workload struct {
	r          Resource
	kind       string
	namespace  string
	specPath   string
	spec       node
	labels     map[string]string
	containers []container
}

// container is one container (or init container) of a pod spec.
type container struct {
	name string
	init bool
	n    node
}

func (c container) label() string {
	if c.init {
		return fmt.Sprintf("init container %q", c.name)
	}
	return fmt.Sprintf("container %q", c.name)
}

// workloadOf reads the pod spec of a workload resource; ok is false for
// resources that run no pods.
func workloadOf(r Resource) (w workload, ok bool, err error) {
	kind := r.k8sKind()
	path, ok := podSpecPaths[kind]
	if !ok {
		return workload{}, false, nil
	}
	w = workload{r: r, kind: kind, namespace: r.k8sNamespace(), specPath: strings.Join(path, "."),
		spec: props(r).at(path...)}
	labelsPath := append(slices.Clone(path[:len(path)-1]), "metadata", "labels")
	if kind == "Pod" {
		labelsPath = []string{"metadata", "labels"}
	}
	if w.labels, err = props(r).at(labelsPath...).stringMap(); err != nil {
		return w, true, err
	}
	for _, field := range []string{"initContainers", "containers"} {
		items, err := w.spec.key(field).items()
		if err != nil {
			return w, true, err
		}
		for i, it := range items {
			if _, err := it.object(); err != nil {
				return w, true, err
			}
			name := it.key("name").nameOr(fmt.Sprintf("#%d", i))
			w.containers = append(w.containers, container{name: name, init: field == "initContainers", n: it})
		}
	}
	if !slices.ContainsFunc(w.containers, func(c container) bool { return !c.init }) {
		return w, true, &fieldError{path: w.specPath + ".containers", err: errors.New("is missing or empty")}
	}
	return w, true, nil
}

// podRule adapts a check of a workload's pod spec. Hardening rules (hardened
// true) skip workloads in the GPU operator's namespace, whose Pod Security
// level is the documented exception.
func podRule(hardened bool, fn func(w workload, stack StackInfo) ([]string, error)) func(Resource, StackInfo) []Violation {
	return perResource(func(r Resource, stack StackInfo) ([]string, error) {
		w, ok, err := workloadOf(r)
		if !ok || err != nil {
			return nil, err
		}
		if hardened && isGPUOperatorNamespace(w.namespace) {
			return nil, nil
		}
		return fn(w, stack)
	})
}

// containerRule adapts a check of one container; it returns the problem
// ("" when there is none), which is prefixed with the container's name.
func containerRule(hardened bool, fn func(w workload, c container) (string, error)) func(Resource, StackInfo) []Violation {
	return podRule(hardened, func(w workload, _ StackInfo) ([]string, error) {
		var msgs []string
		for _, c := range w.containers {
			m, err := fn(w, c)
			if err != nil {
				return msgs, err
			}
			if m != "" {
				msgs = append(msgs, c.label()+" "+m)
			}
		}
		return msgs, nil
	})
}

// securityContext returns a container's securityContext field and the pod's.
func securityContext(w workload, c container, keys ...string) (containerLevel, podLevel node) {
	return c.n.key("securityContext").at(keys...), w.spec.key("securityContext").at(keys...)
}

func checkPrivileged(_ workload, c container) (string, error) {
	priv, _, err := c.n.at("securityContext", "privileged").boolean()
	if err != nil || !priv {
		return "", err
	}
	return "runs privileged; remove securityContext.privileged or set it to false", nil
}

func checkHostNamespaces(w workload, _ StackInfo) ([]string, error) {
	var msgs []string
	for _, field := range []string{"hostNetwork", "hostPID", "hostIPC"} {
		on, _, err := w.spec.key(field).boolean()
		if err != nil {
			return msgs, err
		}
		if on {
			msgs = append(msgs, fmt.Sprintf("sets %s.%s: true, sharing the node's namespace; remove it", w.specPath, field))
		}
	}
	return msgs, nil
}

func checkHostPorts(_ workload, c container) (string, error) {
	ports, err := c.n.key("ports").items()
	if err != nil {
		return "", err
	}
	for _, p := range ports {
		hp, set, err := p.key("hostPort").integer()
		if err != nil {
			return "", err
		}
		if set && hp != 0 {
			return fmt.Sprintf("binds hostPort %d on the node; remove hostPort and expose the port through a Service", hp), nil
		}
	}
	return "", nil
}

func checkPrivilegeEscalation(_ workload, c container) (string, error) {
	allow, set, err := c.n.at("securityContext", "allowPrivilegeEscalation").boolean()
	if err != nil {
		return "", err
	}
	if !set || allow {
		return "may gain privileges (setuid binaries); set securityContext.allowPrivilegeEscalation to false", nil
	}
	return "", nil
}

// effective returns the container-level value of a securityContext field if
// set, else the pod-level one.
func effective(w workload, c container, keys ...string) node {
	cl, pl := securityContext(w, c, keys...)
	if set, err := cl.isSet(); set || err != nil {
		return cl
	}
	return pl
}

func checkNonRoot(w workload, c container) (string, error) {
	nonRoot, _, err := effective(w, c, "runAsNonRoot").boolean()
	if err != nil {
		return "", err
	}
	uid, uidSet, err := effective(w, c, "runAsUser").integer()
	if err != nil {
		return "", err
	}
	var problems []string
	if !nonRoot {
		problems = append(problems, "does not set runAsNonRoot: true")
	}
	switch {
	case !uidSet:
		problems = append(problems, "sets no runAsUser, so the image decides the UID")
	case uid < 1000:
		problems = append(problems, fmt.Sprintf("runs as UID %d", uid))
	}
	if len(problems) == 0 {
		return "", nil
	}
	return strings.Join(problems, " and ") +
		"; set runAsNonRoot: true and runAsUser: 1000 (or another UID >= 1000) in the pod or container securityContext", nil
}

func checkCapabilities(_ workload, c container) (string, error) {
	caps := c.n.at("securityContext", "capabilities")
	drop, err := caps.key("drop").strings()
	if err != nil {
		return "", err
	}
	add, err := caps.key("add").strings()
	if err != nil {
		return "", err
	}
	var problems []string
	if !slices.Contains(drop, "ALL") {
		problems = append(problems, "does not drop ALL capabilities; set securityContext.capabilities.drop to [ALL]")
	}
	for _, a := range add {
		if a != "NET_BIND_SERVICE" {
			problems = append(problems, fmt.Sprintf("adds capability %s; remove it (only NET_BIND_SERVICE may be added back)", a))
		}
	}
	return strings.Join(problems, "; "), nil
}

func checkSeccomp(w workload, c container) (string, error) {
	typ, set, err := effective(w, c, "seccompProfile", "type").str()
	if err != nil {
		return "", err
	}
	switch {
	case !set:
		return "has no seccomp profile; set securityContext.seccompProfile.type to RuntimeDefault on the pod", nil
	case typ != "RuntimeDefault" && typ != "Localhost":
		return fmt.Sprintf("uses seccomp profile %q; set securityContext.seccompProfile.type to RuntimeDefault", typ), nil
	}
	return "", nil
}

func checkReadOnlyRoot(_ workload, c container) (string, error) {
	ro, _, err := c.n.at("securityContext", "readOnlyRootFilesystem").boolean()
	if err != nil || ro {
		return "", err
	}
	return "has a writable root filesystem; set securityContext.readOnlyRootFilesystem to true and mount an emptyDir where it writes", nil
}

func checkHostPath(w workload, _ StackInfo) ([]string, error) {
	vols, err := w.spec.key("volumes").items()
	if err != nil {
		return nil, err
	}
	var msgs []string
	for _, v := range vols {
		set, err := v.key("hostPath").isSet()
		if err != nil {
			return msgs, err
		}
		if set {
			msgs = append(msgs, fmt.Sprintf("mounts hostPath volume %q from the node; use an emptyDir, a ConfigMap, a Secret or a PersistentVolumeClaim",
				v.key("name").nameOr("?")))
		}
	}
	return msgs, nil
}

func checkResources(_ workload, c container) (string, error) {
	var missing []string
	for _, kind := range []string{"requests", "limits"} {
		for _, res := range []string{"cpu", "memory"} {
			set, err := c.n.at("resources", kind, res).isSet()
			if err != nil {
				return "", err
			}
			if !set {
				missing = append(missing, "resources."+kind+"."+res)
			}
		}
	}
	if len(missing) == 0 {
		return "", nil
	}
	return "sets no " + strings.Join(missing, ", ") + "; set CPU and memory requests and limits", nil
}

func checkGPUToleration(w workload, _ StackInfo) ([]string, error) {
	var msgs []string
	wantsGPU := false
	for _, c := range w.containers {
		limit, limitSet, err := c.n.at("resources", "limits", GPUTaintKey).integer()
		if err != nil {
			return msgs, err
		}
		reqSet, err := c.n.at("resources", "requests", GPUTaintKey).isSet()
		if err != nil {
			return msgs, err
		}
		if reqSet && !limitSet {
			msgs = append(msgs, fmt.Sprintf("%s requests %s without a limit; set resources.limits[%q] (GPUs are allocated by their limit)",
				c.label(), GPUTaintKey, GPUTaintKey))
		}
		wantsGPU = wantsGPU || limit > 0 || reqSet
	}
	if !wantsGPU {
		return msgs, nil
	}
	tols, err := w.spec.key("tolerations").items()
	if err != nil {
		return msgs, err
	}
	for _, t := range tols {
		key, _, err := t.key("key").str()
		if err != nil {
			return msgs, err
		}
		effect, _, err := t.key("effect").str()
		if err != nil {
			return msgs, err
		}
		if key == GPUTaintKey && (effect == "" || effect == "NoSchedule") {
			return msgs, nil
		}
	}
	return append(msgs, fmt.Sprintf("requests %s but does not tolerate the GPU nodes' taint; add to %s.tolerations {key: %s, operator: Exists, effect: NoSchedule}",
		GPUTaintKey, w.specPath, GPUTaintKey)), nil
}

func checkProbes(w workload, c container) (string, error) {
	if c.init || !slices.Contains(longRunningKinds, w.kind) {
		return "", nil
	}
	var missing []string
	for _, probe := range []string{"livenessProbe", "readinessProbe"} {
		set, err := c.n.key(probe).isSet()
		if err != nil {
			return "", err
		}
		if !set {
			missing = append(missing, probe)
		}
	}
	if len(missing) == 0 {
		return "", nil
	}
	return "has no " + strings.Join(missing, " or ") + "; add both (liveness on /health, readiness on /ready for the server)", nil
}

func checkImagePinned(_ workload, c container) (string, error) {
	image, set, err := c.n.key("image").str()
	if err != nil {
		return "", err
	}
	if !set || image == "" {
		return "has no image; set an image pinned by tag or digest", nil
	}
	if problem := imageProblem(image); problem != "" {
		return fmt.Sprintf("uses image %q, which %s; pin a release tag or an @sha256 digest", image, problem), nil
	}
	return "", nil
}

// imageProblem says why an image reference is not pinned, or "" if it is.
func imageProblem(image string) string {
	if _, digest, ok := strings.Cut(image, "@"); ok {
		if strings.HasPrefix(digest, "sha256:") && len(digest) == len("sha256:")+64 {
			return ""
		}
		return "has a malformed digest"
	}
	last := image[strings.LastIndex(image, "/")+1:]
	_, tag, ok := strings.Cut(last, ":")
	switch {
	case !ok || tag == "":
		return "has no tag (so it means latest)"
	case tag == "latest":
		return "floats on latest"
	}
	return ""
}

func checkServiceAccount(w workload, _ StackInfo) ([]string, error) {
	sa, set, err := w.spec.key("serviceAccountName").str()
	if err != nil {
		return nil, err
	}
	if !set {
		if sa, set, err = w.spec.key("serviceAccount").str(); err != nil {
			return nil, err
		}
	}
	if !set || sa == "" || sa == "default" {
		return []string{fmt.Sprintf("runs as the namespace's default service account; create a ServiceAccount for it and set %s.serviceAccountName", w.specPath)}, nil
	}
	return nil, nil
}

func checkTokenAutomount(r Resource, _ StackInfo) ([]string, error) {
	if r.k8sKind() == "ServiceAccount" {
		on, set, err := props(r).key("automountServiceAccountToken").boolean()
		if err != nil {
			return nil, err
		}
		if !set || on {
			return []string{"lets every pod mount its API token by default; set automountServiceAccountToken: false (pods that call the API opt in)"}, nil
		}
		return nil, nil
	}
	w, ok, err := workloadOf(r)
	if !ok || err != nil {
		return nil, err
	}
	_, set, err := w.spec.key("automountServiceAccountToken").boolean()
	if err != nil {
		return nil, err
	}
	if !set {
		return []string{fmt.Sprintf("leaves automountServiceAccountToken unset, so the API token is mounted; set %s.automountServiceAccountToken to false (true only if the pod calls the Kubernetes API)", w.specPath)}, nil
	}
	return nil, nil
}

func checkSecretsAsFiles(_ workload, c container) (string, error) {
	var problems []string
	env, err := c.n.key("env").items()
	if err != nil {
		return "", err
	}
	for _, e := range env {
		ref := e.at("valueFrom", "secretKeyRef")
		set, err := ref.isSet()
		if err != nil {
			return "", err
		}
		if set {
			problems = append(problems, fmt.Sprintf("reads key %q of Secret %q into env var %s",
				ref.key("key").nameOr("?"), ref.key("name").nameOr("?"), e.key("name").nameOr("?")))
		}
	}
	from, err := c.n.key("envFrom").items()
	if err != nil {
		return "", err
	}
	for _, f := range from {
		set, err := f.key("secretRef").isSet()
		if err != nil {
			return "", err
		}
		if set {
			problems = append(problems, fmt.Sprintf("loads Secret %q into its environment (envFrom)", f.at("secretRef", "name").nameOr("?")))
		}
	}
	if len(problems) == 0 {
		return "", nil
	}
	return strings.Join(problems, ", ") + "; mount the Secret as a read-only volume and read the file instead", nil
}
