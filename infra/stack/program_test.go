package stack_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/aws"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/azure"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/backup"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/chaos"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/gcp"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/monitoring"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/redis"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/workload"
	"github.com/mobile-mm-llm/mobile-mm-llm/infra/deploy"
	"github.com/mobile-mm-llm/mobile-mm-llm/infra/stack"
	"github.com/mobile-mm-llm/mobile-mm-llm/policies"
	"github.com/mobile-mm-llm/mobile-mm-llm/policies/runner"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

// The cloud clusters of issue 6 plug in as they are.
var _ stack.Cluster = cloud.Cluster(nil)

// stacksDir is the repository's stacks/.
const stacksDir = "../../stacks"

// program is the infra program as the policy runner runs it.
var program = runner.Program{Project: stack.Project, Run: stack.Program, Keys: stack.ConfigKeys(), SecretKeys: stack.SecretKeys()}

// loadStack reads a stack file and the config the program will parse from it.
func loadStack(t *testing.T, dir, name string) (*runner.StackFile, *stack.Config) {
	t.Helper()
	sf, err := runner.LoadStack(dir, name, stack.Project)
	require.NoError(t, err)
	cfg, err := stack.ParseConfig(func(k string) (string, bool) { v, ok := sf.Config[k]; return v, ok })
	require.NoError(t, err, "stack %s", name)
	return sf, cfg
}

// at walks plain values by map keys and list indexes.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// one returns the only registration of typ, as plain values.
func one(t *testing.T, rec *runner.Recorder, typ string) (runner.Registration, map[string]any) {
	t.Helper()
	regs := rec.OfType(typ)
	require.Len(t, regs, 1, typ)
	return regs[0], policies.FromResourcePropertyMap(regs[0].Inputs)
}

// TestEveryStackDeploysItsConfig runs the program for every stack in
// stacks/ and checks that what it registers follows the stack's config.
func TestEveryStackDeploysItsConfig(t *testing.T) {
	names, err := runner.ListStacks(stacksDir)
	require.NoError(t, err)
	require.Subset(t, names, []string{"dev", "prod-onprem", "local", "prod-aws-us-east-1", "prod-aws-eu-west-1",
		"prod-gcp-asia-southeast1", "prod-azure-westeurope", "global"})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			sf, cfg := loadStack(t, stacksDir, name)
			rec, err := program.Execute(sf)
			require.NoError(t, err)
			if cfg.IsGlobal() {
				checkGlobal(t, rec, cfg)
				return
			}
			checkComponents(t, rec, cfg)
			checkProvider(t, rec, cfg)
			checkServer(t, rec, cfg)
			checkCloud(t, rec, cfg)
		})
	}
}

// checkComponents: the components the config asks for, and no others.
func checkComponents(t *testing.T, rec *runner.Recorder, cfg *stack.Config) {
	t.Helper()
	kind := cfg.Cluster.Kind
	want := map[string]bool{
		stack.ExistingClusterTypeToken:       kind == stack.ClusterExisting,
		aws.ClusterType:                      kind == stack.ClusterEKS,
		aws.NetworkType:                      kind == stack.ClusterEKS,
		aws.ModelStoreType:                   kind == stack.ClusterEKS,
		aws.RedisType:                        kind == stack.ClusterEKS && cfg.ManagedRedis(),
		stack.S3BackupTypeToken:              kind == stack.ClusterEKS && cfg.Backup.Enabled,
		gcp.ClusterType:                      kind == stack.ClusterGKE,
		gcp.ModelStoreType:                   kind == stack.ClusterGKE,
		gcp.RedisType:                        kind == stack.ClusterGKE && cfg.ManagedRedis(),
		azure.ClusterType:                    kind == stack.ClusterAKS,
		azure.ModelStoreType:                 kind == stack.ClusterAKS,
		azure.RedisType:                      kind == stack.ClusterAKS && cfg.ManagedRedis(),
		workload.TypeToken:                   true,
		"mobile-mm-llm:security:Baseline":    true,
		monitoring.StackTypeToken:            cfg.MonitoringEnabled(),
		"mobile-mm-llm:monitoring:Inference": cfg.MonitoringEnabled(),
		"mobile-mm-llm:gpu:Support":          cfg.InstallsGPUSupport(),
		"mobile-mm-llm:keda:Operator":        cfg.InstallsKEDA(),
		redis.TypeToken:                      cfg.InClusterRedis(),
		stack.RedisSnapshotsTypeToken:        cfg.Backup.Enabled && cfg.InClusterRedis(),
		chaos.TypeToken:                      cfg.Chaos.Enabled,
		backup.TypeToken:                     cfg.ExportsBackups(),
	}
	for typ, present := range want {
		n := len(rec.OfType(typ))
		if present {
			require.Equal(t, 1, n, "component %s", typ)
		} else {
			require.Zero(t, n, "component %s", typ)
		}
	}
	for _, r := range rec.Registrations() {
		if !r.Custom {
			require.Contains(t, want, r.Type, "unexpected component")
		}
	}
	if cfg.Cluster.RenderDir != "" {
		require.Empty(t, rec.OfType("kubernetes:helm.sh/v3:Release"), "render mode cannot write Helm releases")
	}
}

// checkProvider: one Kubernetes provider, used by every Kubernetes
// resource: from the secret kubeconfig (and context) on an existing
// cluster, rendering to cluster.renderDir in render mode, or from the
// cloud cluster's own kubeconfig (kept secret) whose exec plugin gets
// tokens.
func checkProvider(t *testing.T, rec *runner.Recorder, cfg *stack.Config) {
	t.Helper()
	p, plain := one(t, rec, "pulumi:providers:kubernetes")
	switch {
	case cfg.Cluster.RenderDir != "":
		require.Equal(t, cfg.Cluster.RenderDir, plain["renderYamlToDirectory"])
		require.NotContains(t, plain, "kubeconfig", "render mode reads no kubeconfig")
	case cfg.CloudKind():
		require.True(t, p.Inputs["kubeconfig"].IsSecret(), "the kubeconfig stays secret")
		plugin := map[string]string{stack.ClusterEKS: "command: aws", stack.ClusterGKE: "command: gke-gcloud-auth-plugin", stack.ClusterAKS: "command: kubelogin"}
		require.Contains(t, plain["kubeconfig"], plugin[cfg.Cluster.Kind])
		require.NotContains(t, plain, "renderYamlToDirectory")
	default:
		require.True(t, p.Inputs["kubeconfig"].IsSecret(), "the kubeconfig stays secret")
		require.Equal(t, runner.Placeholder(stack.FullKey(stack.KeyKubeconfig)), plain["kubeconfig"])
	}
	if cfg.Cluster.Context != "" {
		require.Equal(t, cfg.Cluster.Context, plain["context"])
	} else {
		require.NotContains(t, plain, "context")
	}
	ref := p.URN + "::" + p.ID
	for _, r := range rec.Registrations() {
		if r.Custom && strings.HasPrefix(r.Type, "kubernetes:") {
			require.Equal(t, ref, r.Provider, "%s %s uses the cluster's provider", r.Type, r.Name)
		}
	}
}

// checkServer: the Deployment, ScaledObject, Ingress and secrets follow the config.
func checkServer(t *testing.T, rec *runner.Recorder, cfg *stack.Config) {
	t.Helper()
	_, dep := one(t, rec, "kubernetes:apps/v1:Deployment")
	require.Equal(t, cfg.Namespace, at(dep, "metadata", "namespace"))
	pod := at(dep, "spec", "template", "spec")
	require.Equal(t, cfg.Image, at(pod, "containers", 0, "image"))
	limits := at(pod, "containers", 0, "resources", "limits")
	if r := cfg.Resources; r != nil {
		require.Equal(t, r.CPULimit, at(limits, "cpu"))
		require.Equal(t, r.MemoryLimit, at(limits, "memory"))
		require.Equal(t, r.MemoryRequest, at(pod, "containers", 0, "resources", "requests", "memory"))
	}
	if cfg.GPU.Count > 0 {
		require.Equal(t, strconv.Itoa(cfg.GPU.Count), at(limits, "nvidia.com/gpu"))
		for k, v := range cfg.GPU.NodeSelector {
			require.Equal(t, v, at(pod, "nodeSelector", k))
		}
	} else {
		require.Nil(t, at(limits, "nvidia.com/gpu"))
	}
	require.Nil(t, at(dep, "spec", "replicas"), "KEDA owns the replica count")

	_, so := one(t, rec, "kubernetes:keda.sh/v1alpha1:ScaledObject")
	require.Equal(t, float64(cfg.Replicas.Min), at(so, "spec", "minReplicaCount"))
	require.Equal(t, float64(cfg.Replicas.Max), at(so, "spec", "maxReplicaCount"))

	ing := plainOf(rec, "kubernetes:networking.k8s.io/v1:Ingress")["inference-ingress"]
	require.Equal(t, cfg.Ingress.Host, at(ing, "spec", "rules", 0, "host"))
	require.Equal(t, cfg.Ingress.TLSSecretName, at(ing, "spec", "tls", 0, "secretName"))
	for k, v := range cfg.Ingress.Annotations {
		require.Equal(t, v, at(ing, "metadata", "annotations", k))
	}

	for _, s := range rec.OfType("kubernetes:core/v1:Secret") {
		data := s.Inputs["stringData"]
		require.True(t, data.IsObject() || data.IsSecret(), "secret %s has stringData", s.Name)
		if data.IsObject() {
			for k, v := range data.ObjectValue() {
				require.True(t, v.IsSecret(), "secret %s key %s stays secret", s.Name, k)
			}
		}
	}
	env := at(pod, "containers", 0, "env")
	if cfg.InClusterRedis() {
		require.Contains(t, env, map[string]any{"name": "MMLLM_REDIS_ADDR", "value": redis.ServiceAddress("redis", cfg.Namespace)})
	}
	if cfg.ManagedRedis() {
		checkManagedRedis(t, rec, cfg)
	}
	ingresses := map[any]map[string]any{}
	for _, r := range rec.OfType("kubernetes:networking.k8s.io/v1:Ingress") {
		plain := policies.FromResourcePropertyMap(r.Inputs)
		ingresses[at(plain, "spec", "rules", 0, "host")] = plain
	}
	if g := cfg.Ingress.GlobalHost; g != "" {
		require.Len(t, ingresses, 2, "the region answers to its own name and the global one")
		global, own := ingresses[g], ingresses[cfg.Ingress.Host]
		require.Equal(t, []any{g}, at(global, "spec", "tls", 0, "hosts"))
		require.Equal(t, at(own, "spec", "tls", 0, "secretName"), at(global, "spec", "tls", 0, "secretName"))
		require.Equal(t, at(own, "spec", "rules", 0, "http"), at(global, "spec", "rules", 0, "http"), "same backend")
	} else {
		require.Len(t, ingresses, 1)
	}
}

func TestBackupJobSnapshotsRedis(t *testing.T) {
	sf, cfg := loadStack(t, stacksDir, "prod-onprem")
	require.True(t, cfg.Backup.Enabled, "the production example schedules backups")
	rec, err := program.Execute(sf)
	require.NoError(t, err)

	_, cj := one(t, rec, "kubernetes:batch/v1:CronJob")
	require.Equal(t, cfg.Backup.Schedule, at(cj, "spec", "schedule"))
	require.Equal(t, "Forbid", at(cj, "spec", "concurrencyPolicy"))
	require.Equal(t, policies.BackupComponent, at(cj, "metadata", "labels", "app.kubernetes.io/component"))
	pod := at(cj, "spec", "jobTemplate", "spec", "template", "spec")
	script := at(pod, "containers", 0, "command", 2).(string)
	require.Contains(t, script, "redis-cli -h redis."+cfg.Namespace+".svc.cluster.local -p 6379 --rdb")
	// Retention 14 days: files 14 or more days old go (find counts whole days).
	require.Contains(t, script, "-mtime +"+strconv.Itoa(cfg.Backup.RetentionDays-1)+" -delete")
	require.NotContains(t, at(pod, "containers", 0), "env", "the password is read from the mounted Secret")
	require.Contains(t, at(pod, "volumes"), map[string]any{"name": "auth",
		"secret": map[string]any{"secretName": redis.AuthSecretName("redis"), "defaultMode": float64(0o440)}})

	_, pvc := one(t, rec, "kubernetes:core/v1:PersistentVolumeClaim")
	require.Equal(t, cfg.Backup.StorageSize, at(pvc, "spec", "resources", "requests", "storage"))

	// The job's pods may reach Redis's pods, and Redis admits them.
	_, sts := one(t, rec, "kubernetes:apps/v1:StatefulSet")
	redisPods := at(sts, "spec", "template", "metadata", "labels").(map[string]any)
	jobPods := at(cj, "spec", "jobTemplate", "spec", "template", "metadata", "labels").(map[string]any)
	policiesByName := map[string]map[string]any{}
	for _, np := range rec.OfType("kubernetes:networking.k8s.io/v1:NetworkPolicy") {
		plain := policies.FromResourcePropertyMap(np.Inputs)
		policiesByName[at(plain, "metadata", "name").(string)] = plain
	}
	egress := policiesByName["redis-backup-egress"]
	requireSelects(t, at(egress, "spec", "podSelector", "matchLabels"), jobPods)
	requireSelects(t, at(egress, "spec", "egress", 0, "to", 0, "podSelector", "matchLabels"), redisPods)
	ingress := policiesByName["redis-backup-redis-ingress"]
	requireSelects(t, at(ingress, "spec", "podSelector", "matchLabels"), redisPods)
	requireSelects(t, at(ingress, "spec", "ingress", 0, "from", 0, "podSelector", "matchLabels"), jobPods)
	requireSelects(t, at(policiesByName["redis-clients"], "spec", "podSelector", "matchLabels"), redisPods)
	require.Equal(t, float64(6379), at(ingress, "spec", "ingress", 0, "ports", 0, "port"))
}

// requireSelects requires a non-empty selector matching labels.
func requireSelects(t *testing.T, selector any, labels map[string]any) {
	t.Helper()
	sel, ok := selector.(map[string]any)
	require.True(t, ok && len(sel) > 0, "empty selector")
	for k, v := range sel {
		require.Equal(t, v, labels[k], "label %s", k)
	}
}

// withConfig returns a copy of sf with the keys (without namespace) set to
// raw values as Pulumi passes them ("" deletes the key).
func withConfig(sf *runner.StackFile, name string, kv ...string) *runner.StackFile {
	out := *sf
	out.Name = name
	out.Config = map[string]string{}
	for k, v := range sf.Config {
		out.Config[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out.Config, stack.FullKey(kv[i]))
		} else {
			out.Config[stack.FullKey(kv[i])] = kv[i+1]
		}
	}
	return &out
}

func TestDeployOutputs(t *testing.T) {
	sf, cfg := loadStack(t, stacksDir, "prod-onprem")
	var (
		wg      sync.WaitGroup
		outputs map[string]pulumi.Input
		values  map[string]any
	)
	wg.Add(1)
	p := program
	p.Run = func(ctx *pulumi.Context) error {
		cfg, err := stack.ParseConfig(ctx.GetConfig)
		if err != nil {
			return err
		}
		sec, err := stack.ReadSecrets(cfg, ctx.GetConfig, ctx.IsConfigSecret)
		if err != nil {
			return err
		}
		d, err := stack.Deploy(ctx, cfg, sec)
		if err != nil {
			return err
		}
		outputs = d.Outputs
		keys := slices.Sorted(maps.Keys(d.Outputs))
		var ins []any
		for _, k := range keys {
			ins = append(ins, d.Outputs[k])
		}
		pulumi.All(ins...).ApplyT(func(vs []any) error {
			defer wg.Done()
			values = map[string]any{}
			for i, k := range keys {
				values[k] = vs[i]
			}
			return nil
		})
		return nil
	}
	_, err := p.Execute(sf)
	require.NoError(t, err)
	wg.Wait()
	require.Equal(t, map[string]any{
		"url":             "https://" + cfg.Ingress.Host,
		"endpoint":        cfg.Ingress.Host,
		"healthCheckPath": "/health",
		"namespace":       cfg.Namespace,
		"deploymentName":  workload.DefaultAppName,
		"serviceName":     workload.DefaultAppName,
		"environment":     "production",
		"region":          cfg.Region,
		"clusterKind":     "existing",
		"kubeconfig":      runner.Placeholder(stack.FullKey(stack.KeyKubeconfig)),
		"prometheusUrl":   "http://kube-prometheus-stack-prometheus." + cfg.Monitoring.Namespace + ".svc.cluster.local:9090",
		"redisAddress":    redis.ServiceAddress("redis", cfg.Namespace),
	}, values)
	require.True(t, pulumi.IsSecret(pulumi.ToOutput(outputs["kubeconfig"])), "the kubeconfig output is secret")
	require.False(t, pulumi.IsSecret(pulumi.ToOutput(outputs["url"])))
}

func TestBadConfigFailsBeforeAnyResource(t *testing.T) {
	sf, _ := loadStack(t, stacksDir, "prod-onprem")
	tests := []struct {
		name string
		sf   *runner.StackFile
		want string
	}{
		{"latest image", withConfig(sf, "p1", "image", "ghcr.io/mobile-mm-llm/mmllm:latest"), `mobile-mm-llm:image: "ghcr.io/mobile-mm-llm/mmllm:latest" floats on latest`},
		{"cloud cluster without its section", withConfig(sf, "p2", "cluster", `{"kind":"gke"}`), `mobile-mm-llm:cluster.gke: is required for cluster.kind "gke"`},
		{"min above max", withConfig(sf, "p3", "replicas", `{"min":30,"max":20}`), "mobile-mm-llm:replicas.min: is 30, above replicas.max (20)"},
		{"unknown key", withConfig(sf, "p4", "replica", `{"min":3}`), "unknown config key(s) mobile-mm-llm:replica"},
		{"component check", withConfig(sf, "p5", "monitoring", `{"retention":"a month"}`), `monitoring.NewPrometheusStack: invalid args: Retention: "a month"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := program.Execute(tt.sf)
			require.ErrorContains(t, err, tt.want)
			if rec != nil && tt.name != "component check" {
				require.Empty(t, rec.Registrations(), "nothing is registered from bad config")
			}
		})
	}

	// A secret stored in plain text is refused.
	plain := withConfig(sf, "p6", stack.KeyAPITokens, "token-in-the-clear")
	_, err := program.Execute(plain)
	require.ErrorContains(t, err, "mobile-mm-llm:apiTokens: is stored in plain text in the stack file")
}

func TestProductionRulesCatchWeakStacks(t *testing.T) {
	sf, _ := loadStack(t, stacksDir, "prod-onprem")
	set, err := policies.DefaultSet()
	require.NoError(t, err)
	tests := []struct {
		name string
		sf   *runner.StackFile
		want []string
	}{
		{"one replica", withConfig(sf, "prod-1", "replicas", `{"min":1,"max":20}`), []string{"k8s-autoscaler-min-replicas"}},
		{"two replicas", withConfig(sf, "prod-2", "replicas", `{"min":2,"max":20}`), []string{"k8s-autoscaler-min-replicas"}},
		{"no backups", withConfig(sf, "prod-3", "backup", ""), []string{"production-backup-schedule"}},
		{"no alerts", withConfig(sf, "prod-4", "monitoring", `{"enabled":false,"prometheusAddress":"http://prometheus.obs.svc:9090"}`),
			[]string{"production-alert-rules"}},
		{"dev with one replica", withConfig(sf, "dev-1", "environment", "dev", "replicas", `{"min":1,"max":20}`, "backup", ""),
			[]string{"k8s-autoscaler-min-replicas"}},
		{"dev with two replicas and no backups", withConfig(sf, "dev-2", "environment", "dev", "replicas", `{"min":2,"max":20}`, "backup", ""), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := program.Check(tt.sf, set)
			require.NoError(t, err)
			var got []string
			for _, v := range res.Report.Violations {
				if v.Severity == policies.Mandatory {
					got = append(got, v.RuleID)
				}
			}
			require.ElementsMatch(t, tt.want, got)
			require.Equal(t, len(tt.want) > 0, res.Failed())
		})
	}
}

func TestNewExistingClusterRejectsBadArgs(t *testing.T) {
	sf, _ := loadStack(t, stacksDir, "dev")
	for _, tt := range []struct {
		name string
		args *stack.ExistingClusterArgs
		want string
	}{
		{"c", nil, "NewExistingCluster: args are required"},
		{"", &stack.ExistingClusterArgs{Kubeconfig: pulumi.String("x")}, "NewExistingCluster: name is required"},
		{"c", &stack.ExistingClusterArgs{}, `NewExistingCluster "c": Kubeconfig is required (or RenderDir`},
		{"c", &stack.ExistingClusterArgs{Kubeconfig: pulumi.String("x"), RenderDir: "out"}, `NewExistingCluster "c": Kubeconfig and RenderDir exclude each other`},
	} {
		p := program
		p.Run = func(ctx *pulumi.Context) error {
			_, err := stack.NewExistingCluster(ctx, tt.name, tt.args)
			return err
		}
		rec, err := p.Execute(sf)
		require.ErrorContains(t, err, tt.want)
		require.Empty(t, rec.Registrations())
	}
}

func TestDeployVariants(t *testing.T) {
	sf, devCfg := loadStack(t, stacksDir, "dev")
	const promAddr = "http://prometheus.observability.svc:9090"
	tests := []struct {
		name  string
		sf    *runner.StackFile
		check func(t *testing.T, rec *runner.Recorder)
	}{
		{"external prometheus", withConfig(sf, "v1", "monitoring", `{"enabled":false,"namespace":"observability","prometheusAddress":"`+promAddr+`"}`, stack.KeyGrafanaAdminPassword, ""),
			func(t *testing.T, rec *runner.Recorder) {
				require.Empty(t, rec.OfType(monitoring.StackTypeToken))
				require.Empty(t, rec.OfType("kubernetes:monitoring.coreos.com/v1:PrometheusRule"))
				_, so := one(t, rec, "kubernetes:keda.sh/v1alpha1:ScaledObject")
				var addrs []any
				for _, tr := range at(so, "spec", "triggers").([]any) {
					if at(tr, "type") == "prometheus" {
						addrs = append(addrs, at(tr, "metadata", "serverAddress"))
					}
				}
				require.Equal(t, []any{promAddr}, addrs, "KEDA queries the configured Prometheus")
				for _, np := range rec.OfType("kubernetes:networking.k8s.io/v1:NetworkPolicy") {
					if np.Name == "security-inference-ingress" {
						plain := policies.FromResourcePropertyMap(np.Inputs)
						require.Equal(t, "observability", at(plain, "spec", "ingress", 1, "from", 0, "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name"),
							"its namespace may scrape the server")
						return
					}
				}
				t.Fatal("no inference ingress NetworkPolicy")
			}},
		{"gpu operator", withConfig(sf, "v2", "gpu", `{"count":2,"mode":"operator"}`),
			func(t *testing.T, rec *runner.Recorder) {
				require.Len(t, rec.OfType("mobile-mm-llm:gpu:Support"), 1)
				require.Empty(t, rec.OfType("kubernetes:apps/v1:DaemonSet"), "the operator deploys the device plugin itself")
				require.True(t, devCfg.MonitoringEnabled() && devCfg.InstallsKEDA())
				require.Len(t, rec.OfType("kubernetes:helm.sh/v3:Release"), 3+oneIf(devCfg.Chaos.Enabled),
					"kube-prometheus-stack, KEDA, gpu-operator, and chaos-mesh where the stack enables chaos")
				_, dep := one(t, rec, "kubernetes:apps/v1:Deployment")
				pod := at(dep, "spec", "template", "spec")
				require.Equal(t, "2", at(pod, "containers", 0, "resources", "limits", "nvidia.com/gpu"))
				require.Equal(t, "true", at(pod, "nodeSelector", "nvidia.com/gpu.present"))
			}},
		{"cluster has gpu support and keda", withConfig(sf, "v3", "gpu", `{"count":1,"install":false}`, "keda", `{"install":false}`),
			func(t *testing.T, rec *runner.Recorder) {
				require.Empty(t, rec.OfType("mobile-mm-llm:gpu:Support"))
				require.Empty(t, rec.OfType("mobile-mm-llm:keda:Operator"))
				_, dep := one(t, rec, "kubernetes:apps/v1:Deployment")
				require.Equal(t, "1", at(dep, "spec", "template", "spec", "containers", 0, "resources", "limits", "nvidia.com/gpu"))
			}},
		{"no redis", withConfig(sf, "v4", "redis", "", stack.KeyRedisPassword, ""),
			func(t *testing.T, rec *runner.Recorder) {
				require.Empty(t, rec.OfType(redis.TypeToken))
				_, dep := one(t, rec, "kubernetes:apps/v1:Deployment")
				for _, e := range at(dep, "spec", "template", "spec", "containers", 0, "env").([]any) {
					require.NotEqual(t, "MMLLM_REDIS_ADDR", at(e, "name"))
				}
			}},
	}
	set, err := policies.DefaultSet()
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := program.Execute(tt.sf)
			require.NoError(t, err)
			tt.check(t, rec)
			res, err := program.Check(tt.sf, set)
			require.NoError(t, err)
			require.False(t, res.Failed(), "%v", res.Report.Violations)
		})
	}
}

func TestProgramNeedsItsProject(t *testing.T) {
	sf, _ := loadStack(t, stacksDir, "dev")
	p := program
	p.Project = "another"
	_, err := p.Execute(sf)
	require.ErrorContains(t, err, `this program reads the config of project "mobile-mm-llm", not "another"`)
}

// TestChaosTargetsTheServer: the dev stack opts in to Chaos Mesh, which
// waits for the server, is scoped to its namespace, and whose experiment
// selects exactly the server's pods; the privileged namespace passes the
// policies as their documented exception.
func TestChaosTargetsTheServer(t *testing.T) {
	sf, cfg := loadStack(t, stacksDir, "dev")
	require.True(t, cfg.Chaos.Enabled, "the dev stack opts in")
	rec, err := program.Execute(sf)
	require.NoError(t, err)

	mesh, _ := one(t, rec, chaos.TypeToken)
	server, _ := one(t, rec, workload.TypeToken)
	// DependsOn a component waits for its children: the namespace and the Deployment among them.
	waited := 0
	for _, r := range rec.Registrations() {
		if r.Parent == server.URN && (r.Type == "kubernetes:core/v1:Namespace" || r.Type == "kubernetes:apps/v1:Deployment") {
			require.Contains(t, mesh.Dependencies, r.URN, "Chaos Mesh waits for the server's %s", r.Type)
			waited++
		}
	}
	require.Equal(t, 2, waited)

	namespaces := plainOf(rec, "kubernetes:core/v1:Namespace")
	require.Equal(t, "privileged", at(namespaces["chaos-namespace"], "metadata", "labels", policies.PodSecurityEnforceLabel))

	var release map[string]any
	for _, r := range rec.OfType("kubernetes:helm.sh/v3:Release") {
		if r.Parent == mesh.URN {
			release = r.Plain()
		}
	}
	require.NotNil(t, release, "the chaos-mesh release")
	require.Equal(t, cfg.Namespace, at(release, "values", "controllerManager", "targetNamespace"))
	require.Equal(t, false, at(release, "values", "clusterScoped"))
	require.Equal(t, cfg.Chaos.Runtime, at(release, "values", "chaosDaemon", "runtime"))

	_, dep := one(t, rec, "kubernetes:apps/v1:Deployment")
	_, schedule := one(t, rec, "kubernetes:chaos-mesh.org/v1alpha1:Schedule")
	require.Equal(t, cfg.Namespace, at(schedule, "metadata", "namespace"))
	require.Equal(t, cfg.Chaos.Schedule, at(schedule, "spec", "schedule"))
	podChaos := at(schedule, "spec", "podChaos")
	require.Equal(t, cfg.Chaos.Action, at(podChaos, "action"))
	require.Equal(t, cfg.Chaos.Mode, at(podChaos, "mode"))
	require.Equal(t, []any{cfg.Namespace}, at(podChaos, "selector", "namespaces"))
	require.Equal(t, at(dep, "spec", "selector", "matchLabels"), at(podChaos, "selector", "labelSelectors"),
		"the experiment selects the server's pods, as its Deployment does")

	set, err := policies.DefaultSet()
	require.NoError(t, err)
	res, err := program.Check(sf, set)
	require.NoError(t, err)
	require.False(t, res.Failed(), "%v", res.Report.Violations)
}

// registrationsPerStack is what each stack in stacks/ registers under the
// mocks: components, providers, resources and StackReferences. A change is
// a change of what `pulumi up` creates: derive the new number (the optional
// parts' shares are checked below), don't copy it from a failure.
var registrationsPerStack = map[string]int{
	// 37 + Chaos Mesh: its component, namespace, release and Schedule.
	"dev":         41,
	"local":       26,
	"prod-onprem": 50,
	// The backup job (backup.export) is its component, ServiceAccount,
	// Role, RoleBinding, NetworkPolicy and CronJob (6), plus Redis's
	// ingress NetworkPolicy with the in-cluster Redis, plus its cloud
	// identity: an IAM role and its policy (eks), a bucket IAM member
	// (gke), or a managed identity, its federated credential, a custom
	// role and its assignment (aks).
	// 114 + the Secret holding ElastiCache's AUTH token for the server
	// + 8 for the backup job.
	"prod-aws-us-east-1": 123,
	"prod-aws-eu-west-1": 123,
	// 55 + the Secret holding Memorystore's AUTH string and the ConfigMap
	// holding its CA, for the server, + 7 for the backup job.
	"prod-gcp-asia-southeast1": 64,
	// In-cluster Redis: 66 + 11 for the backup job.
	"prod-azure-westeurope": 77,
	"global":                26,
}

// TestRegistrationsPerStack counts every stack's registrations, and derives
// the share of the optional parts by switching them off: Chaos Mesh is
// exactly its four registrations, and a managed Redis is its component's
// registrations plus what the server needs to use it (the AUTH token's
// Secret, and Memorystore's CA ConfigMap).
func TestRegistrationsPerStack(t *testing.T) {
	names, err := runner.ListStacks(stacksDir)
	require.NoError(t, err)
	require.ElementsMatch(t, slices.Collect(maps.Keys(registrationsPerStack)), names, "a count per stack")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			sf, cfg := loadStack(t, stacksDir, name)
			rec, err := program.Execute(sf)
			require.NoError(t, err)
			require.Len(t, rec.Registrations(), registrationsPerStack[name])
			if cfg.Chaos.Enabled {
				off, err := program.Execute(withConfig(sf, name+"-no-chaos", "chaos", ""))
				require.NoError(t, err)
				experiment := "kubernetes:chaos-mesh.org/v1alpha1:PodChaos"
				if cfg.Chaos.Schedule != "" {
					experiment = "kubernetes:chaos-mesh.org/v1alpha1:Schedule"
				}
				require.Equal(t, map[string]int{
					chaos.TypeToken: 1, "kubernetes:core/v1:Namespace": 1, "kubernetes:helm.sh/v3:Release": 1, experiment: 1,
				}, typeCounts(rec).minus(typeCounts(off)))
			}
			if cfg.ManagedRedis() {
				off, err := program.Execute(withConfig(sf, name+"-no-redis", "redis", ""))
				require.NoError(t, err)
				server := map[string]int{"kubernetes:core/v1:Secret": 1}
				if cfg.Cluster.Kind == stack.ClusterGKE {
					server["kubernetes:core/v1:ConfigMap"] = 1
				}
				want := map[string]int{}
				for typ, n := range subtreeCounts(rec, redisComponentType[cfg.Cluster.Kind]) {
					want[typ] += n
				}
				for typ, n := range server {
					want[typ] += n
				}
				require.Equal(t, want, typeCounts(rec).minus(typeCounts(off)))
			}
		})
	}
}

// redisComponentType is each cloud kind's managed Redis component.
var redisComponentType = map[string]string{stack.ClusterEKS: aws.RedisType, stack.ClusterGKE: gcp.RedisType, stack.ClusterAKS: azure.RedisType}

// subtreeCounts counts, by type, the only registration of typ and every
// registration below it.
func subtreeCounts(rec *runner.Recorder, typ string) map[string]int {
	parent := map[string]string{}
	for _, r := range rec.Registrations() {
		parent[r.URN] = r.Parent
	}
	roots := rec.OfType(typ)
	out := map[string]int{}
	for _, r := range rec.Registrations() {
		for u := r.URN; u != "" && len(roots) == 1; u = parent[u] {
			if u == roots[0].URN {
				out[r.Type]++
				break
			}
		}
	}
	return out
}

// counts are registrations by type.
type counts map[string]int

// typeCounts counts rec's registrations by type.
func typeCounts(rec *runner.Recorder) counts {
	out := counts{}
	for _, r := range rec.Registrations() {
		out[r.Type]++
	}
	return out
}

// minus is what c has more of than o, by type.
func (c counts) minus(o counts) map[string]int {
	out := map[string]int{}
	for typ, n := range c {
		if d := n - o[typ]; d != 0 {
			out[typ] = d
		}
	}
	for typ, n := range o {
		if _, ok := c[typ]; !ok {
			out[typ] = -n
		}
	}
	return out
}

// TestEveryKubernetesObjectDecodesStrictly decodes every Kubernetes object
// each stack registers, as the mocks captured it, the way `make e2e`
// decodes the rendered manifests: built-in kinds strictly into their
// k8s.io/api types (a misspelt field fails), custom resources as envelopes.
// Helm releases are not Kubernetes objects.
func TestEveryKubernetesObjectDecodesStrictly(t *testing.T) {
	names, err := runner.ListStacks(stacksDir)
	require.NoError(t, err)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			sf, _ := loadStack(t, stacksDir, name)
			rec, err := program.Execute(sf)
			require.NoError(t, err)
			var docs []string
			for _, r := range rec.Registrations() {
				if !r.Custom || !strings.HasPrefix(r.Type, "kubernetes:") || r.Type == "kubernetes:helm.sh/v3:Release" {
					continue
				}
				raw, err := json.Marshal(r.Plain())
				require.NoError(t, err)
				docs = append(docs, string(raw))
			}
			if len(docs) == 0 {
				return // the global stack
			}
			objs, errs := deploy.ValidateDocuments(name, []byte(strings.Join(docs, "\n---\n")))
			require.Empty(t, errs)
			require.Len(t, objs, len(docs))
		})
	}
}

// TestBackupJobUploadsToTheModelBucket: on every cloud stack with
// backup.export the job dumps the in-cluster Redis only where there is one,
// uploads to the stack's model bucket, and its identity is bound to the
// job's ServiceAccount.
func TestBackupJobUploadsToTheModelBucket(t *testing.T) {
	for _, name := range []string{"prod-aws-us-east-1", "prod-gcp-asia-southeast1", "prod-azure-westeurope"} {
		t.Run(name, func(t *testing.T) {
			sf, cfg := loadStack(t, stacksDir, name)
			require.True(t, cfg.ExportsBackups())
			rec, err := program.Execute(sf)
			require.NoError(t, err)
			var cj map[string]any
			for _, r := range rec.OfType("kubernetes:batch/v1:CronJob") {
				if p := r.Plain(); at(p, "metadata", "name") == "backup" {
					cj = p
				}
			}
			require.NotNil(t, cj, "the backup CronJob")
			require.Equal(t, cfg.Backup.Schedule, at(cj, "spec", "schedule"), "backup.export.schedule defaults to backup.schedule")
			pod := at(cj, "spec", "jobTemplate", "spec", "template", "spec")
			inits := at(pod, "initContainers").([]any)
			require.Equal(t, cfg.InClusterRedis(), len(inits) == 2, "the Redis step only for the in-cluster Redis")
			up := at(pod, "containers", 0)
			var bucket any
			for _, e := range at(up, "env").([]any) {
				if at(e, "name") == "BACKUP_BUCKET" {
					bucket = at(e, "value")
				}
			}
			sa := rec.OfType("kubernetes:core/v1:ServiceAccount")
			var annotations any
			for _, r := range sa {
				if p := r.Plain(); at(p, "metadata", "name") == "backup" {
					annotations = at(p, "metadata", "annotations")
				}
			}
			switch cfg.Cluster.Kind {
			case stack.ClusterEKS:
				require.NotEmpty(t, bucket)
				pol := plainOf(rec, "aws:iam/rolePolicy:RolePolicy")["backup-writer"]
				require.Contains(t, pol["policy"], `"Action":"s3:PutObject"`)
				require.Contains(t, pol["policy"], "/backups/*")
				require.NotContains(t, pol["policy"], "s3:GetObject")
				require.Contains(t, annotations, "eks.amazonaws.com/role-arn")
			case stack.ClusterGKE:
				_, m := one(t, rec, "gcp:storage/bucketIAMMember:BucketIAMMember")
				require.Equal(t, "roles/storage.objectCreator", m["role"])
				require.Equal(t, bucket, m["bucket"], "the job writes to the bucket it is granted")
				require.True(t, strings.HasSuffix(m["member"].(string), "/subject/ns/"+cfg.Namespace+"/sa/backup"))
			case stack.ClusterAKS:
				_, fc := one(t, rec, "azure-native:managedidentity:FederatedIdentityCredential")
				require.Equal(t, "system:serviceaccount:"+cfg.Namespace+":backup", fc["subject"])
				_, rd := one(t, rec, "azure-native:authorization:RoleDefinition")
				require.NotContains(t, fmt.Sprint(rd["permissions"]), "read")
				require.Contains(t, annotations, "azure.workload.identity/client-id")
				// The account's name is an output of a by-token resource,
				// which the mocks leave empty.
			}
		})
	}
}
