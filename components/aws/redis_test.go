package aws

import (
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud/cloudtest"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/internal/mocktest"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

func redisArgs() *RedisArgs {
	return &RedisArgs{
		VpcID:                 pulumi.String("vpc-1"),
		SubnetIDs:             pulumi.ToStringArray([]string{"subnet-a", "subnet-b"}),
		ClientSecurityGroupID: pulumi.String("sg-cluster"),
		AuthToken:             pulumi.ToSecret(pulumi.String("0123456789abcdef-TOKEN")).(pulumi.StringOutput),
		Tags:                  tags,
	}
}

func TestRedisElastiCache(t *testing.T) {
	m := newMocks()
	m.MustRun(t, mocktest.Construct(NewRedis, "cache", redisArgs()))
	rgRec := cloudtest.One(t, m.Mocks, "aws:elasticache/replicationGroup:ReplicationGroup", "cache")
	require.True(t, rgRec.Inputs["authToken"].ContainsSecrets(), "the AUTH token stays secret")
	rg := rgRec.Plain()
	for k, v := range map[string]any{
		"engine": "redis", "engineVersion": "7.1", "nodeType": "cache.r7g.large", "numCacheClusters": 2.0, "port": 6379.0,
		"automaticFailoverEnabled": true, "multiAzEnabled": true,
		"transitEncryptionEnabled": true, "transitEncryptionMode": "required", "atRestEncryptionEnabled": true,
		"authToken": "0123456789abcdef-TOKEN", "snapshotRetentionLimit": 7.0, "snapshotWindow": "03:00-04:00",
		"maintenanceWindow": "sun:05:00-sun:06:00", "subnetGroupName": "cache-1234567", "securityGroupIds": []any{"cache-id"},
	} {
		require.Equal(t, v, rg[k], k)
	}
	require.Nil(t, rg["kmsKeyId"])
	require.Nil(t, rg["snapshotName"])
	require.Equal(t, "cache-final", rg["finalSnapshotIdentifier"])
	sg := cloudtest.One(t, m.Mocks, "aws:ec2/securityGroup:SecurityGroup", "cache").Plain()
	require.Equal(t, []any{map[string]any{
		"description": "Redis over TLS from the cluster", "protocol": "tcp", "fromPort": 6379.0, "toPort": 6379.0,
		"securityGroups": []any{"sg-cluster"},
	}}, sg["ingress"], "only the cluster's nodes, only 6379")
	require.Nil(t, sg["egress"])
	sn := cloudtest.One(t, m.Mocks, "aws:elasticache/subnetGroup:SubnetGroup", "cache").Plain()
	require.Equal(t, []any{"subnet-a", "subnet-b"}, sn["subnetIds"])
	cloudtest.RequireParented(t, m.Mocks, "cache")
	m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule")
}

func TestRedisRestoresSnapshot(t *testing.T) {
	args := redisArgs()
	args.RestoreSnapshot, args.KMSKeyARN = "cache-final", pulumi.String("arn:aws:kms:us-east-1:123456789012:key/k")
	m := newMocks()
	m.MustRun(t, mocktest.Construct(NewRedis, "cache", args))
	rg := cloudtest.One(t, m.Mocks, "aws:elasticache/replicationGroup:ReplicationGroup", "cache").Plain()
	require.Equal(t, "cache-final", rg["snapshotName"])
	require.Equal(t, "arn:aws:kms:us-east-1:123456789012:key/k", rg["kmsKeyId"])
}

func TestRedisRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *RedisArgs)
		want   string
	}{
		{"no token", func(a *RedisArgs) { a.AuthToken = nil }, "AuthToken: is required"},
		{"no vpc", func(a *RedisArgs) { a.VpcID = nil }, "VpcID: is required"},
		{"no subnets", func(a *RedisArgs) { a.SubnetIDs = nil }, "SubnetIDs: is required"},
		{"no clients", func(a *RedisArgs) { a.ClientSecurityGroupID = nil }, "ClientSecurityGroupID: is required"},
		{"single node", func(a *RedisArgs) { a.Nodes = 1 }, "Nodes: is 1"},
		{"no snapshots", func(a *RedisArgs) { a.SnapshotRetentionDays = -1 }, "SnapshotRetentionDays: is -1"},
		{"window", func(a *RedisArgs) { a.SnapshotWindow = "3am" }, "SnapshotWindow:"},
		{"node type", func(a *RedisArgs) { a.NodeType = "r7g.large" }, "NodeType:"},
		{"tags", func(a *RedisArgs) { a.Tags = nil }, "Tags: lacks environment, owner, cost-center"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := redisArgs()
			tt.mutate(args)
			mocktest.RequireRejected(t, mocktest.Construct(NewRedis, "cache", args), "aws.NewRedis: invalid args", tt.want)
		})
	}
	for _, bad := range []string{"short-token", "0123456789abcdef/slash", "0123456789abcdef@at"} {
		args := redisArgs()
		args.AuthToken = pulumi.ToSecret(pulumi.String(bad)).(pulumi.StringOutput)
		_, err := mocktest.Run("dev", mocktest.Construct(NewRedis, "cache", args))
		require.ErrorContains(t, err, "AuthToken: must be 16 to 128", bad)
	}
}
