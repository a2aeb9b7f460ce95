package aws

import (
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud/cloudtest"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

var tags = map[string]string{"environment": "production", "owner": "platform", "cost-center": "ml-serving"}

// issuer is the OIDC issuer the mocked EKS cluster reports.
const issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"

// arnOutput gives a resource the ARN AWS would compute.
func arnOutput(service string) func(pulumi.MockResourceArgs) resource.PropertyMap {
	return func(args pulumi.MockResourceArgs) resource.PropertyMap {
		return cloudtest.Obj(map[string]any{"arn": "arn:aws:" + service + "::123456789012:" + args.Name})
	}
}

// newMocks answers with the outputs EKS, IAM, KMS and S3 compute.
func newMocks() *cloudtest.Mocks {
	return &cloudtest.Mocks{Outputs: map[string]func(pulumi.MockResourceArgs) resource.PropertyMap{
		"aws:eks/cluster:Cluster": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			vpc := args.Inputs["vpcConfig"].ObjectValue().Mappable()
			vpc["clusterSecurityGroupId"] = "sg-cluster"
			return cloudtest.Obj(map[string]any{
				"endpoint":             "https://EXAMPLE.gr7.us-east-1.eks.amazonaws.com",
				"certificateAuthority": map[string]any{"data": "Q0EtREFUQQ=="},
				"identities":           []any{map[string]any{"oidcs": []any{map[string]any{"issuer": issuer}}}},
				"vpcConfig":            vpc,
			})
		},
		"aws:iam/openIdConnectProvider:OpenIdConnectProvider": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			url := strings.TrimPrefix(args.Inputs["url"].StringValue(), "https://")
			return cloudtest.Obj(map[string]any{"arn": "arn:aws:iam::123456789012:oidc-provider/" + url, "url": url})
		},
		"aws:iam/role:Role": arnOutput("iam"),
		"aws:elasticache/subnetGroup:SubnetGroup": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			return cloudtest.Obj(map[string]any{"name": args.Name + "-1234567"}) // Pulumi's auto-name
		},
		"aws:kms/key:Key": arnOutput("kms"),
		"aws:s3/bucketV2:BucketV2": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			name := args.Name + "-1234567"
			if v, ok := args.Inputs["bucket"]; ok {
				name = v.StringValue()
			}
			return cloudtest.Obj(map[string]any{"arn": "arn:aws:s3:::" + name, "bucket": name})
		},
	}}
}
