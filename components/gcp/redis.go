package gcp

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/redis"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// RedisType is the Memorystore component's type token.
const RedisType = "mobile-mm-llm:gcp:Redis"

// RedisTLSPort is the port Memorystore serves on with in-transit
// encryption (SERVER_AUTHENTICATION); the Port output says the same.
const RedisTLSPort = 6378

// snapshotPeriods are Memorystore's RDB snapshot periods.
var snapshotPeriods = []string{"ONE_HOUR", "SIX_HOURS", "TWELVE_HOURS", "TWENTY_FOUR_HOURS"}

// RedisArgs configure a Memorystore for Redis instance: Standard tier (a
// replica in another zone with automatic failover), AUTH, TLS with server
// authentication, RDB snapshots. Project, Region, AuthorizedNetwork and
// Labels are required.
type RedisArgs struct {
	// Project is the project ID.
	Project string
	// Region is the instance's region (the cluster's).
	Region string
	// AuthorizedNetwork is the VPC clients connect from (gcp.Cluster.NetworkID).
	AuthorizedNetwork pulumi.StringInput
	// MemorySizeGB is the capacity (default 5).
	MemorySizeGB int
	// RedisVersion is the engine (default REDIS_7_2).
	RedisVersion string
	// ReadReplicas adds read replicas (0 to 5; 0, the default, keeps the one
	// failover replica of the Standard tier).
	ReadReplicas int
	// SnapshotPeriod is how often an RDB snapshot is taken (default
	// TWELVE_HOURS).
	SnapshotPeriod string
	// KMSKeyName, if set, is a customer key for the data at rest.
	KMSKeyName pulumi.StringInput
	// Labels must hold cloud.RequiredTags and be valid GCP labels.
	Labels map[string]string
}

// Redis is a Standard-tier Memorystore instance.
type Redis struct {
	pulumi.ResourceState

	// Host and Port are the primary endpoint (TLS).
	Host pulumi.StringOutput `pulumi:"host"`
	// Port is the primary endpoint's port.
	Port pulumi.IntOutput `pulumi:"port"`
	// AuthString is the AUTH password Memorystore generates (secret).
	AuthString pulumi.StringOutput `pulumi:"authString"`
	// CACert is the PEM of the CAs that sign the server's certificate (two
	// while Memorystore rotates them); clients must trust it.
	CACert pulumi.StringOutput `pulumi:"caCert"`
	// ReservedIPRange is the CIDR Memorystore took for the instance in the
	// peered network (the clients' NetworkPolicy egress).
	ReservedIPRange pulumi.StringOutput `pulumi:"reservedIpRange"`
}

var redisVersion = regexp.MustCompile(`^REDIS_[0-9]+(_[0-9]+)?$`)

// prepare fills the defaults and validates the result.
func (args RedisArgs) prepare() (RedisArgs, error) {
	a := args
	a.MemorySizeGB = cmp.Or(a.MemorySizeGB, 5)
	a.RedisVersion = cmp.Or(a.RedisVersion, "REDIS_7_2")
	a.SnapshotPeriod = cmp.Or(a.SnapshotPeriod, "TWELVE_HOURS")
	return a, a.validate()
}

func (a RedisArgs) validate() error {
	c := kube.NewChecker("gcp.NewRedis")
	checkProject(c, a.Project, a.Region, a.Labels)
	if a.AuthorizedNetwork == nil {
		c.Failf("AuthorizedNetwork", "is required (gcp.Cluster.NetworkID)")
	}
	c.Range("MemorySizeGB", a.MemorySizeGB, 1, 300)
	if !redisVersion.MatchString(a.RedisVersion) {
		c.Failf("RedisVersion", "%q is not a Memorystore version such as REDIS_7_2", a.RedisVersion)
	}
	c.Range("ReadReplicas", a.ReadReplicas, 0, 5)
	if !slices.Contains(snapshotPeriods, a.SnapshotPeriod) {
		c.Failf("SnapshotPeriod", "is %q; use one of %v", a.SnapshotPeriod, snapshotPeriods)
	}
	return c.Err()
}

// NewRedis creates the instance. Pass the Google provider in opts.
func NewRedis(ctx *pulumi.Context, name string, args *RedisArgs, opts ...pulumi.ResourceOption) (*Redis, error) {
	comp := &Redis{}
	return cloud.New(ctx, "gcp.NewRedis", RedisType, name, args, comp, opts, RedisArgs.prepare,
		func(a RedisArgs) error { return buildRedis(ctx, name, a, comp) })
}

func buildRedis(ctx *pulumi.Context, name string, a RedisArgs, comp *Redis) error {
	in := &redis.InstanceArgs{
		Project:               pulumi.String(a.Project),
		Region:                pulumi.String(a.Region),
		Tier:                  pulumi.String("STANDARD_HA"),
		MemorySizeGb:          pulumi.Int(a.MemorySizeGB),
		RedisVersion:          pulumi.String(a.RedisVersion),
		AuthorizedNetwork:     a.AuthorizedNetwork,
		ConnectMode:           pulumi.String("DIRECT_PEERING"),
		AuthEnabled:           pulumi.Bool(true),
		TransitEncryptionMode: pulumi.String("SERVER_AUTHENTICATION"),
		PersistenceConfig: redis.InstancePersistenceConfigArgs{
			PersistenceMode: pulumi.String("RDB"), RdbSnapshotPeriod: pulumi.String(a.SnapshotPeriod),
		},
		MaintenancePolicy: redis.InstanceMaintenancePolicyArgs{WeeklyMaintenanceWindows: redis.InstanceMaintenancePolicyWeeklyMaintenanceWindowArray{
			redis.InstanceMaintenancePolicyWeeklyMaintenanceWindowArgs{
				Day: pulumi.String("SUNDAY"), StartTime: redis.InstanceMaintenancePolicyWeeklyMaintenanceWindowStartTimeArgs{Hours: pulumi.Int(5)},
			},
		}},
		Labels: kube.StringMap(a.Labels),
	}
	if a.ReadReplicas > 0 {
		in.ReadReplicasMode, in.ReplicaCount = pulumi.String("READ_REPLICAS_ENABLED"), pulumi.Int(a.ReadReplicas)
	}
	if a.KMSKeyName != nil {
		in.CustomerManagedKey = a.KMSKeyName.ToStringOutput().ToStringPtrOutput()
	}
	inst, err := redis.NewInstance(ctx, name, in, pulumi.Parent(comp))
	if err != nil {
		return fmt.Errorf("instance: %w", err)
	}
	comp.Host, comp.Port = inst.Host, inst.Port
	comp.AuthString = pulumi.ToSecret(inst.AuthString).(pulumi.StringOutput)
	comp.CACert = inst.ServerCaCerts.ApplyT(caBundle).(pulumi.StringOutput)
	comp.ReservedIPRange = inst.ReservedIpRange
	return ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"host": comp.Host, "port": comp.Port, "authString": comp.AuthString, "caCert": comp.CACert,
		"reservedIpRange": comp.ReservedIPRange,
	})
}

// caBundle joins the PEM certificates of the instance's server CAs, so that
// a client keeps trusting the server through a CA rotation.
func caBundle(certs []redis.InstanceServerCaCert) string {
	var pems []string
	for _, c := range certs {
		if c.Cert != nil && *c.Cert != "" {
			pems = append(pems, strings.TrimRight(*c.Cert, "\n")+"\n")
		}
	}
	return strings.Join(pems, "")
}
