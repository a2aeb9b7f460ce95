package runner

import (
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// placeholderHost is the domain of every host name the runner makes up.
const placeholderHost = "policy-check.invalid"

// DefaultOutputs are the runner's answers for the outputs a cloud computes
// that the project's cloud components read (an EKS cluster's endpoint, CA
// and OIDC issuer, a role's ARN, a bucket's name, a Memorystore's
// certificates...), shaped as the providers return them, with placeholder
// values: the program needs their shape to run, the rules judge inputs.
// Names the program sets are kept; others are auto-names as Pulumi makes
// them (the logical name and a suffix).
func DefaultOutputs() map[string]OutputsFunc {
	return map[string]OutputsFunc{
		// AWS
		"aws:eks/cluster:Cluster": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			vpc := map[string]any{}
			if v := args.Inputs["vpcConfig"]; v.IsObject() {
				vpc = v.ObjectValue().Mappable()
			}
			vpc["clusterSecurityGroupId"] = "sg-" + args.Name
			return obj(map[string]any{
				"endpoint":             "https://" + args.Name + ".eks." + placeholderHost,
				"certificateAuthority": map[string]any{"data": "cG9saWN5LWNoZWNrLWNh"},
				"identities":           []any{map[string]any{"oidcs": []any{map[string]any{"issuer": "https://oidc." + placeholderHost + "/id/" + args.Name}}}},
				"vpcConfig":            vpc,
			})
		},
		"aws:iam/openIdConnectProvider:OpenIdConnectProvider": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			url := strings.TrimPrefix(stringInput(args, "url", args.Name), "https://")
			return obj(map[string]any{"arn": "arn:aws:iam::000000000000:oidc-provider/" + url, "url": url})
		},
		"aws:iam/role:Role":                       arn("arn:aws:iam::000000000000:role/"),
		"aws:kms/key:Key":                         arn("arn:aws:kms:us-east-1:000000000000:key/"),
		"aws:backup/plan:Plan":                    arn("arn:aws:backup:us-east-1:000000000000:backup-plan:"),
		"aws:elasticache/subnetGroup:SubnetGroup": autoNamed("name"),
		"aws:elasticache/replicationGroup:ReplicationGroup": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			return obj(map[string]any{
				"primaryEndpointAddress": "master." + args.Name + ".cache." + placeholderHost,
				"readerEndpointAddress":  "replica." + args.Name + ".cache." + placeholderHost,
			})
		},
		"aws:s3/bucketV2:BucketV2": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			name := stringInput(args, "bucket", args.Name+"-1234567")
			return obj(map[string]any{"bucket": name, "arn": "arn:aws:s3:::" + name})
		},
		// Google Cloud
		"gcp:container/cluster:Cluster": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			auth := map[string]any{}
			if v := args.Inputs["masterAuth"]; v.IsObject() {
				auth = v.ObjectValue().Mappable()
			}
			auth["clusterCaCertificate"] = "cG9saWN5LWNoZWNrLWNh"
			return obj(map[string]any{"endpoint": "192.0.2.10", "masterAuth": auth})
		},
		"gcp:serviceaccount/account:Account": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			return obj(map[string]any{"email": stringInput(args, "accountId", args.Name) + "@" + placeholderHost})
		},
		"gcp:redis/instance:Instance": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			return obj(map[string]any{"host": "192.0.2.20", "port": 6378, "reservedIpRange": "192.0.2.16/29", "authString": Placeholder("gcp:redis/instance:Instance.authString"),
				"serverCaCerts": []any{map[string]any{"cert": "-----BEGIN CERTIFICATE-----\npolicy-check\n-----END CERTIFICATE-----\n"}}})
		},
		"gcp:storage/bucket:Bucket": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			name := stringInput(args, "name", args.Name+"-1234567")
			return obj(map[string]any{"name": name, "url": "gs://" + name})
		},
		// Azure
		"azure-native:managedidentity:UserAssignedIdentity": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			return obj(map[string]any{"principalId": "principal-" + args.Name, "clientId": "client-" + args.Name})
		},
		"azure-native:keyvault:Vault": autoNamed("vaultName"),
		"azure-native:keyvault:Key": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			return obj(map[string]any{"keyUriWithVersion": "https://vault." + placeholderHost + "/keys/" + args.Name + "/1"})
		},
		"azure-native:containerservice:ManagedCluster": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			return obj(map[string]any{"name": stringInput(args, "resourceName", args.Name),
				"oidcIssuerProfile": map[string]any{"enabled": true, "issuerURL": "https://oic." + placeholderHost + "/" + args.Name + "/"}})
		},
		"azure-native:network:PrivateZone":     autoNamed("privateZoneName"),
		"azure-native:network:PrivateEndpoint": autoNamed("privateEndpointName"),
		"azure-native:storage:StorageAccount":  autoNamed("accountName"),
		"azure-native:cache:Redis": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			name := stringInput(args, "name", args.Name+"-1234")
			return obj(map[string]any{"name": name, "hostName": name + ".redis." + placeholderHost, "sslPort": 6380})
		},
	}
}

// obj builds a property map from plain values.
func obj(v map[string]any) resource.PropertyMap { return resource.NewPropertyMapFromMap(v) }

// stringInput is the string input prop, or def.
func stringInput(args pulumi.MockResourceArgs, prop, def string) string {
	if v := args.Inputs[resource.PropertyKey(prop)]; v.IsString() && v.StringValue() != "" {
		return v.StringValue()
	}
	return def
}

// autoNamed answers the name output prop: the input, or an auto-name.
func autoNamed(prop string) OutputsFunc {
	return func(args pulumi.MockResourceArgs) resource.PropertyMap {
		return obj(map[string]any{prop: stringInput(args, prop, args.Name+"-1234567")})
	}
}

// arn answers the arn output of an AWS resource: prefix and its name.
func arn(prefix string) OutputsFunc {
	return func(args pulumi.MockResourceArgs) resource.PropertyMap {
		return obj(map[string]any{"arn": prefix + args.Name})
	}
}
