package stack

import (
	"errors"
	"fmt"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/backup"
	"slices"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/gpu"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
)

// validate checks defaulted config, naming every bad key in the Project
// namespace (set tells which keys the stack file sets). The components
// check their Args again; this names the stack's keys, so the message says
// what to change in the stack file.
func (c *Config) validate(set func(key string) bool) error {
	ch := kube.NewChecker("stack config")
	if c.IsGlobal() {
		c.validateGlobal(ch, set)
	} else {
		c.validateRegional(ch, set)
	}
	if err := ch.Err(); err != nil {
		// The Checker says "invalid args"; the stack's keys are config.
		return fmt.Errorf("invalid stack config: %w", errors.Unwrap(err))
	}
	return nil
}

// validateRegional checks a regional stack's config.
func (c *Config) validateRegional(ch *kube.Checker, set func(key string) bool) {
	k := FullKey
	if set("stateBackup") {
		ch.Failf(k("stateBackup"), "is the global stack's key (with routing); a regional stack backs up with backup")
	}
	if !slices.Contains(environments, c.Environment) {
		ch.Failf(k("environment"), "is %q; use one of %s", c.Environment, joinQuoted(environments))
	}
	c.validateCluster(ch)
	ch.Name(k("namespace"), c.Namespace)
	ch.Image(k("image"), c.Image)
	if c.ModelClaim != "" {
		ch.Name(k("modelClaim"), c.ModelClaim)
	}
	ch.Min(k("replicas")+".min", c.Replicas.Min, 1)
	ch.Min(k("replicas")+".max", c.Replicas.Max, 1)
	if c.Replicas.Min > c.Replicas.Max {
		ch.Failf(k("replicas")+".min", "is %d, above replicas.max (%d)", c.Replicas.Min, c.Replicas.Max)
	}
	if r := c.Resources; r != nil {
		ch.Resources(k("resources"), kube.Resources(*r))
	}
	c.validateCloud(ch)
	c.validateGPU(ch)
	c.validateRedis(ch)
	c.validateMonitoring(ch)
	ch.Host(k("ingress")+".host", c.Ingress.Host)
	ch.Name(k("ingress")+".tlsSecretName", c.Ingress.TLSSecretName)
	if g := c.Ingress.GlobalHost; g != "" {
		ch.Host(k("ingress")+".globalHost", g)
		if g == c.Ingress.Host {
			ch.Failf(k("ingress")+".globalHost", "is ingress.host; give the global name (routing.domain of the global stack) or drop it")
		}
	}
	if c.Ingress.ClassName != "" {
		ch.Name(k("ingress")+".className", c.Ingress.ClassName)
	}
	if c.Network.IngressNamespace != "" {
		ch.Name(k("network")+".ingressNamespace", c.Network.IngressNamespace)
	}
	for i, cidr := range c.Network.HTTPSEgressCIDRs {
		ch.CIDR(fmt.Sprintf("%s.httpsEgressCidrs[%d]", k("network"), i), cidr)
	}
	for i, g := range c.RBAC.ViewerGroups {
		ch.Required(fmt.Sprintf("%s.viewerGroups[%d]", k("rbac"), i), g)
	}
	for i, g := range c.RBAC.OperatorGroups {
		ch.Required(fmt.Sprintf("%s.operatorGroups[%d]", k("rbac"), i), g)
	}
	c.validateBackup(ch)
	c.validateChaos(ch)
}

func (c *Config) validateCluster(ch *kube.Checker) {
	key := FullKey("cluster") + ".kind"
	switch kind := c.Cluster.Kind; {
	case slices.Contains(clusterKinds, kind):
	case kind == "":
		ch.Failf(key, "is required: %s (%q: a kubeconfig in the secret %s)", joinQuoted(clusterKinds), ClusterExisting, FullKey(KeyKubeconfig))
	default:
		ch.Failf(key, "is %q; use %s", kind, joinQuoted(clusterKinds))
	}
	if c.CloudKind() && strings.TrimSpace(c.Region) == "" {
		ch.Failf(FullKey("region"), "is required for cluster.kind %q: the region's name (us-east), which the global stack and the outputs use", c.Cluster.Kind)
	}
	if c.Cluster.RenderDir != "" {
		c.validateRender(ch)
	}
}

// validateRender checks render mode (cluster.renderDir): an existing
// cluster, and no Helm release, which the Kubernetes provider cannot
// render (pulumi-kubernetes#1716).
func (c *Config) validateRender(ch *kube.Checker) {
	key := FullKey("cluster") + ".renderDir"
	if c.Cluster.Kind != ClusterExisting {
		ch.Failf(key, "is for cluster.kind %q; a %s cluster is created, not rendered", ClusterExisting, c.Cluster.Kind)
		return
	}
	if c.Cluster.Context != "" {
		ch.Failf(FullKey("cluster")+".context", "is a kubeconfig context; render mode (cluster.renderDir) reads no kubeconfig")
	}
	if strings.ContainsRune(c.Cluster.RenderDir, 0) || strings.TrimSpace(c.Cluster.RenderDir) != c.Cluster.RenderDir {
		ch.Failf(key, "%q is not a usable directory path", c.Cluster.RenderDir)
	}
	const helm = "installs a Helm release, which render mode (cluster.renderDir) cannot write as YAML"
	if c.MonitoringEnabled() {
		ch.Failf(FullKey("monitoring")+".enabled", "%s (kube-prometheus-stack); set it false and give monitoring.prometheusAddress", helm)
	}
	if c.InstallsKEDA() {
		ch.Failf(FullKey("keda")+".install", "%s (KEDA); set it false and install KEDA on the cluster yourself", helm)
	}
	if c.InstallsGPUSupport() && c.GPU.Mode == string(gpu.Operator) {
		ch.Failf(FullKey("gpu")+".mode", "%s (the GPU operator); use %q or gpu.install: false", helm, gpu.DevicePlugin)
	}
	if c.Chaos.Enabled {
		ch.Failf(FullKey("chaos")+".enabled", "%s (Chaos Mesh); set it false", helm)
	}
}

func (c *Config) validateGPU(ch *kube.Checker) {
	key := FullKey("gpu")
	g := c.GPU
	ch.Min(key+".count", g.Count, 0)
	if g.Count == 0 {
		if len(g.NodeSelector) > 0 || g.Mode != "" || g.InstallDriver {
			ch.Failf(key, "sets nodeSelector, mode or installDriver but count is 0; set gpu.count or drop them")
		}
		return
	}
	ch.Labels(key+".nodeSelector", g.NodeSelector, true)
	switch gpu.Mode(g.Mode) {
	case "", gpu.DevicePlugin:
		if g.InstallDriver {
			ch.Failf(key+".installDriver", "needs gpu.mode %q; the device plugin uses the nodes' driver", gpu.Operator)
		}
	case gpu.Operator:
	default:
		ch.Failf(key+".mode", "is %q; use %q or %q", g.Mode, gpu.DevicePlugin, gpu.Operator)
	}
}

func (c *Config) validateMonitoring(ch *kube.Checker) {
	key := FullKey("monitoring")
	m := c.Monitoring
	ch.Name(key+".namespace", m.Namespace)
	if c.MonitoringEnabled() {
		if m.PrometheusAddress != "" {
			ch.Failf(key+".prometheusAddress", "is for a Prometheus this stack does not install; drop it or set monitoring.enabled: false")
		}
		if m.StorageSize != "" {
			ch.Quantity(key+".storageSize", m.StorageSize)
		}
		if m.StorageClass != "" {
			ch.Name(key+".storageClass", m.StorageClass)
		}
	} else {
		if m.PrometheusAddress == "" {
			ch.Failf(key+".prometheusAddress", "is required when monitoring.enabled is false: KEDA scales on the queue length it reads from Prometheus")
		} else {
			ch.URL(key+".prometheusAddress", m.PrometheusAddress)
		}
		if m.Retention != "" || m.StorageSize != "" || m.StorageClass != "" || m.RunbookURL != "" || len(m.AlertLabels) > 0 {
			ch.Failf(key, "sets retention, storage, runbookUrl or alertLabels but monitoring.enabled is false")
		}
	}
	if m.RunbookURL != "" {
		ch.URL(key+".runbookUrl", m.RunbookURL)
	}
	ch.Labels(key+".alertLabels", m.AlertLabels, false)
}

func (c *Config) validateBackup(ch *kube.Checker) {
	key := FullKey("backup")
	b := c.Backup
	if !b.Enabled {
		if b != (BackupConfig{}) {
			ch.Failf(key, "sets a schedule, retention or storage but backup.enabled is false")
		}
		return
	}
	if !c.InClusterRedis() && c.Cluster.Kind != ClusterEKS && c.Cluster.Kind != ClusterGKE && !(c.ExportsBackups() && c.CloudKind()) {
		ch.Failf(key+".enabled", "needs redis.enabled with the in-cluster Redis, whose snapshots the backup job takes (eks backs up the model bucket with AWS Backup, gke the cluster with Backup for GKE)")
	}
	if c.Cluster.Kind == ClusterEKS {
		checkAWSSchedule(ch, key+".schedule", b.Schedule)
	} else if !cronPattern.MatchString(strings.TrimSpace(b.Schedule)) {
		ch.Failf(key+".schedule", "%q is not a cron schedule such as \"17 3 * * *\" or @daily", b.Schedule)
	}
	ch.Min(key+".retentionDays", b.RetentionDays, 1)
	ch.Quantity(key+".storageSize", b.StorageSize)
	if e := b.Export; e != nil {
		switch {
		case !e.Enabled && *e != (BackupExportConfig{}):
			ch.Failf(key+".export", "sets a schedule but backup.export.enabled is false")
		case e.Enabled && !c.CloudKind():
			ch.Failf(key+".export.enabled", "needs cluster.kind eks, gke or aks, whose model bucket it uploads to (an existing cluster keeps the Redis snapshot job's volume)")
		case e.Enabled:
			backup.CheckSchedule(ch, key+".export.schedule", e.Schedule)
		}
	}
	if b.StorageClass != "" {
		ch.Name(key+".storageClass", b.StorageClass)
	}
}

// joinQuoted lists values as "a", "b" or "c".
func joinQuoted[S ~string](values []S) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
