package policies

import "testing"

// goodWith is a compliant fixture with one value changed.
func goodWith(typ, name string, v any, path ...any) Resource {
	return with(good(typ, name), v, path...)
}

// prodOne is a single-resource case in a production stack.
func prodOne(name string, r Resource, violates bool, msg string) ruleCase {
	return one(name, r, violates, msg).inProduction()
}

var storageCases = map[string][]ruleCase{
	"bucket-encryption": {
		stackCase("compliant", production, compliantStack(), ""),
		stackCase("S3 without encryption", production, stackWithout(typeS3Encryption), "has no default encryption", "models"),
		stackCase("S3 with inline encryption", production, replaced(stackWithout(typeS3Encryption),
			goodWith(typeS3BucketV2, "models", l{m{"rules": l{m{"applyServerSideEncryptionByDefaults": l{m{"sseAlgorithm": "AES256"}}}}}},
				"serverSideEncryptionConfigurations")), ""),
		stackCase("legacy Bucket with inline encryption", production, stackWith(res(typeS3Bucket, "legacy", m{"tags": tags(),
			"serverSideEncryptionConfiguration": m{"rule": m{"applyServerSideEncryptionByDefault": m{"sseAlgorithm": "aws:kms"}}}})), ""),
		stackCase("companion of another bucket", production, stackWith(goodWith(typeS3Encryption, "models-sse", "someone-else", "bucket")),
			"has no default encryption", "models"),
		stackCase("Azure Storage with old TLS", production, stackWith(goodWith(typeAzureStorage, "models-az", "TLS1_0", "minimumTlsVersion")),
			"minimumTlsVersion to TLS1_2", "models-az"),
		stackCase("Azure Storage over HTTP", production, stackWith(goodWith(typeAzureStorage, "models-az", false, "enableHttpsTrafficOnly")),
			"enableHttpsTrafficOnly", "models-az"),
		stackCase("unknown algorithm", production, stackWith(goodWith(typeS3Encryption, "models-sse", Unknown{}, "rules", 0, "applyServerSideEncryptionByDefault", "sseAlgorithm")),
			"unknown until the update", "models"),
	},
	"bucket-versioning": {
		stackCase("compliant", production, compliantStack(), ""),
		stackCase("S3 unversioned", production, stackWithout(typeS3Versioning), "is not versioned", "models"),
		stackCase("S3 versioning suspended", production, stackWith(goodWith(typeS3Versioning, "models-versioning", "Suspended", "versioningConfiguration", "status")),
			"is not versioned", "models"),
		stackCase("companion found by bucket ID", production, idLinkedVersioning(), ""),
		stackCase("GCS unversioned", production, stackWith(goodWith(typeGCSBucket, "models-gcs", false, "versioning", "enabled")), "versioning.enabled", "models-gcs"),
		stackCase("Azure Storage unversioned", production, stackWithout(typeAzureBlobConfig), "isVersioningEnabled", "models-az"),
	},
	"bucket-not-public": {
		stackCase("compliant", production, compliantStack(), ""),
		stackCase("S3 public access not fully blocked", production, stackWith(goodWith(typeS3PublicBlock, "models-pab", false, "restrictPublicBuckets")),
			"BucketPublicAccessBlock", "models"),
		stackCase("S3 public ACL", production, stackWith(goodWith(typeS3BucketV2, "models", "public-read", "acl")), `"public-read"`, "models"),
		stackCase("S3 public ACL companion", production, stackWith(res(typeS3ACL, "models-acl", m{"bucket": "mmllm-models-use1", "acl": "public-read-write"})),
			`BucketAclV2 "models-acl"`, "models"),
		stackCase("GCS without uniform access", production, stackWith(goodWith(typeGCSBucket, "models-gcs", false, "uniformBucketLevelAccess")),
			"uniformBucketLevelAccess", "models-gcs"),
		stackCase("GCS granted to allUsers", production, stackWith(res(typeGCSIAMMember, "models-public", m{"bucket": "models-gcs-bucket",
			"member": "allUsers", "role": "roles/storage.objectViewer"}), goodWith(typeGCSBucket, "models-gcs", "models-gcs-bucket", "name")),
			`BucketIAMMember "models-public"`, "models-gcs"),
		stackCase("Azure anonymous blob access", production, stackWith(goodWith(typeAzureStorage, "models-az", deleted, "allowBlobPublicAccess")),
			"allowBlobPublicAccess", "models-az"),
	},
	"bucket-replicated-in-production": {
		stackCase("compliant", production, compliantStack(), ""),
		stackCase("S3 not replicated", production, stackWithout(typeS3Replication), "is not replicated", "models"),
		stackCase("development needs none", development, stackWithout(typeS3Replication), ""),
		stackCase("GCS single region", production, stackWith(goodWith(typeGCSBucket, "models-gcs", "us-central1", "location")), `"us-central1"`, "models-gcs"),
		stackCase("GCS custom dual region", production, stackWith(goodWith(typeGCSBucket, "models-gcs", "US",
			"location"), goodWith(typeGCSBucket, "models-gcs", m{"dataLocations": l{"US-EAST1", "US-WEST1"}}, "customPlacementConfig")), ""),
		stackCase("Azure locally redundant", production, stackWith(goodWith(typeAzureStorage, "models-az", "Standard_LRS", "sku", "name")), `"Standard_LRS"`, "models-az"),
	},
}

// idLinkedVersioning links the S3 versioning companion by the bucket's
// physical ID, as mocks and stack analysis report it.
func idLinkedVersioning() []Resource {
	b := good(typeS3BucketV2, "models")
	b.ID = "bkt-0a1b2c"
	v := goodWith(typeS3Versioning, "models-versioning", "bkt-0a1b2c", "bucket")
	v.PropertyDeps = nil
	return stackWith(b, v)
}

var redisCases = map[string][]ruleCase{
	"redis-tls": {
		stackCase("compliant", production, compliantStack(), ""),
		one("ElastiCache plaintext", goodWith(typeElastiCache, "cache", false, "transitEncryptionEnabled"), true, "transitEncryptionEnabled"),
		one("ElastiCache TLS preferred", goodWith(typeElastiCache, "cache", "preferred", "transitEncryptionMode"), true, "transitEncryptionMode required"),
		one("Memorystore plaintext", goodWith(typeMemorystore, "cache-gcp", "DISABLED", "transitEncryptionMode"), true, "SERVER_AUTHENTICATION"),
		one("Azure non-TLS port", goodWith(typeAzureRedis, "cache-az", true, "enableNonSslPort"), true, "enableNonSslPort"),
	},
	"redis-auth": {
		stackCase("compliant", production, compliantStack(), ""),
		one("ElastiCache with RBAC users", with(goodWith(typeElastiCache, "cache", deleted, "authToken"), l{"ug-1"}, "userGroupIds"), false, ""),
		one("ElastiCache secret token unknown at preview", goodWith(typeElastiCache, "cache", Unknown{}, "authToken"), false, ""),
		one("ElastiCache open", goodWith(typeElastiCache, "cache", deleted, "authToken"), true, "authToken"),
		one("Memorystore open", goodWith(typeMemorystore, "cache-gcp", false, "authEnabled"), true, "authEnabled"),
		one("Azure auth off", goodWith(typeAzureRedis, "cache-az", "true", "redisConfiguration", "authnotrequired"), true, "authnotrequired"),
	},
	"redis-at-rest-encryption": {
		stackCase("compliant", production, compliantStack(), ""),
		one("ElastiCache unencrypted", goodWith(typeElastiCache, "cache", deleted, "atRestEncryptionEnabled"), true, "atRestEncryptionEnabled"),
	},
	"redis-private": {
		stackCase("compliant", production, compliantStack(), ""),
		one("ElastiCache default security group", goodWith(typeElastiCache, "cache", deleted, "securityGroupIds"), true, "securityGroupIds"),
		one("Memorystore default network", goodWith(typeMemorystore, "cache-gcp", deleted, "authorizedNetwork"), true, "authorizedNetwork"),
		one("Azure public endpoint", goodWith(typeAzureRedis, "cache-az", "Enabled", "publicNetworkAccess"), true, "publicNetworkAccess"),
	},
	"redis-snapshots-in-production": {
		stackCase("compliant", production, compliantStack(), ""),
		prodOne("ElastiCache without snapshots", goodWith(typeElastiCache, "cache", 0.0, "snapshotRetentionLimit"), true, "snapshotRetentionLimit"),
		one("development needs none", goodWith(typeElastiCache, "cache", 0.0, "snapshotRetentionLimit"), false, ""),
		prodOne("Memorystore without persistence", goodWith(typeMemorystore, "cache-gcp", deleted, "persistenceConfig"), true, "RDB"),
		prodOne("Azure without RDB backups", goodWith(typeAzureRedis, "cache-az", deleted, "redisConfiguration"), true, "rdbBackupEnabled"),
	},
}

var clusterCases = map[string][]ruleCase{
	"cluster-endpoint-restricted": {
		stackCase("compliant", production, compliantStack(), ""),
		one("EKS private endpoint", goodWith(typeEKS, "gpu", m{"endpointPublicAccess": false, "endpointPrivateAccess": true}, "vpcConfig"), false, ""),
		one("EKS open to the world", goodWith(typeEKS, "gpu", l{"0.0.0.0/0"}, "vpcConfig", "publicAccessCidrs"), true, "whole internet"),
		one("EKS public by default", goodWith(typeEKS, "gpu", deleted, "vpcConfig"), true, "vpcConfig.publicAccessCidrs"),
		one("GKE public without networks", goodWith(typeGKE, "gke", deleted, "privateClusterConfig"), true, "masterAuthorizedNetworksConfig.cidrBlocks"),
		one("GKE public with networks", with(goodWith(typeGKE, "gke", deleted, "privateClusterConfig"),
			m{"cidrBlocks": l{m{"cidrBlock": "203.0.113.0/24", "displayName": "office"}}}, "masterAuthorizedNetworksConfig"), false, ""),
		one("GKE open to Google Cloud", with(goodWith(typeGKE, "gke", deleted, "privateClusterConfig"),
			m{"gcpPublicCidrsAccessEnabled": true, "cidrBlocks": l{m{"cidrBlock": "203.0.113.0/24"}}}, "masterAuthorizedNetworksConfig"), true, "gcpPublicCidrsAccessEnabled"),
		one("AKS authorized ranges", goodWith(typeAKS, "aks", m{"authorizedIPRanges": l{"203.0.113.0/24"}}, "apiServerAccessProfile"), false, ""),
		one("AKS public", goodWith(typeAKS, "aks", deleted, "apiServerAccessProfile"), true, "authorizedIPRanges"),
	},
	"cluster-secrets-encryption": {
		stackCase("compliant", production, compliantStack(), ""),
		one("EKS without KMS", goodWith(typeEKS, "gpu", deleted, "encryptionConfig"), true, "encryptionConfig"),
		one("GKE decrypted", goodWith(typeGKE, "gke", "DECRYPTED", "databaseEncryption", "state"), true, "databaseEncryption"),
		one("AKS without KMS", goodWith(typeAKS, "aks", false, "securityProfile", "azureKeyVaultKms", "enabled"), true, "azureKeyVaultKms"),
	},
	"kms-key-rotation": {
		stackCase("compliant", production, compliantStack(), ""),
		one("AWS key not rotated", goodWith(typeAWSKey, "eks-secrets", false, "enableKeyRotation"), true, "enableKeyRotation"),
		one("AWS asymmetric key cannot rotate", goodWith(typeAWSKey, "eks-secrets", "RSA_2048", "customerMasterKeySpec"), false, ""),
		one("GCP key not rotated", goodWith(typeGCPCryptoKey, "gke-secrets", deleted, "rotationPeriod"), true, "rotationPeriod"),
		one("Azure key not rotated", goodWith(typeAzureVaultKey, "aks-kms", deleted, "properties"), true, "rotationPolicy"),
	},
	"cluster-control-plane-logging": {
		stackCase("compliant", production, compliantStack(), ""),
		one("EKS without audit logs", goodWith(typeEKS, "gpu", l{"api", "authenticator"}, "enabledClusterLogTypes"), true, "audit control-plane logs"),
		one("GKE logging off", goodWith(typeGKE, "gke", "none", "loggingService"), true, "loggingService"),
		one("GKE without API server logs", goodWith(typeGKE, "gke", l{"SYSTEM_COMPONENTS"}, "loggingConfig", "enableComponents"), true, "APISERVER"),
		one("GKE default logging", goodWith(typeGKE, "gke", deleted, "loggingConfig"), false, ""),
		one("AKS without Log Analytics", goodWith(typeAKS, "aks", m{"azurepolicy": m{"enabled": true}}, "addonProfiles"), true, "omsagent"),
	},
	"cluster-node-autoscaling": {
		stackCase("compliant", production, compliantStack(), ""),
		one("EKS bounds inverted", goodWith(typeEKSNodeGroup, "gpu", m{"minSize": 4.0, "maxSize": 2.0, "desiredSize": 2.0}, "scalingConfig"), true, "impossible autoscaling bounds 4..2"),
		one("EKS desired outside bounds", goodWith(typeEKSNodeGroup, "gpu", 9.0, "scalingConfig", "desiredSize"), true, "wants 9 nodes"),
		one("EKS no scaling config", goodWith(typeEKSNodeGroup, "gpu", deleted, "scalingConfig"), true, "no autoscaling bounds"),
		one("GKE pool without autoscaling", goodWith(typeGKENodePool, "gke-gpu", deleted, "autoscaling"), true, "autoscaling.minNodeCount"),
		one("GKE pool with total bounds", goodWith(typeGKENodePool, "gke-gpu", m{"totalMinNodeCount": 0.0, "totalMaxNodeCount": 6.0}, "autoscaling"), false, ""),
		one("GKE default pool kept", goodWith(typeGKE, "gke", false, "removeDefaultNodePool"), true, "removeDefaultNodePool"),
		one("GKE Autopilot", with(goodWith(typeGKE, "gke", deleted, "removeDefaultNodePool"), true, "enableAutopilot"), false, ""),
		one("AKS pool fixed", goodWith(typeAKS, "aks", false, "agentPoolProfiles", 0, "enableAutoScaling"), true, `agent pool "gpu" does not autoscale`),
		one("AKS AgentPool resource", res(typeAKSAgentPool, "gpu2", m{"enableAutoScaling": true, "minCount": 0.0, "maxCount": 2.0}), false, ""),
	},
}

var tagCases = map[string][]ruleCase{
	"cloud-required-tags": {
		stackCase("compliant", production, compliantStack(), ""),
		one("S3 bucket without owner", with(good(typeS3BucketV2, "models"), m{"environment": "production", "cost-center": "ml-42"}, "tags"), true, "lacks the owner tag"),
		one("GKE cluster without labels", goodWith(typeGKE, "gke", deleted, "resourceLabels"), true, "cost-center, environment, owner tags in resourceLabels"),
		one("GKE node pool labels live in nodeConfig", goodWith(typeGKENodePool, "gke-gpu", m{}, "nodeConfig"), true, "nodeConfig.resourceLabels"),
		one("AWS provider default tags", good(typeAWSKey, "eks-secrets"), false, ""),
		one("AWS provider default tags as an object", func() Resource {
			r := good(typeAWSKey, "eks-secrets")
			r.Provider = m{"defaultTags": m{"tags": tags()}}
			return r
		}(), false, ""),
		one("AWS provider default tags malformed", func() Resource {
			r := good(typeAWSKey, "eks-secrets")
			r.Provider = m{"defaultTags": "{tags"}
			return r
		}(), true, "not JSON"),
		one("untaggable resource", good(typeS3PublicBlock, "models-pab"), false, ""),
		one("versioned azure-native token", func() Resource {
			r := goodWith(typeAzureStorage, "models-az", deleted, "tags")
			r.Type = "azure-native:storage/v20230101:StorageAccount"
			return r
		}(), true, "lacks the cost-center, environment, owner tags"),
	},
}

var productionCases = map[string][]ruleCase{
	"production-backup-schedule": {
		stackCase("compliant", production, compliantStack(), ""),
		stackCase("no backup job", production, stackWithout("kubernetes:batch/v1:CronJob"), "no backup schedule", production.Name),
		stackCase("development needs none", development, stackWithout("kubernetes:batch/v1:CronJob"), ""),
		stackCase("AWS Backup plan instead", production, append(stackWithout("kubernetes:batch/v1:CronJob"), res("aws:backup/plan:Plan", "daily", m{"tags": tags()})), ""),
		stackCase("unrelated CronJob", production, stackWith(with(goodWith("kubernetes:batch/v1:CronJob", "backup", m{PartOfLabel: "x"}, "metadata", "labels"),
			"reindex", "metadata", "name")), "no backup schedule", production.Name),
	},
	"production-alert-rules": {
		stackCase("compliant", production, compliantStack(), ""),
		stackCase("no PrometheusRule", production, stackWithout("kubernetes:monitoring.coreos.com/v1:PrometheusRule"), "no alert rules", production.Name),
		stackCase("recording rules only", production, stackWith(goodWith("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "alerts",
			l{m{"name": "rec", "rules": l{m{"record": "job:rate5m", "expr": "rate(x[5m])"}}}}, "spec", "groups")), "no alert rules", production.Name),
		stackCase("CloudWatch alarm instead", production, append(stackWithout("kubernetes:monitoring.coreos.com/v1:PrometheusRule"),
			res("aws:cloudwatch/metricAlarm:MetricAlarm", "cpu", m{})), ""),
		stackCase("development needs none", development, stackWithout("kubernetes:monitoring.coreos.com/v1:PrometheusRule"), ""),
		stackCase("groups of the wrong shape", production, stackWith(goodWith("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "alerts", "HighCPU", "spec", "groups")),
			"", "alerts", production.Name),
	},
}

func TestStorageRules(t *testing.T)    { runCases(t, storageCases) }
func TestRedisRules(t *testing.T)      { runCases(t, redisCases) }
func TestClusterRules(t *testing.T)    { runCases(t, clusterCases) }
func TestTagRules(t *testing.T)        { runCases(t, tagCases) }
func TestProductionRules(t *testing.T) { runCases(t, productionCases) }
