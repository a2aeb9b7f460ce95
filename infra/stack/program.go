// Package stack is the project's Pulumi program as a library: Program reads
// and validates a stack's typed config (ParseConfig, ReadSecrets); Deploy
// composes the components for one region or site on one cluster (existing,
// or EKS, GKE or AKS with the region's model store, managed Redis and
// backups), and DeployGlobal the global stack's routing across the
// regional stacks.
// infra/main.go runs Program under the Pulumi engine; the policy runner
// (policies/runner, `mmllm policy check`) runs the same function under
// Pulumi's mocks, and an Automation API driver can run it inline. Only this
// package reads config: the components get typed Args.
package stack

import (
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/backup"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/chaos"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/gpu"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/keda"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/monitoring"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/redis"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/security"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/workload"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// redisName names the in-cluster Redis's objects (StatefulSet, Service,
// password Secret), which the server and the backup job address.
const redisName = "redis"

// Program is the Pulumi program: it reads and validates the stack's config
// and secrets, deploys a region (or, with the key routing, the global
// stack's routing), and exports the outputs.
func Program(ctx *pulumi.Context) error {
	if ctx.Project() != Project {
		return fmt.Errorf("this program reads the config of project %q, not %q: check Pulumi.yaml's name", Project, ctx.Project())
	}
	cfg, err := ParseConfig(ctx.GetConfig)
	if err != nil {
		return err
	}
	var outputs map[string]pulumi.Input
	if cfg.IsGlobal() {
		g, err := DeployGlobal(ctx, cfg)
		if err != nil {
			return err
		}
		outputs = g.Outputs
	} else {
		sec, err := ReadSecrets(cfg, ctx.GetConfig, ctx.IsConfigSecret)
		if err != nil {
			return err
		}
		d, err := Deploy(ctx, cfg, sec)
		if err != nil {
			return err
		}
		outputs = d.Outputs
	}
	for _, k := range kube.SortedKeys(outputs) {
		ctx.Export(k, outputs[k])
	}
	return nil
}

// Deployment is what Deploy created; optional parts are nil when the
// config leaves them out.
type Deployment struct {
	// Cluster is the cluster deployed to.
	Cluster Cluster
	// Providers are the cloud kinds' providers (nil on existing clusters).
	Providers *CloudProviders
	// Cloud are the cloud kinds' model store, managed Redis and backup
	// plan (nil on existing clusters).
	Cloud *CloudServices
	// Inference is the server.
	Inference *workload.Inference
	// Prometheus is the installed kube-prometheus-stack (monitoring.enabled).
	Prometheus *monitoring.PrometheusStack
	// Monitoring is the server's ServiceMonitor, alerts and dashboard.
	Monitoring *monitoring.Inference
	// GPU is the device plugin or operator (gpu.count > 0, gpu.install).
	GPU *gpu.Support
	// KEDA is the autoscaler's operator (keda.install).
	KEDA *keda.Operator
	// Redis is the in-cluster cache (redis.enabled, in-cluster).
	Redis *redis.Redis
	// Security is the namespace's NetworkPolicies and roles.
	Security *security.Baseline
	// Backup is the in-cluster Redis's snapshot schedule (backup.enabled).
	Backup *RedisSnapshots
	// BackupJob uploads the Redis dump and the namespace's configuration
	// to the model bucket (backup.export, cloud kinds).
	BackupJob *backup.Job
	// Chaos is Chaos Mesh and its experiment (chaos.enabled).
	Chaos *chaos.Mesh
	// GlobalIngress serves ingress.globalHost.
	GlobalIngress *networkingv1.Ingress
	// Outputs are the stack outputs Program exports (see outputs).
	Outputs map[string]pulumi.Input
}

// Deploy composes the components for cfg on the configured cluster. The
// order is the components' contract: the server waits for the GPU plumbing
// and KEDA; Redis, the security baseline, the backup job and Chaos Mesh for
// the server (its namespace and pods); its monitoring for the Prometheus
// CRDs. A managed Redis is the server's cache over TLS.
func Deploy(ctx *pulumi.Context, cfg *Config, sec Secrets) (*Deployment, error) {
	d := &Deployment{}
	var err error
	if cfg.CloudKind() {
		if d.Providers, err = NewCloudProviders(ctx, cfg); err != nil {
			return nil, err
		}
	}
	if d.Cluster, err = NewCluster(ctx, "cluster", cfg, sec, d.Providers); err != nil {
		return nil, err
	}
	if d.Providers != nil {
		if d.Cloud, err = newCloudServices(ctx, cfg, sec, d.Providers, d.Cluster); err != nil {
			return nil, err
		}
	}
	k8s := pulumi.Provider(d.Cluster.KubernetesProvider())

	prometheusURL, monitoringNS := cfg.Monitoring.PrometheusAddress, cfg.Monitoring.Namespace
	var prometheusLabels map[string]string
	if cfg.MonitoringEnabled() {
		m := cfg.Monitoring
		if d.Prometheus, err = monitoring.NewPrometheusStack(ctx, "monitoring", &monitoring.StackArgs{
			Namespace: m.Namespace, GrafanaAdminPassword: sec.GrafanaAdminPassword,
			Retention: m.Retention, StorageSize: m.StorageSize, StorageClass: m.StorageClass,
		}, k8s); err != nil {
			return nil, err
		}
		prometheusURL, monitoringNS, prometheusLabels = d.Prometheus.URL, d.Prometheus.NamespaceName, d.Prometheus.SelectorLabels
	}

	var serverDeps []pulumi.Resource
	if cfg.InstallsGPUSupport() {
		args := &gpu.Args{Mode: gpu.Mode(cfg.GPU.Mode), InstallDriver: cfg.GPU.InstallDriver}
		if args.Mode == gpu.Operator {
			args.ServiceMonitorLabels = prometheusLabels
		} else {
			args.NodeSelector = cfg.GPU.NodeSelector
		}
		if d.GPU, err = gpu.NewSupport(ctx, "gpu", args, k8s); err != nil {
			return nil, err
		}
		serverDeps = append(serverDeps, d.GPU)
	}
	if cfg.InstallsKEDA() {
		if d.KEDA, err = keda.NewOperator(ctx, "keda", &keda.Args{}, k8s); err != nil {
			return nil, err
		}
		serverDeps = append(serverDeps, d.KEDA)
	}
	serverArgs := inferenceArgs(cfg, sec, prometheusURL)
	if d.Cloud != nil && d.Cloud.RedisClient != nil {
		serverArgs.Redis = d.Cloud.RedisClient
	}
	if d.Inference, err = workload.NewInference(ctx, "inference", serverArgs, k8s,
		pulumi.DependsOn(serverDeps)); err != nil {
		return nil, err
	}
	inNamespace := pulumi.DependsOn([]pulumi.Resource{d.Inference})

	baseline := &security.Args{
		Namespace: cfg.Namespace, AppPodLabels: d.Inference.SelectorLabels, MonitoringNamespace: monitoringNS,
		IngressNamespace: cfg.Network.IngressNamespace, HTTPSEgressCIDRs: cfg.Network.HTTPSEgressCIDRs,
		ViewerGroups: cfg.RBAC.ViewerGroups, OperatorGroups: cfg.RBAC.OperatorGroups,
	}
	if d.Cloud != nil {
		baseline.Redis = d.Cloud.RedisPeer
	}
	if cfg.InClusterRedis() {
		if d.Redis, err = redis.NewRedis(ctx, "cache", &redis.Args{
			Namespace: cfg.Namespace, Name: redisName, Password: sec.RedisPassword,
			StorageSize: cfg.Redis.StorageSize, StorageClass: cfg.Redis.StorageClass,
			ClientPodLabels: d.Inference.SelectorLabels,
		}, k8s, inNamespace); err != nil {
			return nil, err
		}
		baseline.Redis = &security.Peer{PodLabels: d.Redis.PodLabels}
	}
	if d.Security, err = security.NewBaseline(ctx, "security", baseline, k8s, inNamespace); err != nil {
		return nil, err
	}
	if d.Prometheus != nil {
		if d.Monitoring, err = monitoring.NewInference(ctx, "inference-monitoring", &monitoring.InferenceArgs{
			Namespace: cfg.Namespace, ServiceLabels: d.Inference.SelectorLabels,
			PrometheusLabels: prometheusLabels, DashboardNamespace: monitoringNS,
			RunbookURL: cfg.Monitoring.RunbookURL, AlertLabels: cfg.Monitoring.AlertLabels,
		}, k8s, pulumi.DependsOn([]pulumi.Resource{d.Prometheus, d.Inference})); err != nil {
			return nil, err
		}
	}
	if cfg.Backup.Enabled && d.Redis != nil {
		if d.Backup, err = newRedisSnapshots(ctx, "backup", redisSnapshotsArgs{
			namespace: cfg.Namespace, redisName: redisName, redisPodLabels: d.Redis.PodLabels, backup: cfg.Backup,
		}, k8s, pulumi.DependsOn([]pulumi.Resource{d.Redis})); err != nil {
			return nil, err
		}
	}
	if d.Cloud != nil && d.Cloud.BackupJob != nil {
		if d.BackupJob, err = newBackupJob(ctx, cfg, d, k8s); err != nil {
			return nil, err
		}
	}
	if cfg.Chaos.Enabled {
		if d.Chaos, err = chaos.NewMesh(ctx, "chaos", chaosArgs(cfg.Chaos, cfg.Namespace, d.Inference.SelectorLabels), k8s, inNamespace); err != nil {
			return nil, err
		}
	}
	if cfg.Ingress.GlobalHost != "" {
		if d.GlobalIngress, err = newGlobalIngress(ctx, "global-ingress", cfg, d.Inference, k8s, inNamespace); err != nil {
			return nil, err
		}
	}
	d.Outputs = outputs(cfg, d, prometheusURL)
	return d, nil
}

// inferenceArgs are the server's Args from config.
func inferenceArgs(cfg *Config, sec Secrets, prometheusURL string) *workload.Args {
	a := &workload.Args{
		Namespace:  cfg.Namespace,
		Image:      cfg.Image,
		APITokens:  sec.APITokens,
		ModelClaim: cfg.ModelClaim,
		Autoscaling: workload.Autoscaling{
			MinReplicas: cfg.Replicas.Min, MaxReplicas: cfg.Replicas.Max, PrometheusAddress: prometheusURL,
		},
		Ingress: workload.Ingress{
			Host: cfg.Ingress.Host, TLSSecretName: cfg.Ingress.TLSSecretName,
			ClassName: cfg.Ingress.ClassName, Annotations: cfg.Ingress.Annotations,
		},
	}
	if cfg.Resources != nil {
		a.Resources = kube.Resources(*cfg.Resources)
	}
	if cfg.GPU.Count > 0 {
		a.GPU = workload.GPU{Count: cfg.GPU.Count, NodeSelector: cfg.GPU.NodeSelector}
	}
	if cfg.InClusterRedis() {
		a.Redis = &workload.Redis{Address: pulumi.String(redis.ServiceAddress(redisName, cfg.Namespace)), PasswordSecret: redis.AuthSecretName(redisName)}
	}
	return a
}

// outputs are a regional stack's outputs: url, endpoint (the ingress host
// the global stack's health checks and records point at), healthCheckPath,
// namespace, deploymentName, serviceName, environment, region, clusterKind,
// prometheusUrl; kubeconfig (secret; not in render mode); redisAddress with
// a Redis (the in-cluster Service, or the managed TLS endpoint); modelStore
// on the cloud kinds; backupVault and backupRoleArn with AWS Backup (eks);
// backupDestination with the backup job (backup.export).
func outputs(cfg *Config, d *Deployment, prometheusURL string) map[string]pulumi.Input {
	out := map[string]pulumi.Input{
		"url":             d.Inference.URL,
		"endpoint":        pulumi.String(cfg.Ingress.Host),
		"healthCheckPath": pulumi.String(workload.HealthPath),
		"namespace":       d.Inference.Namespace,
		"deploymentName":  d.Inference.DeploymentName,
		"serviceName":     d.Inference.ServiceName,
		"environment":     pulumi.String(string(cfg.Environment)),
		"region":          pulumi.String(cfg.Region),
		"clusterKind":     pulumi.String(cfg.Cluster.Kind),
		"prometheusUrl":   pulumi.String(prometheusURL),
	}
	if cfg.Cluster.RenderDir == "" {
		out["kubeconfig"] = d.Cluster.KubeconfigSecret()
	}
	if d.Redis != nil {
		out["redisAddress"] = d.Redis.Address
	}
	if d.Cloud != nil {
		out["modelStore"] = d.Cloud.ModelStoreURL
		if d.Cloud.Redis != nil {
			out["redisAddress"] = d.Cloud.RedisAddress
		}
		if d.BackupJob != nil {
			out["backupDestination"] = d.BackupJob.Destination
		}
		for k, v := range d.Cloud.BackupOutputs {
			out[k] = v
		}
	}
	return out
}
