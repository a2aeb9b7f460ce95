package backup

import (
	"strings"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/internal/mocktest"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

var redisPods = map[string]string{"app.kubernetes.io/name": "redis", "app.kubernetes.io/instance": "cache"}

func s3Args() *Args {
	return &Args{
		Namespace: "mmllm",
		Redis:     &Redis{Host: "redis.mmllm.svc.cluster.local", PasswordSecret: "redis-auth", PodLabels: redisPods},
		Upload:    Upload{Provider: S3, Bucket: pulumi.String("mmllm-models-use1"), Region: "us-east-1"},
		ServiceAccountAnnotations: map[string]pulumi.StringInput{
			"eks.amazonaws.com/role-arn": pulumi.String("arn:aws:iam::123456789012:role/backup"),
		},
	}
}

func run(t *testing.T, args *Args) *mocktest.Mocks {
	t.Helper()
	return mocktest.MustRunWithProvider(t, "prod", func(ctx *pulumi.Context, k8s pulumi.ResourceOption) error {
		_, err := NewJob(ctx, "backup", args, k8s)
		return err
	})
}

// podOf returns the CronJob's pod spec.
func podOf(t *testing.T, m *mocktest.Mocks) (map[string]any, map[string]any) {
	t.Helper()
	cj := m.One(t, "kubernetes:batch/v1:CronJob", "backup").Plain()
	return cj, mocktest.At(cj, "spec", "jobTemplate", "spec", "template", "spec").(map[string]any)
}

func containerNamed(t *testing.T, pod map[string]any, field, name string) map[string]any {
	t.Helper()
	for _, c := range pod[field].([]any) {
		if c.(map[string]any)["name"] == name {
			return c.(map[string]any)
		}
	}
	t.Fatalf("no %s %q", field, name)
	return nil
}

func envOf(c map[string]any) map[string]any {
	out := map[string]any{}
	for _, e := range c["env"].([]any) {
		e := e.(map[string]any)
		out[e["name"].(string)] = e["value"]
		if _, ok := e["valueFrom"]; ok {
			out[e["name"].(string)] = "valueFrom"
		}
	}
	return out
}

func TestJobWithRedisToS3(t *testing.T) {
	m := run(t, s3Args())
	cj, pod := podOf(t, m)
	require.Equal(t, DefaultSchedule, mocktest.At(cj, "spec", "schedule"))
	require.Equal(t, "Forbid", mocktest.At(cj, "spec", "concurrencyPolicy"))
	require.Equal(t, 3.0, mocktest.At(cj, "spec", "successfulJobsHistoryLimit"))
	require.Equal(t, 3.0, mocktest.At(cj, "spec", "failedJobsHistoryLimit"))
	require.Equal(t, 2.0, mocktest.At(cj, "spec", "jobTemplate", "spec", "backoffLimit"))
	require.Equal(t, 1800.0, mocktest.At(cj, "spec", "jobTemplate", "spec", "activeDeadlineSeconds"))
	require.Equal(t, Component, mocktest.At(cj, "metadata", "labels", "app.kubernetes.io/component"))

	require.Equal(t, true, pod["automountServiceAccountToken"], "kubectl reads the API")
	require.Equal(t, "backup", pod["serviceAccountName"])
	require.Equal(t, "Never", pod["restartPolicy"])
	require.Equal(t, float64(uid), mocktest.At(pod, "securityContext", "runAsUser"))
	require.Equal(t, "RuntimeDefault", mocktest.At(pod, "securityContext", "seccompProfile", "type"))

	// Redis first, then the configuration, then the upload.
	require.Len(t, pod["initContainers"], 2)
	require.Equal(t, "redis-dump", mocktest.At(pod, "initContainers", 0, "name"))
	require.Equal(t, "config-dump", mocktest.At(pod, "initContainers", 1, "name"))
	rd := containerNamed(t, pod, "initContainers", "redis-dump")
	script := mocktest.At(rd, "command", 2).(string)
	require.Contains(t, script, "--rdb /backup/redis.rdb.partial")
	require.Contains(t, script, "-h redis.mmllm.svc.cluster.local -p 6379")
	require.Contains(t, script, `REDISCLI_AUTH="$(cat /etc/redis/auth/password)"`)
	require.Equal(t, map[string]any{"HOME": "/tmp"}, envOf(rd), "no secret in the environment")
	var authVolume map[string]any
	for _, v := range pod["volumes"].([]any) {
		if v.(map[string]any)["name"] == "redis-auth" {
			authVolume = v.(map[string]any)
		}
	}
	require.Equal(t, "redis-auth", mocktest.At(authVolume, "secret", "secretName"), "the password Secret is a volume")
	require.Equal(t, float64(0o440), mocktest.At(authVolume, "secret", "defaultMode"))
	var mounted bool
	for _, vm := range rd["volumeMounts"].([]any) {
		vm := vm.(map[string]any)
		if vm["name"] == "redis-auth" {
			mounted = true
			require.Equal(t, RedisAuthDir, vm["mountPath"])
			require.Equal(t, true, vm["readOnly"])
		}
	}
	require.True(t, mounted)

	cd := containerNamed(t, pod, "initContainers", "config-dump")
	require.Equal(t, DefaultKubectlImage, cd["image"])
	cmd := cd["command"].([]any)
	require.Equal(t, "/go-runner", cmd[0])
	require.Equal(t, "-log-file=/backup/namespace.yaml", cmd[1])
	kinds := strings.Split(cmd[6].(string), ",")
	require.Equal(t, "get", cmd[5])
	require.Contains(t, kinds, "deployments.apps")
	require.Contains(t, kinds, "scaledobjects.keda.sh")
	require.Contains(t, kinds, "networkpolicies.networking.k8s.io")
	for _, k := range kinds {
		require.NotContains(t, k, "secret", "Secrets are never dumped")
	}
	require.Equal(t, []any{"--namespace", "mmllm", "--output", "yaml"}, cmd[7:])

	up := containerNamed(t, pod, "containers", "upload")
	require.Equal(t, DefaultAWSImage, up["image"])
	upScript := mocktest.At(up, "command", 2).(string)
	require.Contains(t, upScript, `aws s3 cp /backup "s3://$BACKUP_BUCKET/$BACKUP_PREFIX/$stamp/" --recursive`)
	require.Contains(t, upScript, "test -s /backup/redis.rdb")
	require.Contains(t, upScript, `date -u +%Y-%m-%dT%H%M%SZ`, "a dated prefix")
	e := envOf(up)
	require.Equal(t, "mmllm-models-use1", e["BACKUP_BUCKET"])
	require.Equal(t, "backups/mmllm", e["BACKUP_PREFIX"])
	require.Equal(t, "us-east-1", e["AWS_REGION"])

	for _, c := range append(pod["initContainers"].([]any), pod["containers"].([]any)...) {
		c := c.(map[string]any)
		require.Equal(t, true, mocktest.At(c, "securityContext", "readOnlyRootFilesystem"), c["name"])
		require.Equal(t, false, mocktest.At(c, "securityContext", "allowPrivilegeEscalation"), c["name"])
		require.Equal(t, []any{"ALL"}, mocktest.At(c, "securityContext", "capabilities", "drop"), c["name"])
		require.NotNil(t, mocktest.At(c, "resources", "limits", "memory"), c["name"])
		for _, ev := range envOf(c) {
			require.NotEqual(t, "valueFrom", ev, "no env from a Secret")
		}
	}

	sa := m.One(t, "kubernetes:core/v1:ServiceAccount", "backup").Plain()
	require.Equal(t, false, sa["automountServiceAccountToken"])
	require.Equal(t, "arn:aws:iam::123456789012:role/backup", mocktest.At(sa, "metadata", "annotations", "eks.amazonaws.com/role-arn"))

	role := m.One(t, "kubernetes:rbac.authorization.k8s.io/v1:Role", "backup").Plain()
	granted := map[string]bool{}
	for _, r := range role["rules"].([]any) {
		r := r.(map[string]any)
		require.Equal(t, []any{"get", "list"}, r["verbs"])
		for _, res := range r["resources"].([]any) {
			require.NotEqual(t, "*", res)
			require.NotEqual(t, "secrets", res)
			granted[r["apiGroups"].([]any)[0].(string)+"/"+res.(string)] = true
		}
	}
	require.Len(t, granted, len(ConfigResources))
	for _, r := range ConfigResources {
		require.True(t, granted[r.Group+"/"+r.Name], r)
	}
	rb := m.One(t, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "backup").Plain()
	require.Equal(t, "backup", mocktest.At(rb, "roleRef", "name"))
	require.Equal(t, "backup", mocktest.At(rb, "subjects", 0, "name"))

	np := m.One(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "backup").Plain()
	require.Equal(t, map[string]any{"app.kubernetes.io/name": "backup", "app.kubernetes.io/instance": "backup"},
		mocktest.At(np, "spec", "podSelector", "matchLabels"))
	require.Equal(t, []any{"Ingress", "Egress"}, mocktest.At(np, "spec", "policyTypes"))
	require.Nil(t, mocktest.At(np, "spec", "ingress"), "nothing comes in")
	ports := map[float64]bool{}
	for _, r := range mocktest.At(np, "spec", "egress").([]any) {
		for _, p := range r.(map[string]any)["ports"].([]any) {
			ports[p.(map[string]any)["port"].(float64)] = true
		}
	}
	require.Equal(t, map[float64]bool{53: true, 6379: true, 443: true}, ports)
	podLabels := mocktest.At(cj, "spec", "jobTemplate", "spec", "template", "metadata", "labels").(map[string]any)
	for k, v := range mocktest.At(np, "spec", "podSelector", "matchLabels").(map[string]any) {
		require.Equal(t, v, podLabels[k], "the policy selects the job's pods")
	}
	ri := m.One(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "backup-redis-ingress").Plain()
	require.Equal(t, "redis", mocktest.At(ri, "spec", "podSelector", "matchLabels", "app.kubernetes.io/name"))
	require.Equal(t, 6379.0, mocktest.At(ri, "spec", "ingress", 0, "ports", 0, "port"))

	m.CheckPolicies(t, "production-alert-rules")
}

func TestJobWithoutRedisToGCSAndAzure(t *testing.T) {
	gcs := &Args{Namespace: "mmllm", Schedule: "@daily", Upload: Upload{Provider: GCS, Bucket: pulumi.String("mmllm-models")},
		ExtraEgress: []Endpoint{{CIDR: "169.254.169.252/32", Port: 988}}}
	m := run(t, gcs)
	cj, pod := podOf(t, m)
	require.Equal(t, "@daily", mocktest.At(cj, "spec", "schedule"))
	require.Len(t, pod["initContainers"], 1, "no Redis step for a managed Redis")
	require.Equal(t, "config-dump", mocktest.At(pod, "initContainers", 0, "name"))
	for _, v := range pod["volumes"].([]any) {
		require.NotContains(t, v.(map[string]any), "secret", "no Secret mounted")
	}
	up := containerNamed(t, pod, "containers", "upload")
	require.Equal(t, DefaultGCPImage, up["image"])
	script := mocktest.At(up, "command", 2).(string)
	require.Contains(t, script, `gcloud storage cp --recursive '/backup/*' "gs://$BACKUP_BUCKET/$BACKUP_PREFIX/$stamp/"`)
	require.NotContains(t, script, "redis.rdb")
	require.Equal(t, "mmllm-models", envOf(up)["BACKUP_BUCKET"])
	require.Empty(t, m.OfType("kubernetes:networking.k8s.io/v1:NetworkPolicy")[1:], "no Redis ingress policy")
	np := m.One(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "backup").Plain()
	require.Equal(t, "169.254.169.252/32", mocktest.At(np, "spec", "egress", 2, "to", 0, "ipBlock", "cidr"))
	require.Equal(t, 988.0, mocktest.At(np, "spec", "egress", 2, "ports", 0, "port"))
	m.CheckPolicies(t, "production-alert-rules")

	az := &Args{Namespace: "mmllm", Upload: Upload{Provider: AzureBlob, Bucket: pulumi.String("mmllmmodels"), TenantID: "t-1"},
		PodLabels: map[string]string{"azure.workload.identity/use": "true"}}
	m = run(t, az)
	cj, pod = podOf(t, m)
	require.Equal(t, "true", mocktest.At(cj, "spec", "jobTemplate", "spec", "template", "metadata", "labels", "azure.workload.identity/use"))
	up = containerNamed(t, pod, "containers", "upload")
	script = mocktest.At(up, "command", 2).(string)
	require.Contains(t, script, `az storage blob upload-batch --auth-mode login --account-name "$BACKUP_BUCKET" --destination "$BACKUP_CONTAINER"`)
	require.Contains(t, script, `--federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")"`)
	e := envOf(up)
	require.Equal(t, "mmllmmodels", e["BACKUP_BUCKET"])
	require.Equal(t, DefaultContainer, e["BACKUP_CONTAINER"])
	require.Equal(t, "t-1", e["AZURE_TENANT_ID"])
	m.CheckPolicies(t, "production-alert-rules")
}

func TestJobRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *Args)
		want   string
	}{
		{"no namespace", func(a *Args) { a.Namespace = "" }, "Namespace:"},
		{"bad schedule", func(a *Args) { a.Schedule = "daily" }, `Schedule: "daily" is not a cron schedule`},
		{"no provider", func(a *Args) { a.Upload.Provider = "ftp" }, `Upload.Provider: is "ftp"`},
		{"no bucket", func(a *Args) { a.Upload.Bucket = nil }, "Upload.Bucket: is required"},
		{"no region", func(a *Args) { a.Upload.Region = "" }, "Upload.Region:"},
		{"bad prefix", func(a *Args) { a.Upload.Prefix = "/backups/" }, "Upload.Prefix:"},
		{"redis without secret", func(a *Args) { a.Redis.PasswordSecret = "" }, "Redis.PasswordSecret:"},
		{"redis without pods", func(a *Args) { a.Redis.PodLabels = nil }, "Redis.PodLabels:"},
		{"latest kubectl", func(a *Args) { a.KubectlImage = "registry.k8s.io/kubectl:latest" }, "KubectlImage:"},
		{"bad cidr", func(a *Args) { a.HTTPSEgressCIDRs = []string{"everywhere"} }, "HTTPSEgressCIDRs[0]:"},
		{"negative backoff", func(a *Args) { a.BackoffLimit = -1 }, "BackoffLimit:"},
		{"short deadline", func(a *Args) { a.ActiveDeadlineSeconds = 5 }, "ActiveDeadlineSeconds:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := s3Args()
			tt.mutate(args)
			mocktest.RequireRejected(t, mocktest.Construct(NewJob, "backup", args), "backup.NewJob: invalid args", tt.want)
		})
	}
	t.Run("azure without tenant", func(t *testing.T) {
		args := s3Args()
		args.Upload = Upload{Provider: AzureBlob, Bucket: pulumi.String("acct")}
		mocktest.RequireRejected(t, mocktest.Construct(NewJob, "backup", args), "Upload.TenantID: is required")
	})
	mocktest.RequireRejected(t, mocktest.Construct(NewJob, "backup", nil), "backup.NewJob: args are required")
}
