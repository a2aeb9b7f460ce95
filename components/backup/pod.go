package backup

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/redis"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Paths inside the job's pod.
const (
	// BackupDir is the scratch volume both dumps are written to and
	// uploaded from.
	BackupDir = "/backup"
	// RedisDumpFile is the Redis RDB dump's file name.
	RedisDumpFile = "redis.rdb"
	// ConfigDumpFile is the namespace configuration's file name.
	ConfigDumpFile = "namespace.yaml"
	// RedisAuthDir is where the Redis password Secret is mounted.
	RedisAuthDir = "/etc/redis/auth"
	// tmpDir is HOME and the CLIs' configuration directory.
	tmpDir = "/tmp"
)

// objectPrefix is an object key prefix without leading or trailing slash.
var objectPrefix = regexp.MustCompile(`^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$`)

// cronSchedule is a five-field cron schedule or a macro the CronJob
// controller accepts.
var cronSchedule = regexp.MustCompile(`^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|([0-9A-Za-z*/,?-]+\s+){4}[0-9A-Za-z*/,?-]+)$`)

// CheckSchedule records under key a schedule the CronJob controller would
// refuse (the infra program checks its config with it).
func CheckSchedule(c *kube.Checker, key, schedule string) {
	if !cronSchedule.MatchString(strings.TrimSpace(schedule)) {
		c.Failf(key, "%q is not a cron schedule (five fields such as \"17 3 * * *\", or @daily)", schedule)
	}
}

// redisScript dumps Redis over the network into a temporary file and
// renames it when complete. The password is read from the mounted Secret
// into redis-cli's environment, never into the pod spec or the command line.
func redisScript(r *Redis) string {
	f := BackupDir + "/" + RedisDumpFile
	return `set -eu
export REDISCLI_AUTH="$(cat ` + RedisAuthDir + `/` + redis.PasswordKey + `)"
redis-cli -h ` + r.Host + ` -p ` + strconv.Itoa(r.Port) + ` --rdb ` + f + `.partial
mv ` + f + `.partial ` + f + `
`
}

// KubectlArgs are the configuration dump's kubectl arguments: every kind of
// ConfigResources in namespace, as YAML.
func KubectlArgs(namespace string) []string {
	kinds := make([]string, len(ConfigResources))
	for i, r := range ConfigResources {
		kinds[i] = r.qualified()
	}
	return []string{"kubectl", "get", strings.Join(kinds, ","), "--namespace", namespace, "--output", "yaml"}
}

// uploadScript copies the backup directory under PREFIX/NAMESPACE/TIMESTAMP
// of the object store with the provider's CLI; the identity is the
// workload's (IRSA, GKE Workload Identity, Azure workload identity), so no
// key is stored anywhere. The bucket and prefix come from the environment.
func uploadScript(provider string, redisStep bool) string {
	var b strings.Builder
	b.WriteString("set -eu\n")
	b.WriteString("test -s " + BackupDir + "/" + ConfigDumpFile + "\n")
	if redisStep {
		b.WriteString("test -s " + BackupDir + "/" + RedisDumpFile + "\n")
	}
	b.WriteString(`stamp="$(date -u +%Y-%m-%dT%H%M%SZ)"` + "\n")
	switch provider {
	case S3:
		b.WriteString(`aws s3 cp ` + BackupDir + ` "s3://$BACKUP_BUCKET/$BACKUP_PREFIX/$stamp/" --recursive --region "$AWS_REGION" --only-show-errors` + "\n")
	case GCS:
		b.WriteString(`gcloud storage cp --recursive '` + BackupDir + `/*' "gs://$BACKUP_BUCKET/$BACKUP_PREFIX/$stamp/"` + "\n")
	case AzureBlob:
		b.WriteString(`az login --service-principal --username "$AZURE_CLIENT_ID" --tenant "$AZURE_TENANT_ID" ` +
			`--federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")" --allow-no-subscriptions --output none` + "\n")
		b.WriteString(`az storage blob upload-batch --auth-mode login --account-name "$BACKUP_BUCKET" --destination "$BACKUP_CONTAINER" ` +
			`--destination-path "$BACKUP_PREFIX/$stamp" --source ` + BackupDir + ` --only-show-errors --output none` + "\n")
	}
	b.WriteString(`echo "uploaded $BACKUP_PREFIX/$stamp"` + "\n")
	return b.String()
}

// env is a plain environment variable (never a Secret: they are files).
func env(name string, value pulumi.StringInput) corev1.EnvVarArgs {
	return corev1.EnvVarArgs{Name: pulumi.String(name), Value: value}
}

// uploadEnv is the upload container's environment: where to write, and
// where each CLI keeps its state (the root filesystem is read-only).
func (b builder) uploadEnv() corev1.EnvVarArray {
	u := b.a.Upload
	out := corev1.EnvVarArray{
		env("HOME", pulumi.String(tmpDir)),
		env("BACKUP_BUCKET", u.Bucket),
		env("BACKUP_PREFIX", pulumi.String(u.Prefix+"/"+b.a.Namespace)),
	}
	switch u.Provider {
	case S3:
		out = append(out, env("AWS_REGION", pulumi.String(u.Region)))
	case GCS:
		out = append(out, env("CLOUDSDK_CONFIG", pulumi.String(tmpDir+"/gcloud")), env("CLOUDSDK_CORE_DISABLE_PROMPTS", pulumi.String("1")),
			// Composite uploads would need to read and delete the parts.
			env("CLOUDSDK_STORAGE_PARALLEL_COMPOSITE_UPLOAD_ENABLED", pulumi.String("False")))
	case AzureBlob:
		// The workload identity webhook injects AZURE_CLIENT_ID and
		// AZURE_FEDERATED_TOKEN_FILE; the tenant is set here too.
		out = append(out, env("AZURE_CONFIG_DIR", pulumi.String(tmpDir+"/azure")), env("AZURE_TENANT_ID", pulumi.String(u.TenantID)),
			env("BACKUP_CONTAINER", pulumi.String(u.Container)))
	}
	return out
}

// container is one of the job's containers, restricted like every
// container of the project.
func (b builder) container(name, image string, command []string, env corev1.EnvVarArray, mounts ...corev1.VolumeMountArgs) corev1.ContainerArgs {
	return corev1.ContainerArgs{
		Name:            pulumi.String(name),
		Image:           pulumi.String(image),
		ImagePullPolicy: pulumi.String("IfNotPresent"),
		Command:         kube.StringArray(command...),
		Env:             env,
		Resources:       b.a.Resources.Requirements(nil),
		SecurityContext: kube.RestrictedContainerSecurityContext(),
		VolumeMounts: append(corev1.VolumeMountArray{
			corev1.VolumeMountArgs{Name: pulumi.String("backup"), MountPath: pulumi.String(BackupDir)},
			corev1.VolumeMountArgs{Name: pulumi.String("tmp"), MountPath: pulumi.String(tmpDir)},
		}, mountArray(mounts)...),
	}
}

func mountArray(ms []corev1.VolumeMountArgs) corev1.VolumeMountArray {
	out := make(corev1.VolumeMountArray, len(ms))
	for i, m := range ms {
		out[i] = m
	}
	return out
}

// podSpec runs the dumps as init containers, one after the other, and the
// upload as the container, so nothing is uploaded unless both succeeded.
func (b builder) podSpec(serviceAccount pulumi.StringInput) *corev1.PodSpecArgs {
	a := b.a
	home := corev1.EnvVarArray{env("HOME", pulumi.String(tmpDir))}
	var inits corev1.ContainerArray
	volumes := corev1.VolumeArray{
		corev1.VolumeArgs{Name: pulumi.String("backup"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("8Gi")}},
		corev1.VolumeArgs{Name: pulumi.String("tmp"), EmptyDir: &corev1.EmptyDirVolumeSourceArgs{SizeLimit: pulumi.String("1Gi")}},
	}
	if a.Redis != nil {
		inits = append(inits, b.container("redis-dump", a.RedisImage, []string{"sh", "-c", redisScript(a.Redis)}, home,
			corev1.VolumeMountArgs{Name: pulumi.String("redis-auth"), MountPath: pulumi.String(RedisAuthDir), ReadOnly: pulumi.Bool(true)}))
		volumes = append(volumes, kube.SecretVolume("redis-auth", pulumi.String(a.Redis.PasswordSecret)))
	}
	// The kubectl image has no shell: its /go-runner writes kubectl's
	// standard output to the file (errors stay on the log).
	dump := append([]string{"/go-runner", "-log-file=" + BackupDir + "/" + ConfigDumpFile, "-also-stdout=false", "-redirect-stderr=false"},
		KubectlArgs(a.Namespace)...)
	inits = append(inits, b.container("config-dump", a.KubectlImage, dump, home))
	upload := b.container("upload", a.CLIImage, []string{"sh", "-c", uploadScript(a.Upload.Provider, a.Redis != nil)}, b.uploadEnv())
	return &corev1.PodSpecArgs{
		ServiceAccountName: serviceAccount,
		// kubectl reads the API with the ServiceAccount's token: the one
		// pod of the project that opts in.
		AutomountServiceAccountToken: pulumi.Bool(true),
		RestartPolicy:                pulumi.String("Never"),
		SecurityContext:              kube.RestrictedPodSecurityContext(uid),
		InitContainers:               inits,
		Containers:                   corev1.ContainerArray{upload},
		Volumes:                      volumes,
	}
}

// networkPolicies let the job's pods reach DNS, Redis, HTTPS (the API
// server, the token service, the object store) and any extra endpoint, and
// nothing else in or out; and Redis admit them.
func (b builder) networkPolicies() error {
	a := b.a
	egress := networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{
		To:    networkingv1.NetworkPolicyPeerArray{kube.Peer("kube-system", map[string]string{"k8s-app": "kube-dns"})},
		Ports: append(kube.Ports("UDP", 53), kube.Ports("TCP", 53)...),
	}}
	if a.Redis != nil {
		egress = append(egress, networkingv1.NetworkPolicyEgressRuleArgs{
			To: networkingv1.NetworkPolicyPeerArray{kube.Peer("", a.Redis.PodLabels)}, Ports: kube.Ports("TCP", a.Redis.Port),
		})
	}
	egress = append(egress, networkingv1.NetworkPolicyEgressRuleArgs{To: ipBlocks(a.HTTPSEgressCIDRs...), Ports: kube.Ports("TCP", 443)})
	for _, e := range a.ExtraEgress {
		egress = append(egress, networkingv1.NetworkPolicyEgressRuleArgs{To: ipBlocks(e.CIDR), Ports: kube.Ports("TCP", e.Port)})
	}
	if _, err := networkingv1.NewNetworkPolicy(b.ctx, b.name+"-egress", &networkingv1.NetworkPolicyArgs{
		Metadata: b.meta(a.Name),
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: kube.MatchLabels(b.podLabels), PolicyTypes: kube.PolicyTypes(), Egress: egress,
		},
	}, b.child()); err != nil {
		return fmt.Errorf("network policy %s: %w", a.Name, err)
	}
	if a.Redis == nil {
		return nil
	}
	name := a.Name + "-redis-ingress"
	if _, err := networkingv1.NewNetworkPolicy(b.ctx, b.name+"-redis-ingress", &networkingv1.NetworkPolicyArgs{
		Metadata: b.meta(name),
		Spec: &networkingv1.NetworkPolicySpecArgs{
			PodSelector: kube.MatchLabels(a.Redis.PodLabels),
			PolicyTypes: kube.StringArray("Ingress"),
			Ingress: networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
				From: networkingv1.NetworkPolicyPeerArray{kube.Peer("", b.podLabels)}, Ports: kube.Ports("TCP", a.Redis.Port),
			}},
		},
	}, b.child()); err != nil {
		return fmt.Errorf("network policy %s: %w", name, err)
	}
	return nil
}

// ipBlocks are NetworkPolicy peers of CIDRs.
func ipBlocks(cidrs ...string) networkingv1.NetworkPolicyPeerArray {
	out := make(networkingv1.NetworkPolicyPeerArray, len(cidrs))
	for i, c := range cidrs {
		out[i] = networkingv1.NetworkPolicyPeerArgs{IpBlock: &networkingv1.IPBlockArgs{Cidr: pulumi.String(c)}}
	}
	return out
}
