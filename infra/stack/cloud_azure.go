package stack

import (
	azurecomp "github.com/mobile-mm-llm/mobile-mm-llm/components/azure"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// azureServices are an aks region's geo-redundant model storage account
// (copied to the region's Azure pair, reachable from the nodes' subnet)
// and its Azure Cache for Redis (redis.kind managed). Backups on aks are
// the in-cluster Redis's snapshot job (backup.enabled) and the backup job's
// workload identity (backup.export).
func azureServices(ctx *pulumi.Context, cfg *Config, sec Secrets, p *CloudProviders, c *azurecomp.Cluster) (*CloudServices, error) {
	a, m := cfg.Cluster.AKS, cfg.Models
	inSubscription := pulumi.Provider(p.Azure)
	rg := pulumi.String(a.ResourceGroup)
	store, err := azurecomp.NewModelStore(ctx, "models", &azurecomp.ModelStoreArgs{
		ResourceGroupName: rg, Location: a.Location, AccountName: m.AccountName, SKU: m.SKU,
		SubnetIDs: []pulumi.StringInput{c.NodesSubnetID}, DeleteRetentionDays: m.DeleteRetentionDays,
		NoncurrentVersionDays: m.NoncurrentVersionDays, Tags: cfg.Tags,
	}, inSubscription)
	if err != nil {
		return nil, err
	}
	s := &CloudServices{ModelStore: store, ModelStoreURL: store.ContainerURL}
	if cfg.ManagedRedis() {
		r := cfg.Redis.AzureCache
		if r == nil {
			r = &AzureCacheConfig{}
		}
		cache, err := azurecomp.NewRedis(ctx, "cache", &azurecomp.RedisArgs{
			ResourceGroupName: rg, Location: a.Location, VNetID: c.VNetID, SubnetID: c.EndpointsSubnetID,
			Capacity: r.Capacity, Replicas: r.Replicas, Zones: r.Zones,
			SnapshotStorageConnectionString: sec.RedisSnapshotStorage, SnapshotMinutes: r.SnapshotMinutes, Tags: cfg.Tags,
		}, inSubscription)
		if err != nil {
			return nil, err
		}
		// Azure Cache is reached through its private endpoint in the
		// endpoints' subnet, on the TLS port; its certificate is publicly
		// trusted.
		s.managedRedis(cache, hostPort(cache.HostName, cache.Port), cache.PrimaryKey, nil,
			[]pulumi.StringInput{pulumi.String(c.EndpointsCIDR)}, azurecomp.RedisTLSPort)
	}
	if cfg.ExportsBackups() {
		if s.BackupJob, s.BackupIdentity, err = azureBackupJob(ctx, cfg, c, store, inSubscription); err != nil {
			return nil, err
		}
	}
	return s, nil
}
