package stack

import (
	awscomp "github.com/mobile-mm-llm/mobile-mm-llm/components/aws"
	azurecomp "github.com/mobile-mm-llm/mobile-mm-llm/components/azure"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/backup"
	gcpcomp "github.com/mobile-mm-llm/mobile-mm-llm/components/gcp"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/redis"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// backupJobName is the backup job's component name (backup.export).
const backupJobName = "backup-export"

// backupWriterName names the backup job's cloud identity.
const backupWriterName = "backup-writer"

// gkeMetadataEgress is where pods reach GKE's metadata server for their
// Workload Identity tokens under NetworkPolicy (Dataplane V2: the metadata
// address on 80 and the GKE metadata server on 988).
var gkeMetadataEgress = []backup.Endpoint{{CIDR: "169.254.169.254/32", Port: 80}, {CIDR: "169.254.169.252/32", Port: 988}}

// backupServiceAccount is the job's ServiceAccount, which the cloud
// identity trusts.
func backupServiceAccount() string { return backup.ServiceAccountName("") }

// awsBackupJob is the eks upload: an IRSA role that may only put objects
// under the prefix of the region's model bucket (with its KMS key).
func awsBackupJob(ctx *pulumi.Context, cfg *Config, c *awscomp.Cluster, store *awscomp.ModelStore, opts ...pulumi.ResourceOption) (*backup.Args, pulumi.Resource, error) {
	role, err := awscomp.NewBackupWriterRole(ctx, backupWriterName, awscomp.BackupWriterArgs{
		OIDCProviderARN: c.OIDCProviderARN, OIDCIssuerURL: c.OIDCIssuerURL,
		Namespace: cfg.Namespace, ServiceAccount: backupServiceAccount(),
		BucketARN: store.BucketARN, KeyARN: store.KeyARN, Prefix: backup.DefaultPrefix, Tags: cfg.Tags,
	}, opts...)
	if err != nil {
		return nil, nil, err
	}
	return &backup.Args{
		Upload:                    backup.Upload{Provider: backup.S3, Bucket: store.BucketName, Region: cfg.Cluster.EKS.Region},
		ServiceAccountAnnotations: map[string]pulumi.StringInput{"eks.amazonaws.com/role-arn": role.Arn},
	}, role, nil
}

// gcpBackupJob is the gke upload: the job's Kubernetes ServiceAccount may
// only create objects under the prefix of the model bucket.
func gcpBackupJob(ctx *pulumi.Context, cfg *Config, store *gcpcomp.ModelStore, opts ...pulumi.ResourceOption) (*backup.Args, pulumi.Resource, error) {
	g := cfg.Cluster.GKE
	member, err := gcpcomp.NewBackupWriterBinding(ctx, backupWriterName, gcpcomp.BackupWriterArgs{
		Project: g.Project, ProjectNumber: g.ProjectNumber, Bucket: store.BucketName,
		Namespace: cfg.Namespace, ServiceAccount: backupServiceAccount(), Prefix: backup.DefaultPrefix,
	}, opts...)
	if err != nil {
		return nil, nil, err
	}
	return &backup.Args{
		Upload:      backup.Upload{Provider: backup.GCS, Bucket: store.BucketName},
		ExtraEgress: gkeMetadataEgress,
	}, member, nil
}

// azureBackupJob is the aks upload: a workload identity that may only
// write blobs in the model container.
func azureBackupJob(ctx *pulumi.Context, cfg *Config, c *azurecomp.Cluster, store *azurecomp.ModelStore, opts ...pulumi.ResourceOption) (*backup.Args, pulumi.Resource, error) {
	a := cfg.Cluster.AKS
	w, err := azurecomp.NewBackupWriter(ctx, backupWriterName, azurecomp.BackupWriterArgs{
		SubscriptionID: a.SubscriptionID, ResourceGroup: a.ResourceGroup, Location: a.Location,
		OIDCIssuerURL: c.OIDCIssuerURL, Namespace: cfg.Namespace, ServiceAccount: backupServiceAccount(),
		AccountID: store.AccountID, Container: azurecomp.ModelsContainer, Tags: cfg.Tags,
	}, opts...)
	if err != nil {
		return nil, nil, err
	}
	return &backup.Args{
		Upload: backup.Upload{Provider: backup.AzureBlob, Bucket: store.AccountName, Container: azurecomp.ModelsContainer,
			TenantID: a.TenantID},
		ServiceAccountAnnotations: map[string]pulumi.StringInput{"azure.workload.identity/client-id": w.ClientID},
		PodLabels:                 map[string]string{"azure.workload.identity/use": "true"},
	}, w.Identity, nil
}

// newBackupJob deploys the backup job of a cloud region from the upload
// its cloud services prepared: the in-cluster Redis's dump when there is
// one (a managed Redis snapshots itself), and the namespace's
// configuration.
func newBackupJob(ctx *pulumi.Context, cfg *Config, d *Deployment, k8s pulumi.ResourceOption) (*backup.Job, error) {
	args := *d.Cloud.BackupJob
	args.Namespace, args.Schedule = cfg.Namespace, cfg.Backup.Export.Schedule
	deps := []pulumi.Resource{d.Inference, d.Cloud.BackupIdentity}
	if d.Redis != nil {
		args.Redis = &backup.Redis{Host: redisName + "." + cfg.Namespace + ".svc.cluster.local",
			PasswordSecret: redis.AuthSecretName(redisName), PodLabels: d.Redis.PodLabels}
		deps = append(deps, d.Redis)
	}
	return backup.NewJob(ctx, backupJobName, &args, k8s, pulumi.DependsOn(deps))
}
