package stack

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Project is the Pulumi project's name (Pulumi.yaml) and so the namespace
// of every config key: "mobile-mm-llm:image".
const Project = "mobile-mm-llm"

// Environment is a stack's environment; production stacks get the
// policies' production rules (3 replicas, backups, alerts).
type Environment string

// The environments.
const (
	// Dev is a developer or CI stack.
	Dev Environment = "dev"
	// Staging is a pre-production stack.
	Staging Environment = "staging"
	// Production serves users.
	Production Environment = "production"
)

// environments lists the valid environments, in the order errors name them.
var environments = []Environment{Dev, Staging, Production}

// The cluster kinds (key cluster.kind).
const (
	// ClusterExisting is a cluster that exists already, reached through a
	// kubeconfig from secret config.
	ClusterExisting = "existing"
	// ClusterEKS is an EKS cluster the stack creates (components/aws).
	ClusterEKS = "eks"
	// ClusterGKE is a GKE cluster the stack creates (components/gcp).
	ClusterGKE = "gke"
	// ClusterAKS is an AKS cluster the stack creates (components/azure).
	ClusterAKS = "aks"
)

// clusterKinds lists the cluster kinds, in the order errors name them.
var clusterKinds = []string{ClusterExisting, ClusterEKS, ClusterGKE, ClusterAKS}

// Config is a stack's typed configuration, every key in the Project
// namespace. ParseConfig reads and validates it; secrets are read apart
// (ReadSecrets), as Pulumi secrets.
type Config struct {
	// Environment is "dev", "staging" or "production" (key environment, required).
	Environment Environment
	// Region names the region or site the stack deploys (key region,
	// optional; exported for the global stack).
	Region string
	// Cluster says where the stack deploys (key cluster, required).
	Cluster ClusterConfig
	// Namespace is the inference server's namespace (key namespace, default "mmllm").
	Namespace string
	// Image is the server image, pinned by release tag or digest (key image, required).
	Image string
	// ModelClaim is a PersistentVolumeClaim in Namespace holding the model
	// weights (key modelClaim, optional: the image may carry them).
	ModelClaim string
	// Replicas bound the autoscaler (key replicas, required).
	Replicas Replicas
	// Resources are the server container's requests and limits (key
	// resources, optional: the workload component's defaults).
	Resources *Resources
	// GPU asks for GPUs (key gpu, optional: CPU only).
	GPU GPUConfig
	// KEDA is the autoscaler's operator (key keda).
	KEDA KEDAConfig
	// Redis is the in-cluster result cache (key redis).
	Redis RedisConfig
	// Monitoring is Prometheus, Grafana, alerts and dashboards (key monitoring).
	Monitoring MonitoringConfig
	// Ingress exposes the API over TLS (key ingress, required).
	Ingress IngressConfig
	// Network narrows the NetworkPolicies (key network, optional).
	Network NetworkConfig
	// RBAC binds groups to the viewer and operator roles (key rbac, optional).
	RBAC RBACConfig
	// Backup schedules backups (key backup, optional).
	Backup BackupConfig
	// Chaos installs Chaos Mesh and the PodChaos experiment against the
	// server (key chaos, optional: off).
	Chaos ChaosConfig
	// Tags are the environment, owner and cost-center tags (GCP labels) of
	// every cloud resource (key tags; required by the cloud kinds).
	Tags map[string]string
	// Models is the region's model store and its disaster-recovery copy
	// (key models; required by the cloud kinds).
	Models *ModelsConfig
	// Routing makes the stack the global stack (key routing; see
	// RoutingConfig): then only environment, tags, routing and stateBackup
	// are read.
	Routing *RoutingConfig
	// StateBackup backs up the Pulumi state bucket (key stateBackup; global
	// stack only).
	StateBackup *StateBackupConfig
}

// ClusterConfig is the key cluster: its kind, and the section of that kind.
type ClusterConfig struct {
	// Kind is "existing", "eks", "gke" or "aks".
	Kind string `json:"kind"`
	// Context selects a context of the kubeconfig (existing clusters;
	// default its current-context).
	Context string `json:"context,omitempty"`
	// RenderDir, on an existing cluster, makes the Kubernetes provider
	// write every manifest as YAML to this directory instead of applying
	// it (renderYamlToDirectory): no kubeconfig is read, and nothing may
	// be a Helm release. A relative path is relative to the project root.
	RenderDir string `json:"renderDir,omitempty"`
	// EKS is the EKS cluster (key cluster.eks, kind eks).
	EKS *EKSConfig `json:"eks,omitempty"`
	// GKE is the GKE cluster (key cluster.gke, kind gke).
	GKE *GKEConfig `json:"gke,omitempty"`
	// AKS is the AKS cluster (key cluster.aks, kind aks).
	AKS *AKSConfig `json:"aks,omitempty"`
}

// Replicas is the key replicas: the KEDA ScaledObject's bounds.
type Replicas struct {
	// Min is the floor, at least 1 (the policies want 2, 3 in production).
	Min int `json:"min"`
	// Max is the ceiling, at least Min.
	Max int `json:"max"`
}

// Resources is the key resources: all four quantities, or the key unset.
type Resources struct {
	// CPURequest is e.g. "500m".
	CPURequest string `json:"cpuRequest"`
	// CPULimit is e.g. "2".
	CPULimit string `json:"cpuLimit"`
	// MemoryRequest is e.g. "2Gi".
	MemoryRequest string `json:"memoryRequest"`
	// MemoryLimit is e.g. "8Gi".
	MemoryLimit string `json:"memoryLimit"`
}

// GPUConfig is the key gpu.
type GPUConfig struct {
	// Count is the number of nvidia.com/gpu per server pod; 0 runs on CPUs.
	Count int `json:"count"`
	// NodeSelector selects the GPU nodes for the server's pods and, in
	// device-plugin mode, the device plugin's (default
	// {"nvidia.com/gpu.present": "true"}, the GPU feature discovery label).
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Install deploys the GPU plumbing (default true; false where the
	// cluster has NVIDIA's device plugin or operator already).
	Install *bool `json:"install,omitempty"`
	// Mode is "device-plugin" (default) or "operator".
	Mode string `json:"mode,omitempty"`
	// InstallDriver makes the operator install the NVIDIA driver.
	InstallDriver bool `json:"installDriver,omitempty"`
}

// KEDAConfig is the key keda.
type KEDAConfig struct {
	// Install deploys the KEDA operator (default true; false where the
	// cluster runs KEDA already).
	Install *bool `json:"install,omitempty"`
}

// RedisConfig is the key redis.
type RedisConfig struct {
	// Enabled deploys the Redis result cache.
	Enabled bool `json:"enabled"`
	// Kind is "in-cluster" (the redis component; default on existing
	// clusters; needs the secret redisPassword) or "managed" (the cloud's
	// service; default on the cloud kinds).
	Kind string `json:"kind,omitempty"`
	// StorageSize is the in-cluster Redis's volume size (default the
	// component's, 8Gi).
	StorageSize string `json:"storageSize,omitempty"`
	// StorageClass is its volume's StorageClass (default the cluster's).
	StorageClass string `json:"storageClass,omitempty"`
	// ElastiCache tunes the managed Redis of an eks stack (needs the
	// secret redisPassword, the AUTH token).
	ElastiCache *ElastiCacheConfig `json:"elasticache,omitempty"`
	// Memorystore tunes the managed Redis of a gke stack.
	Memorystore *MemorystoreConfig `json:"memorystore,omitempty"`
	// AzureCache tunes the managed Redis of an aks stack (needs the secret
	// redisSnapshotStorage).
	AzureCache *AzureCacheConfig `json:"azureCache,omitempty"`
}

// MonitoringConfig is the key monitoring.
type MonitoringConfig struct {
	// Enabled installs kube-prometheus-stack and the server's alerts and
	// dashboard (default true; needs the secret grafanaAdminPassword).
	Enabled *bool `json:"enabled,omitempty"`
	// Namespace is Prometheus's namespace (default "monitoring").
	Namespace string `json:"namespace,omitempty"`
	// Retention is how long Prometheus keeps samples (default 15d).
	Retention string `json:"retention,omitempty"`
	// StorageSize gives Prometheus a volume of that size.
	StorageSize string `json:"storageSize,omitempty"`
	// StorageClass is that volume's StorageClass.
	StorageClass string `json:"storageClass,omitempty"`
	// PrometheusAddress is the Prometheus KEDA queries when Enabled is
	// false (required then).
	PrometheusAddress string `json:"prometheusAddress,omitempty"`
	// RunbookURL is linked from every alert.
	RunbookURL string `json:"runbookUrl,omitempty"`
	// AlertLabels are added to every alert (routing, team).
	AlertLabels map[string]string `json:"alertLabels,omitempty"`
}

// IngressConfig is the key ingress.
type IngressConfig struct {
	// Host is the public host name (required).
	Host string `json:"host"`
	// TLSSecretName is the certificate's Secret in Namespace (required).
	TLSSecretName string `json:"tlsSecretName"`
	// ClassName is the IngressClass (default "nginx").
	ClassName string `json:"className,omitempty"`
	// Annotations are added to the Ingress (cert-manager issuer...).
	Annotations map[string]string `json:"annotations,omitempty"`
	// GlobalHost is the global stack's name (routing.domain) that this
	// region also answers to: a second Ingress for it, with the same
	// certificate Secret (which must cover both names).
	GlobalHost string `json:"globalHost,omitempty"`
}

// NetworkConfig is the key network.
type NetworkConfig struct {
	// IngressNamespace is the ingress controller's namespace (default "ingress-nginx").
	IngressNamespace string `json:"ingressNamespace,omitempty"`
	// HTTPSEgressCIDRs are where the server may open HTTPS connections
	// (default everywhere).
	HTTPSEgressCIDRs []string `json:"httpsEgressCidrs,omitempty"`
}

// RBACConfig is the key rbac.
type RBACConfig struct {
	// ViewerGroups are bound to the read-only role.
	ViewerGroups []string `json:"viewerGroups,omitempty"`
	// OperatorGroups are bound to the runbook actions' role.
	OperatorGroups []string `json:"operatorGroups,omitempty"`
}

// BackupConfig is the key backup: snapshots of the in-cluster Redis (a
// CronJob) and, on eks, AWS Backup of the model bucket.
type BackupConfig struct {
	// Enabled schedules the backups (needs the in-cluster Redis, or eks).
	Enabled bool `json:"enabled"`
	// Schedule is the CronJob's schedule, in UTC (default "17 3 * * *").
	Schedule string `json:"schedule,omitempty"`
	// RetentionDays is how long snapshots are kept (default 14).
	RetentionDays int `json:"retentionDays,omitempty"`
	// StorageSize is the snapshots' volume size (default "20Gi").
	StorageSize string `json:"storageSize,omitempty"`
	// StorageClass is that volume's StorageClass (default the cluster's).
	StorageClass string `json:"storageClass,omitempty"`
	// Export is the backup job of the cloud kinds (key backup.export):
	// the in-cluster Redis's dump and the namespace's configuration
	// uploaded to the region's model bucket (components/backup).
	Export *BackupExportConfig `json:"export,omitempty"`
}

// BackupExportConfig is the key backup.export (cloud kinds only).
type BackupExportConfig struct {
	// Enabled deploys the backup CronJob and its write-only cloud identity.
	Enabled bool `json:"enabled"`
	// Schedule is its cron schedule, in UTC (default backup.schedule).
	Schedule string `json:"schedule,omitempty"`
}

// ExportsBackups reports whether the stack deploys the backup job that
// uploads to the model bucket (backup.export.enabled).
func (c *Config) ExportsBackups() bool {
	return c.Backup.Enabled && c.Backup.Export != nil && c.Backup.Export.Enabled
}

// ChaosConfig is the key chaos: Chaos Mesh (components/chaos), namespace-
// scoped to the server's namespace, and its experiment against the server's
// pods. Opt-in per stack; unset fields take the component's defaults (the
// guide's: pod-failure of 10% of the pods for 60s, run once).
type ChaosConfig struct {
	// Enabled installs Chaos Mesh (a Helm release, so not in render mode).
	Enabled bool `json:"enabled"`
	// Runtime is the nodes' container runtime: containerd (default), crio
	// or docker.
	Runtime string `json:"runtime,omitempty"`
	// SocketPath is the runtime's socket on the nodes (default the
	// runtime's usual path; k3s: /run/k3s/containerd/containerd.sock).
	SocketPath string `json:"socketPath,omitempty"`
	// Action is pod-failure (default) or pod-kill.
	Action string `json:"action,omitempty"`
	// Mode is one, all, fixed, fixed-percent (default) or
	// random-max-percent.
	Mode string `json:"mode,omitempty"`
	// Value is the count (fixed) or percentage (the percent modes).
	Value int `json:"value,omitempty"`
	// Duration is how long a pod-failure lasts (default 60s).
	Duration string `json:"duration,omitempty"`
	// Schedule repeats the experiment on a cron schedule (empty: once).
	Schedule string `json:"schedule,omitempty"`
	// GracePeriodSeconds is a pod-kill's termination grace period.
	GracePeriodSeconds int `json:"gracePeriodSeconds,omitempty"`
}

// configKey is one config key of the Project namespace and where
// ParseConfig stores its value.
type configKey struct {
	name string
	// object keys hold structured values (JSON in Pulumi's config map);
	// the others are plain strings.
	object bool
	dst    func(c *Config) any
}

// configKeys lists every plain (non-secret) key, in the order errors name them.
func configKeys() []configKey {
	return []configKey{
		{"environment", false, func(c *Config) any { return (*string)(&c.Environment) }},
		{"region", false, func(c *Config) any { return &c.Region }},
		{"cluster", true, func(c *Config) any { return &c.Cluster }},
		{"namespace", false, func(c *Config) any { return &c.Namespace }},
		{"image", false, func(c *Config) any { return &c.Image }},
		{"modelClaim", false, func(c *Config) any { return &c.ModelClaim }},
		{"replicas", true, func(c *Config) any { return &c.Replicas }},
		{"resources", true, func(c *Config) any { return &c.Resources }},
		{"gpu", true, func(c *Config) any { return &c.GPU }},
		{"keda", true, func(c *Config) any { return &c.KEDA }},
		{"redis", true, func(c *Config) any { return &c.Redis }},
		{"monitoring", true, func(c *Config) any { return &c.Monitoring }},
		{"ingress", true, func(c *Config) any { return &c.Ingress }},
		{"network", true, func(c *Config) any { return &c.Network }},
		{"rbac", true, func(c *Config) any { return &c.RBAC }},
		{"backup", true, func(c *Config) any { return &c.Backup }},
		{"chaos", true, func(c *Config) any { return &c.Chaos }},
		{"tags", true, func(c *Config) any { return &c.Tags }},
		{"models", true, func(c *Config) any { return &c.Models }},
		{"routing", true, func(c *Config) any { return &c.Routing }},
		{"stateBackup", true, func(c *Config) any { return &c.StateBackup }},
	}
}

// ConfigKeys returns every key the program reads, plain and secret, without
// the Project namespace; the policy runner rejects any other key of the
// namespace in a stack file (a typo would otherwise be silently ignored).
func ConfigKeys() []string {
	var out []string
	for _, k := range configKeys() {
		out = append(out, k.name)
	}
	return append(out, SecretKeys()...)
}

// FullKey is key in the Project namespace ("mobile-mm-llm:image").
func FullKey(key string) string { return Project + ":" + key }

// ParseConfig reads the stack's config through lookup (full key to raw
// value, as Pulumi passes it: plain strings, structured values as JSON),
// fills the defaults and validates it. The error names every bad key.
func ParseConfig(lookup func(fullKey string) (string, bool)) (*Config, error) {
	cfg := &Config{}
	var errs []error
	set := map[string]bool{}
	for _, k := range configKeys() {
		raw, ok := lookup(FullKey(k.name))
		if !ok {
			continue
		}
		set[k.name] = true
		if !k.object {
			*k.dst(cfg).(*string) = raw
			continue
		}
		if err := decodeStrict(raw, k.dst(cfg)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", FullKey(k.name), err))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid stack config: %w", errors.Join(errs...))
	}
	cfg.applyDefaults()
	if err := cfg.validate(func(key string) bool { return set[key] }); err != nil {
		return nil, err
	}
	return cfg, nil
}

// decodeStrict decodes a structured value, rejecting unknown fields and
// naming the field of a type mismatch.
func decodeStrict(raw string, dst any) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil && dec.More() {
		err = errors.New("has trailing data after the value")
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return fmt.Errorf("is a %s; it must be an object (see infra/README.md)", typeErr.Value)
	case errors.As(err, &typeErr):
		return fmt.Errorf("%s: is a %s, want %s", typeErr.Field, typeErr.Value, typeErr.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return fmt.Errorf("has an %s", strings.TrimPrefix(err.Error(), "json: "))
	default:
		return fmt.Errorf("is not a valid structured value: %w", err)
	}
}

// Defaults of optional keys.
const (
	defaultNamespace           = "mmllm"
	defaultMonitoringNamespace = "monitoring"
	defaultBackupSchedule      = "17 3 * * *"
	defaultBackupRetentionDays = 14
	defaultBackupStorageSize   = "20Gi"
	// gpuPresentLabel is the node label NVIDIA's GPU feature discovery sets.
	gpuPresentLabel = "nvidia.com/gpu.present"
)

// applyDefaults fills the unset optional keys.
func (c *Config) applyDefaults() {
	if c.Namespace == "" {
		c.Namespace = defaultNamespace
	}
	if c.GPU.Count > 0 && len(c.GPU.NodeSelector) == 0 {
		c.GPU.NodeSelector = map[string]string{gpuPresentLabel: "true"}
	}
	if c.Monitoring.Namespace == "" {
		c.Monitoring.Namespace = defaultMonitoringNamespace
	}
	if b := c.StateBackup; b != nil {
		b.Schedule = cmp.Or(b.Schedule, defaultBackupSchedule)
		b.RetentionDays = cmp.Or(b.RetentionDays, defaultStateRetentionDays)
	}
	if c.Backup.Enabled {
		if c.Backup.Schedule == "" {
			c.Backup.Schedule = defaultBackupSchedule
		}
		if c.Backup.RetentionDays == 0 {
			c.Backup.RetentionDays = defaultBackupRetentionDays
		}
		if c.Backup.StorageSize == "" {
			c.Backup.StorageSize = defaultBackupStorageSize
		}
		if e := c.Backup.Export; e != nil && e.Enabled {
			e.Schedule = cmp.Or(e.Schedule, c.Backup.Schedule)
		}
	}
}

// enabled is an optional switch that defaults to on.
func enabled(b *bool) bool { return b == nil || *b }

// MonitoringEnabled reports whether the stack installs its monitoring.
func (c *Config) MonitoringEnabled() bool { return enabled(c.Monitoring.Enabled) }

// InstallsGPUSupport reports whether the stack deploys NVIDIA's device
// plugin or operator.
func (c *Config) InstallsGPUSupport() bool { return c.GPU.Count > 0 && enabled(c.GPU.Install) }

// InstallsKEDA reports whether the stack deploys the KEDA operator.
func (c *Config) InstallsKEDA() bool { return enabled(c.KEDA.Install) }

// cronPattern is a five-field cron schedule or one of the macros the
// CronJob controller accepts.
var cronPattern = regexp.MustCompile(`^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|([0-9A-Za-z*/,?-]+\s+){4}[0-9A-Za-z*/,?-]+)$`)
