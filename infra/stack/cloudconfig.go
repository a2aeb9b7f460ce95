package stack

import (
	"fmt"
	"slices"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/aws"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/azure"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/gcp"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
)

// The node pool, network and GPU sections of the cloud kinds are the
// components' own types (aws.Nodes, gcp.NodePool, gcp.NetworkArgs, gcp.GPU,
// azure.NodePool, azure.NetworkArgs), decoded by their field names in
// lower camel case (minSize, machineType, vnetCidr...): one definition of
// each setting and its default, in the component that uses it.

// EKSConfig is the key cluster.eks: an EKS cluster with its VPC
// (aws.NewCluster).
type EKSConfig struct {
	// Region is the AWS region (required).
	Region string `json:"region"`
	// AvailabilityZones are two or three zones of Region (required).
	AvailabilityZones []string `json:"availabilityZones"`
	// VPCCIDR is the VPC's block (default 10.0.0.0/16).
	VPCCIDR string `json:"vpcCidr,omitempty"`
	// SingleNATGateway saves the per-zone NAT gateways (non-production).
	SingleNATGateway bool `json:"singleNatGateway,omitempty"`
	// ClusterName is the EKS cluster's name (default "mmllm-<stack>").
	ClusterName string `json:"clusterName,omitempty"`
	// KubernetesVersion is the EKS version (default the component's).
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// PublicAccessCIDRs may reach the API endpoint (required unless
	// PrivateEndpoint; never 0.0.0.0/0).
	PublicAccessCIDRs []string `json:"publicAccessCidrs,omitempty"`
	// PrivateEndpoint turns the public endpoint off.
	PrivateEndpoint bool `json:"privateEndpoint,omitempty"`
	// LogRetentionDays keeps control-plane logs (default 90).
	LogRetentionDays int `json:"logRetentionDays,omitempty"`
	// SystemNodes and GPUNodes are the managed node groups.
	SystemNodes aws.Nodes `json:"systemNodes"`
	// GPUNodes are the tainted GPU nodes.
	GPUNodes aws.Nodes `json:"gpuNodes"`
	// AdminRoleARNs get cluster-admin (CI's deploy role).
	AdminRoleARNs []string `json:"adminRoleArns,omitempty"`
	// KubeconfigRoleARN is the role the kubeconfig assumes.
	KubeconfigRoleARN string `json:"kubeconfigRoleArn,omitempty"`
}

// GKEConfig is the key cluster.gke: a private regional GKE cluster with
// its VPC (gcp.NewCluster).
type GKEConfig struct {
	// Project is the project ID (required).
	Project string `json:"project"`
	// ProjectNumber is the project's number, a quoted string (required).
	ProjectNumber string `json:"projectNumber"`
	// Region is the cluster's region (required).
	Region string `json:"region"`
	// ClusterName is the GKE cluster's name (default "mmllm-<stack>").
	ClusterName string `json:"clusterName,omitempty"`
	// ReleaseChannel is RAPID, REGULAR (default) or STABLE.
	ReleaseChannel string `json:"releaseChannel,omitempty"`
	// Network are the address ranges.
	Network gcp.NetworkArgs `json:"network"`
	// MasterAuthorizedCIDRs may reach the API endpoint (required unless
	// PrivateEndpoint).
	MasterAuthorizedCIDRs []string `json:"masterAuthorizedCidrs,omitempty"`
	// PrivateEndpoint turns the public endpoint off.
	PrivateEndpoint bool `json:"privateEndpoint,omitempty"`
	// SystemNodes and GPUNodes are the node pools.
	SystemNodes gcp.NodePool `json:"systemNodes"`
	// GPUNodes are the tainted GPU nodes.
	GPUNodes gcp.NodePool `json:"gpuNodes"`
	// GPU is the accelerator of each GPU node.
	GPU gcp.GPU `json:"gpu"`
	// AllowDeletion turns deletion protection off (test stacks).
	AllowDeletion bool `json:"allowDeletion,omitempty"`
}

// AKSConfig is the key cluster.aks: an AKS cluster with its VNet, Key
// Vault and Log Analytics workspace (azure.NewCluster).
type AKSConfig struct {
	// SubscriptionID and TenantID are GUIDs (required).
	SubscriptionID string `json:"subscriptionId"`
	// TenantID is the Entra ID tenant.
	TenantID string `json:"tenantId"`
	// ResourceGroup is the existing resource group (required).
	ResourceGroup string `json:"resourceGroup"`
	// Location is the Azure region (required).
	Location string `json:"location"`
	// ClusterName is the AKS cluster's name (default "mmllm-<stack>").
	ClusterName string `json:"clusterName,omitempty"`
	// KubernetesVersion pins a version (default AKS's).
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// Network are the address ranges.
	Network azure.NetworkArgs `json:"network"`
	// AuthorizedIPRanges may reach the API server (required unless
	// PrivateCluster).
	AuthorizedIPRanges []string `json:"authorizedIpRanges,omitempty"`
	// PrivateCluster makes the API server private.
	PrivateCluster bool `json:"privateCluster,omitempty"`
	// NetworkPolicy is calico (default), azure or cilium.
	NetworkPolicy string `json:"networkPolicy,omitempty"`
	// AdminGroupObjectIDs administer the cluster.
	AdminGroupObjectIDs []string `json:"adminGroupObjectIds,omitempty"`
	// KubeloginMode is how the kubeconfig gets tokens (default azurecli).
	KubeloginMode string `json:"kubeloginMode,omitempty"`
	// Zones are the pools' availability zones.
	Zones []string `json:"zones,omitempty"`
	// SystemNodes and GPUNodes are the agent pools.
	SystemNodes azure.NodePool `json:"systemNodes"`
	// GPUNodes are the tainted GPU nodes.
	GPUNodes azure.NodePool `json:"gpuNodes"`
	// LogRetentionDays keeps Log Analytics data (default 30).
	LogRetentionDays int `json:"logRetentionDays,omitempty"`
}

// ModelsConfig is the key models: the region's model store and its copy
// for disaster recovery. Which fields apply depends on the cluster kind.
type ModelsConfig struct {
	// BackupRegion holds the copy: eks (an S3 bucket replicated both ways)
	// and gke (the other region of a dual-region bucket). Required there.
	BackupRegion string `json:"backupRegion,omitempty"`
	// BucketName names the bucket (eks, gke; default auto-named).
	BucketName string `json:"bucketName,omitempty"`
	// ReplicaBucketName names the replica bucket (eks).
	ReplicaBucketName string `json:"replicaBucketName,omitempty"`
	// ReplicationTimeControl is S3 Replication Time Control (eks).
	ReplicationTimeControl bool `json:"replicationTimeControl,omitempty"`
	// TurboReplication is GCS turbo replication (gke).
	TurboReplication bool `json:"turboReplication,omitempty"`
	// AccountName is the storage account's name (aks, required).
	AccountName string `json:"accountName,omitempty"`
	// SKU is the geo-redundant storage SKU (aks; default Standard_RAGZRS).
	SKU string `json:"sku,omitempty"`
	// DeleteRetentionDays keeps deleted blobs (aks; default 30).
	DeleteRetentionDays int `json:"deleteRetentionDays,omitempty"`
	// NoncurrentVersionDays keeps overwritten model versions (default 90).
	NoncurrentVersionDays int `json:"noncurrentVersionDays,omitempty"`
}

// ElastiCacheConfig is the key redis.elasticache (aws.NewRedis; every
// field defaults to the component's).
type ElastiCacheConfig struct {
	// NodeType is the cache node type.
	NodeType string `json:"nodeType,omitempty"`
	// Nodes counts the primary and its replicas (2 to 6).
	Nodes int `json:"nodes,omitempty"`
	// EngineVersion is the Redis OSS version.
	EngineVersion string `json:"engineVersion,omitempty"`
	// SnapshotRetentionDays keeps daily snapshots.
	SnapshotRetentionDays int `json:"snapshotRetentionDays,omitempty"`
	// SnapshotWindow is the daily UTC snapshot window.
	SnapshotWindow string `json:"snapshotWindow,omitempty"`
	// MaintenanceWindow is the weekly UTC maintenance window.
	MaintenanceWindow string `json:"maintenanceWindow,omitempty"`
	// RestoreSnapshot seeds a new group from a snapshot (disaster recovery).
	RestoreSnapshot string `json:"restoreSnapshot,omitempty"`
}

// MemorystoreConfig is the key redis.memorystore (gcp.NewRedis).
type MemorystoreConfig struct {
	// MemorySizeGB is the capacity.
	MemorySizeGB int `json:"memorySizeGb,omitempty"`
	// RedisVersion is the engine (REDIS_7_2).
	RedisVersion string `json:"redisVersion,omitempty"`
	// ReadReplicas adds read replicas.
	ReadReplicas int `json:"readReplicas,omitempty"`
	// SnapshotPeriod is how often an RDB snapshot is taken.
	SnapshotPeriod string `json:"snapshotPeriod,omitempty"`
}

// AzureCacheConfig is the key redis.azureCache (azure.NewRedis).
type AzureCacheConfig struct {
	// Capacity is the Premium size P1..P5.
	Capacity int `json:"capacity,omitempty"`
	// Replicas per primary.
	Replicas int `json:"replicas,omitempty"`
	// Zones spread the nodes.
	Zones []string `json:"zones,omitempty"`
	// SnapshotMinutes is the RDB backup interval.
	SnapshotMinutes int `json:"snapshotMinutes,omitempty"`
}

// The Redis kinds (key redis.kind).
const (
	// RedisInCluster is the redis component on the stack's cluster.
	RedisInCluster = "in-cluster"
	// RedisManaged is the cloud's service (ElastiCache, Memorystore, Azure
	// Cache for Redis).
	RedisManaged = "managed"
)

// CloudKind reports whether the stack creates its cluster in a cloud.
func (c *Config) CloudKind() bool {
	return c.Cluster.Kind != ClusterExisting && slices.Contains(clusterKinds, c.Cluster.Kind)
}

// InClusterRedis reports whether the stack deploys the redis component.
func (c *Config) InClusterRedis() bool {
	return c.Redis.Enabled && (c.Redis.Kind == RedisInCluster || c.Redis.Kind == "" && !c.CloudKind())
}

// ManagedRedis reports whether the stack creates the cloud's Redis.
func (c *Config) ManagedRedis() bool { return c.Redis.Enabled && !c.InClusterRedis() }

// validateCloud checks the cluster section of a cloud kind, tags and
// models; the components check the formats again (naming their Args).
func (c *Config) validateCloud(ch *kube.Checker) {
	key := FullKey("cluster") + "." + c.Cluster.Kind
	sections := map[string]bool{ClusterEKS: c.Cluster.EKS != nil, ClusterGKE: c.Cluster.GKE != nil, ClusterAKS: c.Cluster.AKS != nil}
	for _, kind := range kube.SortedKeys(sections) {
		if sections[kind] && kind != c.Cluster.Kind {
			ch.Failf(FullKey("cluster")+"."+kind, "is for cluster.kind %q, not %q", kind, c.Cluster.Kind)
		}
	}
	if !c.CloudKind() {
		if c.Cluster.Kind == ClusterExisting && (len(c.Tags) > 0 || c.Models != nil) {
			ch.Failf(FullKey("tags")+"/"+FullKey("models"), "are for the cloud kinds; an existing cluster creates no cloud resources")
		}
		return
	}
	if c.Cluster.Context != "" {
		ch.Failf(FullKey("cluster")+".context", "is for cluster.kind %q; a %s cluster's kubeconfig is the stack's own", ClusterExisting, c.Cluster.Kind)
	}
	if !sections[c.Cluster.Kind] {
		ch.Failf(key, "is required for cluster.kind %q", c.Cluster.Kind)
	}
	cloud.CheckTags(ch, FullKey("tags"), c.Tags, c.Cluster.Kind == ClusterGKE)
	switch {
	case c.Cluster.EKS != nil && c.Cluster.Kind == ClusterEKS:
		c.Cluster.EKS.check(ch, key)
	case c.Cluster.GKE != nil && c.Cluster.Kind == ClusterGKE:
		c.Cluster.GKE.check(ch, key)
	case c.Cluster.AKS != nil && c.Cluster.Kind == ClusterAKS:
		c.Cluster.AKS.check(ch, key)
	}
	c.validateModels(ch)
}

func (e *EKSConfig) check(ch *kube.Checker, key string) {
	ch.Required(key+".region", e.Region)
	if n := len(e.AvailabilityZones); n < 2 || n > 3 {
		ch.Failf(key+".availabilityZones", "has %d zones; give 2 or 3 zones of %s", n, e.Region)
	}
	cloud.CheckCIDRs(ch, key+".publicAccessCidrs", e.PublicAccessCIDRs, !e.PrivateEndpoint)
	for _, n := range []struct {
		key   string
		nodes aws.Nodes
	}{{".systemNodes", e.SystemNodes}, {".gpuNodes", e.GPUNodes}} {
		checkBounds(ch, key+n.key, "minSize", "maxSize", n.nodes.MinSize, n.nodes.MaxSize)
		if d := n.nodes.DesiredSize; d != 0 && (d < n.nodes.MinSize || d > n.nodes.MaxSize) {
			ch.Failf(key+n.key+".desiredSize", "is %d, outside minSize..maxSize (%d..%d)", d, n.nodes.MinSize, n.nodes.MaxSize)
		}
	}
}

func (g *GKEConfig) check(ch *kube.Checker, key string) {
	ch.Required(key+".project", g.Project)
	ch.Required(key+".projectNumber", g.ProjectNumber)
	ch.Required(key+".region", g.Region)
	cloud.CheckCIDRs(ch, key+".masterAuthorizedCidrs", g.MasterAuthorizedCIDRs, !g.PrivateEndpoint)
	checkBounds(ch, key+".systemNodes", "minNodes", "maxNodes", g.SystemNodes.MinNodes, g.SystemNodes.MaxNodes)
	checkBounds(ch, key+".gpuNodes", "minNodes", "maxNodes", g.GPUNodes.MinNodes, g.GPUNodes.MaxNodes)
}

func (a *AKSConfig) check(ch *kube.Checker, key string) {
	ch.Required(key+".subscriptionId", a.SubscriptionID)
	ch.Required(key+".tenantId", a.TenantID)
	ch.Required(key+".resourceGroup", a.ResourceGroup)
	ch.Required(key+".location", a.Location)
	cloud.CheckCIDRs(ch, key+".authorizedIpRanges", a.AuthorizedIPRanges, !a.PrivateCluster)
	checkBounds(ch, key+".systemNodes", "minCount", "maxCount", a.SystemNodes.MinCount, a.SystemNodes.MaxCount)
	checkBounds(ch, key+".gpuNodes", "minCount", "maxCount", a.GPUNodes.MinCount, a.GPUNodes.MaxCount)
}

// checkBounds checks an autoscaled pool's bounds, unless both are unset
// (the component's defaults): 0 <= min <= max and max >= 1.
func checkBounds(ch *kube.Checker, key, minName, maxName string, minN, maxN int) {
	switch {
	case minN == 0 && maxN == 0:
	case minN < 0:
		ch.Failf(key+"."+minName, "is %d; it must be at least 0", minN)
	case maxN < 1:
		ch.Failf(key+"."+maxName, "is %d; it must be at least 1", maxN)
	case minN > maxN:
		ch.Failf(key+"."+minName, "is %d, above %s (%d)", minN, maxName, maxN)
	}
}

// modelFields are the models fields each cloud kind reads.
var modelFields = map[string][]string{
	ClusterEKS: {"backupRegion", "bucketName", "replicaBucketName", "replicationTimeControl", "noncurrentVersionDays"},
	ClusterGKE: {"backupRegion", "bucketName", "turboReplication", "noncurrentVersionDays"},
	ClusterAKS: {"accountName", "sku", "deleteRetentionDays", "noncurrentVersionDays"},
}

func (c *Config) validateModels(ch *kube.Checker) {
	key := FullKey("models")
	m := c.Models
	if m == nil {
		ch.Failf(key, "is required for cluster.kind %q: the region's model store and its disaster-recovery copy", c.Cluster.Kind)
		return
	}
	set := map[string]bool{
		"backupRegion": m.BackupRegion != "", "bucketName": m.BucketName != "", "replicaBucketName": m.ReplicaBucketName != "",
		"replicationTimeControl": m.ReplicationTimeControl, "turboReplication": m.TurboReplication, "accountName": m.AccountName != "",
		"sku": m.SKU != "", "deleteRetentionDays": m.DeleteRetentionDays != 0, "noncurrentVersionDays": m.NoncurrentVersionDays != 0,
	}
	for _, f := range kube.SortedKeys(set) {
		if set[f] && !slices.Contains(modelFields[c.Cluster.Kind], f) {
			ch.Failf(key+"."+f, "is not a setting of cluster.kind %q (it reads %v)", c.Cluster.Kind, modelFields[c.Cluster.Kind])
		}
	}
	if c.Cluster.Kind == ClusterAKS {
		ch.Required(key+".accountName", m.AccountName)
	} else {
		ch.Required(key+".backupRegion", m.BackupRegion)
	}
}

// validateRedis checks redis.kind and that the managed sections match the
// cluster kind.
func (c *Config) validateRedis(ch *kube.Checker) {
	key := FullKey("redis")
	r := c.Redis
	switch r.Kind {
	case "", RedisInCluster:
	case RedisManaged:
		if !c.CloudKind() {
			ch.Failf(key+".kind", "is %q, which needs a cloud cluster.kind (eks, gke or aks)", RedisManaged)
		}
	default:
		ch.Failf(key+".kind", "is %q; use %q or %q", r.Kind, RedisInCluster, RedisManaged)
	}
	if !r.Enabled && (r.Kind != "" || r.ElastiCache != nil || r.Memorystore != nil || r.AzureCache != nil) {
		ch.Failf(key, "sets kind or a managed section but redis.enabled is false")
	}
	inCluster := c.InClusterRedis()
	if !inCluster && (r.StorageSize != "" || r.StorageClass != "") {
		ch.Failf(key, "sets storageSize or storageClass, which are the in-cluster Redis's")
	}
	for _, s := range []struct {
		field, kind string
		set         bool
	}{{"elasticache", ClusterEKS, r.ElastiCache != nil}, {"memorystore", ClusterGKE, r.Memorystore != nil}, {"azureCache", ClusterAKS, r.AzureCache != nil}} {
		if s.set && (!c.ManagedRedis() || c.Cluster.Kind != s.kind) {
			ch.Failf(fmt.Sprintf("%s.%s", key, s.field), "is for redis.kind %q on cluster.kind %q", RedisManaged, s.kind)
		}
	}
	if inCluster && r.StorageSize != "" {
		ch.Quantity(key+".storageSize", r.StorageSize)
	}
	if inCluster && r.StorageClass != "" {
		ch.Name(key+".storageClass", r.StorageClass)
	}
}
