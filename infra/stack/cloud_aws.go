package stack

import (
	awscomp "github.com/mobile-mm-llm/mobile-mm-llm/components/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// awsServices are an eks region's S3 model buckets (replicated to
// models.backupRegion), its ElastiCache (redis.kind managed) and the AWS
// Backup plan of the model bucket (backup.enabled).
func awsServices(ctx *pulumi.Context, cfg *Config, sec Secrets, p *CloudProviders, c *awscomp.Cluster) (*CloudServices, error) {
	e, m := cfg.Cluster.EKS, cfg.Models
	inRegion := pulumi.Provider(p.AWS)
	store, err := awscomp.NewModelStore(ctx, "models", &awscomp.ModelStoreArgs{
		Region: e.Region, BackupRegion: m.BackupRegion, BackupProvider: p.AWSBackup,
		BucketName: m.BucketName, ReplicaBucketName: m.ReplicaBucketName, NoncurrentVersionDays: m.NoncurrentVersionDays,
		ReplicationTimeControl: m.ReplicationTimeControl, Tags: cfg.Tags,
	}, inRegion)
	if err != nil {
		return nil, err
	}
	s := &CloudServices{ModelStore: store, ModelStoreURL: pulumi.Sprintf("s3://%s", store.BucketName)}
	if cfg.ManagedRedis() {
		r := cfg.Redis.ElastiCache
		if r == nil {
			r = &ElastiCacheConfig{}
		}
		cache, err := awscomp.NewRedis(ctx, "cache", &awscomp.RedisArgs{
			VpcID: c.Network.VpcID, SubnetIDs: c.Network.PrivateSubnetIDs, ClientSecurityGroupID: c.ClusterSecurityGroupID,
			AuthToken: sec.RedisPassword, NodeType: r.NodeType, Nodes: r.Nodes, EngineVersion: r.EngineVersion,
			SnapshotRetentionDays: r.SnapshotRetentionDays, SnapshotWindow: r.SnapshotWindow,
			MaintenanceWindow: r.MaintenanceWindow, RestoreSnapshot: r.RestoreSnapshot, Tags: cfg.Tags,
		}, inRegion)
		if err != nil {
			return nil, err
		}
		// ElastiCache's nodes live in the cluster's private subnets; its
		// certificate is publicly trusted.
		var subnets []pulumi.StringInput
		for _, cidr := range c.Network.PrivateCIDRs {
			subnets = append(subnets, pulumi.String(cidr))
		}
		s.managedRedis(cache, hostPort(cache.PrimaryEndpoint, cache.Port), sec.RedisPassword, nil, subnets, awscomp.RedisPort)
	}
	if cfg.ExportsBackups() {
		if s.BackupJob, s.BackupIdentity, err = awsBackupJob(ctx, cfg, c, store, inRegion); err != nil {
			return nil, err
		}
	}
	if cfg.Backup.Enabled {
		plan, err := newS3Backup(ctx, "backup", s3BackupArgs{
			prefix: "mmllm-" + ctx.Stack() + "-models", buckets: pulumi.StringArray{store.BucketARN},
			schedule: cfg.Backup.Schedule, retentionDays: cfg.Backup.RetentionDays, tags: cfg.Tags,
		}, inRegion)
		if err != nil {
			return nil, err
		}
		s.Backup = plan
		s.BackupOutputs = map[string]pulumi.Input{"backupVault": plan.VaultName, "backupRoleArn": plan.RoleARN}
	}
	return s, nil
}
