package stack

import (
	"fmt"

	gcpcomp "github.com/mobile-mm-llm/mobile-mm-llm/components/gcp"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/gkebackup"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// gcpServices are a gke region's dual-region model bucket (its second
// region models.backupRegion), its Memorystore (redis.kind managed) and a
// Backup for GKE plan of the whole cluster, Secrets and volumes included
// (backup.enabled).
func gcpServices(ctx *pulumi.Context, cfg *Config, p *CloudProviders, c *gcpcomp.Cluster) (*CloudServices, error) {
	g, m := cfg.Cluster.GKE, cfg.Models
	inProject := pulumi.Provider(p.GCP)
	store, err := gcpcomp.NewModelStore(ctx, "models", &gcpcomp.ModelStoreArgs{
		Project: g.Project, Region: g.Region, BackupRegion: m.BackupRegion, BucketName: m.BucketName,
		TurboReplication: m.TurboReplication, NoncurrentVersionDays: m.NoncurrentVersionDays, Labels: cfg.Tags,
	}, inProject)
	if err != nil {
		return nil, err
	}
	s := &CloudServices{ModelStore: store, ModelStoreURL: store.URL}
	if cfg.ManagedRedis() {
		r := cfg.Redis.Memorystore
		if r == nil {
			r = &MemorystoreConfig{}
		}
		cache, err := gcpcomp.NewRedis(ctx, "cache", &gcpcomp.RedisArgs{
			Project: g.Project, Region: g.Region, AuthorizedNetwork: c.NetworkID, MemorySizeGB: r.MemorySizeGB,
			RedisVersion: r.RedisVersion, ReadReplicas: r.ReadReplicas, SnapshotPeriod: r.SnapshotPeriod, Labels: cfg.Tags,
		}, inProject)
		if err != nil {
			return nil, err
		}
		// Memorystore lives in its reserved range of the peered network;
		// its certificate is signed by the instance's own CA.
		s.managedRedis(cache, hostPort(cache.Host, cache.Port), cache.AuthString, cache.CACert,
			[]pulumi.StringInput{cache.ReservedIPRange}, gcpcomp.RedisTLSPort)
	}
	if cfg.ExportsBackups() {
		if s.BackupJob, s.BackupIdentity, err = gcpBackupJob(ctx, cfg, store, inProject); err != nil {
			return nil, err
		}
	}
	if cfg.Backup.Enabled {
		plan, err := gkebackup.NewBackupPlan(ctx, "backup", &gkebackup.BackupPlanArgs{
			Project:  pulumi.String(g.Project),
			Location: pulumi.String(g.Region),
			Name:     pulumi.String("mmllm-" + ctx.Stack()),
			Cluster:  pulumi.Sprintf("projects/%s/locations/%s/clusters/%s", g.Project, g.Region, c.ClusterName),
			BackupConfig: gkebackup.BackupPlanBackupConfigArgs{
				AllNamespaces: pulumi.Bool(true), IncludeSecrets: pulumi.Bool(true), IncludeVolumeData: pulumi.Bool(true),
			},
			BackupSchedule:  gkebackup.BackupPlanBackupScheduleArgs{CronSchedule: pulumi.String(cronFields(cfg.Backup.Schedule))},
			RetentionPolicy: gkebackup.BackupPlanRetentionPolicyArgs{BackupRetainDays: pulumi.Int(cfg.Backup.RetentionDays)},
			Labels:          kube.StringMap(cfg.Tags),
		}, inProject)
		if err != nil {
			return nil, fmt.Errorf("backup for GKE plan: %w", err)
		}
		s.Backup = plan
	}
	return s, nil
}
