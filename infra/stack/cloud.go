package stack

import (
	"cmp"
	"fmt"

	awscomp "github.com/mobile-mm-llm/mobile-mm-llm/components/aws"
	azurecomp "github.com/mobile-mm-llm/mobile-mm-llm/components/azure"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/backup"
	gcpcomp "github.com/mobile-mm-llm/mobile-mm-llm/components/gcp"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/security"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/workload"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	azurenative "github.com/pulumi/pulumi-azure-native-sdk/v2"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// CloudProviders are the explicit providers of a cloud kind's stack, built
// from its cluster section, so that no resource depends on a default
// provider reading ambient configuration. Only the kind's fields are set.
type CloudProviders struct {
	// AWS is the cluster region's provider (eks), tagging by default.
	AWS *aws.Provider
	// AWSBackup is models.backupRegion's provider (eks): the DR copy.
	AWSBackup *aws.Provider
	// GCP is the project's provider (gke).
	GCP *gcp.Provider
	// Azure is the subscription's provider (aks).
	Azure *azurenative.Provider
}

// NewCloudProviders creates the providers of cfg's cloud kind.
func NewCloudProviders(ctx *pulumi.Context, cfg *Config) (*CloudProviders, error) {
	p := &CloudProviders{}
	var err error
	switch cfg.Cluster.Kind {
	case ClusterEKS:
		if p.AWS, err = newAWSProvider(ctx, "aws", cfg.Cluster.EKS.Region, cfg.Tags); err == nil {
			p.AWSBackup, err = newAWSProvider(ctx, "aws-backup-region", cfg.Models.BackupRegion, cfg.Tags)
		}
	case ClusterGKE:
		g := cfg.Cluster.GKE
		p.GCP, err = gcp.NewProvider(ctx, "gcp", &gcp.ProviderArgs{
			Project: pulumi.String(g.Project), Region: pulumi.String(g.Region), DefaultLabels: kube.StringMap(cfg.Tags),
		})
	case ClusterAKS:
		a := cfg.Cluster.AKS
		p.Azure, err = azurenative.NewProvider(ctx, "azure", &azurenative.ProviderArgs{
			SubscriptionId: pulumi.String(a.SubscriptionID), TenantId: pulumi.String(a.TenantID),
		})
	default:
		return nil, fmt.Errorf("%s.kind: %q creates no cloud resources", FullKey("cluster"), cfg.Cluster.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("cloud provider for cluster.kind %q: %w", cfg.Cluster.Kind, err)
	}
	return p, nil
}

// newAWSProvider is an AWS provider for region that puts tags on every
// taggable resource.
func newAWSProvider(ctx *pulumi.Context, name, region string, tags map[string]string) (*aws.Provider, error) {
	return aws.NewProvider(ctx, name, &aws.ProviderArgs{
		Region:      pulumi.String(region),
		DefaultTags: aws.ProviderDefaultTagsArgs{Tags: kube.StringMap(tags)},
	})
}

// newCloudCluster creates the cluster of cfg's cloud kind through p.
func newCloudCluster(ctx *pulumi.Context, name string, cfg *Config, p *CloudProviders) (Cluster, error) {
	clusterName := "mmllm-" + ctx.Stack()
	switch cfg.Cluster.Kind {
	case ClusterEKS:
		e := cfg.Cluster.EKS
		return awscomp.NewCluster(ctx, name, &awscomp.ClusterArgs{
			Region: e.Region, ClusterName: cmp.Or(e.ClusterName, clusterName), KubernetesVersion: e.KubernetesVersion,
			Network:           awscomp.NetworkArgs{CIDR: e.VPCCIDR, AvailabilityZones: e.AvailabilityZones, SingleNATGateway: e.SingleNATGateway},
			PublicAccessCIDRs: e.PublicAccessCIDRs, PrivateEndpoint: e.PrivateEndpoint, LogRetentionDays: e.LogRetentionDays,
			SystemNodes: e.SystemNodes, GPUNodes: e.GPUNodes, AdminRoleARNs: e.AdminRoleARNs, KubeconfigRoleARN: e.KubeconfigRoleARN,
			Tags: cfg.Tags,
		}, pulumi.Provider(p.AWS))
	case ClusterGKE:
		g := cfg.Cluster.GKE
		return gcpcomp.NewCluster(ctx, name, &gcpcomp.ClusterArgs{
			Project: g.Project, ProjectNumber: g.ProjectNumber, Region: g.Region, ClusterName: cmp.Or(g.ClusterName, clusterName),
			ReleaseChannel: g.ReleaseChannel, Network: g.Network, MasterAuthorizedCIDRs: g.MasterAuthorizedCIDRs,
			PrivateEndpoint: g.PrivateEndpoint, SystemNodes: g.SystemNodes, GPUNodes: g.GPUNodes, GPU: g.GPU,
			AllowDeletion: g.AllowDeletion, Labels: cfg.Tags,
		}, pulumi.Provider(p.GCP))
	case ClusterAKS:
		a := cfg.Cluster.AKS
		return azurecomp.NewCluster(ctx, name, &azurecomp.ClusterArgs{
			SubscriptionID: a.SubscriptionID, TenantID: a.TenantID, ResourceGroupName: pulumi.String(a.ResourceGroup),
			Location: a.Location, ClusterName: cmp.Or(a.ClusterName, clusterName), KubernetesVersion: a.KubernetesVersion,
			Network: a.Network, AuthorizedIPRanges: a.AuthorizedIPRanges, PrivateCluster: a.PrivateCluster,
			NetworkPolicy: a.NetworkPolicy, AdminGroupObjectIDs: a.AdminGroupObjectIDs, KubeloginMode: a.KubeloginMode,
			Zones: a.Zones, SystemNodes: a.SystemNodes, GPUNodes: a.GPUNodes, LogRetentionDays: a.LogRetentionDays, Tags: cfg.Tags,
		}, pulumi.Provider(p.Azure))
	default:
		return nil, fmt.Errorf("%s.kind: %q is not a cloud kind", FullKey("cluster"), cfg.Cluster.Kind)
	}
}

// CloudServices are what a cloud region adds beside its cluster: the model
// store with its disaster-recovery copy, the managed Redis (redis.kind
// managed), and the cloud backup plan (backup.enabled on eks and gke).
type CloudServices struct {
	// ModelStore is the model bucket component.
	ModelStore pulumi.Resource
	// ModelStoreURL locates the models: s3://, gs:// or https:// (Azure).
	ModelStoreURL pulumi.StringOutput
	// Redis is the managed Redis component, nil without one.
	Redis pulumi.Resource
	// RedisAddress is its TLS endpoint, host:port.
	RedisAddress pulumi.StringOutput
	// RedisClient is how the server connects to it: the endpoint, the
	// AUTH token or access key (a secret, mounted as a file), TLS, and
	// Memorystore's CA; nil without a managed Redis.
	RedisClient *workload.Redis
	// RedisPeer is where the server's pods may connect to it (the
	// NetworkPolicy egress): its addresses and port.
	RedisPeer *security.Peer
	// Backup is the backup plan component or resource, nil without one.
	Backup pulumi.Resource
	// BackupOutputs are the stack outputs a restore needs (eks: the vault
	// and AWS Backup's role), nil without them.
	BackupOutputs map[string]pulumi.Input
	// BackupJob is the backup job's upload and identity binding
	// (backup.export): Deploy completes the Args; nil without it.
	BackupJob *backup.Args
	// BackupIdentity is the job's cloud identity (role, IAM member or
	// managed identity), nil without it.
	BackupIdentity pulumi.Resource
}

// newCloudServices creates the region's cloud services beside cluster,
// which NewCluster created for cfg through p.
func newCloudServices(ctx *pulumi.Context, cfg *Config, sec Secrets, p *CloudProviders, cluster Cluster) (*CloudServices, error) {
	var (
		s   *CloudServices
		err error
	)
	switch c := cluster.(type) {
	case *awscomp.Cluster:
		s, err = awsServices(ctx, cfg, sec, p, c)
	case *gcpcomp.Cluster:
		s, err = gcpServices(ctx, cfg, p, c)
	case *azurecomp.Cluster:
		s, err = azureServices(ctx, cfg, sec, p, c)
	default:
		return nil, fmt.Errorf("cloud services: cluster %T is not a cloud cluster", cluster)
	}
	if err != nil {
		return nil, fmt.Errorf("cloud services of cluster.kind %q: %w", cfg.Cluster.Kind, err)
	}
	return s, nil
}

// hostPort joins a host and a port output.
func hostPort(host pulumi.StringOutput, port pulumi.IntOutput) pulumi.StringOutput {
	return pulumi.Sprintf("%s:%d", host, port)
}

// managedRedis records a managed Redis on s: its component, its TLS
// endpoint, how the server connects (password a secret output, caCert nil
// where the system's roots verify the server) and where it lives (cidrs,
// port) for the server's egress.
func (s *CloudServices) managedRedis(r pulumi.Resource, address, password, caCert pulumi.StringInput, cidrs []pulumi.StringInput, port int) {
	s.Redis, s.RedisAddress = r, address.ToStringOutput()
	s.RedisClient = &workload.Redis{Address: address, Password: password, TLS: true, CACert: caCert}
	s.RedisPeer = &security.Peer{CIDRs: cidrs, Port: port}
}
