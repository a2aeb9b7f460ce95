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
func with(kv ...string) map[string]string { return set(minimal(), kv...) }

// set sets the keys (without the namespace) of m to the raw values ("" deletes the key) and returns m.
func set(m map[string]string, kv ...string) map[string]string {
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
	require.Equal(t, ChaosConfig{}, cfg.Chaos, "chaos is opt-in")

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
		{"cloud cluster without its section", with("cluster", `{"kind":"eks"}`), []string{
			`mobile-mm-llm:cluster.eks: is required for cluster.kind "eks"`,
			"mobile-mm-llm:tags: lacks environment, owner, cost-center",
			`mobile-mm-llm:models: is required for cluster.kind "eks"`,
			`mobile-mm-llm:region: is required for cluster.kind "eks"`}},
		{"unknown cluster", with("cluster", `{"kind":"nomad"}`), []string{`mobile-mm-llm:cluster.kind: is "nomad"; use "existing", "eks", "gke" or "aks"`}},
		{"render mode with helm releases", with("cluster", `{"kind":"existing","renderDir":"out","context":"c"}`), []string{
			"mobile-mm-llm:monitoring.enabled: installs a Helm release, which render mode (cluster.renderDir) cannot write",
			"mobile-mm-llm:keda.install: installs a Helm release",
			"mobile-mm-llm:cluster.context: is a kubeconfig context; render mode (cluster.renderDir) reads no kubeconfig"}},
		{"global host is the host", with("ingress", `{"host":"api.example.com","tlsSecretName":"api-tls","globalHost":"api.example.com"}`),
			[]string{"mobile-mm-llm:ingress.globalHost: is ingress.host"}},
		{"state backup on a regional stack", with("stateBackup", `{"bucketArn":"arn:aws:s3:::state"}`),
			[]string{"mobile-mm-llm:stateBackup: is the global stack's key"}},
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
		{"chaos settings while off", with("chaos", `{"action":"pod-kill"}`), []string{"mobile-mm-llm:chaos: sets the runtime or the experiment but chaos.enabled is false"}},
		{"chaos typo", with("chaos", `{"enabled":true,"acton":"pod-kill"}`), []string{`mobile-mm-llm:chaos: has an unknown field "acton"`}},
		{"chaos experiment", with("chaos", `{"enabled":true,"runtime":"rkt","socketPath":"run/x.sock","action":"container-kill","mode":"half","schedule":"often"}`), []string{
			`mobile-mm-llm:chaos.runtime: is "rkt"; use "containerd", "crio" or "docker"`,
			`mobile-mm-llm:chaos.socketPath: "run/x.sock" is not a clean absolute path`,
			`mobile-mm-llm:chaos.action: is "container-kill"; use "pod-failure" or "pod-kill"`,
			`mobile-mm-llm:chaos.mode: is "half"`,
			`mobile-mm-llm:chaos.schedule: "often" is not a cron expression`}},
		{"chaos values", with("chaos", `{"enabled":true,"value":150,"duration":"10m","schedule":"*/5 * * * *","gracePeriodSeconds":5}`), []string{
			"mobile-mm-llm:chaos.value: is 150",
			"mobile-mm-llm:chaos.duration: is 10m0s, not shorter than the 5m0s between runs of mobile-mm-llm:chaos.schedule",
			`mobile-mm-llm:chaos.gracePeriodSeconds: applies to action "pod-kill" only`}},
		{"chaos in its own namespace", with("namespace", "chaos-mesh", "chaos", `{"enabled":true}`), []string{
			`mobile-mm-llm:namespace: is "chaos-mesh", Chaos Mesh's namespace (chaos.enabled)`}},
		{"chaos in render mode", with("cluster", `{"kind":"existing","renderDir":"out"}`, "monitoring", `{"enabled":false,"prometheusAddress":"http://p:9090"}`,
			"keda", `{"install":false}`, "chaos", `{"enabled":true}`), []string{
			"mobile-mm-llm:chaos.enabled: installs a Helm release, which render mode (cluster.renderDir) cannot write as YAML (Chaos Mesh)"}},
		{"chaos on the global stack", with("routing", `{}`, "chaos", `{"enabled":true}`), []string{"mobile-mm-llm:chaos: is a regional stack's key"}},
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

// eks is a valid eks stack's config with key set to value ("" deletes it).
func eks(kv ...string) map[string]string {
	m := with("environment", "production", "region", "us-east",
		"cluster", `{"kind":"eks","eks":{"region":"us-east-1","availabilityZones":["us-east-1a","us-east-1b"],
			"publicAccessCidrs":["203.0.113.0/24"],"gpuNodes":{"instanceTypes":["g5.xlarge"],"minSize":1,"maxSize":4}}}`,
		"tags", `{"environment":"production","owner":"ml","cost-center":"serving"}`,
		"models", `{"backupRegion":"us-west-2"}`,
		"redis", `{"enabled":true,"kind":"managed"}`)
	return set(m, kv...)
}

// globalStack is a valid global stack's config with key set to value.
func globalStack(kv ...string) map[string]string {
	m := map[string]string{
		FullKey("environment"): "production",
		FullKey("tags"):        `{"environment":"production","owner":"ml","cost-center":"serving"}`,
		FullKey("routing"): `{"zoneId":"Z1","domain":"api.example.com","regions":[
			{"name":"us-east","stack":"org/mobile-mm-llm/prod-us","weight":60},
			{"name":"eu-west","stack":"org/mobile-mm-llm/prod-eu","weight":40}]}`,
	}
	return set(m, kv...)
}

func TestParseCloudConfig(t *testing.T) {
	cfg, err := ParseConfig(lookup(eks()))
	require.NoError(t, err)
	require.True(t, cfg.CloudKind())
	require.True(t, cfg.ManagedRedis())
	require.False(t, cfg.InClusterRedis())
	require.False(t, cfg.IsGlobal())
	require.Equal(t, "us-east-1", cfg.Cluster.EKS.Region)
	require.Equal(t, 4, cfg.Cluster.EKS.GPUNodes.MaxSize, "node pools decode by the components' field names")

	cfg, err = ParseConfig(lookup(eks("redis", `{"enabled":true}`)))
	require.NoError(t, err)
	require.True(t, cfg.ManagedRedis(), "managed is the cloud kinds' default")
	cfg, err = ParseConfig(lookup(eks("redis", `{"enabled":true,"kind":"in-cluster","storageSize":"4Gi"}`)))
	require.NoError(t, err)
	require.True(t, cfg.InClusterRedis())

	cfg, err = ParseConfig(lookup(globalStack()))
	require.NoError(t, err)
	require.True(t, cfg.IsGlobal())
	require.Len(t, cfg.Routing.Regions, 2)
	cfg, err = ParseConfig(lookup(globalStack("stateBackup", `{"bucketArn":"arn:aws:s3:::mmllm-state"}`)))
	require.NoError(t, err)
	require.Equal(t, &StateBackupConfig{BucketARN: "arn:aws:s3:::mmllm-state", Schedule: "17 3 * * *", RetentionDays: 35}, cfg.StateBackup)

	cfg, err = ParseConfig(lookup(with("cluster", `{"kind":"existing","renderDir":"rendered/local"}`,
		"keda", `{"install":false}`, "monitoring", `{"enabled":false,"prometheusAddress":"http://p:9090"}`)))
	require.NoError(t, err)
	require.Equal(t, "rendered/local", cfg.Cluster.RenderDir)
}

func TestParseCloudConfigErrorsNameTheKey(t *testing.T) {
	routing := func(regions string) string {
		return `{"zoneId":"Z1","domain":"api.example.com","regions":` + regions + `}`
	}
	tests := []struct {
		name string
		cfg  map[string]string
		want []string
	}{
		{"missing region", eks("region", ""), []string{`mobile-mm-llm:region: is required for cluster.kind "eks"`}},
		{"missing cloud region", eks("cluster", `{"kind":"eks","eks":{"availabilityZones":["us-east-1a","us-east-1b"],"publicAccessCidrs":["203.0.113.0/24"]}}`),
			[]string{"mobile-mm-llm:cluster.eks.region: is required"}},
		{"min above max nodes", eks("cluster", `{"kind":"eks","eks":{"region":"us-east-1","availabilityZones":["us-east-1a","us-east-1b"],
			"publicAccessCidrs":["203.0.113.0/24"],"gpuNodes":{"minSize":5,"maxSize":2}}}`),
			[]string{"mobile-mm-llm:cluster.eks.gpuNodes.minSize: is 5, above maxSize (2)"}},
		{"gke min above max nodes", eks("cluster", `{"kind":"gke","gke":{"project":"mmllm-prod","projectNumber":"123456789","region":"asia-southeast1",
			"masterAuthorizedCidrs":["203.0.113.0/24"],"gpuNodes":{"minNodes":4,"maxNodes":1}}}`),
			[]string{"mobile-mm-llm:cluster.gke.gpuNodes.minNodes: is 4, above maxNodes (1)"}},
		{"aks min above max nodes", eks("cluster", `{"kind":"aks","aks":{"subscriptionId":"s","tenantId":"t","resourceGroup":"rg","location":"westeurope",
			"authorizedIpRanges":["203.0.113.0/24"],"systemNodes":{"minCount":3,"maxCount":2}}}`, "models", `{"accountName":"mmllm"}`),
			[]string{"mobile-mm-llm:cluster.aks.systemNodes.minCount: is 3, above maxCount (2)"}},
		{"open endpoint", eks("cluster", `{"kind":"eks","eks":{"region":"us-east-1","availabilityZones":["us-east-1a","us-east-1b"],"publicAccessCidrs":["0.0.0.0/0"]}}`),
			[]string{`mobile-mm-llm:cluster.eks.publicAccessCidrs: "0.0.0.0/0" opens the API server to the whole internet`}},
		{"section of another kind", eks("cluster", `{"kind":"eks","gke":{}}`), []string{`mobile-mm-llm:cluster.gke: is for cluster.kind "gke", not "eks"`}},
		{"render a cloud cluster", eks("cluster", `{"kind":"eks","renderDir":"out","eks":{"region":"us-east-1","availabilityZones":["us-east-1a","us-east-1b"],"publicAccessCidrs":["203.0.113.0/24"]}}`),
			[]string{`mobile-mm-llm:cluster.renderDir: is for cluster.kind "existing"`}},
		{"models of another kind", eks("models", `{"backupRegion":"us-west-2","accountName":"x"}`),
			[]string{`mobile-mm-llm:models.accountName: is not a setting of cluster.kind "eks"`}},
		{"managed redis on an existing cluster", with("redis", `{"enabled":true,"kind":"managed"}`),
			[]string{`mobile-mm-llm:redis.kind: is "managed", which needs a cloud cluster.kind`}},
		{"weekday number on aws", eks("backup", `{"enabled":true,"schedule":"0 3 * * 1"}`),
			[]string{"mobile-mm-llm:backup.schedule: \"0 3 * * 1\": name the weekdays (MON-FRI)"}},
		{"backup on aks without in-cluster redis", eks("cluster", `{"kind":"aks","aks":{"subscriptionId":"s","tenantId":"t","resourceGroup":"rg","location":"westeurope","authorizedIpRanges":["203.0.113.0/24"]}}`,
			"models", `{"accountName":"mmllm"}`, "backup", `{"enabled":true}`),
			[]string{"mobile-mm-llm:backup.enabled: needs redis.enabled with the in-cluster Redis"}},
		{"backup export on an existing cluster", with("redis", `{"enabled":true}`, "backup", `{"enabled":true,"export":{"enabled":true}}`),
			[]string{"mobile-mm-llm:backup.export.enabled: needs cluster.kind eks, gke or aks"}},
		{"backup export settings while off", eks("backup", `{"enabled":true,"schedule":"0 3 ? * MON-FRI *","export":{"schedule":"@daily"}}`),
			[]string{"mobile-mm-llm:backup.export: sets a schedule but backup.export.enabled is false"}},
		{"bad backup export schedule", eks("backup", `{"enabled":true,"export":{"enabled":true,"schedule":"every night"}}`),
			[]string{`mobile-mm-llm:backup.export.schedule: "every night" is not a cron schedule`}},
		{"weights not summing to 100", globalStack("routing", routing(`[{"name":"a","stack":"o/mobile-mm-llm/a","weight":40},{"name":"b","stack":"o/mobile-mm-llm/b","weight":35}]`)),
			[]string{"mobile-mm-llm:routing.regions[].weight: sum to 75; they must sum to 100"}},
		{"no regions", globalStack("routing", routing(`[]`)), []string{"mobile-mm-llm:routing.regions: is required"}},
		{"bad stack references", globalStack("routing", routing(`[{"name":"a","stack":"prod-us","weight":50},{"name":"a","stack":"o/other/b","weight":50}]`)),
			[]string{`mobile-mm-llm:routing.regions[0].stack: "prod-us" is not a stack reference ORG/mobile-mm-llm/STACK`,
				`mobile-mm-llm:routing.regions[1].name: "a" is used twice`,
				`mobile-mm-llm:routing.regions[1].stack: "o/other/b" is a stack of project "other"`}},
		{"bad routing", globalStack("routing", `{"domain":"API","policy":"random","alarmTopicArns":["topic"],"regions":[{"name":"a","stack":"o/mobile-mm-llm/a","weight":100}]}`),
			[]string{"mobile-mm-llm:routing.zoneId: is required", `mobile-mm-llm:routing.domain: "API"`, `mobile-mm-llm:routing.policy: is "random"`,
				`mobile-mm-llm:routing.alarmTopicArns[0]: "topic" is not an SNS topic ARN`}},
		{"regional keys on the global stack", globalStack("image", "ghcr.io/x/y:v1", "replicas", `{"min":3,"max":4}`),
			[]string{"mobile-mm-llm:image: is a regional stack's key", "mobile-mm-llm:replicas: is a regional stack's key"}},
		{"global stack without tags", globalStack("tags", ""), []string{"mobile-mm-llm:tags: lacks environment, owner, cost-center"}},
		{"bad state backup", globalStack("stateBackup", `{"bucketArn":"my-bucket","schedule":"*/5 * * * *","retentionDays":-1}`),
			[]string{`mobile-mm-llm:stateBackup.bucketArn: "my-bucket" is not an S3 bucket ARN`, "mobile-mm-llm:stateBackup.schedule:",
				"mobile-mm-llm:stateBackup.retentionDays: is -1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseConfig(lookup(tt.cfg))
			require.Nil(t, cfg)
			require.ErrorContains(t, err, "invalid stack config: ")
			for _, w := range tt.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
	// A latency policy does not need weights.
	_, err := ParseConfig(lookup(globalStack("routing",
		`{"zoneId":"Z1","domain":"api.example.com","policy":"latency","regions":[{"name":"a","stack":"o/mobile-mm-llm/a","latencyRegion":"us-east-1"}]}`)))
	require.NoError(t, err)
}

func TestAWSCron(t *testing.T) {
	for in, want := range map[string]string{
		"17 3 * * *":       "cron(17 3 * * ? *)",
		"@daily":           "cron(0 0 * * ? *)",
		"@weekly":          "cron(0 0 ? * SUN *)",
		"30 2 * * MON-FRI": "cron(30 2 ? * MON-FRI *)",
		"0 4 1 * *":        "cron(0 4 1 * ? *)",
	} {
		got, err := awsCron(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for in, want := range map[string]string{
		"0 3 * * 1":   "name the weekdays",
		"*/5 * * * *": "AWS Backup runs at most hourly",
		"0 3 1 * MON": "cannot combine",
		"daily":       "not a five-field cron schedule",
	} {
		_, err := awsCron(in)
		require.ErrorContains(t, err, want, in)
	}
	require.Equal(t, "0 0 * * SUN", cronFields(" @weekly "))
	require.Equal(t, "17 3 * * *", cronFields("17 3 * * *"))
}

func TestRenderPath(t *testing.T) {
	require.Equal(t, "/repo/rendered/local", RenderPath("/repo", "rendered/local"))
	require.Equal(t, "/abs/out", RenderPath("/repo", "/abs/out"))
	require.Equal(t, "rendered/local", RenderPath("", "rendered/local"), "no root under mocks")
	require.Equal(t, "", RenderPath("/repo", ""))
}

func TestReadSecretsPerKind(t *testing.T) {
	gke := `{"kind":"gke","gke":{"project":"mmllm-prod","projectNumber":"123456789","region":"asia-southeast1","masterAuthorizedCidrs":["203.0.113.0/24"]}}`
	aks := `{"kind":"aks","aks":{"subscriptionId":"s","tenantId":"t","resourceGroup":"rg","location":"westeurope","authorizedIpRanges":["203.0.113.0/24"]}}`
	tests := []struct {
		name string
		cfg  map[string]string
		want []string // the secret keys read
	}{
		{"existing", minimal(), []string{KeyKubeconfig, KeyAPITokens, KeyGrafanaAdminPassword}},
		{"render mode", with("cluster", `{"kind":"existing","renderDir":"out"}`, "keda", `{"install":false}`,
			"monitoring", `{"enabled":false,"prometheusAddress":"http://p:9090"}`), []string{KeyAPITokens}},
		{"eks with ElastiCache", eks(), []string{KeyAPITokens, KeyRedisPassword, KeyGrafanaAdminPassword}},
		{"gke with Memorystore", eks("cluster", gke, "models", `{"backupRegion":"asia-east1"}`), []string{KeyAPITokens, KeyGrafanaAdminPassword}},
		{"aks with Azure Cache", eks("cluster", aks, "models", `{"accountName":"mmllm"}`), []string{KeyAPITokens, KeyGrafanaAdminPassword, KeyRedisSnapshotStorage}},
		{"aks with in-cluster Redis", eks("cluster", aks, "models", `{"accountName":"mmllm"}`, "redis", `{"enabled":true,"kind":"in-cluster"}`),
			[]string{KeyAPITokens, KeyRedisPassword, KeyGrafanaAdminPassword}},
		{"global", globalStack(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseConfig(lookup(tt.cfg))
			require.NoError(t, err)
			var read []string
			get := func(k string) (string, bool) { read = append(read, k); return "a-secret-value-long-enough", true }
			_, err = ReadSecrets(cfg, get, func(string) bool { return true })
			require.NoError(t, err)
			var want []string
			for _, k := range tt.want {
				want = append(want, FullKey(k))
			}
			require.ElementsMatch(t, want, read)
		})
	}
}
