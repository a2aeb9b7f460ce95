package gcp

import (
	"cmp"
	"fmt"
	"regexp"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/storage"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ModelStoreType is the model bucket component's type token.
const ModelStoreType = "mobile-mm-llm:gcp:ModelStore"

// multiRegions maps a region's prefix to the multi-region that GCS
// configurable dual-regions are named by; both regions must share it.
var multiRegions = map[string]string{"asia": "ASIA", "europe": "EU", "us": "US"}

// ModelStoreArgs configure the model bucket: one configurable dual-region
// GCS bucket whose objects GCS stores in both regions. Project, Region,
// BackupRegion and Labels are required.
type ModelStoreArgs struct {
	// Project is the project ID.
	Project string
	// Region and BackupRegion are the dual-region's two regions, on the
	// same continent ("asia-southeast1" and "asia-east1").
	Region, BackupRegion string
	// BucketName names the bucket (default: Pulumi auto-names it).
	BucketName string
	// TurboReplication replicates within 15 minutes (RPO ASYNC_TURBO, at
	// extra cost) instead of GCS's default (most objects within an hour).
	TurboReplication bool
	// NoncurrentVersionDays keeps overwritten or deleted model versions
	// this long (default 90).
	NoncurrentVersionDays int
	// KMSKeyName, if set, is a customer key for new objects (the GCS
	// service agent needs encrypt/decrypt on it); GCS encrypts either way.
	KMSKeyName pulumi.StringInput
	// Labels must hold cloud.RequiredTags and be valid GCP labels.
	Labels map[string]string
}

// ModelStore is the dual-region model bucket.
type ModelStore struct {
	pulumi.ResourceState

	// BucketName is the bucket's name.
	BucketName pulumi.StringOutput `pulumi:"bucketName"`
	// URL is gs://BUCKET.
	URL pulumi.StringOutput `pulumi:"url"`
}

var gcsBucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$`)

// prepare fills the defaults and validates the result.
func (args ModelStoreArgs) prepare() (ModelStoreArgs, error) {
	a := args
	a.NoncurrentVersionDays = cmp.Or(a.NoncurrentVersionDays, 90)
	return a, a.validate()
}

// location returns the dual-region's multi-region code, or "" when the
// regions do not form one.
func (a ModelStoreArgs) location() string {
	p, _, _ := strings.Cut(a.Region, "-")
	q, _, _ := strings.Cut(a.BackupRegion, "-")
	if p != q {
		return ""
	}
	return multiRegions[p]
}

func (a ModelStoreArgs) validate() error {
	c := kube.NewChecker("gcp.NewModelStore")
	checkProject(c, a.Project, a.Region, a.Labels)
	switch {
	case !gcpRegion.MatchString(a.BackupRegion):
		c.Failf("BackupRegion", "%q is not a region such as asia-east1", a.BackupRegion)
	case a.BackupRegion == a.Region:
		c.Failf("BackupRegion", "is %s, the primary region; a disaster-recovery copy must live elsewhere", a.Region)
	case a.location() == "":
		c.Failf("BackupRegion", "%s and %s do not form a GCS dual-region; pick two regions of the same continent (asia-*, europe-* or us-*)", a.Region, a.BackupRegion)
	}
	if a.BucketName != "" && !gcsBucketName.MatchString(a.BucketName) {
		c.Failf("BucketName", "%q is not a bucket name (3 to 63 lower-case letters, digits, '-' and '_')", a.BucketName)
	}
	c.Range("NoncurrentVersionDays", a.NoncurrentVersionDays, 1, 3650)
	return c.Err()
}

// NewModelStore creates the bucket. Pass the Google provider in opts.
func NewModelStore(ctx *pulumi.Context, name string, args *ModelStoreArgs, opts ...pulumi.ResourceOption) (*ModelStore, error) {
	comp := &ModelStore{}
	return cloud.New(ctx, "gcp.NewModelStore", ModelStoreType, name, args, comp, opts, ModelStoreArgs.prepare,
		func(a ModelStoreArgs) error { return buildModelStore(ctx, name, a, comp) })
}

func buildModelStore(ctx *pulumi.Context, name string, a ModelStoreArgs, comp *ModelStore) error {
	rpo := "DEFAULT"
	if a.TurboReplication {
		rpo = "ASYNC_TURBO"
	}
	in := &storage.BucketArgs{
		Project:  pulumi.String(a.Project),
		Location: pulumi.String(a.location()),
		CustomPlacementConfig: storage.BucketCustomPlacementConfigArgs{
			DataLocations: kube.StringArray(strings.ToUpper(a.Region), strings.ToUpper(a.BackupRegion)),
		},
		Rpo:                      pulumi.String(rpo),
		StorageClass:             pulumi.String("STANDARD"),
		UniformBucketLevelAccess: pulumi.Bool(true),
		PublicAccessPrevention:   pulumi.String("enforced"),
		Versioning:               storage.BucketVersioningArgs{Enabled: pulumi.Bool(true)},
		LifecycleRules: storage.BucketLifecycleRuleArray{
			storage.BucketLifecycleRuleArgs{
				Action:    storage.BucketLifecycleRuleActionArgs{Type: pulumi.String("Delete")},
				Condition: storage.BucketLifecycleRuleConditionArgs{DaysSinceNoncurrentTime: pulumi.Int(a.NoncurrentVersionDays), WithState: pulumi.String("ARCHIVED")},
			},
			storage.BucketLifecycleRuleArgs{
				Action:    storage.BucketLifecycleRuleActionArgs{Type: pulumi.String("AbortIncompleteMultipartUpload")},
				Condition: storage.BucketLifecycleRuleConditionArgs{Age: pulumi.Int(7)},
			},
		},
		Labels: kube.StringMap(a.Labels),
	}
	if a.BucketName != "" {
		in.Name = pulumi.String(a.BucketName)
	}
	if a.KMSKeyName != nil {
		in.Encryption = storage.BucketEncryptionArgs{DefaultKmsKeyName: a.KMSKeyName}
	}
	bucket, err := storage.NewBucket(ctx, name, in, pulumi.Parent(comp))
	if err != nil {
		return fmt.Errorf("bucket: %w", err)
	}
	comp.BucketName, comp.URL = bucket.Name, bucket.Url
	return ctx.RegisterResourceOutputs(comp, pulumi.Map{"bucketName": comp.BucketName, "url": comp.URL})
}
