package gcp

import (
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud/cloudtest"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/internal/mocktest"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

var labels = map[string]string{"environment": "production", "owner": "platform", "cost-center": "ml-serving"}

// newMocks answers with the outputs GKE, IAM, Memorystore and GCS compute.
func newMocks() *cloudtest.Mocks {
	return &cloudtest.Mocks{Outputs: map[string]func(pulumi.MockResourceArgs) resource.PropertyMap{
		"gcp:container/cluster:Cluster": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			auth := args.Inputs["masterAuth"].ObjectValue().Mappable()
			auth["clusterCaCertificate"] = "R0tFLUNB"
			return cloudtest.Obj(map[string]any{"endpoint": "34.87.1.2", "masterAuth": auth})
		},
		"gcp:serviceaccount/account:Account": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			return cloudtest.Obj(map[string]any{"email": args.Inputs["accountId"].StringValue() + "@mmllm-prod.iam.gserviceaccount.com"})
		},
		"gcp:redis/instance:Instance": func(pulumi.MockResourceArgs) resource.PropertyMap {
			return cloudtest.Obj(map[string]any{"host": "10.0.0.3", "port": 6378, "authString": "generated-auth", "reservedIpRange": "10.0.0.0/29",
				"serverCaCerts": []any{map[string]any{"cert": "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----"},
					map[string]any{"cert": "-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n"}}})
		},
		"gcp:storage/bucket:Bucket": func(args pulumi.MockResourceArgs) resource.PropertyMap {
			return cloudtest.Obj(map[string]any{"name": args.Name + "-1234567", "url": "gs://" + args.Name + "-1234567"})
		},
	}}
}

func clusterArgs() *ClusterArgs {
	return &ClusterArgs{
		Project: "mmllm-prod", ProjectNumber: "123456789012", Region: "asia-southeast1",
		MasterAuthorizedCIDRs: []string{"203.0.113.0/24"},
		GPUNodes:              NodePool{MinNodes: 0, MaxNodes: 6, Zones: []string{"asia-southeast1-b", "asia-southeast1-c"}},
		Labels:                labels,
	}
}

func TestClusterGKE(t *testing.T) {
	m := newMocks()
	comp := cloudtest.MustConstruct(t, m, NewCluster, "prod-asia", clusterArgs())
	gke := cloudtest.One(t, m.Mocks, "gcp:container/cluster:Cluster", "prod-asia").Plain()
	require.Equal(t, "asia-southeast1", gke["location"])
	require.Equal(t, true, gke["removeDefaultNodePool"])
	require.Equal(t, true, gke["enableShieldedNodes"])
	require.Equal(t, true, gke["deletionProtection"])
	require.Equal(t, "mmllm-prod.svc.id.goog", mocktest.At(gke, "workloadIdentityConfig", "workloadPool"))
	require.Equal(t, map[string]any{"enablePrivateNodes": true, "enablePrivateEndpoint": false, "masterIpv4CidrBlock": "172.16.0.0/28"}, gke["privateClusterConfig"])
	require.Equal(t, map[string]any{
		"cidrBlocks":                  []any{map[string]any{"cidrBlock": "203.0.113.0/24", "displayName": "203.0.113.0/24"}},
		"gcpPublicCidrsAccessEnabled": false,
	}, gke["masterAuthorizedNetworksConfig"])
	require.Equal(t, map[string]any{"state": "ENCRYPTED", "keyName": "prod-asia-secrets-id"}, gke["databaseEncryption"])
	require.Equal(t, []any{"SYSTEM_COMPONENTS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER", "WORKLOADS"}, mocktest.At(gke, "loggingConfig", "enableComponents"))
	require.Equal(t, "ADVANCED_DATAPATH", gke["datapathProvider"], "Dataplane V2 enforces NetworkPolicy")
	require.Equal(t, false, mocktest.At(gke, "masterAuth", "clientCertificateConfig", "issueClientCertificate"))

	key := cloudtest.One(t, m.Mocks, "gcp:kms/cryptoKey:CryptoKey", "prod-asia-secrets").Plain()
	require.Equal(t, "7776000s", key["rotationPeriod"])
	grant := cloudtest.One(t, m.Mocks, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "prod-asia-secrets-gke").Plain()
	require.Equal(t, "serviceAccount:service-123456789012@container-engine-robot.iam.gserviceaccount.com", grant["member"])
	require.Equal(t, "prod-asia-secrets-id", grant["cryptoKeyId"])

	sub := cloudtest.One(t, m.Mocks, "gcp:compute/subnetwork:Subnetwork", "prod-asia").Plain()
	require.Equal(t, true, sub["privateIpGoogleAccess"])
	require.Equal(t, "10.16.0.0/14", mocktest.At(sub, "secondaryIpRanges", 0, "ipCidrRange"))
	require.Len(t, m.OfType("gcp:compute/routerNat:RouterNat"), 1, "private nodes egress through Cloud NAT")

	gpu := cloudtest.One(t, m.Mocks, "gcp:container/nodePool:NodePool", "prod-asia-gpu").Plain()
	require.Equal(t, map[string]any{"totalMinNodeCount": 0.0, "totalMaxNodeCount": 6.0, "locationPolicy": "ANY"}, gpu["autoscaling"])
	require.Equal(t, map[string]any{"autoRepair": true, "autoUpgrade": true}, gpu["management"])
	require.Equal(t, []any{"asia-southeast1-b", "asia-southeast1-c"}, gpu["nodeLocations"])
	nc := gpu["nodeConfig"].(map[string]any)
	require.Equal(t, "g2-standard-8", nc["machineType"])
	require.Equal(t, []any{map[string]any{"type": "nvidia-l4", "count": 1.0, "gpuDriverInstallationConfig": map[string]any{"gpuDriverVersion": "LATEST"}}}, nc["guestAccelerators"])
	require.Equal(t, []any{map[string]any{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}}, nc["taints"])
	require.Equal(t, "GKE_METADATA", mocktest.At(nc, "workloadMetadataConfig", "mode"))
	require.Equal(t, map[string]any{"enableSecureBoot": true, "enableIntegrityMonitoring": true}, nc["shieldedInstanceConfig"])
	require.Equal(t, "prod-asia-nodes@mmllm-prod.iam.gserviceaccount.com", nc["serviceAccount"])
	require.Equal(t, "ml-serving", mocktest.At(nc, "resourceLabels", "cost-center"))
	system := cloudtest.One(t, m.Mocks, "gcp:container/nodePool:NodePool", "prod-asia-system").Plain()
	require.Nil(t, mocktest.At(system, "nodeConfig", "taints"))
	require.Nil(t, system["nodeLocations"])
	require.Len(t, m.OfType("gcp:projects/iAMMember:IAMMember"), len(nodeRoles))

	prov := cloudtest.One(t, m.Mocks, "pulumi:providers:kubernetes", "prod-asia-k8s")
	require.True(t, prov.Inputs["kubeconfig"].ContainsSecrets())
	require.Equal(t, cloudtest.One(t, m.Mocks, ClusterType, "prod-asia").URN, prov.Parent)
	var kc struct {
		Clusters []struct{ Cluster map[string]string }
		Users    []struct {
			User struct {
				Exec struct {
					Command            string
					ProvideClusterInfo bool `yaml:"provideClusterInfo"`
				}
			}
		}
	}
	require.NoError(t, yaml.Unmarshal([]byte(prov.Plain()["kubeconfig"].(string)), &kc))
	require.Equal(t, "https://34.87.1.2", kc.Clusters[0].Cluster["server"])
	require.Equal(t, "R0tFLUNB", kc.Clusters[0].Cluster["certificate-authority-data"])
	require.Equal(t, "gke-gcloud-auth-plugin", kc.Users[0].User.Exec.Command)
	require.True(t, kc.Users[0].User.Exec.ProvideClusterInfo)
	require.Same(t, comp.Provider, comp.KubernetesProvider())

	cloudtest.RequireParented(t, m.Mocks, "prod-asia")
	m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule")
}

func TestClusterRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *ClusterArgs)
		want   string
	}{
		{"project", func(a *ClusterArgs) { a.Project = "" }, "Project:"},
		{"project number", func(a *ClusterArgs) { a.ProjectNumber = "mmllm" }, "ProjectNumber:"},
		{"region", func(a *ClusterArgs) { a.Region = "asia" }, "Region:"},
		{"foreign zone", func(a *ClusterArgs) { a.GPUNodes.Zones = []string{"us-central1-a"} }, `GPUNodes.Zones: "us-central1-a" is not a distinct zone of asia-southeast1`},
		{"min above max", func(a *ClusterArgs) { a.GPUNodes.MinNodes, a.GPUNodes.MaxNodes = 4, 2 }, "GPUNodes.MinNodes: is 4, above GPUNodes.MaxNodes (2)"},
		{"open api", func(a *ClusterArgs) { a.MasterAuthorizedCIDRs = []string{"0.0.0.0/0"} }, "MasterAuthorizedCIDRs:"},
		{"overlap", func(a *ClusterArgs) { a.Network.ServicesCIDR = "10.17.0.0/20" }, "overlaps Network.PodsCIDR"},
		{"master /24", func(a *ClusterArgs) { a.Network.MasterCIDR = "172.16.0.0/24" }, "Network.MasterCIDR: \"172.16.0.0/24\" must be a /28"},
		{"gpu type", func(a *ClusterArgs) { a.GPU.Type = "l4" }, "GPU.Type:"},
		{"gpu count", func(a *ClusterArgs) { a.GPU.Count = 3 }, "GPU.Count: is 3"},
		{"label syntax", func(a *ClusterArgs) {
			a.Labels = map[string]string{"environment": "Prod", "owner": "x", "cost-center": "y"}
		}, `Labels: "environment"="Prod" is not a GCP label`},
		{"channel", func(a *ClusterArgs) { a.ReleaseChannel = "stable" }, "ReleaseChannel:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := clusterArgs()
			tt.mutate(args)
			mocktest.RequireRejected(t, mocktest.Construct(NewCluster, "prod-asia", args), "gcp.NewCluster: invalid args", tt.want)
		})
	}
}

func redisArgs() *RedisArgs {
	return &RedisArgs{Project: "mmllm-prod", Region: "asia-southeast1", AuthorizedNetwork: pulumi.String("projects/mmllm-prod/global/networks/prod"), Labels: labels}
}

func TestRedisMemorystore(t *testing.T) {
	m := newMocks()
	comp := cloudtest.MustConstruct(t, m, NewRedis, "cache", redisArgs())
	inst := cloudtest.One(t, m.Mocks, "gcp:redis/instance:Instance", "cache").Plain()
	for k, v := range map[string]any{
		"tier": "STANDARD_HA", "authEnabled": true, "transitEncryptionMode": "SERVER_AUTHENTICATION", "connectMode": "DIRECT_PEERING",
		"authorizedNetwork": "projects/mmllm-prod/global/networks/prod", "memorySizeGb": 5.0, "redisVersion": "REDIS_7_2",
		"persistenceConfig": map[string]any{"persistenceMode": "RDB", "rdbSnapshotPeriod": "TWELVE_HOURS"},
	} {
		require.Equal(t, v, inst[k], k)
	}
	require.Nil(t, inst["replicaCount"])
	require.Equal(t, "generated-auth", cloudtest.Await[string](t, comp.AuthString))
	require.Equal(t, "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n",
		cloudtest.Await[string](t, comp.CACert), "both CAs during a rotation")
	require.Equal(t, "10.0.0.0/29", cloudtest.Await[string](t, comp.ReservedIPRange))
	m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule")

	args := redisArgs()
	args.ReadReplicas, args.SnapshotPeriod = 2, "ONE_HOUR"
	m = newMocks()
	m.MustRun(t, mocktest.Construct(NewRedis, "cache", args))
	inst = cloudtest.One(t, m.Mocks, "gcp:redis/instance:Instance", "cache").Plain()
	require.Equal(t, "READ_REPLICAS_ENABLED", inst["readReplicasMode"])
	require.Equal(t, 2.0, inst["replicaCount"])
	require.Equal(t, "ONE_HOUR", mocktest.At(inst, "persistenceConfig", "rdbSnapshotPeriod"))

	for _, tt := range []struct {
		mutate func(a *RedisArgs)
		want   string
	}{
		{func(a *RedisArgs) { a.AuthorizedNetwork = nil }, "AuthorizedNetwork: is required"},
		{func(a *RedisArgs) { a.SnapshotPeriod = "DAILY" }, "SnapshotPeriod:"},
		{func(a *RedisArgs) { a.ReadReplicas = 6 }, "ReadReplicas: is 6"},
		{func(a *RedisArgs) { a.Labels = nil }, "Labels: lacks environment, owner, cost-center"},
	} {
		args := redisArgs()
		tt.mutate(args)
		mocktest.RequireRejected(t, mocktest.Construct(NewRedis, "cache", args), "gcp.NewRedis: invalid args", tt.want)
	}
}

func TestModelStoreDualRegion(t *testing.T) {
	args := &ModelStoreArgs{Project: "mmllm-prod", Region: "asia-southeast1", BackupRegion: "asia-east1", TurboReplication: true, Labels: labels}
	m := newMocks()
	m.MustRun(t, mocktest.Construct(NewModelStore, "models", args))
	b := cloudtest.One(t, m.Mocks, "gcp:storage/bucket:Bucket", "models").Plain()
	require.Equal(t, "ASIA", b["location"])
	require.Equal(t, []any{"ASIA-SOUTHEAST1", "ASIA-EAST1"}, mocktest.At(b, "customPlacementConfig", "dataLocations"))
	require.Equal(t, "ASYNC_TURBO", b["rpo"])
	require.Equal(t, true, mocktest.At(b, "versioning", "enabled"))
	require.Equal(t, true, b["uniformBucketLevelAccess"])
	require.Equal(t, "enforced", b["publicAccessPrevention"])
	require.Equal(t, 90.0, mocktest.At(b, "lifecycleRules", 0, "condition", "daysSinceNoncurrentTime"))
	require.Equal(t, "Delete", mocktest.At(b, "lifecycleRules", 0, "action", "type"))
	m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule")

	for _, tt := range []struct {
		mutate func(a *ModelStoreArgs)
		want   string
	}{
		{func(a *ModelStoreArgs) { a.BackupRegion = "europe-west1" }, "do not form a GCS dual-region"},
		{func(a *ModelStoreArgs) { a.BackupRegion = "asia-southeast1" }, "BackupRegion: is asia-southeast1, the primary region"},
		{func(a *ModelStoreArgs) { a.BucketName = "Models" }, "BucketName:"},
		{func(a *ModelStoreArgs) { a.NoncurrentVersionDays = -1 }, "NoncurrentVersionDays: is -1"},
	} {
		a := *args
		tt.mutate(&a)
		mocktest.RequireRejected(t, mocktest.Construct(NewModelStore, "models", &a), "gcp.NewModelStore: invalid args", tt.want)
	}
}
