package aws

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ModelStoreType is the model bucket component's type token.
const ModelStoreType = "mobile-mm-llm:aws:ModelStore"

// ModelStoreArgs configure the region's model bucket and its copy in the
// backup region. Region, BackupRegion, BackupProvider and Tags are required.
type ModelStoreArgs struct {
	// Region is the primary bucket's region (the provider's in opts).
	Region string
	// BackupRegion is where the replica lives; it must differ from Region.
	BackupRegion string
	// BackupProvider is an AWS provider for BackupRegion.
	BackupProvider pulumi.ProviderResource
	// BucketName and ReplicaBucketName name the buckets (default: Pulumi
	// auto-names from the component's name, which must then be lower-case).
	BucketName, ReplicaBucketName string
	// NoncurrentVersionDays keeps overwritten or deleted model versions
	// this long (default 90).
	NoncurrentVersionDays int
	// ReplicationTimeControl turns on S3 Replication Time Control (99.99%
	// of objects within 15 minutes, at extra cost).
	ReplicationTimeControl bool
	// Tags are put on every resource; they must hold cloud.RequiredTags.
	Tags map[string]string
}

// ModelStore is a pair of versioned, KMS-encrypted, private S3 buckets in
// two regions that replicate to each other.
type ModelStore struct {
	pulumi.ResourceState

	// BucketName and BucketARN are the primary bucket's.
	BucketName pulumi.StringOutput `pulumi:"bucketName"`
	// BucketARN is the primary bucket's ARN.
	BucketARN pulumi.StringOutput `pulumi:"bucketArn"`
	// ReplicaBucketName is the backup region's bucket.
	ReplicaBucketName pulumi.StringOutput `pulumi:"replicaBucketName"`
	// ReplicaBucketARN is the backup region's bucket's ARN.
	ReplicaBucketARN pulumi.StringOutput `pulumi:"replicaBucketArn"`
	// KeyARN is the primary bucket's KMS key (readers need kms:Decrypt).
	KeyARN pulumi.StringOutput `pulumi:"keyArn"`
}

// bucketName is an S3 bucket name without dots (TLS wildcards break on dots).
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

// prepare fills the defaults and validates the result.
func (args ModelStoreArgs) prepare(name string) (ModelStoreArgs, error) {
	a := args
	a.NoncurrentVersionDays = cmp.Or(a.NoncurrentVersionDays, 90)
	return a, a.validate(name)
}

func (a ModelStoreArgs) validate(name string) error {
	c := kube.NewChecker("aws.NewModelStore")
	if !region.MatchString(a.Region) {
		c.Failf("Region", "%q is not an AWS region such as us-east-1", a.Region)
	}
	switch {
	case !region.MatchString(a.BackupRegion):
		c.Failf("BackupRegion", "%q is not an AWS region such as us-west-2", a.BackupRegion)
	case a.BackupRegion == a.Region:
		c.Failf("BackupRegion", "is %s, the primary region; a disaster-recovery copy must live elsewhere", a.Region)
	}
	if a.BackupProvider == nil {
		c.Failf("BackupProvider", "is required (an AWS provider for BackupRegion)")
	}
	for _, f := range [][2]string{{"BucketName", a.BucketName}, {"ReplicaBucketName", a.ReplicaBucketName}} {
		key, n := f[0], f[1]
		switch {
		case n != "" && !bucketName.MatchString(n):
			c.Failf(key, "%q is not an S3 bucket name (3 to 63 lower-case letters, digits and '-')", n)
		case n == "" && !bucketName.MatchString(name+"-replica-1234567"):
			c.Failf(key, "is empty and the component name %q cannot prefix an auto-named bucket; set it", name)
		}
	}
	c.Range("NoncurrentVersionDays", a.NoncurrentVersionDays, 1, 3650)
	cloud.CheckTags(c, "Tags", a.Tags, false)
	return c.Err()
}

// NewModelStore creates the buckets. Pass the primary region's AWS provider
// in opts and the backup region's in Args.
func NewModelStore(ctx *pulumi.Context, name string, args *ModelStoreArgs, opts ...pulumi.ResourceOption) (*ModelStore, error) {
	comp := &ModelStore{}
	return cloud.New(ctx, "aws.NewModelStore", ModelStoreType, name, args, comp, opts,
		func(a ModelStoreArgs) (ModelStoreArgs, error) { return a.prepare(name) },
		func(a ModelStoreArgs) error { return buildModelStore(ctx, name, a, comp) })
}

// site is one bucket with its key, created through one region's provider.
type site struct {
	bucket     *s3.BucketV2
	key        *kms.Key
	versioning *s3.BucketVersioningV2
	opts       []pulumi.ResourceOption
}

func buildModelStore(ctx *pulumi.Context, name string, a ModelStoreArgs, comp *ModelStore) error {
	tags := kube.StringMap(a.Tags)
	primary, err := newSite(ctx, name, a.BucketName, a, tags, pulumi.Parent(comp))
	if err != nil {
		return err
	}
	replica, err := newSite(ctx, name+"-replica", a.ReplicaBucketName, a, tags, pulumi.Parent(comp), pulumi.Provider(a.BackupProvider))
	if err != nil {
		return err
	}
	role, err := replicationRole(ctx, name, primary, replica, tags, pulumi.Parent(comp))
	if err != nil {
		return err
	}
	// Both directions: the replica is the copy the backup region serves
	// during a failover, and what is uploaded there flows back.
	if err := replicate(ctx, name, primary, replica, role, a.ReplicationTimeControl); err != nil {
		return err
	}
	if err := replicate(ctx, name+"-replica", replica, primary, role, a.ReplicationTimeControl); err != nil {
		return err
	}
	comp.BucketName, comp.BucketARN = primary.bucket.Bucket, primary.bucket.Arn
	comp.ReplicaBucketName, comp.ReplicaBucketARN = replica.bucket.Bucket, replica.bucket.Arn
	comp.KeyARN = primary.key.Arn
	return ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"bucketName": comp.BucketName, "bucketArn": comp.BucketARN, "replicaBucketName": comp.ReplicaBucketName,
		"replicaBucketArn": comp.ReplicaBucketARN, "keyArn": comp.KeyARN,
	})
}

// newSite creates a bucket with its KMS key, default encryption,
// versioning, public access block, owner-enforced objects, a TLS-only
// policy and a lifecycle for old versions.
func newSite(ctx *pulumi.Context, name, bucketName string, a ModelStoreArgs, tags pulumi.StringMap, opts ...pulumi.ResourceOption) (*site, error) {
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:       pulumi.Sprintf("Model bucket %s", name),
		EnableKeyRotation: pulumi.Bool(true),
		Tags:              tags,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", name, err)
	}
	args := &s3.BucketV2Args{Tags: tags}
	if bucketName != "" {
		args.Bucket = pulumi.String(bucketName)
	}
	bucket, err := s3.NewBucketV2(ctx, name, args, opts...)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", name, err)
	}
	s := &site{bucket: bucket, key: key, opts: opts}
	if _, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(), Rule: s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, opts...); err != nil {
		return nil, fmt.Errorf("ownership %s: %w", name, err)
	}
	block, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket: bucket.ID(), BlockPublicAcls: pulumi.Bool(true), BlockPublicPolicy: pulumi.Bool(true),
		IgnorePublicAcls: pulumi.Bool(true), RestrictPublicBuckets: pulumi.Bool(true),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("public access block %s: %w", name, err)
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm: pulumi.String("aws:kms"), KmsMasterKeyId: key.Arn,
			},
			BucketKeyEnabled: pulumi.Bool(true),
		}},
	}, opts...); err != nil {
		return nil, fmt.Errorf("encryption %s: %w", name, err)
	}
	if s.versioning, err = s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket: bucket.ID(), VersioningConfiguration: s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, opts...); err != nil {
		return nil, fmt.Errorf("versioning %s: %w", name, err)
	}
	if _, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: bucket.Arn.ApplyT(func(arn string) (string, error) {
			res := []string{arn, arn + "/*"}
			return policyJSON(
				statement{Sid: "DenyPlaintext", Effect: "Deny", Principal: map[string]any{"AWS": "*"}, Action: "s3:*", Resource: res,
					Condition: map[string]any{"Bool": map[string]string{"aws:SecureTransport": "false"}}},
				statement{Sid: "DenyOldTLS", Effect: "Deny", Principal: map[string]any{"AWS": "*"}, Action: "s3:*", Resource: res,
					Condition: map[string]any{"NumericLessThan": map[string]string{"s3:TlsVersion": "1.2"}}},
			)
		}).(pulumi.StringOutput),
	}, slices.Concat(opts, []pulumi.ResourceOption{pulumi.DependsOn([]pulumi.Resource{block})})...); err != nil {
		return nil, fmt.Errorf("tls policy %s: %w", name, err)
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:                             pulumi.String("old-versions"),
			Status:                         pulumi.String("Enabled"),
			Filter:                         s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
			NoncurrentVersionExpiration:    s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{NoncurrentDays: pulumi.Int(a.NoncurrentVersionDays)},
			AbortIncompleteMultipartUpload: s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{DaysAfterInitiation: pulumi.Int(7)},
		}},
	}, slices.Concat(opts, []pulumi.ResourceOption{pulumi.DependsOn([]pulumi.Resource{s.versioning})})...); err != nil {
		return nil, fmt.Errorf("lifecycle %s: %w", name, err)
	}
	return s, nil
}

// replicationRole is the role S3 replicates with, in both directions.
func replicationRole(ctx *pulumi.Context, name string, x, y *site, tags pulumi.StringMap, opts ...pulumi.ResourceOption) (*iam.Role, error) {
	trust, err := assumeRolePolicy("s3.amazonaws.com")
	if err != nil {
		return nil, err
	}
	role, _, err := newRole(ctx, name+"-replication", pulumi.String(trust), tags, nil, opts...)
	if err != nil {
		return nil, err
	}
	policy := pulumi.All(x.bucket.Arn, y.bucket.Arn, x.key.Arn, y.key.Arn).ApplyT(func(v []any) (string, error) {
		buckets := []string{v[0].(string), v[1].(string)}
		objects := []string{buckets[0] + "/*", buckets[1] + "/*"}
		keys := []string{v[2].(string), v[3].(string)}
		return policyJSON(
			statement{Effect: "Allow", Action: []string{"s3:GetReplicationConfiguration", "s3:ListBucket"}, Resource: buckets},
			statement{Effect: "Allow", Action: []string{"s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging",
				"s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"}, Resource: objects},
			statement{Effect: "Allow", Action: []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, Resource: keys},
		)
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, name+"-replication", &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, opts...); err != nil {
		return nil, fmt.Errorf("replication policy: %w", err)
	}
	return role, nil
}

// replicate copies every new object version of from into to, KMS
// re-encrypted with to's key. Deletions are not replicated: a delete
// marker in one region must not destroy the disaster-recovery copy.
func replicate(ctx *pulumi.Context, name string, from, to *site, role *iam.Role, rtc bool) error {
	dest := s3.BucketReplicationConfigRuleDestinationArgs{
		Bucket:                  to.bucket.Arn,
		StorageClass:            pulumi.String("STANDARD"),
		EncryptionConfiguration: s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs{ReplicaKmsKeyId: to.key.Arn},
	}
	if rtc {
		dest.ReplicationTime = s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs{
			Status: pulumi.String("Enabled"), Time: s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs{Minutes: pulumi.Int(15)},
		}
		dest.Metrics = s3.BucketReplicationConfigRuleDestinationMetricsArgs{
			Status: pulumi.String("Enabled"), EventThreshold: s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs{Minutes: pulumi.Int(15)},
		}
	}
	_, err := s3.NewBucketReplicationConfig(ctx, name, &s3.BucketReplicationConfigArgs{
		Bucket: from.bucket.ID(),
		Role:   role.Arn,
		Rules: s3.BucketReplicationConfigRuleArray{s3.BucketReplicationConfigRuleArgs{
			Id:                      pulumi.String("disaster-recovery"),
			Status:                  pulumi.String("Enabled"),
			Filter:                  s3.BucketReplicationConfigRuleFilterArgs{Prefix: pulumi.String("")},
			DeleteMarkerReplication: s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs{Status: pulumi.String("Disabled")},
			Destination:             dest,
			SourceSelectionCriteria: s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs{
				SseKmsEncryptedObjects: s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs{Status: pulumi.String("Enabled")},
				ReplicaModifications:   s3.BucketReplicationConfigRuleSourceSelectionCriteriaReplicaModificationsArgs{Status: pulumi.String("Enabled")},
			},
		}},
	}, slices.Concat(from.opts, []pulumi.ResourceOption{pulumi.DependsOn([]pulumi.Resource{from.versioning, to.versioning})})...)
	if err != nil {
		return fmt.Errorf("replication %s: %w", name, err)
	}
	return nil
}
