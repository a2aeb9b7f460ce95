package aws

import (
	"cmp"
	"fmt"
	"regexp"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// RedisType is the ElastiCache component's type token.
const RedisType = "mobile-mm-llm:aws:Redis"

// RedisPort is the port ElastiCache Redis listens on (TLS only).
const RedisPort = 6379

// RedisArgs configure an ElastiCache for Redis replication group: TLS
// required, AUTH token, encrypted at rest, a replica in another zone with
// automatic failover, daily snapshots. VpcID, SubnetIDs, ClientSecurityGroupID,
// AuthToken and Tags are required.
type RedisArgs struct {
	// VpcID is the cluster's VPC (aws.Cluster.Network.VpcID).
	VpcID pulumi.StringInput
	// SubnetIDs are private subnets in two or more zones
	// (aws.Cluster.Network.PrivateSubnetIDs).
	SubnetIDs pulumi.StringArrayInput
	// ClientSecurityGroupID is the only group admitted on RedisPort
	// (aws.Cluster.ClusterSecurityGroupID, on every managed node).
	ClientSecurityGroupID pulumi.StringInput
	// AuthToken is the AUTH password, a Pulumi secret: 16 to 128 letters,
	// digits and ! & # $ ^ < > - (what ElastiCache accepts).
	AuthToken pulumi.StringInput
	// NodeType is the cache node type (default cache.r7g.large).
	NodeType string
	// Nodes is the number of nodes, the primary included: 2 to 6 (default
	// 2: a primary and a replica in another zone).
	Nodes int
	// EngineVersion is the Redis OSS version (default 7.1).
	EngineVersion string
	// SnapshotRetentionDays keeps daily snapshots this long (default 7;
	// 1 to 35).
	SnapshotRetentionDays int
	// SnapshotWindow is the daily UTC snapshot window (default 03:00-04:00).
	SnapshotWindow string
	// MaintenanceWindow is the weekly UTC maintenance window, not
	// overlapping the snapshot window (default sun:05:00-sun:06:00).
	MaintenanceWindow string
	// RestoreSnapshot, if set, seeds a new replication group from this
	// ElastiCache snapshot (disaster recovery; changing it replaces the
	// group).
	RestoreSnapshot string
	// KMSKeyARN, if set, is a customer key for data and snapshots at rest
	// (default: the AWS-managed ElastiCache key).
	KMSKeyARN pulumi.StringInput
	// Tags are put on every resource; they must hold cloud.RequiredTags.
	Tags map[string]string
}

// Redis is a Multi-AZ ElastiCache replication group reachable only from
// the cluster's nodes.
type Redis struct {
	pulumi.ResourceState

	// PrimaryEndpoint is the primary's DNS name (connect with TLS on Port).
	PrimaryEndpoint pulumi.StringOutput `pulumi:"primaryEndpoint"`
	// ReaderEndpoint balances across the replicas.
	ReaderEndpoint pulumi.StringOutput `pulumi:"readerEndpoint"`
	// Port is RedisPort.
	Port pulumi.IntOutput `pulumi:"port"`
	// SecurityGroupID is the group in front of the nodes.
	SecurityGroupID pulumi.StringOutput `pulumi:"securityGroupId"`
}

var (
	windowDaily  = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$`)
	windowWeekly = regexp.MustCompile(`^(sun|mon|tue|wed|thu|fri|sat):([01][0-9]|2[0-3]):[0-5][0-9]-(sun|mon|tue|wed|thu|fri|sat):([01][0-9]|2[0-3]):[0-5][0-9]$`)
	cacheNode    = regexp.MustCompile(`^cache\.[a-z0-9]+\.[a-z0-9]+$`)
	engine       = regexp.MustCompile(`^[67]\.[0-9]+$`)
	// authToken is what ElastiCache accepts as an AUTH token: letters,
	// digits and the punctuation ! & # $ ^ < > -.
	authToken = regexp.MustCompile(`^[A-Za-z0-9!&#$^<>-]{16,128}$`)
)

// prepare fills the defaults and validates the result.
func (args RedisArgs) prepare() (RedisArgs, error) {
	a := args
	a.NodeType = cmp.Or(a.NodeType, "cache.r7g.large")
	a.Nodes = cmp.Or(a.Nodes, 2)
	a.EngineVersion = cmp.Or(a.EngineVersion, "7.1")
	a.SnapshotRetentionDays = cmp.Or(a.SnapshotRetentionDays, 7)
	a.SnapshotWindow = cmp.Or(a.SnapshotWindow, "03:00-04:00")
	a.MaintenanceWindow = cmp.Or(a.MaintenanceWindow, "sun:05:00-sun:06:00")
	return a, a.validate()
}

func (a RedisArgs) validate() error {
	c := kube.NewChecker("aws.NewRedis")
	if a.VpcID == nil {
		c.Failf("VpcID", "is required (aws.Cluster.Network.VpcID)")
	}
	if a.SubnetIDs == nil {
		c.Failf("SubnetIDs", "is required (aws.Cluster.Network.PrivateSubnetIDs)")
	}
	if a.ClientSecurityGroupID == nil {
		c.Failf("ClientSecurityGroupID", "is required (aws.Cluster.ClusterSecurityGroupID)")
	}
	if a.AuthToken == nil {
		c.Failf("AuthToken", "is required (a secret config value)")
	}
	if !cacheNode.MatchString(a.NodeType) {
		c.Failf("NodeType", "%q is not a cache node type such as cache.r7g.large", a.NodeType)
	}
	c.Range("Nodes", a.Nodes, 2, 6) // Multi-AZ needs a replica
	if !engine.MatchString(a.EngineVersion) {
		c.Failf("EngineVersion", "%q is not a Redis OSS version such as 7.1", a.EngineVersion)
	}
	c.Range("SnapshotRetentionDays", a.SnapshotRetentionDays, 1, 35)
	if !windowDaily.MatchString(a.SnapshotWindow) {
		c.Failf("SnapshotWindow", "%q is not a UTC window such as 03:00-04:00", a.SnapshotWindow)
	}
	if !windowWeekly.MatchString(a.MaintenanceWindow) {
		c.Failf("MaintenanceWindow", "%q is not a weekly UTC window such as sun:05:00-sun:06:00", a.MaintenanceWindow)
	}
	cloud.CheckTags(c, "Tags", a.Tags, false)
	return c.Err()
}

// checkAuthToken fails the deployment on a token ElastiCache would refuse.
func checkAuthToken(t string) (string, error) {
	if !authToken.MatchString(t) {
		return "", fmt.Errorf("aws.NewRedis: AuthToken: must be 16 to 128 letters, digits and ! & # $ ^ < > - (ElastiCache refuses others)")
	}
	return t, nil
}

// NewRedis creates the replication group. Pass the region's AWS provider in
// opts.
func NewRedis(ctx *pulumi.Context, name string, args *RedisArgs, opts ...pulumi.ResourceOption) (*Redis, error) {
	comp := &Redis{}
	return cloud.New(ctx, "aws.NewRedis", RedisType, name, args, comp, opts, RedisArgs.prepare,
		func(a RedisArgs) error { return buildRedis(ctx, name, a, comp) })
}

func buildRedis(ctx *pulumi.Context, name string, a RedisArgs, comp *Redis) error {
	child := pulumi.Parent(comp)
	tags := kube.StringMap(a.Tags)
	sg, err := ec2.NewSecurityGroup(ctx, name, &ec2.SecurityGroupArgs{
		Description: pulumi.String("ElastiCache Redis: TLS from the EKS cluster's nodes only"),
		VpcId:       a.VpcID,
		Ingress: ec2.SecurityGroupIngressArray{ec2.SecurityGroupIngressArgs{
			Description:    pulumi.String("Redis over TLS from the cluster"),
			Protocol:       pulumi.String("tcp"),
			FromPort:       pulumi.Int(RedisPort),
			ToPort:         pulumi.Int(RedisPort),
			SecurityGroups: pulumi.StringArray{a.ClientSecurityGroupID},
		}},
		Tags: tags,
	}, child)
	if err != nil {
		return fmt.Errorf("security group: %w", err)
	}
	subnets, err := elasticache.NewSubnetGroup(ctx, name, &elasticache.SubnetGroupArgs{
		Description: pulumi.String("Private subnets of the EKS cluster's VPC"),
		SubnetIds:   a.SubnetIDs,
		Tags:        tags,
	}, child)
	if err != nil {
		return fmt.Errorf("subnet group: %w", err)
	}
	var restore pulumi.StringInput
	if a.RestoreSnapshot != "" {
		restore = pulumi.String(a.RestoreSnapshot)
	}
	token := pulumi.ToSecret(a.AuthToken.ToStringOutput().ApplyT(checkAuthToken)).(pulumi.StringOutput)
	rg, err := elasticache.NewReplicationGroup(ctx, name, &elasticache.ReplicationGroupArgs{
		Description:              pulumi.String("mobile-mm-llm result cache"),
		Engine:                   pulumi.String("redis"),
		EngineVersion:            pulumi.String(a.EngineVersion),
		NodeType:                 pulumi.String(a.NodeType),
		NumCacheClusters:         pulumi.Int(a.Nodes),
		Port:                     pulumi.Int(RedisPort),
		AutomaticFailoverEnabled: pulumi.Bool(true),
		MultiAzEnabled:           pulumi.Bool(true),
		TransitEncryptionEnabled: pulumi.Bool(true),
		TransitEncryptionMode:    pulumi.String("required"),
		AtRestEncryptionEnabled:  pulumi.Bool(true),
		KmsKeyId:                 optionalString(a.KMSKeyARN),
		AuthToken:                token,
		AuthTokenUpdateStrategy:  pulumi.String("ROTATE"),
		SubnetGroupName:          subnets.Name,
		SecurityGroupIds:         pulumi.StringArray{sg.ID()},
		SnapshotRetentionLimit:   pulumi.Int(a.SnapshotRetentionDays),
		SnapshotWindow:           pulumi.String(a.SnapshotWindow),
		MaintenanceWindow:        pulumi.String(a.MaintenanceWindow),
		FinalSnapshotIdentifier:  pulumi.Sprintf("%s-final", name),
		SnapshotName:             optionalString(restore),
		AutoMinorVersionUpgrade:  pulumi.Bool(true),
		Tags:                     tags,
	}, child)
	if err != nil {
		return fmt.Errorf("replication group: %w", err)
	}
	comp.PrimaryEndpoint, comp.ReaderEndpoint = rg.PrimaryEndpointAddress, rg.ReaderEndpointAddress
	comp.Port, comp.SecurityGroupID = pulumi.Int(RedisPort).ToIntOutput(), sg.ID().ToStringOutput()
	return ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"primaryEndpoint": comp.PrimaryEndpoint, "readerEndpoint": comp.ReaderEndpoint, "port": comp.Port, "securityGroupId": comp.SecurityGroupID,
	})
}

// optionalString is s as an optional input (nil stays unset).
func optionalString(s pulumi.StringInput) pulumi.StringPtrInput {
	if s == nil {
		return nil
	}
	return s.ToStringOutput().ToStringPtrOutput()
}
