package azure

import (
	"encoding/base64"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud/cloudtest"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/internal/mocktest"
	"github.com/mobile-mm-llm/mobile-mm-llm/policies"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

var tags = map[string]string{"environment": "production", "owner": "platform", "cost-center": "ml-serving"}

const (
	subscription = "00000000-0000-0000-0000-000000000001"
	tenant       = "00000000-0000-0000-0000-000000000002"
)

// aksKubeconfig is what listManagedClusterUserCredentials returns (format
// exec), base64-decoded.
const aksKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: prod-westeurope
  cluster:
    server: https://prod-westeurope-abc.hcp.westeurope.azmk8s.io:443
    certificate-authority-data: QUtTLUNB
users:
- name: clusterUser_rg_prod-westeurope
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --login, devicecode, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630, --environment, AzurePublicCloud]
contexts:
- name: prod-westeurope
  context: {cluster: prod-westeurope, user: clusterUser_rg_prod-westeurope}
current-context: prod-westeurope
`

// newMocks answers AKS's credentials and Redis's keys, and the outputs
// Azure computes.
func newMocks() *cloudtest.Mocks {
	named := func(prop string) func(pulumi.MockResourceArgs) resource.PropertyMap {
		return func(args pulumi.MockResourceArgs) resource.PropertyMap {
			name := args.Name + "-1234"
			if v, ok := args.Inputs[resource.PropertyKey(prop)]; ok {
				name = v.StringValue()
			}
			return cloudtest.Obj(map[string]any{"name": name})
		}
	}
	return &cloudtest.Mocks{
		Outputs: map[string]func(pulumi.MockResourceArgs) resource.PropertyMap{
			"azure-native:managedidentity:UserAssignedIdentity": func(args pulumi.MockResourceArgs) resource.PropertyMap {
				return cloudtest.Obj(map[string]any{"principalId": "principal-" + args.Name})
			},
			"azure-native:keyvault:Vault": named("vaultName"),
			"azure-native:keyvault:Key": func(args pulumi.MockResourceArgs) resource.PropertyMap {
				return cloudtest.Obj(map[string]any{"keyUriWithVersion": "https://vault.vault.azure.net/keys/" + args.Name + "/v1"})
			},
			"azure-native:containerservice:ManagedCluster": func(args pulumi.MockResourceArgs) resource.PropertyMap {
				return cloudtest.Obj(map[string]any{"name": args.Inputs["resourceName"].StringValue(),
					"oidcIssuerProfile": map[string]any{"enabled": true, "issuerURL": "https://westeurope.oic.prod-aks.azure.com/t/c/"}})
			},
			"azure-native:network:PrivateZone":     named("privateZoneName"),
			"azure-native:network:PrivateEndpoint": named("privateEndpointName"),
			"azure-native:storage:StorageAccount":  named("accountName"),
			"azure-native:cache:Redis": func(args pulumi.MockResourceArgs) resource.PropertyMap {
				return cloudtest.Obj(map[string]any{"name": args.Name + "-1234", "hostName": args.Name + "-1234.redis.cache.windows.net", "sslPort": 6380})
			},
		},
		Invokes: map[string]func(resource.PropertyMap) (resource.PropertyMap, error){
			"azure-native:containerservice:listManagedClusterUserCredentials": func(args resource.PropertyMap) (resource.PropertyMap, error) {
				if args["format"].StringValue() != "exec" || args["resourceName"].StringValue() != "prod-westeurope" {
					return nil, nil
				}
				return cloudtest.Obj(map[string]any{"kubeconfigs": []any{map[string]any{
					"name": "clusterUser", "value": base64.StdEncoding.EncodeToString([]byte(aksKubeconfig)),
				}}}), nil
			},
			"azure-native:cache:listRedisKeys": func(args resource.PropertyMap) (resource.PropertyMap, error) {
				return cloudtest.Obj(map[string]any{"primaryKey": "key-of-" + args["name"].StringValue(), "secondaryKey": "second"}), nil
			},
		},
	}
}

func clusterArgs() *ClusterArgs {
	return &ClusterArgs{
		SubscriptionID: subscription, TenantID: tenant, ResourceGroupName: pulumi.String("rg-prod-westeurope"),
		Location: "westeurope", AuthorizedIPRanges: []string{"203.0.113.0/24"}, Zones: []string{"1", "2", "3"},
		AdminGroupObjectIDs: []string{"00000000-0000-0000-0000-0000000000aa"},
		GPUNodes:            NodePool{MinCount: 0, MaxCount: 5},
		Tags:                tags,
	}
}

func TestClusterAKS(t *testing.T) {
	m := newMocks()
	comp := cloudtest.MustConstruct(t, m, NewCluster, "prod-westeurope", clusterArgs())
	require.Equal(t, "10.30.16.0/24", comp.EndpointsCIDR, "the default private endpoints' subnet, where Azure Cache is reached")
	aks := cloudtest.One(t, m.Mocks, "azure-native:containerservice:ManagedCluster", "prod-westeurope").Plain()
	require.Equal(t, "UserAssigned", mocktest.At(aks, "identity", "type"))
	require.Equal(t, []any{"prod-westeurope-control-plane-id"}, mocktest.At(aks, "identity", "userAssignedIdentities"))
	require.Equal(t, map[string]any{"enablePrivateCluster": false, "authorizedIPRanges": []any{"203.0.113.0/24"}}, aks["apiServerAccessProfile"])
	require.Equal(t, map[string]any{"enabled": true, "keyId": "https://vault.vault.azure.net/keys/prod-westeurope-secrets/v1", "keyVaultNetworkAccess": "Public"},
		mocktest.At(aks, "securityProfile", "azureKeyVaultKms"))
	require.Equal(t, true, mocktest.At(aks, "securityProfile", "workloadIdentity", "enabled"))
	require.Equal(t, true, aks["disableLocalAccounts"])
	require.Equal(t, true, mocktest.At(aks, "aadProfile", "enableAzureRBAC"))
	require.Equal(t, "calico", mocktest.At(aks, "networkProfile", "networkPolicy"))
	require.Equal(t, "overlay", mocktest.At(aks, "networkProfile", "networkPluginMode"))
	require.Equal(t, "10.0.0.10", mocktest.At(aks, "networkProfile", "dnsServiceIP"))
	require.Equal(t, true, mocktest.At(aks, "addonProfiles", "omsagent", "enabled"))
	require.Equal(t, "prod-westeurope-logs-id", mocktest.At(aks, "addonProfiles", "omsagent", "config", "logAnalyticsWorkspaceResourceID"))
	system := mocktest.At(aks, "agentPoolProfiles", 0).(map[string]any)
	require.Equal(t, "System", system["mode"])
	require.Equal(t, []any{2.0, 4.0, true}, []any{system["minCount"], system["maxCount"], system["enableAutoScaling"]})
	require.Equal(t, "prod-westeurope-vnet-id/subnets/nodes", system["vnetSubnetID"], "the nodes use the nodes subnet")

	gpu := cloudtest.One(t, m.Mocks, "azure-native:containerservice:AgentPool", "prod-westeurope-gpu").Plain()
	for k, v := range map[string]any{
		"resourceName": "prod-westeurope", "mode": "User", "vmSize": "Standard_NC4as_T4_v3", "enableAutoScaling": true,
		"minCount": 0.0, "maxCount": 5.0, "count": 0.0, "nodeTaints": []any{"nvidia.com/gpu=present:NoSchedule"},
		"availabilityZones": []any{"1", "2", "3"},
	} {
		require.Equal(t, v, gpu[k], k)
	}
	require.Equal(t, "true", mocktest.At(gpu, "nodeLabels", GPULabel))

	key := cloudtest.One(t, m.Mocks, "azure-native:keyvault:Key", "prod-westeurope-secrets").Plain()
	require.Equal(t, "rotate", mocktest.At(key, "properties", "rotationPolicy", "lifetimeActions", 0, "action", "type"))
	vault := cloudtest.One(t, m.Mocks, "azure-native:keyvault:Vault", "prod-westeurope-kv").Plain()
	require.Regexp(t, `^kvprodwesteurope-[0-9a-f]{7}$`, vault["vaultName"])
	require.Equal(t, true, mocktest.At(vault, "properties", "enablePurgeProtection"))
	require.Equal(t, true, mocktest.At(vault, "properties", "enableRbacAuthorization"))
	kms := cloudtest.One(t, m.Mocks, "azure-native:authorization:RoleAssignment", "prod-westeurope-kms").Plain()
	require.Equal(t, "principal-prod-westeurope-control-plane", kms["principalId"])
	require.Equal(t, "/subscriptions/"+subscription+"/providers/Microsoft.Authorization/roleDefinitions/"+roleKeyVaultCryptoUser, kms["roleDefinitionId"])
	require.Equal(t, "prod-westeurope-kv-id", kms["scope"], "on the vault")
	net := cloudtest.One(t, m.Mocks, "azure-native:authorization:RoleAssignment", "prod-westeurope-network").Plain()
	require.Equal(t, "prod-westeurope-vnet-id/subnets/nodes", net["scope"])
	ws := cloudtest.One(t, m.Mocks, "azure-native:operationalinsights:Workspace", "prod-westeurope-logs").Plain()
	require.Equal(t, 30.0, ws["retentionInDays"])
	require.Equal(t, "PerGB2018", mocktest.At(ws, "sku", "name"))

	prov := cloudtest.One(t, m.Mocks, "pulumi:providers:kubernetes", "prod-westeurope-k8s")
	require.True(t, prov.Inputs["kubeconfig"].ContainsSecrets())
	require.Equal(t, cloudtest.One(t, m.Mocks, ClusterType, "prod-westeurope").URN, prov.Parent)
	var kc struct {
		Clusters []struct{ Cluster map[string]string }
		Users    []struct {
			User struct{ Exec struct{ Args []string } }
		}
	}
	require.NoError(t, yaml.Unmarshal([]byte(prov.Plain()["kubeconfig"].(string)), &kc))
	require.Equal(t, "https://prod-westeurope-abc.hcp.westeurope.azmk8s.io:443", kc.Clusters[0].Cluster["server"])
	require.Equal(t, []string{"get-token", "--login", "azurecli", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630", "--environment", "AzurePublicCloud"},
		kc.Users[0].User.Exec.Args, "devicecode replaced by the configured login mode")
	require.Equal(t, "https://westeurope.oic.prod-aks.azure.com/t/c/", cloudtest.Await[string](t, comp.OIDCIssuerURL))

	cloudtest.RequireParented(t, m.Mocks, "prod-westeurope")
	m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule")
}

func TestSetKubeloginMode(t *testing.T) {
	out, err := setKubeloginMode("users:\n- user:\n    exec:\n      command: kubelogin\n      args: [get-token]\n", "workloadidentity")
	require.NoError(t, err)
	require.Contains(t, out, "- --login\n")
	require.Contains(t, out, "- workloadidentity\n")
	_, err = setKubeloginMode("users: [", "azurecli")
	require.ErrorContains(t, err, "AKS user kubeconfig")
}

func TestClusterRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *ClusterArgs)
		want   string
	}{
		{"subscription", func(a *ClusterArgs) { a.SubscriptionID = "sub" }, "SubscriptionID:"},
		{"rg", func(a *ClusterArgs) { a.ResourceGroupName = nil }, "ResourceGroupName: is required"},
		{"location", func(a *ClusterArgs) { a.Location = "West Europe" }, "Location:"},
		{"open api", func(a *ClusterArgs) { a.AuthorizedIPRanges = nil }, "AuthorizedIPRanges: is required"},
		{"policy", func(a *ClusterArgs) { a.NetworkPolicy = "none" }, "NetworkPolicy:"},
		{"min above max", func(a *ClusterArgs) { a.GPUNodes = NodePool{MinCount: 6, MaxCount: 2} }, "GPUNodes.MinCount: is 6, above GPUNodes.MaxCount (2)"},
		{"empty system pool", func(a *ClusterArgs) { a.SystemNodes = NodePool{MinCount: 0, MaxCount: 3} }, "SystemNodes.MinCount: is 0; it must be at least 1"},
		{"subnet outside", func(a *ClusterArgs) { a.Network.NodesCIDR = "10.40.0.0/20" }, "Network.NodesCIDR: 10.40.0.0/20 is not inside"},
		{"pods in vnet", func(a *ClusterArgs) { a.Network.PodCIDR = "10.30.128.0/17" }, "Network.PodCIDR: 10.30.128.0/17 overlaps Network.VNetCIDR"},
		{"zone", func(a *ClusterArgs) { a.Zones = []string{"1", "1"} }, "Zones:"},
		{"login", func(a *ClusterArgs) { a.KubeloginMode = "devicecode" }, "KubeloginMode:"},
		{"retention", func(a *ClusterArgs) { a.LogRetentionDays = 7 }, "LogRetentionDays: is 7"},
		{"tags", func(a *ClusterArgs) { a.Tags = nil }, "Tags: lacks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := clusterArgs()
			tt.mutate(args)
			mocktest.RequireRejected(t, mocktest.Construct(NewCluster, "prod-westeurope", args), "azure.NewCluster: invalid args", tt.want)
		})
	}
}

func redisArgs() *RedisArgs {
	return &RedisArgs{
		ResourceGroupName: pulumi.String("rg"), Location: "westeurope",
		VNetID: pulumi.String("vnet-id"), SubnetID: pulumi.String("vnet-id/subnets/private-endpoints"),
		Zones:                           []string{"1", "2"},
		SnapshotStorageConnectionString: pulumi.ToSecret(pulumi.String("DefaultEndpointsProtocol=https;AccountName=snap")).(pulumi.StringOutput),
		Tags:                            tags,
	}
}

func TestRedisAzureCache(t *testing.T) {
	m := newMocks()
	comp := cloudtest.MustConstruct(t, m, NewRedis, "cache", redisArgs())
	rec := cloudtest.One(t, m.Mocks, "azure-native:cache:Redis", "cache")
	require.True(t, rec.Inputs["redisConfiguration"].ContainsSecrets(), "the storage connection string stays secret")
	r := rec.Plain()
	for k, v := range map[string]any{
		"enableNonSslPort": false, "minimumTlsVersion": "1.2", "publicNetworkAccess": "Disabled",
		"sku": map[string]any{"name": "Premium", "family": "P", "capacity": 1.0}, "replicasPerPrimary": 1.0, "zones": []any{"1", "2"},
	} {
		require.Equal(t, v, r[k], k)
	}
	require.Equal(t, map[string]any{"maxmemory-policy": "allkeys-lru", "rdbBackupEnabled": "true", "rdbBackupFrequency": "60",
		"rdbBackupMaxSnapshotCount": "1", "rdbStorageConnectionString": "DefaultEndpointsProtocol=https;AccountName=snap"}, r["redisConfiguration"])
	pe := cloudtest.One(t, m.Mocks, "azure-native:network:PrivateEndpoint", "cache").Plain()
	require.Equal(t, "vnet-id/subnets/private-endpoints", mocktest.At(pe, "subnet", "id"))
	require.Equal(t, "cache-id", mocktest.At(pe, "privateLinkServiceConnections", 0, "privateLinkServiceId"))
	require.Equal(t, []any{"redisCache"}, mocktest.At(pe, "privateLinkServiceConnections", 0, "groupIds"))
	zone := cloudtest.One(t, m.Mocks, "azure-native:network:PrivateZone", "cache").Plain()
	require.Equal(t, "privatelink.redis.cache.windows.net", zone["privateZoneName"])
	link := cloudtest.One(t, m.Mocks, "azure-native:network:VirtualNetworkLink", "cache").Plain()
	require.Equal(t, "vnet-id", mocktest.At(link, "virtualNetwork", "id"))
	group := cloudtest.One(t, m.Mocks, "azure-native:network:PrivateDnsZoneGroup", "cache").Plain()
	require.Equal(t, "cache-id", mocktest.At(group, "privateDnsZoneConfigs", 0, "privateDnsZoneId"))
	require.Equal(t, "key-of-cache-1234", cloudtest.Await[string](t, comp.PrimaryKey))
	require.Equal(t, "cache-1234.redis.cache.windows.net", cloudtest.Await[string](t, comp.HostName))
	m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule")
}

func TestRedisWithoutSnapshotsFailsProduction(t *testing.T) {
	args := redisArgs()
	args.SnapshotStorageConnectionString = nil
	m := newMocks()
	m.MustRun(t, mocktest.Construct(NewRedis, "cache", args))
	require.Nil(t, mocktest.At(cloudtest.One(t, m.Mocks, "azure-native:cache:Redis", "cache").Plain(), "redisConfiguration", "rdbBackupEnabled"))
	set, err := policies.DefaultSet()
	require.NoError(t, err)
	var ids []string
	for _, v := range set.Check(m.PolicyResources(), policies.NewStackInfo("prod", "")) {
		ids = append(ids, v.RuleID)
	}
	require.Contains(t, ids, "redis-snapshots-in-production")
	require.Empty(t, set.Check(m.PolicyResources(), policies.NewStackInfo("dev", "")), "fine outside production")

	for _, tt := range []struct {
		mutate func(a *RedisArgs)
		want   string
	}{
		{func(a *RedisArgs) { a.SubnetID = nil }, "SubnetID: is required"},
		{func(a *RedisArgs) { a.SnapshotMinutes = 45 }, "SnapshotMinutes: is 45"},
		{func(a *RedisArgs) { a.Capacity = 9 }, "Capacity: is 9"},
	} {
		a := redisArgs()
		tt.mutate(a)
		mocktest.RequireRejected(t, mocktest.Construct(NewRedis, "cache", a), "azure.NewRedis: invalid args", tt.want)
	}
}

func TestModelStoreGeoRedundant(t *testing.T) {
	args := &ModelStoreArgs{ResourceGroupName: pulumi.String("rg"), Location: "westeurope", AccountName: "mmllmmodelsweu",
		SubnetIDs: []pulumi.StringInput{pulumi.String("vnet-id/subnets/nodes")}, Tags: tags}
	m := newMocks()
	comp := cloudtest.MustConstruct(t, m, NewModelStore, "models", args)
	acct := cloudtest.One(t, m.Mocks, "azure-native:storage:StorageAccount", "models").Plain()
	for k, v := range map[string]any{
		"accountName": "mmllmmodelsweu", "sku": map[string]any{"name": "Standard_RAGZRS"}, "minimumTlsVersion": "TLS1_2",
		"enableHttpsTrafficOnly": true, "allowBlobPublicAccess": false, "allowSharedKeyAccess": false,
	} {
		require.Equal(t, v, acct[k], k)
	}
	require.Equal(t, "Deny", mocktest.At(acct, "networkRuleSet", "defaultAction"))
	require.Equal(t, "vnet-id/subnets/nodes", mocktest.At(acct, "networkRuleSet", "virtualNetworkRules", 0, "virtualNetworkResourceId"))
	blob := cloudtest.One(t, m.Mocks, "azure-native:storage:BlobServiceProperties", "models").Plain()
	require.Equal(t, true, blob["isVersioningEnabled"])
	require.Equal(t, "mmllmmodelsweu", blob["accountName"])
	require.Equal(t, 30.0, mocktest.At(blob, "deleteRetentionPolicy", "days"))
	c := cloudtest.One(t, m.Mocks, "azure-native:storage:BlobContainer", "models-models").Plain()
	require.Equal(t, "None", c["publicAccess"])
	life := cloudtest.One(t, m.Mocks, "azure-native:storage:ManagementPolicy", "models").Plain()
	require.Equal(t, 90.0, mocktest.At(life, "policy", "rules", 0, "definition", "actions", "version", "delete", "daysAfterCreationGreaterThan"))
	require.Equal(t, "https://mmllmmodelsweu.blob.core.windows.net/models", cloudtest.Await[string](t, comp.ContainerURL))
	m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule")

	for _, tt := range []struct {
		mutate func(a *ModelStoreArgs)
		want   string
	}{
		{func(a *ModelStoreArgs) { a.SKU = "Standard_ZRS" }, "SKU: is \"Standard_ZRS\""},
		{func(a *ModelStoreArgs) { a.AccountName = "mmllm-models" }, "AccountName:"},
		{func(a *ModelStoreArgs) { a.DeleteRetentionDays = 400 }, "DeleteRetentionDays: is 400"},
	} {
		a := *args
		tt.mutate(&a)
		mocktest.RequireRejected(t, mocktest.Construct(NewModelStore, "models", &a), "azure.NewModelStore: invalid args", tt.want)
	}
}

func TestVaultName(t *testing.T) {
	for _, cluster := range []string{"prod-westeurope", "a", "9-Very_Long-Cluster-Name-For-The-North-Europe-Region"} {
		n := vaultName(cluster, subscription)
		require.Regexp(t, `^kv[a-z0-9]*-[0-9a-f]{7}$`, n, cluster)
		require.LessOrEqual(t, len(n), 24, cluster)
		require.GreaterOrEqual(t, len(n), 3, cluster)
	}
	require.NotEqual(t, vaultName("prod", subscription), vaultName("prod", tenant), "unique per subscription")
}
