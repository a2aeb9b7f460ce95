package aws

import (
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// BackupWriterArgs configure the IRSA role of the backup job
// (components/backup): write-only access to one prefix of the model bucket.
type BackupWriterArgs struct {
	// OIDCProviderARN and OIDCIssuerURL are the cluster's (Cluster outputs).
	OIDCProviderARN, OIDCIssuerURL pulumi.StringInput
	// Namespace and ServiceAccount are the Kubernetes identity trusted.
	Namespace, ServiceAccount string
	// BucketARN and KeyARN are the model bucket and its KMS key
	// (ModelStore outputs).
	BucketARN, KeyARN pulumi.StringInput
	// Prefix is the object prefix the role may write under ("backups").
	Prefix string
	// Tags are put on the role.
	Tags map[string]string
}

// NewBackupWriterRole creates the IAM role the backup job's ServiceAccount
// assumes (annotate it with eks.amazonaws.com/role-arn = the role's ARN).
// Its only permissions: s3:PutObject under BucketARN/Prefix/, and the
// bucket key's GenerateDataKey and Decrypt that SSE-KMS (multipart) uploads
// need. It can neither list nor read nor delete objects. Pass the region's
// provider (and a parent) in opts.
func NewBackupWriterRole(ctx *pulumi.Context, name string, a BackupWriterArgs, opts ...pulumi.ResourceOption) (*iam.Role, error) {
	c := kube.NewChecker("aws.NewBackupWriterRole")
	c.Name("Namespace", a.Namespace)
	c.Name("ServiceAccount", a.ServiceAccount)
	c.Required("Prefix", a.Prefix)
	if a.OIDCProviderARN == nil || a.OIDCIssuerURL == nil || a.BucketARN == nil || a.KeyARN == nil {
		c.Failf("OIDCProviderARN", "the OIDC provider, issuer, bucket and key are all required")
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: IRSATrustPolicy(a.OIDCProviderARN, a.OIDCIssuerURL, a.Namespace, a.ServiceAccount),
		Tags:             kube.StringMap(a.Tags),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("backup writer role %s: %w", name, err)
	}
	policy := pulumi.All(a.BucketARN, a.KeyARN).ApplyT(func(v []any) (string, error) {
		return policyJSON(
			statement{Sid: "PutBackups", Effect: "Allow", Action: "s3:PutObject", Resource: v[0].(string) + "/" + a.Prefix + "/*"},
			statement{Sid: "EncryptWithBucketKey", Effect: "Allow", Action: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resource: v[1].(string)},
		)
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{Role: role.Name, Policy: policy}, opts...); err != nil {
		return nil, fmt.Errorf("backup writer role %s policy: %w", name, err)
	}
	return role, nil
}
