package azure

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-azure-native-sdk/network/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// RedisType is the Azure Cache for Redis component's type token.
const RedisType = "mobile-mm-llm:azure:Redis"

// RedisTLSPort is the only port the cache listens on.
const RedisTLSPort = 6380

// snapshotMinutes are the RDB backup frequencies Azure accepts.
var snapshotMinutes = []int{15, 30, 60, 360, 720, 1440}

// RedisArgs configure a Premium Azure Cache for Redis reachable only
// through a private endpoint in the cluster's VNet: TLS 1.2 only (the
// non-TLS port off), access keys required, RDB snapshots to a storage
// account. ResourceGroupName, Location, VNetID, SubnetID and Tags are
// required; production also needs SnapshotStorageConnectionString.
type RedisArgs struct {
	// ResourceGroupName is the (existing) resource group.
	ResourceGroupName pulumi.StringInput
	// Location is the region (the cluster's).
	Location string
	// VNetID is the cluster's VNet (azure.Cluster.VNetID); the private DNS
	// zone is linked to it.
	VNetID pulumi.StringInput
	// SubnetID is the private endpoint's subnet (azure.Cluster.EndpointsSubnetID).
	SubnetID pulumi.StringInput
	// Capacity is the Premium size P1..P5 (default 1).
	Capacity int
	// Replicas per primary (default 1), spread over Zones.
	Replicas int
	// Zones are availability zones for the nodes ("1", "2", "3").
	Zones []string
	// SnapshotStorageConnectionString is the storage account connection
	// string RDB snapshots are written to (a secret); unset, no snapshots.
	SnapshotStorageConnectionString pulumi.StringInput
	// SnapshotMinutes is the RDB backup interval (default 60).
	SnapshotMinutes int
	// Tags are put on every resource; they must hold cloud.RequiredTags.
	Tags map[string]string
}

// Redis is the private cache.
type Redis struct {
	pulumi.ResourceState

	// HostName is NAME.redis.cache.windows.net; inside the VNet it
	// resolves to the private endpoint.
	HostName pulumi.StringOutput `pulumi:"hostName"`
	// Port is RedisTLSPort.
	Port pulumi.IntOutput `pulumi:"port"`
	// PrimaryKey is the access key clients AUTH with (secret).
	PrimaryKey pulumi.StringOutput `pulumi:"primaryKey"`
}

// prepare fills the defaults and validates the result.
func (args RedisArgs) prepare() (RedisArgs, error) {
	a := args
	a.Capacity = cmp.Or(a.Capacity, 1)
	a.Replicas = cmp.Or(a.Replicas, 1)
	a.SnapshotMinutes = cmp.Or(a.SnapshotMinutes, 60)
	return a, a.validate()
}

func (a RedisArgs) validate() error {
	c := kube.NewChecker("azure.NewRedis")
	checkAccount(c, a.ResourceGroupName, a.Location, a.Tags)
	if a.VNetID == nil {
		c.Failf("VNetID", "is required (azure.Cluster.VNetID)")
	}
	if a.SubnetID == nil {
		c.Failf("SubnetID", "is required (azure.Cluster.EndpointsSubnetID)")
	}
	c.Range("Capacity", a.Capacity, 1, 5)
	c.Range("Replicas", a.Replicas, 1, 3)
	for i, z := range a.Zones {
		if !azureZone.MatchString(z) || slices.Index(a.Zones, z) != i {
			c.Failf("Zones", "%q is not a distinct zone 1, 2 or 3", z)
		}
	}
	if !slices.Contains(snapshotMinutes, a.SnapshotMinutes) {
		c.Failf("SnapshotMinutes", "is %d; Azure accepts %v", a.SnapshotMinutes, snapshotMinutes)
	}
	return c.Err()
}

// NewRedis creates the cache and its private endpoint. Pass the
// azure-native provider in opts.
func NewRedis(ctx *pulumi.Context, name string, args *RedisArgs, opts ...pulumi.ResourceOption) (*Redis, error) {
	comp := &Redis{}
	return cloud.New(ctx, "azure.NewRedis", RedisType, name, args, comp, opts, RedisArgs.prepare,
		func(a RedisArgs) error { return buildRedis(ctx, name, a, comp) })
}

func buildRedis(ctx *pulumi.Context, name string, a RedisArgs, comp *Redis) error {
	child := pulumi.Parent(comp)
	tags := kube.StringMap(a.Tags)
	conf := pulumi.StringMap{"maxmemory-policy": pulumi.String("allkeys-lru")}
	if a.SnapshotStorageConnectionString != nil {
		conf["rdbBackupEnabled"] = pulumi.String("true")
		conf["rdbBackupFrequency"] = pulumi.String(strconv.Itoa(a.SnapshotMinutes))
		conf["rdbBackupMaxSnapshotCount"] = pulumi.String("1")
		conf["rdbStorageConnectionString"] = pulumi.ToSecret(a.SnapshotStorageConnectionString).(pulumi.StringOutput)
	}
	var cache redisCache
	if err := ctx.RegisterResource(tokenRedis, name, redisCacheArgs{
		ResourceGroupName: a.ResourceGroupName, Location: a.Location,
		SKU: "Premium", Family: "P", Capacity: a.Capacity, Replicas: a.Replicas, Zones: a.Zones,
		Configuration: conf, Tags: tags,
	}.inputs(), &cache, child); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	zone, err := network.NewPrivateZone(ctx, name, &network.PrivateZoneArgs{
		ResourceGroupName: a.ResourceGroupName, PrivateZoneName: pulumi.String(privateRedisDNSZoneName),
		Location: pulumi.String("global"), Tags: tags,
	}, child)
	if err != nil {
		return fmt.Errorf("private dns zone: %w", err)
	}
	if _, err := network.NewVirtualNetworkLink(ctx, name, &network.VirtualNetworkLinkArgs{
		ResourceGroupName: a.ResourceGroupName, PrivateZoneName: zone.Name, Location: pulumi.String("global"),
		VirtualNetwork: network.SubResourceArgs{Id: a.VNetID}, RegistrationEnabled: pulumi.Bool(false), Tags: tags,
	}, child); err != nil {
		return fmt.Errorf("private dns link: %w", err)
	}
	endpoint, err := network.NewPrivateEndpoint(ctx, name, &network.PrivateEndpointArgs{
		ResourceGroupName: a.ResourceGroupName, Location: pulumi.String(a.Location),
		Subnet: network.SubnetTypeArgs{Id: a.SubnetID},
		PrivateLinkServiceConnections: network.PrivateLinkServiceConnectionArray{network.PrivateLinkServiceConnectionArgs{
			Name: pulumi.String(name), PrivateLinkServiceId: cache.ID(), GroupIds: kube.StringArray("redisCache"),
		}},
		Tags: tags,
	}, child)
	if err != nil {
		return fmt.Errorf("private endpoint: %w", err)
	}
	if _, err := network.NewPrivateDnsZoneGroup(ctx, name, &network.PrivateDnsZoneGroupArgs{
		ResourceGroupName: a.ResourceGroupName, PrivateEndpointName: endpoint.Name, PrivateDnsZoneGroupName: pulumi.String("default"),
		PrivateDnsZoneConfigs: network.PrivateDnsZoneConfigArray{network.PrivateDnsZoneConfigArgs{
			Name: pulumi.String("redis"), PrivateDnsZoneId: zone.ID(),
		}},
	}, child); err != nil {
		return fmt.Errorf("private dns zone group: %w", err)
	}
	comp.HostName, comp.Port = cache.HostName, pulumi.Int(RedisTLSPort).ToIntOutput()
	comp.PrimaryKey = redisPrimaryKey(ctx, &cache, a.ResourceGroupName)
	return ctx.RegisterResourceOutputs(comp, pulumi.Map{"hostName": comp.HostName, "port": comp.Port, "primaryKey": comp.PrimaryKey})
}
