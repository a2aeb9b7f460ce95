package aws

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud/cloudtest"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/internal/mocktest"
	awssdk "github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

func storeArgs() *ModelStoreArgs {
	return &ModelStoreArgs{Region: "us-east-1", BackupRegion: "us-west-2", BucketName: "mmllm-models-us-east-1", Tags: tags}
}

// runStore runs NewModelStore with a backup-region provider and returns
// that provider's reference ("URN::ID").
func runStore(t *testing.T, args *ModelStoreArgs) (*cloudtest.Mocks, string) {
	t.Helper()
	m := newMocks()
	m.MustRun(t, func(ctx *pulumi.Context) error {
		backup, err := awssdk.NewProvider(ctx, "us-west-2", &awssdk.ProviderArgs{Region: pulumi.String("us-west-2")})
		if err != nil {
			return err
		}
		args.BackupProvider = backup
		_, err = NewModelStore(ctx, "models", args)
		return err
	})
	p := cloudtest.One(t, m.Mocks, "pulumi:providers:aws", "us-west-2")
	return m, p.URN + "::" + p.ID
}

func TestModelStoreBuckets(t *testing.T) {
	m, backup := runStore(t, storeArgs())
	primary := cloudtest.One(t, m.Mocks, "aws:s3/bucketV2:BucketV2", "models")
	replica := cloudtest.One(t, m.Mocks, "aws:s3/bucketV2:BucketV2", "models-replica")
	require.Equal(t, "mmllm-models-us-east-1", primary.Plain()["bucket"])
	require.Empty(t, primary.Provider, "the primary uses the default provider of the stack")
	require.Equal(t, backup, replica.Provider)
	for _, r := range m.Resources() {
		if strings.HasPrefix(r.Name, "models-replica") && r.Type != "aws:iam/role:Role" && r.Type != "aws:iam/rolePolicy:RolePolicy" {
			require.Equal(t, backup, r.Provider, "%s %s is in the backup region", r.Type, r.Name)
		}
	}

	for _, b := range []struct{ name, key string }{{"models", "models"}, {"models-replica", "models-replica"}} {
		keyARN := "arn:aws:kms::123456789012:" + b.key
		enc := cloudtest.One(t, m.Mocks, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", b.name).Plain()
		require.Equal(t, map[string]any{"sseAlgorithm": "aws:kms", "kmsMasterKeyId": keyARN}, mocktest.At(enc, "rules", 0, "applyServerSideEncryptionByDefault"))
		require.Equal(t, true, cloudtest.One(t, m.Mocks, "aws:kms/key:Key", b.key).Plain()["enableKeyRotation"])
		ver := cloudtest.One(t, m.Mocks, "aws:s3/bucketVersioningV2:BucketVersioningV2", b.name).Plain()
		require.Equal(t, "Enabled", mocktest.At(ver, "versioningConfiguration", "status"))
		block := cloudtest.One(t, m.Mocks, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", b.name).Plain()
		for _, f := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
			require.Equal(t, true, block[f], f)
		}
		own := cloudtest.One(t, m.Mocks, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", b.name).Plain()
		require.Equal(t, "BucketOwnerEnforced", mocktest.At(own, "rule", "objectOwnership"), "ACLs off")
		pol := cloudtest.One(t, m.Mocks, "aws:s3/bucketPolicy:BucketPolicy", b.name).Plain()
		require.Contains(t, pol["policy"], `"aws:SecureTransport":"false"`)
		require.Contains(t, pol["policy"], `"s3:TlsVersion":"1.2"`)
		life := cloudtest.One(t, m.Mocks, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", b.name).Plain()
		require.Equal(t, 90.0, mocktest.At(life, "rules", 0, "noncurrentVersionExpiration", "noncurrentDays"))
	}

	// Replication both ways, re-encrypted with the destination's key,
	// deletions kept out.
	for _, dir := range []struct{ from, to string }{{"models", "models-replica"}, {"models-replica", "models"}} {
		rep := cloudtest.One(t, m.Mocks, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", dir.from).Plain()
		require.Equal(t, dir.from+"-id", rep["bucket"])
		require.Equal(t, "arn:aws:iam::123456789012:models-replication", rep["role"])
		rule := mocktest.At(rep, "rules", 0).(map[string]any)
		require.Equal(t, "Enabled", rule["status"])
		require.Equal(t, "Disabled", mocktest.At(rule, "deleteMarkerReplication", "status"))
		require.Equal(t, "arn:aws:kms::123456789012:"+dir.to, mocktest.At(rule, "destination", "encryptionConfiguration", "replicaKmsKeyId"))
		require.Equal(t, "Enabled", mocktest.At(rule, "sourceSelectionCriteria", "sseKmsEncryptedObjects", "status"))
		require.Nil(t, mocktest.At(rule, "destination", "replicationTime"))
	}
	require.Equal(t, "arn:aws:s3:::models-replica-1234567",
		mocktest.At(cloudtest.One(t, m.Mocks, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "models").Plain(), "rules", 0, "destination", "bucket"))
	role := cloudtest.One(t, m.Mocks, "aws:iam/rolePolicy:RolePolicy", "models-replication").Plain()
	var doc struct {
		Statement []struct{ Action, Resource []string }
	}
	require.NoError(t, json.Unmarshal([]byte(role["policy"].(string)), &doc))
	require.Equal(t, []string{"arn:aws:s3:::mmllm-models-us-east-1", "arn:aws:s3:::models-replica-1234567"}, doc.Statement[0].Resource)
	require.Contains(t, doc.Statement[1].Action, "s3:ReplicateObject")
	require.Equal(t, []string{"arn:aws:kms::123456789012:models", "arn:aws:kms::123456789012:models-replica"}, doc.Statement[2].Resource)

	cloudtest.RequireParented(t, m.Mocks, "models", "us-west-2")
	m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule")
}

func TestModelStoreReplicationTimeControl(t *testing.T) {
	args := storeArgs()
	args.ReplicationTimeControl = true
	m, _ := runStore(t, args)
	rep := cloudtest.One(t, m.Mocks, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "models").Plain()
	require.Equal(t, map[string]any{"status": "Enabled", "time": map[string]any{"minutes": 15.0}}, mocktest.At(rep, "rules", 0, "destination", "replicationTime"))
}

func TestModelStoreRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *ModelStoreArgs)
		want   string
	}{
		{"same region", func(a *ModelStoreArgs) { a.BackupRegion = "us-east-1" }, "BackupRegion: is us-east-1, the primary region"},
		{"no backup region", func(a *ModelStoreArgs) { a.BackupRegion = "" }, "BackupRegion:"},
		{"bucket name", func(a *ModelStoreArgs) { a.BucketName = "Models_Bucket" }, "BucketName:"},
		{"retention", func(a *ModelStoreArgs) { a.NoncurrentVersionDays = -5 }, "NoncurrentVersionDays: is -5"},
		{"tags", func(a *ModelStoreArgs) { delete(a.Tags, "owner") }, "Tags: lacks owner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := storeArgs()
			args.Tags = map[string]string{"environment": "production", "owner": "platform", "cost-center": "ml-serving"}
			tt.mutate(args)
			mocktest.RequireRejected(t, mocktest.Construct(NewModelStore, "models", args), "aws.NewModelStore: invalid args", tt.want)
		})
	}
	mocktest.RequireRejected(t, mocktest.Construct(NewModelStore, "models", storeArgs()), "BackupProvider: is required")
}
