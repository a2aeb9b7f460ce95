package stack

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The secret config keys (set with `pulumi config set --secret`).
const (
	// KeyKubeconfig is an existing cluster's kubeconfig (not in render mode).
	KeyKubeconfig = "kubeconfig"
	// KeyAPITokens are the server's bearer tokens, one per line.
	KeyAPITokens = "apiTokens"
	// KeyRedisPassword is the in-cluster Redis's password, or the
	// ElastiCache AUTH token of an eks stack's managed Redis.
	KeyRedisPassword = "redisPassword"
	// KeyRedisSnapshotStorage is the storage account connection string an
	// aks stack's Azure Cache for Redis writes its RDB snapshots to.
	KeyRedisSnapshotStorage = "redisSnapshotStorage"
	// KeyGrafanaAdminPassword is Grafana's admin password (monitoring.enabled).
	KeyGrafanaAdminPassword = "grafanaAdminPassword"
)

// SecretKeys returns the secret keys the program may read, without the
// Project namespace.
func SecretKeys() []string {
	return []string{KeyKubeconfig, KeyAPITokens, KeyRedisPassword, KeyGrafanaAdminPassword, KeyRedisSnapshotStorage}
}

// Secrets are the secret config values a stack needs, as Pulumi secrets;
// a key the stack's config does not need is nil.
type Secrets struct {
	// Kubeconfig is the existing cluster's kubeconfig.
	Kubeconfig pulumi.StringInput
	// APITokens are the server's bearer tokens.
	APITokens pulumi.StringInput
	// RedisPassword is the in-cluster Redis's password or the ElastiCache
	// AUTH token.
	RedisPassword pulumi.StringInput
	// RedisSnapshotStorage is the Azure Cache's snapshot storage.
	RedisSnapshotStorage pulumi.StringInput
	// GrafanaAdminPassword is Grafana's admin password.
	GrafanaAdminPassword pulumi.StringInput
}

// ReadSecrets reads the secrets cfg needs through lookup (full key to
// value) and isSecret (whether Pulumi holds the key encrypted). A missing
// or empty key, or one stored in plain text, is an error naming it. The
// global stack needs none.
func ReadSecrets(cfg *Config, lookup func(fullKey string) (string, bool), isSecret func(fullKey string) bool) (Secrets, error) {
	var s Secrets
	var errs []string
	read := func(key string) pulumi.StringInput {
		full := FullKey(key)
		v, ok := lookup(full)
		switch {
		case !ok || strings.TrimSpace(v) == "":
			errs = append(errs, fmt.Sprintf("%s: is required; set it with `pulumi config set --secret %s` (value from stdin)", full, full))
			return nil
		case !isSecret(full):
			errs = append(errs, fmt.Sprintf("%s: is stored in plain text in the stack file; set it again with `pulumi config set --secret %s`", full, full))
			return nil
		}
		return pulumi.ToSecret(pulumi.String(v)).(pulumi.StringOutput)
	}
	if cfg.IsGlobal() {
		return s, nil
	}
	if cfg.Cluster.Kind == ClusterExisting && cfg.Cluster.RenderDir == "" {
		s.Kubeconfig = read(KeyKubeconfig)
	}
	s.APITokens = read(KeyAPITokens)
	if cfg.InClusterRedis() || cfg.ManagedRedis() && cfg.Cluster.Kind == ClusterEKS {
		s.RedisPassword = read(KeyRedisPassword)
	}
	if cfg.ManagedRedis() && cfg.Cluster.Kind == ClusterAKS {
		s.RedisSnapshotStorage = read(KeyRedisSnapshotStorage)
	}
	if cfg.MonitoringEnabled() {
		s.GrafanaAdminPassword = read(KeyGrafanaAdminPassword)
	}
	if len(errs) > 0 {
		return Secrets{}, fmt.Errorf("invalid stack config: %s", strings.Join(errs, "\n"))
	}
	return s, nil
}
