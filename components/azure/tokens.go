package azure

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The azure-native Go SDK is served here only at v2.0.0, whose storage,
// operationalinsights and cache modules are not served (see
// /work/shared/DEPENDENCIES.md and components/README.md). Those resources
// are real azure-native resources, registered by their type tokens with
// the inputs below; the azure-native provider plugin (the same default
// provider the typed v2.0.0 resources use) creates them. The property names
// are the provider's flattened inputs of the API versions v2.0.0 defaults to.
const (
	tokenWorkspace          = "azure-native:operationalinsights:Workspace"
	tokenStorageAccount     = "azure-native:storage:StorageAccount"
	tokenBlobService        = "azure-native:storage:BlobServiceProperties"
	tokenBlobContainer      = "azure-native:storage:BlobContainer"
	tokenManagementPolicy   = "azure-native:storage:ManagementPolicy"
	tokenRedis              = "azure-native:cache:Redis"
	tokenListRedisKeys      = "azure-native:cache:listRedisKeys"
	privateRedisDNSZoneName = "privatelink.redis.cache.windows.net"
)

// byToken is a resource registered by type token; Name and ID are its
// outputs.
type byToken struct {
	pulumi.CustomResourceState

	// Name is the resource's Azure name.
	Name pulumi.StringOutput `pulumi:"name"`
}

// register registers a resource of type token with inputs.
func register(ctx *pulumi.Context, token, name string, inputs pulumi.Map, opts ...pulumi.ResourceOption) (*byToken, error) {
	var r byToken
	if err := ctx.RegisterResource(token, name, inputs, &r, opts...); err != nil {
		return nil, fmt.Errorf("%s %q: %w", token, name, err)
	}
	return &r, nil
}

// workspaceArgs are a Log Analytics workspace's inputs (API 2022-10-01).
type workspaceArgs struct {
	ResourceGroupName pulumi.StringInput
	Location          string
	RetentionInDays   int
	Tags              pulumi.StringMap
}

func (a workspaceArgs) inputs() pulumi.Map {
	return pulumi.Map{
		"resourceGroupName": a.ResourceGroupName,
		"location":          pulumi.String(a.Location),
		"sku":               pulumi.Map{"name": pulumi.String("PerGB2018")},
		"retentionInDays":   pulumi.Int(a.RetentionInDays),
		"features":          pulumi.Map{"enableLogAccessUsingOnlyResourcePermissions": pulumi.Bool(true)},
		"tags":              a.Tags,
	}
}

// redisCacheArgs are an Azure Cache for Redis's inputs (API 2023-04-01).
type redisCacheArgs struct {
	ResourceGroupName pulumi.StringInput
	Location          string
	// SKU is Basic, Standard or Premium; Family C or P; Capacity 0 to 6.
	SKU      string
	Family   string
	Capacity int
	// Replicas per primary (Premium).
	Replicas int
	Zones    []string
	// Configuration is redisConfiguration (string values, as Azure wants).
	Configuration pulumi.StringMap
	Tags          pulumi.StringMap
}

func (a redisCacheArgs) inputs() pulumi.Map {
	in := pulumi.Map{
		"resourceGroupName":   a.ResourceGroupName,
		"location":            pulumi.String(a.Location),
		"sku":                 pulumi.Map{"name": pulumi.String(a.SKU), "family": pulumi.String(a.Family), "capacity": pulumi.Int(a.Capacity)},
		"enableNonSslPort":    pulumi.Bool(false),
		"minimumTlsVersion":   pulumi.String("1.2"),
		"publicNetworkAccess": pulumi.String("Disabled"),
		"redisVersion":        pulumi.String("6"),
		"redisConfiguration":  a.Configuration,
		"tags":                a.Tags,
	}
	if a.Replicas > 0 {
		in["replicasPerPrimary"] = pulumi.Int(a.Replicas)
	}
	if len(a.Zones) > 0 {
		in["zones"] = pulumi.ToStringArray(a.Zones)
	}
	return in
}

// redisCache is an Azure Cache for Redis.
type redisCache struct {
	pulumi.CustomResourceState

	// Name is the cache's name.
	Name pulumi.StringOutput `pulumi:"name"`
	// HostName is NAME.redis.cache.windows.net.
	HostName pulumi.StringOutput `pulumi:"hostName"`
	// SslPort is the TLS port (6380).
	SslPort pulumi.IntOutput `pulumi:"sslPort"`
}

// listRedisKeysArgs and listRedisKeysResult are the listRedisKeys invoke's.
type listRedisKeysArgs struct {
	Name              string `pulumi:"name"`
	ResourceGroupName string `pulumi:"resourceGroupName"`
}

type listRedisKeysResult struct {
	PrimaryKey   string `pulumi:"primaryKey"`
	SecondaryKey string `pulumi:"secondaryKey"`
}

// redisPrimaryKey reads the cache's primary access key (secret).
func redisPrimaryKey(ctx *pulumi.Context, cache *redisCache, resourceGroup pulumi.StringInput) pulumi.StringOutput {
	return pulumi.ToSecret(pulumi.All(cache.Name, resourceGroup).ApplyT(func(v []any) (string, error) {
		var res listRedisKeysResult
		if err := ctx.Invoke(tokenListRedisKeys, &listRedisKeysArgs{Name: v[0].(string), ResourceGroupName: v[1].(string)}, &res); err != nil {
			return "", fmt.Errorf("access keys of Redis %s: %w", v[0], err)
		}
		return res.PrimaryKey, nil
	})).(pulumi.StringOutput)
}

// storageAccountArgs are a StorageAccount's inputs (API 2022-09-01).
type storageAccountArgs struct {
	ResourceGroupName pulumi.StringInput
	AccountName       string
	Location          string
	// SKU is the redundancy (Standard_RAGZRS).
	SKU string
	// SubnetIDs, if any, are the only networks admitted (service
	// endpoints); none leaves the account reachable from anywhere with
	// Entra ID credentials.
	SubnetIDs []pulumi.StringInput
	Tags      pulumi.StringMap
}

func (a storageAccountArgs) inputs() pulumi.Map {
	in := pulumi.Map{
		"resourceGroupName":            a.ResourceGroupName,
		"accountName":                  pulumi.String(a.AccountName),
		"location":                     pulumi.String(a.Location),
		"kind":                         pulumi.String("StorageV2"),
		"sku":                          pulumi.Map{"name": pulumi.String(a.SKU)},
		"accessTier":                   pulumi.String("Hot"),
		"minimumTlsVersion":            pulumi.String("TLS1_2"),
		"enableHttpsTrafficOnly":       pulumi.Bool(true),
		"allowBlobPublicAccess":        pulumi.Bool(false),
		"allowSharedKeyAccess":         pulumi.Bool(false), // Entra ID only
		"defaultToOAuthAuthentication": pulumi.Bool(true),
		"allowCrossTenantReplication":  pulumi.Bool(false),
		"encryption": pulumi.Map{
			"keySource":                       pulumi.String("Microsoft.Storage"),
			"requireInfrastructureEncryption": pulumi.Bool(true),
			"services":                        pulumi.Map{"blob": pulumi.Map{"enabled": pulumi.Bool(true), "keyType": pulumi.String("Account")}},
		},
		"tags": a.Tags,
	}
	if len(a.SubnetIDs) > 0 {
		rules := pulumi.Array{}
		for _, id := range a.SubnetIDs {
			rules = append(rules, pulumi.Map{"virtualNetworkResourceId": id, "action": pulumi.String("Allow")})
		}
		in["networkRuleSet"] = pulumi.Map{"defaultAction": pulumi.String("Deny"), "bypass": pulumi.String("AzureServices"), "virtualNetworkRules": rules}
	}
	return in
}

// blobServiceArgs are the account's blob service settings.
type blobServiceArgs struct {
	ResourceGroupName  pulumi.StringInput
	AccountName        pulumi.StringInput
	DeleteRetentionDay int
}

func (a blobServiceArgs) inputs() pulumi.Map {
	retention := pulumi.Map{"enabled": pulumi.Bool(true), "days": pulumi.Int(a.DeleteRetentionDay)}
	return pulumi.Map{
		"resourceGroupName":              a.ResourceGroupName,
		"accountName":                    a.AccountName,
		"blobServicesName":               pulumi.String("default"),
		"isVersioningEnabled":            pulumi.Bool(true),
		"changeFeed":                     pulumi.Map{"enabled": pulumi.Bool(true)},
		"deleteRetentionPolicy":          retention,
		"containerDeleteRetentionPolicy": retention,
	}
}

// versionLifecycle deletes blob versions older than days.
func versionLifecycle(rg, account pulumi.StringInput, days int) pulumi.Map {
	return pulumi.Map{
		"resourceGroupName":    rg,
		"accountName":          account,
		"managementPolicyName": pulumi.String("default"),
		"policy": pulumi.Map{"rules": pulumi.Array{pulumi.Map{
			"name": pulumi.String("old-versions"), "enabled": pulumi.Bool(true), "type": pulumi.String("Lifecycle"),
			"definition": pulumi.Map{
				"filters": pulumi.Map{"blobTypes": pulumi.ToStringArray([]string{"blockBlob"})},
				"actions": pulumi.Map{"version": pulumi.Map{"delete": pulumi.Map{"daysAfterCreationGreaterThan": pulumi.Int(days)}}},
			},
		}}},
	}
}
