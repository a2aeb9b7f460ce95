package stack

import (
	"fmt"
	"strconv"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/redis"
	batchv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// RedisSnapshotsTypeToken is the RedisSnapshots component's type.
const RedisSnapshotsTypeToken = "mobile-mm-llm:backup:RedisSnapshots"

// backupComponent is the app.kubernetes.io/component value the policies
// recognise a backup CronJob by (policies.BackupComponent).
const backupComponent = "backup"

// snapshotsDir is where the snapshot volume is mounted.
const snapshotsDir = "/backup"

// redisAuthDir is where the Redis password Secret is mounted.
const redisAuthDir = "/etc/redis/auth"

// RedisSnapshots is the stack's backup schedule on an existing cluster: a
// CronJob that copies an RDB snapshot of the in-cluster Redis (redis-cli
// --rdb, over the network) to its own volume and prunes old ones, with the
// NetworkPolicies that let it, and only it, reach Redis.
type RedisSnapshots struct {
	pulumi.ResourceState

	// CronJobName is the CronJob's name.
	CronJobName pulumi.StringOutput `pulumi:"cronJobName"`
	// ClaimName is the snapshots' PersistentVolumeClaim.
	ClaimName pulumi.StringOutput `pulumi:"claimName"`
}

// redisSnapshotsArgs configures RedisSnapshots; the program fills it from
// validated config.
type redisSnapshotsArgs struct {
	namespace      string
	redisName      string
	redisPodLabels map[string]string
	backup         BackupConfig
}

// newRedisSnapshots deploys the backup CronJob. Pass the Kubernetes
// provider with pulumi.Provider and pulumi.DependsOn the Redis.
func newRedisSnapshots(ctx *pulumi.Context, name string, a redisSnapshotsArgs, opts ...pulumi.ResourceOption) (*RedisSnapshots, error) {
	comp := &RedisSnapshots{}
	if err := ctx.RegisterComponentResource(RedisSnapshotsTypeToken, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("redis snapshots %q: %w", name, err)
	}
	objName := a.redisName + "-backup"
	labels := kube.Labels(kube.DefaultPartOf, objName, name, backupComponent)
	podLabels := kube.Selector(objName, name)
	child := pulumi.Parent(comp)
	meta := func(n string) *metav1.ObjectMetaArgs { return kube.Metadata(n, a.namespace, labels) }

	sa, err := kube.NewServiceAccount(ctx, name+"-sa", objName, a.namespace, labels, child)
	if err != nil {
		return nil, err
	}
	claim := &corev1.PersistentVolumeClaimSpecArgs{
		AccessModes: kube.StringArray("ReadWriteOnce"),
		Resources:   &corev1.VolumeResourceRequirementsArgs{Requests: pulumi.StringMap{"storage": pulumi.String(a.backup.StorageSize)}},
	}
	if a.backup.StorageClass != "" {
		claim.StorageClassName = pulumi.String(a.backup.StorageClass)
	}
	pvc, err := corev1.NewPersistentVolumeClaim(ctx, name+"-pvc", &corev1.PersistentVolumeClaimArgs{
		Metadata: meta(objName),
		Spec:     claim,
	}, child)
	if err != nil {
		return nil, fmt.Errorf("redis snapshots %q: volume claim: %w", name, err)
	}
	if err := snapshotNetworkPolicies(ctx, name, a, meta, podLabels, child); err != nil {
		return nil, err
	}
	cj, err := batchv1.NewCronJob(ctx, name+"-cronjob", &batchv1.CronJobArgs{
		Metadata: meta(objName),
		Spec: kube.MaintenanceCronJob(a.backup.Schedule, labels, podLabels, 2, 3600,
			snapshotPodSpec(a, sa.Metadata.Name().Elem(), pvc.Metadata.Name().Elem())),
	}, child)
	if err != nil {
		return nil, fmt.Errorf("redis snapshots %q: cron job: %w", name, err)
	}
	comp.CronJobName = cj.Metadata.Name().Elem()
	comp.ClaimName = pvc.Metadata.Name().Elem()
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{"cronJobName": comp.CronJobName, "claimName": comp.ClaimName}); err != nil {
		return nil, fmt.Errorf("redis snapshots %q: %w", name, err)
	}
	return comp, nil
}

// snapshotScript takes one snapshot into a temporary file, renames it when
// complete, and deletes snapshots older than the retention. The password is
// read from the mounted Secret into redis-cli's environment, never into the
// pod spec or the command line.
func snapshotScript(host string, retentionDays int) string {
	return `set -eu
export REDISCLI_AUTH="$(cat ` + redisAuthDir + `/` + redis.PasswordKey + `)"
f="` + snapshotsDir + `/dump-$(date -u +%Y%m%dT%H%M%SZ).rdb"
redis-cli -h ` + host + ` -p ` + strconv.Itoa(redis.Port) + ` --rdb "$f.partial"
mv "$f.partial" "$f"
find ` + snapshotsDir + ` -name 'dump-*.rdb' -mtime +` + strconv.Itoa(retentionDays-1) + ` -delete
ls -l ` + snapshotsDir + `
`
}

// snapshotPodSpec is the backup job's pod: Redis's own image (for
// redis-cli), restricted like every pod of the project.
func snapshotPodSpec(a redisSnapshotsArgs, serviceAccount, claim pulumi.StringInput) *corev1.PodSpecArgs {
	host := fmt.Sprintf("%s.%s.svc.cluster.local", a.redisName, a.namespace)
	return &corev1.PodSpecArgs{
		ServiceAccountName:           serviceAccount,
		AutomountServiceAccountToken: pulumi.Bool(false),
		RestartPolicy:                pulumi.String("Never"),
		SecurityContext:              kube.RestrictedPodSecurityContext(1000),
		Containers: corev1.ContainerArray{corev1.ContainerArgs{
			Name:            pulumi.String("snapshot"),
			Image:           pulumi.String(redis.DefaultImage),
			ImagePullPolicy: pulumi.String("IfNotPresent"),
			Command:         kube.StringArray("sh", "-c", snapshotScript(host, a.backup.RetentionDays)),
			Resources: kube.Resources{CPURequest: "50m", CPULimit: "500m", MemoryRequest: "64Mi", MemoryLimit: "256Mi"}.
				Requirements(nil),
			SecurityContext: kube.RestrictedContainerSecurityContext(),
			VolumeMounts: corev1.VolumeMountArray{
				corev1.VolumeMountArgs{Name: pulumi.String("snapshots"), MountPath: pulumi.String(snapshotsDir)},
				corev1.VolumeMountArgs{Name: pulumi.String("auth"), MountPath: pulumi.String(redisAuthDir), ReadOnly: pulumi.Bool(true)},
			},
		}},
		Volumes: corev1.VolumeArray{
			corev1.VolumeArgs{Name: pulumi.String("snapshots"), PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSourceArgs{ClaimName: claim}},
			kube.SecretVolume("auth", pulumi.String(redis.AuthSecretName(a.redisName))),
		},
	}
}

// snapshotNetworkPolicies let the backup pods reach Redis and Redis admit
// them (the security baseline denies everything else and allows DNS).
func snapshotNetworkPolicies(ctx *pulumi.Context, name string, a redisSnapshotsArgs, meta func(string) *metav1.ObjectMetaArgs,
	podLabels map[string]string, child pulumi.ResourceOption) error {
	redisPort := kube.Ports("TCP", redis.Port)
	egress := &networkingv1.NetworkPolicySpecArgs{
		PodSelector: kube.MatchLabels(podLabels),
		PolicyTypes: kube.StringArray("Egress"),
		Egress: networkingv1.NetworkPolicyEgressRuleArray{networkingv1.NetworkPolicyEgressRuleArgs{
			To: networkingv1.NetworkPolicyPeerArray{kube.Peer("", a.redisPodLabels)}, Ports: redisPort,
		}},
	}
	ingress := &networkingv1.NetworkPolicySpecArgs{
		PodSelector: kube.MatchLabels(a.redisPodLabels),
		PolicyTypes: kube.StringArray("Ingress"),
		Ingress: networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{
			From: networkingv1.NetworkPolicyPeerArray{kube.Peer("", podLabels)}, Ports: redisPort,
		}},
	}
	for _, p := range []struct {
		suffix string
		spec   *networkingv1.NetworkPolicySpecArgs
	}{{"egress", egress}, {"redis-ingress", ingress}} {
		objName := a.redisName + "-backup-" + p.suffix
		if _, err := networkingv1.NewNetworkPolicy(ctx, name+"-"+p.suffix, &networkingv1.NetworkPolicyArgs{
			Metadata: meta(objName), Spec: p.spec,
		}, child); err != nil {
			return fmt.Errorf("redis snapshots %q: network policy %s: %w", name, objName, err)
		}
	}
	return nil
}
