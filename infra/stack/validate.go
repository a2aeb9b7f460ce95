package stack

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/gpu"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
)

// validate checks defaulted config, naming every bad key in the Project
// namespace. The components check their Args again; this names the stack's
// keys, so the message says what to change in the stack file.
func (c *Config) validate() error {
	ch := kube.NewChecker("stack config")
	k := FullKey
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
	c.validateGPU(ch)
	if c.Redis.StorageSize != "" {
		ch.Quantity(k("redis")+".storageSize", c.Redis.StorageSize)
	}
	if c.Redis.StorageClass != "" {
		ch.Name(k("redis")+".storageClass", c.Redis.StorageClass)
	}
	c.validateMonitoring(ch)
	ch.Host(k("ingress")+".host", c.Ingress.Host)
	ch.Name(k("ingress")+".tlsSecretName", c.Ingress.TLSSecretName)
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
	if err := ch.Err(); err != nil {
		// The Checker says "invalid args"; the stack's keys are config.
		return fmt.Errorf("invalid stack config: %w", errors.Unwrap(err))
	}
	return nil
}

func (c *Config) validateCluster(ch *kube.Checker) {
	key := FullKey("cluster") + ".kind"
	switch kind := c.Cluster.Kind; {
	case kind == ClusterExisting:
	case kind == "":
		ch.Failf(key, "is required: %q (a kubeconfig in the secret %s)", ClusterExisting, FullKey(KeyKubeconfig))
	case slices.Contains(clusterKindsLater, kind):
		ch.Failf(key, "is %q, which this program cannot create yet (the cloud clusters of issue 6); use %q", kind, ClusterExisting)
	default:
		ch.Failf(key, "is %q; use %q", kind, ClusterExisting)
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
	if !c.Redis.Enabled {
		ch.Failf(key+".enabled", "needs redis.enabled: the backup job snapshots the in-cluster Redis")
	}
	if !cronPattern.MatchString(strings.TrimSpace(b.Schedule)) {
		ch.Failf(key+".schedule", "%q is not a cron schedule such as \"17 3 * * *\" or @daily", b.Schedule)
	}
	ch.Min(key+".retentionDays", b.RetentionDays, 1)
	ch.Quantity(key+".storageSize", b.StorageSize)
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
