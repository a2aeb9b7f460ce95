package policies

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// requiredTags are the tags (AWS, Azure) or labels (GCP) every taggable
// cloud resource carries, for cost reports and for finding an owner.
var requiredTags = []string{"environment", "owner", "cost-center"}

// tagPaths says where each taggable cloud resource type keeps its tags.
var tagPaths = map[string][]string{
	typeS3BucketV2:                         {"tags"},
	typeS3Bucket:                           {"tags"},
	typeEKS:                                {"tags"},
	typeEKSNodeGroup:                       {"tags"},
	typeElastiCache:                        {"tags"},
	typeAWSKey:                             {"tags"},
	"aws:ec2/vpc:Vpc":                      {"tags"},
	"aws:ec2/subnet:Subnet":                {"tags"},
	"aws:ec2/securityGroup:SecurityGroup":  {"tags"},
	"aws:backup/plan:Plan":                 {"tags"},
	"aws:backup/vault:Vault":               {"tags"},
	typeGCSBucket:                          {"labels"},
	typeGKE:                                {"resourceLabels"},
	typeGKENodePool:                        {"nodeConfig", "resourceLabels"},
	typeMemorystore:                        {"labels"},
	typeGCPCryptoKey:                       {"labels"},
	typeAKS:                                {"tags"},
	typeAKSAgentPool:                       {"tags"},
	typeAzureStorage:                       {"tags"},
	typeAzureRedis:                         {"tags"},
	"azure-native:resources:ResourceGroup": {"tags"},
	"azure-native:keyvault:Vault":          {"tags"},
}

// providerDefaultTags reads the AWS provider's defaultTags.tags, which the
// engine may hand over JSON-encoded as provider inputs are.
func providerDefaultTags(r Resource) (map[string]string, error) {
	n := node{v: r.Provider, path: "provider"}.key("defaultTags")
	if s, ok := n.v.(string); ok {
		var decoded any
		if err := json.Unmarshal([]byte(s), &decoded); err != nil {
			return nil, fmt.Errorf("provider defaultTags is not JSON: %w", err)
		}
		n.v = decoded
	}
	return n.key("tags").stringMap()
}

func checkRequiredTags(r Resource, _ StackInfo) ([]string, error) {
	path, ok := tagPaths[normalType(r.Type)]
	if !ok {
		return nil, nil
	}
	tags, err := props(r).at(path...).stringMap()
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(r.Type, "aws:") {
		defaults, err := providerDefaultTags(r)
		if err != nil {
			return nil, err
		}
		merged := make(map[string]string, len(tags)+len(defaults))
		for k, v := range defaults {
			merged[k] = v
		}
		for k, v := range tags {
			if v != "" {
				merged[k] = v
			}
		}
		tags = merged
	}
	var missing []string
	for _, k := range requiredTags {
		if tags[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	slices.Sort(missing)
	return []string{fmt.Sprintf("lacks the %s %s in %s; set them (or the AWS provider's defaultTags)",
		strings.Join(missing, ", "), plural(len(missing), "tag", "tags"), strings.Join(path, "."))}, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
