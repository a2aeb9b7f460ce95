package workload

import (
	"strings"
	"sync"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/internal/mocktest"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

const promURL = "http://kps-prometheus.monitoring.svc:9090"

func validArgs() *Args {
	return &Args{
		Namespace: "mmllm",
		Image:     "ghcr.io/mobile-mm-llm/mmllm:v0.3.1",
		APITokens: pulumi.ToSecret(pulumi.String("tok-a\ntok-b")).(pulumi.StringOutput),
		Autoscaling: Autoscaling{
			PrometheusAddress: promURL,
		},
		Ingress: Ingress{Host: "api.example.com", TLSSecretName: "api-tls"},
	}
}

// outputs are the component's outputs as the program saw them.
type outputs struct {
	mu   sync.Mutex
	vals map[string]string
}

// run deploys args with an explicit Kubernetes provider and captures the
// component's outputs inside ApplyT.
func run(t *testing.T, args *Args) (*mocktest.Mocks, *Inference, map[string]string) {
	t.Helper()
	var comp *Inference
	out := &outputs{vals: map[string]string{}}
	var wg sync.WaitGroup
	m := mocktest.MustRunWithProvider(t, "dev", func(ctx *pulumi.Context, k8s pulumi.ResourceOption) error {
		var err error
		comp, err = NewInference(ctx, "inference", args, k8s)
		if err != nil {
			return err
		}
		for key, o := range map[string]pulumi.StringOutput{
			"namespace": comp.Namespace, "deployment": comp.DeploymentName, "service": comp.ServiceName,
			"url": comp.URL, "scaledObject": comp.ScaledObjectName, "serviceAccount": comp.ServiceAccountName,
		} {
			wg.Add(1)
			o.ApplyT(func(v string) string {
				defer wg.Done()
				out.mu.Lock()
				out.vals[key] = v
				out.mu.Unlock()
				return v
			})
		}
		return nil
	})
	wg.Wait()
	return m, comp, out.vals
}

func podSpec(t *testing.T, m *mocktest.Mocks) map[string]any {
	t.Helper()
	d := m.One(t, "kubernetes:apps/v1:Deployment", DefaultAppName).Plain()
	spec, ok := mocktest.At(d, "spec", "template", "spec").(map[string]any)
	require.True(t, ok, "deployment has a pod spec")
	return spec
}

func TestInferenceObjects(t *testing.T) {
	m, comp, out := run(t, validArgs())

	require.Equal(t, map[string]string{
		"namespace": "mmllm", "deployment": DefaultAppName, "service": DefaultAppName, "serviceAccount": DefaultAppName,
		"url": "https://api.example.com", "scaledObject": DefaultAppName,
	}, out)
	require.Equal(t, 2, m.OutputRegistrations(), "the stack and the component register their outputs once each")

	// Every child is parented to the component and uses the provider passed in.
	var provider, component mocktest.Registered
	for _, r := range m.Resources() {
		switch r.Type {
		case "pulumi:providers:kubernetes":
			provider = r
		case TypeToken:
			component = r
		}
	}
	require.NotEmpty(t, component.URN)
	kinds := map[string]int{}
	for _, r := range m.Resources() {
		if !r.Custom || r.Type == provider.Type {
			continue
		}
		kinds[r.Type]++
		require.Equal(t, component.URN, r.Parent, "%s %s parent", r.Type, r.Name)
		require.True(t, strings.HasPrefix(r.Provider, provider.URN+"::"), "%s uses provider %q", r.Name, r.Provider)
		require.Equal(t, "mobile-mm-llm", mocktest.At(r.Plain(), "metadata", "labels", kube.PartOfLabel), r.Name)
	}
	require.Equal(t, map[string]int{
		"kubernetes:core/v1:Namespace": 1, "kubernetes:core/v1:ServiceAccount": 1, "kubernetes:core/v1:Secret": 1,
		"kubernetes:apps/v1:Deployment": 1, "kubernetes:core/v1:Service": 1, "kubernetes:policy/v1:PodDisruptionBudget": 1,
		"kubernetes:networking.k8s.io/v1:Ingress": 1, "kubernetes:keda.sh/v1alpha1:ScaledObject": 1,
	}, kinds)

	ns := m.One(t, "kubernetes:core/v1:Namespace", "mmllm").Plain()
	require.Equal(t, "restricted", mocktest.At(ns, "metadata", "labels", "pod-security.kubernetes.io/enforce"))

	sa := m.One(t, "kubernetes:core/v1:ServiceAccount", DefaultAppName).Plain()
	require.Equal(t, false, sa["automountServiceAccountToken"])

	// The tokens reach the Secret as a Pulumi secret.
	sec := m.One(t, "kubernetes:core/v1:Secret", DefaultAppName+"-api-tokens")
	require.True(t, sec.Inputs["stringData"].ContainsSecrets(), "stringData stays secret")
	require.Equal(t, "tok-a\ntok-b", mocktest.At(sec.Plain(), "stringData", TokensKey))

	d := m.One(t, "kubernetes:apps/v1:Deployment", DefaultAppName).Plain()
	require.Nil(t, mocktest.At(d, "spec", "replicas"), "the ScaledObject owns the replica count")
	require.Equal(t, "mmllm", mocktest.At(d, "metadata", "namespace"))

	pod := podSpec(t, m)
	require.Equal(t, DefaultAppName, pod["serviceAccountName"])
	require.Equal(t, false, pod["automountServiceAccountToken"])
	require.Equal(t, map[string]any{
		"runAsNonRoot": true, "runAsUser": 1000.0, "runAsGroup": 1000.0, "fsGroup": 1000.0,
		"seccompProfile": map[string]any{"type": "RuntimeDefault"},
	}, pod["securityContext"])
	require.Nil(t, pod["nodeSelector"], "CPU pods go anywhere")
	require.Nil(t, pod["tolerations"])

	c := mocktest.At(pod, "containers", 0).(map[string]any)
	require.Equal(t, "ghcr.io/mobile-mm-llm/mmllm:v0.3.1", c["image"])
	require.Equal(t, map[string]any{
		"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true,
		"capabilities":   map[string]any{"drop": []any{"ALL"}},
		"seccompProfile": map[string]any{"type": "RuntimeDefault"},
	}, c["securityContext"])
	require.Equal(t, map[string]any{
		"requests": map[string]any{"cpu": "500m", "memory": "2Gi"},
		"limits":   map[string]any{"cpu": "2", "memory": "8Gi"},
	}, c["resources"])
	require.Equal(t, HealthPath, mocktest.At(c, "livenessProbe", "httpGet", "path"))
	require.Equal(t, APIPortName, mocktest.At(c, "livenessProbe", "httpGet", "port"))
	require.Equal(t, ReadyPath, mocktest.At(c, "readinessProbe", "httpGet", "path"))
	require.Equal(t, 10.0, mocktest.At(c, "lifecycle", "preStop", "sleep", "seconds"))
	require.Equal(t, 50.0, pod["terminationGracePeriodSeconds"], "preStop 10 + drain 30 + 10")
	require.Greater(t, pod["terminationGracePeriodSeconds"].(float64), 10.0+30.0)
	require.Equal(t, []any{
		map[string]any{"name": "http", "containerPort": 8080.0, "protocol": "TCP"},
		map[string]any{"name": "metrics", "containerPort": 8000.0, "protocol": "TCP"},
	}, c["ports"])

	// The tokens are a read-only file; no secret reaches the environment.
	env := envOf(c)
	require.Equal(t, TokensDir+"/"+TokensKey, env["MMLLM_TOKENS_FILE"])
	require.Equal(t, "30s", env["MMLLM_DRAIN_TIMEOUT"])
	require.NotContains(t, env, "MMLLM_DEVICE", "CPU pods keep the default device")
	require.Equal(t, "7730941132", env["GOMEMLIMIT"], "90% of 8Gi")
	require.Contains(t, c["volumeMounts"], map[string]any{"name": "api-tokens", "mountPath": TokensDir, "readOnly": true})
	require.Contains(t, c["volumeMounts"], map[string]any{"name": "tmp", "mountPath": "/tmp"})
	require.Contains(t, pod["volumes"], map[string]any{"name": "api-tokens",
		"secret": map[string]any{"secretName": DefaultAppName + "-api-tokens", "defaultMode": float64(0o440)}})

	svc := m.One(t, "kubernetes:core/v1:Service", DefaultAppName).Plain()
	require.Equal(t, "ClusterIP", mocktest.At(svc, "spec", "type"))
	require.Equal(t, "metrics", mocktest.At(svc, "spec", "ports", 1, "name"))
	require.Equal(t, 8000.0, mocktest.At(svc, "spec", "ports", 1, "port"))

	// The Service and PDB select exactly the Deployment's pods.
	labels := mocktest.At(d, "spec", "template", "metadata", "labels").(map[string]any)
	sel := mocktest.At(d, "spec", "selector", "matchLabels").(map[string]any)
	require.Equal(t, sel, mocktest.At(svc, "spec", "selector"))
	for k, v := range sel {
		require.Equal(t, v, labels[k])
	}
	require.Equal(t, DefaultAppName, labels["app"], "the guide's chaos experiment selects app=")
	require.Equal(t, comp.SelectorLabels, toStrings(sel))
	pdb := m.One(t, "kubernetes:policy/v1:PodDisruptionBudget", DefaultAppName).Plain()
	require.Equal(t, sel, mocktest.At(pdb, "spec", "selector", "matchLabels"))
	require.Equal(t, 1.0, mocktest.At(pdb, "spec", "maxUnavailable"))

	ing := m.One(t, "kubernetes:networking.k8s.io/v1:Ingress", DefaultAppName).Plain()
	require.Equal(t, []any{map[string]any{"hosts": []any{"api.example.com"}, "secretName": "api-tls"}}, mocktest.At(ing, "spec", "tls"))
	require.Equal(t, "api.example.com", mocktest.At(ing, "spec", "rules", 0, "host"))
	require.Equal(t, DefaultAppName, mocktest.At(ing, "spec", "rules", 0, "http", "paths", 0, "backend", "service", "name"))
	require.Equal(t, "nginx", mocktest.At(ing, "spec", "ingressClassName"))
}

func TestInferenceScaledObject(t *testing.T) {
	m, _, _ := run(t, validArgs())
	so := m.One(t, "kubernetes:keda.sh/v1alpha1:ScaledObject", DefaultAppName)
	spec := so.Plain()["spec"].(map[string]any)
	require.Equal(t, map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": DefaultAppName}, spec["scaleTargetRef"])
	require.Equal(t, 3.0, spec["minReplicaCount"])
	require.Equal(t, 50.0, spec["maxReplicaCount"])
	require.Equal(t, []any{
		map[string]any{"type": "cpu", "metricType": "Utilization", "metadata": map[string]any{"value": "60"}},
		map[string]any{"type": "memory", "metricType": "Utilization", "metadata": map[string]any{"value": "70"}},
		map[string]any{"type": "prometheus", "metricType": "AverageValue", "name": "queue-length", "metadata": map[string]any{
			"serverAddress": promURL,
			"query":         `sum(mobile_multimodal_inference_queue_length{namespace="mmllm",service="mobile-multimodal-llm"})`,
			"threshold":     "5",
		}},
	}, spec["triggers"])
	up := mocktest.At(spec, "advanced", "horizontalPodAutoscalerConfig", "behavior", "scaleUp").(map[string]any)
	require.Equal(t, 30.0, up["stabilizationWindowSeconds"])
	require.Equal(t, "Max", up["selectPolicy"])
	require.Equal(t, []any{
		map[string]any{"type": "Percent", "value": 200.0, "periodSeconds": 30.0},
		map[string]any{"type": "Pods", "value": 10.0, "periodSeconds": 30.0},
	}, up["policies"])

	// The target's name is computed from the Deployment, so the engine
	// orders them and the policies link them even when names are unknown.
	dep := m.One(t, "kubernetes:apps/v1:Deployment", DefaultAppName)
	require.Contains(t, so.PropertyDeps["spec"], dep.URN)
}

func TestInferenceGPUAndRedis(t *testing.T) {
	args := validArgs()
	args.GPU = GPU{Count: 1, NodeSelector: map[string]string{"nvidia.com/gpu.present": "true"}}
	args.Redis = &Redis{Address: pulumi.String("redis.mmllm.svc:6379"), PasswordSecret: "redis-auth"}
	args.ModelClaim = "models"
	args.Env = map[string]string{"MMLLM_LOG_LEVEL": "debug", "GIN_MODE": "debug"}
	m, _, _ := run(t, args)
	pod := podSpec(t, m)
	c := mocktest.At(pod, "containers", 0).(map[string]any)
	require.Equal(t, "1", mocktest.At(c, "resources", "limits", "nvidia.com/gpu"))
	require.Equal(t, "1", mocktest.At(c, "resources", "requests", "nvidia.com/gpu"))
	require.Equal(t, map[string]any{"nvidia.com/gpu.present": "true"}, pod["nodeSelector"])
	require.Equal(t, []any{map[string]any{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}}, pod["tolerations"])

	env := envOf(c)
	require.Equal(t, "compute,utility", env["NVIDIA_DRIVER_CAPABILITIES"])
	require.Equal(t, "cuda", env["MMLLM_DEVICE"], "GPU pods run the decoder on the GPU")
	require.Equal(t, "redis.mmllm.svc:6379", env["MMLLM_REDIS_ADDR"])
	require.Equal(t, RedisPasswordDir+"/password", env["MMLLM_REDIS_PASSWORD_FILE"])
	require.Equal(t, ModelsDir, env["MMLLM_MODELS_DIR"])
	require.Equal(t, "debug", env["MMLLM_LOG_LEVEL"])
	require.Equal(t, "debug", env["GIN_MODE"], "Args.Env overrides the defaults")
	require.Contains(t, c["volumeMounts"], map[string]any{"name": "redis-password", "mountPath": RedisPasswordDir, "readOnly": true})
	require.Contains(t, c["volumeMounts"], map[string]any{"name": "models", "mountPath": ModelsDir, "readOnly": true})
	require.Contains(t, pod["volumes"], map[string]any{"name": "models",
		"persistentVolumeClaim": map[string]any{"claimName": "models", "readOnly": true}})

	require.NotContains(t, env, "MMLLM_REDIS_TLS", "the in-cluster Redis speaks plain text")
	require.Empty(t, m.OfType("kubernetes:core/v1:ConfigMap"))
	require.Len(t, m.OfType("kubernetes:core/v1:Secret"), 1, "the password Secret is the in-cluster Redis's")
	m.CheckPolicies(t, stackRulesOfOtherComponents...)
}

// A managed Redis: the endpoint is an output of the cloud resource, the
// AUTH token a secret value the component stores in a Secret of its own,
// and the connection is TLS with the instance's CA (Memorystore).
func TestInferenceManagedRedis(t *testing.T) {
	const ca = "-----BEGIN CERTIFICATE-----\nmanaged\n-----END CERTIFICATE-----\n"
	args := validArgs()
	endpoint := pulumi.Sprintf("%s:%d", pulumi.String("10.1.2.3").ToStringOutput(), pulumi.Int(6378).ToIntOutput())
	args.Redis = &Redis{
		Address: endpoint, Password: pulumi.ToSecret(pulumi.String("auth-token")).(pulumi.StringOutput),
		TLS: true, CACert: pulumi.String(ca),
	}
	m, _, _ := run(t, args)
	pod := podSpec(t, m)
	c := mocktest.At(pod, "containers", 0).(map[string]any)
	env := envOf(c)
	require.Equal(t, "10.1.2.3:6378", env["MMLLM_REDIS_ADDR"])
	require.Equal(t, "true", env["MMLLM_REDIS_TLS"])
	require.Equal(t, RedisPasswordDir+"/password", env["MMLLM_REDIS_PASSWORD_FILE"])
	require.Equal(t, RedisCADir+"/"+RedisCAKey, env["MMLLM_REDIS_CA_FILE"])

	sec := m.One(t, "kubernetes:core/v1:Secret", DefaultAppName+"-redis-auth")
	require.True(t, sec.Inputs["stringData"].ContainsSecrets(), "the AUTH token stays secret")
	require.Equal(t, "auth-token", mocktest.At(sec.Plain(), "stringData", "password"))
	cm := m.One(t, "kubernetes:core/v1:ConfigMap", DefaultAppName+"-redis-ca").Plain()
	require.Equal(t, ca, mocktest.At(cm, "data", RedisCAKey))

	require.Contains(t, pod["volumes"], map[string]any{"name": "redis-password",
		"secret": map[string]any{"secretName": DefaultAppName + "-redis-auth", "defaultMode": float64(kube.SecretFileMode)}})
	require.Contains(t, pod["volumes"], map[string]any{"name": "redis-ca",
		"configMap": map[string]any{"name": DefaultAppName + "-redis-ca", "defaultMode": float64(0o444)}})
	require.Contains(t, c["volumeMounts"], map[string]any{"name": "redis-password", "mountPath": RedisPasswordDir, "readOnly": true})
	require.Contains(t, c["volumeMounts"], map[string]any{"name": "redis-ca", "mountPath": RedisCADir, "readOnly": true})
	require.Empty(t, m.CheckPolicies(t, stackRulesOfOtherComponents...))

	// ElastiCache and Azure: TLS with the system's roots, no CA file.
	args.Redis.CACert = nil
	m, _, _ = run(t, args)
	env = envOf(mocktest.At(podSpec(t, m), "containers", 0).(map[string]any))
	require.Equal(t, "true", env["MMLLM_REDIS_TLS"])
	require.NotContains(t, env, "MMLLM_REDIS_CA_FILE")
	require.Empty(t, m.OfType("kubernetes:core/v1:ConfigMap"))
}

// stackRulesOfOtherComponents are the stack rules the workload alone cannot
// meet: the security component's NetworkPolicies cover its pods, the
// monitoring component adds the alert rules, the DR component the backups
// (components/compose_test.go checks them together).
var stackRulesOfOtherComponents = []string{"k8s-network-policy-coverage", "production-alert-rules", "production-backup-schedule"}

func TestInferencePolicies(t *testing.T) {
	m, _, _ := run(t, validArgs())
	require.Empty(t, m.CheckPolicies(t, stackRulesOfOtherComponents...), "no advisory violations either")
}

func TestInferenceRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *Args)
		want   []string
	}{
		{"no namespace", func(a *Args) { a.Namespace = "" }, []string{"Namespace:"}},
		{"bad namespace", func(a *Args) { a.Namespace = "Bad_NS" }, []string{"Namespace:", "Bad_NS"}},
		{"latest image", func(a *Args) { a.Image = "ghcr.io/x/mmllm:latest" }, []string{"Image:", "latest"}},
		{"untagged image", func(a *Args) { a.Image = "localhost:5000/mmllm" }, []string{"Image:", "no tag"}},
		{"bad digest", func(a *Args) { a.Image = "mmllm@sha256:abc" }, []string{"Image:", "digest"}},
		{"no tokens", func(a *Args) { a.APITokens = nil }, []string{"APITokens:"}},
		{"negative replicas", func(a *Args) { a.Autoscaling.MinReplicas = -1 }, []string{"Autoscaling.MinReplicas:", "-1"}},
		{"min above max", func(a *Args) { a.Autoscaling.MinReplicas, a.Autoscaling.MaxReplicas = 10, 5 },
			[]string{"Autoscaling.MinReplicas:", "above Autoscaling.MaxReplicas"}},
		{"gpu without nodes", func(a *Args) { a.GPU.Count = 1 }, []string{"GPU.NodeSelector:", "required"}},
		{"gpu selector without gpus", func(a *Args) { a.GPU.NodeSelector = map[string]string{"gpu": "yes"} }, []string{"GPU.NodeSelector:"}},
		{"grace too short", func(a *Args) { a.TerminationGracePeriodSeconds = 40 }, []string{"TerminationGracePeriodSeconds:", "must exceed"}},
		{"bad quantity", func(a *Args) { a.Resources.MemoryLimit = "8 GB" }, []string{"Resources.MemoryLimit:"}},
		{"request above limit", func(a *Args) { a.Resources.CPURequest = "3" }, []string{"Resources.CPURequest:", "above Resources.CPULimit"}},
		{"cpu utilization", func(a *Args) { a.Autoscaling.CPUUtilization = 120 }, []string{"Autoscaling.CPUUtilization:"}},
		{"no prometheus", func(a *Args) { a.Autoscaling.PrometheusAddress = "" }, []string{"Autoscaling.PrometheusAddress:"}},
		{"bad host", func(a *Args) { a.Ingress.Host = "https://api.example.com" }, []string{"Ingress.Host:"}},
		{"no tls secret", func(a *Args) { a.Ingress.TLSSecretName = "" }, []string{"Ingress.TLSSecretName:"}},
		{"redis without address", func(a *Args) { a.Redis = &Redis{} }, []string{"Redis.Address: is required"}},
		{"redis with an empty address", func(a *Args) { a.Redis = &Redis{Address: pulumi.String("")} }, []string{"Redis.Address:"}},
		{"redis password and its secret", func(a *Args) {
			a.Redis = &Redis{Address: pulumi.String("r:6379"), PasswordSecret: "redis-auth", Password: pulumi.String("pw")}
		}, []string{"Redis.Password: excludes Redis.PasswordSecret"}},
		{"redis CA without TLS", func(a *Args) {
			a.Redis = &Redis{Address: pulumi.String("r:6379"), CACert: pulumi.String("pem")}
		}, []string{"Redis.CACert: needs Redis.TLS"}},
		{"two problems at once", func(a *Args) { a.Namespace, a.Image = "", "x" }, []string{"Namespace:", "Image:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := validArgs()
			tt.mutate(args)
			mocktest.RequireRejected(t, mocktest.Construct(NewInference, "inference", args),
				append(tt.want, "workload.NewInference: invalid args")...)
		})
	}
	mocktest.RequireRejected(t, mocktest.Construct(NewInference, "inference", nil), "workload.NewInference: args are required")
}

func envOf(c map[string]any) map[string]string {
	out := map[string]string{}
	for _, e := range c["env"].([]any) {
		m := e.(map[string]any)
		v, _ := m["value"].(string)
		out[m["name"].(string)] = v
	}
	return out
}

func toStrings(m map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k], _ = v.(string)
	}
	return out
}
