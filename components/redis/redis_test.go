package redis

import (
	"strings"
	"sync"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/internal/mocktest"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

var clients = map[string]string{"app.kubernetes.io/name": "mobile-multimodal-llm", "app.kubernetes.io/instance": "inference"}

func validArgs() *Args {
	return &Args{
		Namespace:       "mmllm",
		Password:        pulumi.ToSecret(pulumi.String(`s3cret "pass" word\x`)).(pulumi.StringOutput),
		ClientPodLabels: clients,
	}
}

func run(t *testing.T, args *Args) (*mocktest.Mocks, string) {
	t.Helper()
	var addr string
	var wg sync.WaitGroup
	m := mocktest.MustRunWithProvider(t, "dev", func(ctx *pulumi.Context, k8s pulumi.ResourceOption) error {
		r, err := NewRedis(ctx, "cache", args, k8s)
		if err != nil {
			return err
		}
		wg.Add(1)
		r.Address.ApplyT(func(a string) string { defer wg.Done(); addr = a; return a })
		return nil
	})
	wg.Wait()
	return m, addr
}

func TestRedisObjects(t *testing.T) {
	m, addr := run(t, validArgs())
	require.Equal(t, "redis.mmllm.svc.cluster.local:6379", addr)

	sec := m.One(t, "kubernetes:core/v1:Secret", "redis-auth")
	require.True(t, sec.Inputs["stringData"].ContainsSecrets())
	data := sec.Plain()["stringData"].(map[string]any)
	require.Equal(t, `s3cret "pass" word\x`, data[PasswordKey])
	require.Equal(t, `requirepass "s3cret \"pass\" word\\x"`+"\n", data["auth.conf"], "quoted for redis.conf")

	conf := mocktest.At(m.One(t, "kubernetes:core/v1:ConfigMap", "redis-config").Plain(), "data", "redis.conf").(string)
	for _, line := range []string{"appendonly yes", "dir /data", "maxmemory 805306368", "maxmemory-policy allkeys-lru", "include /etc/redis/auth/auth.conf"} {
		require.Contains(t, strings.Split(conf, "\n"), line)
	}
	require.NotContains(t, conf, "s3cret", "the password is not in the ConfigMap")

	ss := m.One(t, "kubernetes:apps/v1:StatefulSet", "redis").Plain()
	require.Equal(t, 1.0, mocktest.At(ss, "spec", "replicas"))
	require.Equal(t, "redis-headless", mocktest.At(ss, "spec", "serviceName"))
	require.Equal(t, "8Gi", mocktest.At(ss, "spec", "volumeClaimTemplates", 0, "spec", "resources", "requests", "storage"))
	require.Equal(t, []any{"ReadWriteOnce"}, mocktest.At(ss, "spec", "volumeClaimTemplates", 0, "spec", "accessModes"))
	pod := mocktest.At(ss, "spec", "template", "spec").(map[string]any)
	require.Equal(t, false, pod["automountServiceAccountToken"])
	require.Equal(t, 1000.0, mocktest.At(pod, "securityContext", "runAsUser"))
	c := mocktest.At(pod, "containers", 0).(map[string]any)
	require.Equal(t, DefaultImage, c["image"])
	require.Nil(t, c["env"], "no secret in the environment")
	require.Equal(t, true, mocktest.At(c, "securityContext", "readOnlyRootFilesystem"))
	require.Equal(t, "redis", mocktest.At(c, "livenessProbe", "tcpSocket", "port"))
	require.Contains(t, mocktest.At(c, "readinessProbe", "exec", "command", 2), "cat /etc/redis/auth/password")
	require.Equal(t, "1Gi", mocktest.At(c, "resources", "limits", "memory"))

	for _, name := range []string{"redis", "redis-headless"} {
		svc := m.One(t, "kubernetes:core/v1:Service", name).Plain()
		require.Equal(t, "ClusterIP", mocktest.At(svc, "spec", "type"), name)
		require.Equal(t, 6379.0, mocktest.At(svc, "spec", "ports", 0, "port"))
	}
	require.Equal(t, "None", mocktest.At(m.One(t, "kubernetes:core/v1:Service", "redis-headless").Plain(), "spec", "clusterIP"))

	np := m.One(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "redis-clients").Plain()
	require.Equal(t, map[string]any{
		"podSelector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "redis", "app.kubernetes.io/instance": "cache"}},
		"policyTypes": []any{"Ingress", "Egress"},
		"ingress": []any{map[string]any{
			"from": []any{map[string]any{
				"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "mmllm"}},
				"podSelector":       map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "mobile-multimodal-llm", "app.kubernetes.io/instance": "inference"}},
			}},
			"ports": []any{map[string]any{"protocol": "TCP", "port": 6379.0}},
		}},
	}, np["spec"], "only the inference pods, only 6379, no egress")

	// The NetworkPolicy selects the StatefulSet's pods.
	podLabels := mocktest.At(ss, "spec", "template", "metadata", "labels").(map[string]any)
	for k, v := range mocktest.At(np, "spec", "podSelector", "matchLabels").(map[string]any) {
		require.Equal(t, v, podLabels[k])
	}

	m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule")
}

func TestRedisRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *Args)
		want   string
	}{
		{"no namespace", func(a *Args) { a.Namespace = "" }, "Namespace:"},
		{"no password", func(a *Args) { a.Password = nil }, "Password: is required"},
		{"latest", func(a *Args) { a.Image = "redis:latest" }, "Image:"},
		{"no clients", func(a *Args) { a.ClientPodLabels = nil }, "ClientPodLabels: is required"},
		{"bad size", func(a *Args) { a.StorageSize = "-1Gi" }, "StorageSize:"},
		{"request above limit", func(a *Args) { a.Resources.MemoryRequest = "2Gi" }, "Resources.MemoryRequest:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := validArgs()
			tt.mutate(args)
			mocktest.RequireRejected(t, mocktest.Construct(NewRedis, "cache", args), "redis.NewRedis: invalid args", tt.want)
		})
	}
	t.Run("short password", func(t *testing.T) {
		args := validArgs()
		args.Password = pulumi.ToSecret(pulumi.String("short")).(pulumi.StringOutput)
		_, err := mocktest.Run("dev", mocktest.Construct(NewRedis, "cache", args))
		require.ErrorContains(t, err, "Password: is shorter than 16 characters")
	})
	mocktest.RequireRejected(t, mocktest.Construct(NewRedis, "cache", nil), "redis.NewRedis: args are required")
}
