package aws

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Names and ARNs the checks accept.
var (
	region           = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$`)
	availabilityZone = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9][a-z]$`)
	iamARN           = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[\w+=,.@/-]+$`)
	// clusterName is an EKS cluster name (and so a log group path part).
	clusterName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$`)
)

// managedPolicy is the ARN of an AWS managed IAM policy.
func managedPolicy(name string) string { return "arn:aws:iam::aws:policy/" + name }

// statement is one IAM policy statement.
type statement struct {
	Sid       string         `json:"Sid,omitempty"`
	Effect    string         `json:"Effect"`
	Principal map[string]any `json:"Principal,omitempty"`
	Action    any            `json:"Action"`
	Resource  any            `json:"Resource,omitempty"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// policyJSON renders an IAM policy document.
func policyJSON(statements ...statement) (string, error) {
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": statements})
	if err != nil {
		return "", fmt.Errorf("policy document: %w", err)
	}
	return string(b), nil
}

// assumeRolePolicy lets an AWS service (eks.amazonaws.com) assume a role.
func assumeRolePolicy(service string) (string, error) {
	return policyJSON(statement{Effect: "Allow", Principal: map[string]any{"Service": service}, Action: "sts:AssumeRole"})
}

// IRSATrustPolicy is the trust policy of a role that the Kubernetes service
// account namespace/serviceAccount assumes through the cluster's OIDC
// provider (IAM roles for service accounts).
func IRSATrustPolicy(oidcProviderARN, issuerURL pulumi.StringInput, namespace, serviceAccount string) pulumi.StringOutput {
	return pulumi.All(oidcProviderARN, issuerURL).ApplyT(func(v []any) (string, error) {
		issuer := strings.TrimPrefix(v[1].(string), "https://")
		return policyJSON(statement{
			Effect:    "Allow",
			Principal: map[string]any{"Federated": v[0].(string)},
			Action:    "sts:AssumeRoleWithWebIdentity",
			Condition: map[string]any{"StringEquals": map[string]string{
				issuer + ":sub": "system:serviceaccount:" + namespace + ":" + serviceAccount,
				issuer + ":aud": "sts.amazonaws.com",
			}},
		})
	}).(pulumi.StringOutput)
}

// newRole creates an IAM role trusted by policy with the managed policies
// attached.
func newRole(ctx *pulumi.Context, name string, trust pulumi.StringInput, tags pulumi.StringMap, managed []string, opts ...pulumi.ResourceOption) (*iam.Role, []pulumi.Resource, error) {
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{AssumeRolePolicy: trust, Tags: tags}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("role %s: %w", name, err)
	}
	var attached []pulumi.Resource
	for _, p := range managed {
		n := name + "-" + strings.ToLower(strings.TrimPrefix(p, "Amazon"))
		att, err := iam.NewRolePolicyAttachment(ctx, n, &iam.RolePolicyAttachmentArgs{Role: role.Name, PolicyArn: pulumi.String(managedPolicy(p))}, opts...)
		if err != nil {
			return nil, nil, fmt.Errorf("role %s policy %s: %w", name, p, err)
		}
		attached = append(attached, att)
	}
	return role, attached, nil
}
