package stack

import (
	"maps"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// minimal is the smallest valid config, as Pulumi passes it to a program.
func minimal() map[string]string {
	return map[string]string{
		"mobile-mm-llm:environment": "dev",
		"mobile-mm-llm:cluster":     `{"kind":"existing"}`,
		"mobile-mm-llm:image":       "ghcr.io/mobile-mm-llm/mmllm:v0.3.1",
		"mobile-mm-llm:replicas":    `{"min":2,"max":4}`,
		"mobile-mm-llm:ingress":     `{"host":"api.example.com","tlsSecretName":"api-tls"}`,
	}
}

// lookup reads a config map as ctx.GetConfig does.
func lookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// with returns minimal() with key set to value ("" deletes it).
func with(kv ...string) map[string]string {
	m := minimal()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(m, FullKey(kv[i]))
		} else {
			m[FullKey(kv[i])] = kv[i+1]
		}
	}
	return m
}

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig(lookup(minimal()))
	require.NoError(t, err)
	require.Equal(t, Dev, cfg.Environment)
	require.Equal(t, "mmllm", cfg.Namespace)
	require.Equal(t, Replicas{Min: 2, Max: 4}, cfg.Replicas)
	require.Nil(t, cfg.Resources)
	require.True(t, cfg.MonitoringEnabled())
	require.Equal(t, "monitoring", cfg.Monitoring.Namespace)
	require.True(t, cfg.InstallsKEDA())
	require.False(t, cfg.InstallsGPUSupport(), "no GPUs asked for")
	require.False(t, cfg.Redis.Enabled)
	require.False(t, cfg.Backup.Enabled)

	cfg, err = ParseConfig(lookup(with("gpu", `{"count":2}`, "redis", `{"enabled":true}`, "backup", `{"enabled":true}`)))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"nvidia.com/gpu.present": "true"}, cfg.GPU.NodeSelector)
	require.True(t, cfg.InstallsGPUSupport())
	require.Equal(t, BackupConfig{Enabled: true, Schedule: "17 3 * * *", RetentionDays: 14, StorageSize: "20Gi"}, cfg.Backup)

	cfg, err = ParseConfig(lookup(with("gpu", `{"count":1,"install":false}`, "keda", `{"install":false}`,
		"monitoring", `{"enabled":false,"prometheusAddress":"http://prometheus.obs:9090"}`)))
	require.NoError(t, err)
	require.False(t, cfg.InstallsGPUSupport())
	require.False(t, cfg.InstallsKEDA())
	require.False(t, cfg.MonitoringEnabled())
}

func TestParseConfigErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name string
		cfg  map[string]string
		want []string
	}{
		{"no environment", with("environment", ""), []string{`mobile-mm-llm:environment: is ""; use one of "dev", "staging" or "production"`}},
		{"bad environment", with("environment", "prod"), []string{`mobile-mm-llm:environment: is "prod"`}},
		{"no cluster", with("cluster", ""), []string{`mobile-mm-llm:cluster.kind: is required: "existing"`}},
		{"cloud cluster", with("cluster", `{"kind":"eks"}`), []string{`mobile-mm-llm:cluster.kind: is "eks", which this program cannot create yet`}},
		{"unknown cluster", with("cluster", `{"kind":"nomad"}`), []string{`mobile-mm-llm:cluster.kind: is "nomad"; use "existing"`}},
		{"latest image", with("image", "ghcr.io/x/mmllm:latest"), []string{`mobile-mm-llm:image: "ghcr.io/x/mmllm:latest" floats on latest`}},
		{"untagged image", with("image", "ghcr.io/x/mmllm"), []string{`mobile-mm-llm:image: "ghcr.io/x/mmllm" has no tag`}},
		{"no image", with("image", ""), []string{"mobile-mm-llm:image: is required"}},
		{"bad namespace", with("namespace", "MMLLM"), []string{`mobile-mm-llm:namespace: "MMLLM" is not a valid Kubernetes name`}},
		{"min above max", with("replicas", `{"min":5,"max":3}`), []string{"mobile-mm-llm:replicas.min: is 5, above replicas.max (3)"}},
		{"no replicas", with("replicas", ""), []string{"mobile-mm-llm:replicas.min: is 0; it must be at least 1", "mobile-mm-llm:replicas.max: is 0"}},
		{"replicas scalar", with("replicas", "3"), []string{"mobile-mm-llm:replicas: is a number; it must be an object"}},
		{"replicas typo", with("replicas", `{"min":2,"mx":4}`), []string{`mobile-mm-llm:replicas: has an unknown field "mx"`}},
		{"replicas string", with("replicas", `{"min":"2","max":4}`), []string{"mobile-mm-llm:replicas: min: is a string, want int"}},
		{"partial resources", with("resources", `{"cpuRequest":"1"}`), []string{"mobile-mm-llm:resources.CPULimit:", "mobile-mm-llm:resources.MemoryRequest:"}},
		{"request above limit", with("resources", `{"cpuRequest":"4","cpuLimit":"2","memoryRequest":"1Gi","memoryLimit":"2Gi"}`),
			[]string{"mobile-mm-llm:resources.CPURequest: 4 is above mobile-mm-llm:resources.CPULimit (2)"}},
		{"negative gpus", with("gpu", `{"count":-1}`), []string{"mobile-mm-llm:gpu.count: is -1"}},
		{"gpu mode without gpus", with("gpu", `{"mode":"operator"}`), []string{"mobile-mm-llm:gpu: sets nodeSelector, mode or installDriver but count is 0"}},
		{"bad gpu mode", with("gpu", `{"count":1,"mode":"mig"}`), []string{`mobile-mm-llm:gpu.mode: is "mig"`}},
		{"driver without operator", with("gpu", `{"count":1,"installDriver":true}`), []string{`mobile-mm-llm:gpu.installDriver: needs gpu.mode "operator"`}},
		{"external prometheus missing", with("monitoring", `{"enabled":false}`), []string{"mobile-mm-llm:monitoring.prometheusAddress: is required when monitoring.enabled is false"}},
		{"prometheus address not a URL", with("monitoring", `{"enabled":false,"prometheusAddress":"prometheus:9090"}`), []string{`mobile-mm-llm:monitoring.prometheusAddress: "prometheus:9090" is not an http(s) URL`}},
		{"address with own prometheus", with("monitoring", `{"prometheusAddress":"http://p:9090"}`), []string{"mobile-mm-llm:monitoring.prometheusAddress: is for a Prometheus this stack does not install"}},
		{"no ingress", with("ingress", ""), []string{`mobile-mm-llm:ingress.host: "" is not a lower-case DNS host name`, "mobile-mm-llm:ingress.tlsSecretName:"}},
		{"bad cidr", with("network", `{"httpsEgressCidrs":["10.0.0.0/8","everywhere"]}`), []string{`mobile-mm-llm:network.httpsEgressCidrs[1]: "everywhere" is not a CIDR`}},
		{"empty group", with("rbac", `{"operatorGroups":[""]}`), []string{"mobile-mm-llm:rbac.operatorGroups[0]: is required"}},
		{"backup without redis", with("backup", `{"enabled":true}`), []string{"mobile-mm-llm:backup.enabled: needs redis.enabled"}},
		{"bad schedule", with("redis", `{"enabled":true}`, "backup", `{"enabled":true,"schedule":"daily"}`), []string{`mobile-mm-llm:backup.schedule: "daily" is not a cron schedule`}},
		{"backup settings while off", with("backup", `{"schedule":"@daily"}`), []string{"mobile-mm-llm:backup: sets a schedule, retention or storage but backup.enabled is false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseConfig(lookup(tt.cfg))
			require.Nil(t, cfg)
			require.ErrorContains(t, err, "invalid stack config: ")
			require.NotContains(t, err.Error(), "invalid args", "config errors speak of config")
			for _, w := range tt.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

func TestParseConfigReportsEveryBadKeyAtOnce(t *testing.T) {
	_, err := ParseConfig(lookup(with("environment", "qa", "image", "x:latest", "replicas", `{"min":3,"max":1}`)))
	require.Error(t, err)
	for _, key := range []string{"environment", "image", "replicas.min"} {
		require.ErrorContains(t, err, FullKey(key)+":")
	}
	require.Len(t, strings.Split(err.Error(), "\n"), 3)
}

func TestConfigKeysCoverConfig(t *testing.T) {
	keys := ConfigKeys()
	require.Subset(t, keys, SecretKeys())
	// Structured keys decode by their JSON names.
	cfg, err := ParseConfig(lookup(with("gpu", `{"count":1,"mode":"operator","installDriver":true}`,
		"redis", `{"enabled":true,"storageSize":"2Gi","storageClass":"fast"}`)))
	require.NoError(t, err)
	require.Equal(t, GPUConfig{Count: 1, Mode: "operator", InstallDriver: true,
		NodeSelector: map[string]string{"nvidia.com/gpu.present": "true"}}, cfg.GPU)
	require.Equal(t, RedisConfig{Enabled: true, StorageSize: "2Gi", StorageClass: "fast"}, cfg.Redis)
	for _, k := range configKeys() {
		require.Contains(t, keys, k.name)
	}
	require.Len(t, keys, len(configKeys())+len(SecretKeys()), "no duplicates")
}

// secretsOf returns the config and which keys are secret.
func secretsOf(cfg map[string]string, secret ...string) (func(string) (string, bool), func(string) bool) {
	return lookup(cfg), func(k string) bool {
		for _, s := range secret {
			if FullKey(s) == k {
				return true
			}
		}
		return false
	}
}

func TestReadSecrets(t *testing.T) {
	all := maps.Clone(minimal())
	for _, k := range SecretKeys() {
		all[FullKey(k)] = "value-of-" + k + "-long-enough"
	}
	cfg, err := ParseConfig(lookup(with("redis", `{"enabled":true}`)))
	require.NoError(t, err)
	get, isSecret := secretsOf(all, SecretKeys()...)
	s, err := ReadSecrets(cfg, get, isSecret)
	require.NoError(t, err)
	require.NotNil(t, s.Kubeconfig)
	require.NotNil(t, s.APITokens)
	require.NotNil(t, s.RedisPassword)
	require.NotNil(t, s.GrafanaAdminPassword)

	// Without Redis and monitoring their secrets are not read.
	cfg, err = ParseConfig(lookup(with("monitoring", `{"enabled":false,"prometheusAddress":"http://p:9090"}`)))
	require.NoError(t, err)
	get, isSecret = secretsOf(all, KeyKubeconfig, KeyAPITokens)
	s, err = ReadSecrets(cfg, get, isSecret)
	require.NoError(t, err)
	require.Nil(t, s.RedisPassword)
	require.Nil(t, s.GrafanaAdminPassword)

	// Missing, empty and plain-text secrets are named.
	cfg, err = ParseConfig(lookup(minimal()))
	require.NoError(t, err)
	bad := maps.Clone(all)
	delete(bad, FullKey(KeyKubeconfig))
	bad[FullKey(KeyAPITokens)] = "  "
	get, isSecret = secretsOf(bad, KeyKubeconfig, KeyAPITokens)
	_, err = ReadSecrets(cfg, get, isSecret)
	require.ErrorContains(t, err, "mobile-mm-llm:kubeconfig: is required; set it with `pulumi config set --secret mobile-mm-llm:kubeconfig`")
	require.ErrorContains(t, err, "mobile-mm-llm:apiTokens: is required")
	require.ErrorContains(t, err, "mobile-mm-llm:grafanaAdminPassword: is stored in plain text")
}
