// Package azure holds the project's Azure components: the AKS GPU cluster
// with its VNet, Key Vault KMS and Log Analytics, Azure Cache for Redis and
// the geo-redundant model storage account. They take the azure-native
// provider through the resource options. The typed SDK is used where the
// module proxy serves it (v2.0.0: containerservice, network, keyvault,
// managedidentity, authorization); storage, cache and Log Analytics are
// registered by type token (tokens.go).
package azure

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-azure-native-sdk/authorization/v2"
	"github.com/pulumi/pulumi-azure-native-sdk/containerservice/v2"
	"github.com/pulumi/pulumi-azure-native-sdk/keyvault/v2"
	"github.com/pulumi/pulumi-azure-native-sdk/managedidentity/v2"
	"github.com/pulumi/pulumi-azure-native-sdk/network/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"
)

// ClusterType is the AKS cluster component's type token.
const ClusterType = "mobile-mm-llm:azure:Cluster"

// GPU node taint and label (the workloads tolerate and select them).
const (
	// GPUTaint is the GPU nodes' taint.
	GPUTaint = "nvidia.com/gpu=present:NoSchedule"
	// GPULabel is the label GPU nodes carry and GPU pods select.
	GPULabel = "nvidia.com/gpu.present"
)

// Built-in role definition IDs.
const (
	roleKeyVaultCryptoUser = "12338af0-0e69-4776-bea7-57ae8d297424"
	roleNetworkContributor = "4d97b98b-1d4f-4787-a291-c67834d212e7"
)

// Subnet names of the cluster's VNet.
const (
	nodesSubnet     = "nodes"
	endpointsSubnet = "private-endpoints"
)

// NetworkArgs are the cluster VNet's ranges (Azure CNI overlay: pods get
// addresses from PodCIDR, outside the VNet).
type NetworkArgs struct {
	// VNetCIDR is the VNet (default 10.30.0.0/16).
	VNetCIDR string
	// NodesCIDR is the nodes' subnet (default 10.30.0.0/20).
	NodesCIDR string
	// EndpointsCIDR is the private endpoints' subnet (default 10.30.16.0/24).
	EndpointsCIDR string
	// PodCIDR is the overlay pod range (default 192.168.0.0/16).
	PodCIDR string
	// ServiceCIDR is the Services' range (default 10.0.0.0/16); the DNS
	// service is its tenth address.
	ServiceCIDR string
}

// NodePool configures an autoscaled agent pool.
type NodePool struct {
	// VMSize is the VM size ("Standard_NC4as_T4_v3").
	VMSize string
	// MinCount and MaxCount bound the cluster autoscaler (both zero: the
	// defaults).
	MinCount, MaxCount int
	// OSDiskSizeGB is the OS disk (default 128).
	OSDiskSizeGB int
}

// ClusterArgs configure an AKS cluster with Entra ID (Azure RBAC) and no
// local accounts, a user-assigned control-plane identity, Key Vault KMS
// encryption of Secrets, Log Analytics, a network policy engine, a system
// pool and a tainted GPU pool, both under the cluster autoscaler.
// SubscriptionID, TenantID, ResourceGroupName, Location, Tags and
// AuthorizedIPRanges (unless PrivateCluster) are required.
type ClusterArgs struct {
	// SubscriptionID and TenantID locate role definitions and the Key Vault.
	SubscriptionID, TenantID string
	// ResourceGroupName is the (existing) resource group.
	ResourceGroupName pulumi.StringInput
	// Location is the Azure region ("westeurope").
	Location string
	// ClusterName is the AKS cluster's name (default: the component's).
	ClusterName string
	// KubernetesVersion pins a version (default: AKS's default).
	KubernetesVersion string
	// Network are the address ranges.
	Network NetworkArgs
	// AuthorizedIPRanges are the only networks allowed to reach the API
	// server (operators, CI).
	AuthorizedIPRanges []string
	// PrivateCluster makes the API server private (Pulumi must then run in
	// the VNet).
	PrivateCluster bool
	// NetworkPolicy is the policy engine: calico (default), azure or cilium.
	NetworkPolicy string
	// AdminGroupObjectIDs are the Entra ID groups that administer the cluster.
	AdminGroupObjectIDs []string
	// KubeloginMode is how the kubeconfig's kubelogin gets tokens: azurecli
	// (default), workloadidentity, msi or spn.
	KubeloginMode string
	// Zones are the availability zones of the pools ("1", "2", "3").
	Zones []string
	// SystemNodes run add-ons (default 2..4 Standard_D4s_v5).
	SystemNodes NodePool
	// GPUNodes are the GPU nodes (default 1..4 Standard_NC4as_T4_v3).
	GPUNodes NodePool
	// LogRetentionDays keeps Log Analytics data (default 30; 30 to 730).
	LogRetentionDays int
	// Tags are put on every resource; they must hold cloud.RequiredTags.
	Tags map[string]string
}

var (
	guid        = regexp.MustCompile(`^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$`)
	location    = regexp.MustCompile(`^[a-z][a-z0-9]+$`)
	aksName     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,61}[A-Za-z0-9]$`)
	vmSize      = regexp.MustCompile(`^Standard_[A-Za-z0-9_]+$`)
	aksVersion  = regexp.MustCompile(`^1\.[0-9]{2}(\.[0-9]+)?$`)
	azureZone   = regexp.MustCompile(`^[1-3]$`)
	kubeloginAs = []string{"azurecli", "workloadidentity", "msi", "spn"}
)

func (p NodePool) or(d NodePool) NodePool {
	p.VMSize = cmp.Or(p.VMSize, d.VMSize)
	if p.MinCount == 0 && p.MaxCount == 0 {
		p.MinCount, p.MaxCount = d.MinCount, d.MaxCount
	}
	p.OSDiskSizeGB = cmp.Or(p.OSDiskSizeGB, d.OSDiskSizeGB)
	return p
}

func (p NodePool) check(c *kube.Checker, key string, minAllowed int) {
	if !vmSize.MatchString(p.VMSize) {
		c.Failf(key+".VMSize", "%q is not a VM size such as Standard_NC4as_T4_v3", p.VMSize)
	}
	switch {
	case p.MinCount < minAllowed:
		c.Failf(key+".MinCount", "is %d; it must be at least %d", p.MinCount, minAllowed)
	case p.MaxCount < 1 || p.MaxCount > 1000:
		c.Failf(key+".MaxCount", "is %d; it must be between 1 and 1000", p.MaxCount)
	case p.MinCount > p.MaxCount:
		c.Failf(key+".MinCount", "is %d, above %s.MaxCount (%d)", p.MinCount, key, p.MaxCount)
	}
	c.Range(key+".OSDiskSizeGB", p.OSDiskSizeGB, 30, 2048)
}

// prepare fills the defaults and validates the result.
func (args ClusterArgs) prepare(name string) (ClusterArgs, error) {
	a := args
	a.ClusterName = cmp.Or(a.ClusterName, name)
	a.NetworkPolicy = cmp.Or(a.NetworkPolicy, "calico")
	a.KubeloginMode = cmp.Or(a.KubeloginMode, "azurecli")
	a.LogRetentionDays = cmp.Or(a.LogRetentionDays, 30)
	n := &a.Network
	n.VNetCIDR = cmp.Or(n.VNetCIDR, "10.30.0.0/16")
	n.NodesCIDR = cmp.Or(n.NodesCIDR, "10.30.0.0/20")
	n.EndpointsCIDR = cmp.Or(n.EndpointsCIDR, "10.30.16.0/24")
	n.PodCIDR = cmp.Or(n.PodCIDR, "192.168.0.0/16")
	n.ServiceCIDR = cmp.Or(n.ServiceCIDR, "10.0.0.0/16")
	a.SystemNodes = a.SystemNodes.or(NodePool{VMSize: "Standard_D4s_v5", MinCount: 2, MaxCount: 4, OSDiskSizeGB: 128})
	a.GPUNodes = a.GPUNodes.or(NodePool{VMSize: "Standard_NC4as_T4_v3", MinCount: 1, MaxCount: 4, OSDiskSizeGB: 128})
	return a, a.validate()
}

// checkAccount checks what every Azure component needs.
func checkAccount(c *kube.Checker, rg pulumi.StringInput, loc string, tags map[string]string) {
	if rg == nil {
		c.Failf("ResourceGroupName", "is required")
	}
	if !location.MatchString(loc) {
		c.Failf("Location", "%q is not an Azure region such as westeurope", loc)
	}
	cloud.CheckTags(c, "Tags", tags, false)
}

func (a ClusterArgs) validate() error {
	c := kube.NewChecker("azure.NewCluster")
	for _, f := range [][2]string{{"SubscriptionID", a.SubscriptionID}, {"TenantID", a.TenantID}} {
		if !guid.MatchString(f[1]) {
			c.Failf(f[0], "%q is not a GUID", f[1])
		}
	}
	checkAccount(c, a.ResourceGroupName, a.Location, a.Tags)
	if !aksName.MatchString(a.ClusterName) {
		c.Failf("ClusterName", "%q is not an AKS cluster name (letters, digits, '-' and '_', at most 63)", a.ClusterName)
	}
	if a.KubernetesVersion != "" && !aksVersion.MatchString(a.KubernetesVersion) {
		c.Failf("KubernetesVersion", "%q is not a version such as 1.31", a.KubernetesVersion)
	}
	a.Network.check(c)
	cloud.CheckCIDRs(c, "AuthorizedIPRanges", a.AuthorizedIPRanges, !a.PrivateCluster)
	if !slices.Contains([]string{"calico", "azure", "cilium"}, a.NetworkPolicy) {
		c.Failf("NetworkPolicy", "is %q; use calico, azure or cilium", a.NetworkPolicy)
	}
	for _, g := range a.AdminGroupObjectIDs {
		if !guid.MatchString(g) {
			c.Failf("AdminGroupObjectIDs", "%q is not an Entra ID object ID", g)
		}
	}
	if !slices.Contains(kubeloginAs, a.KubeloginMode) {
		c.Failf("KubeloginMode", "is %q; use one of %v", a.KubeloginMode, kubeloginAs)
	}
	for i, z := range a.Zones {
		if !azureZone.MatchString(z) || slices.Index(a.Zones, z) != i {
			c.Failf("Zones", "%q is not a distinct zone 1, 2 or 3", z)
		}
	}
	a.SystemNodes.check(c, "SystemNodes", 1) // a system pool cannot be empty
	a.GPUNodes.check(c, "GPUNodes", 0)
	c.Range("LogRetentionDays", a.LogRetentionDays, 30, 730)
	return c.Err()
}

func (n NetworkArgs) check(c *kube.Checker) {
	parsed := map[string]netip.Prefix{}
	for _, f := range [][2]string{{"VNetCIDR", n.VNetCIDR}, {"NodesCIDR", n.NodesCIDR}, {"EndpointsCIDR", n.EndpointsCIDR},
		{"PodCIDR", n.PodCIDR}, {"ServiceCIDR", n.ServiceCIDR}} {
		p, err := netip.ParsePrefix(f[1])
		if err != nil || !p.Addr().Is4() || p.Masked() != p {
			c.Failf("Network."+f[0], "%q is not an IPv4 network such as 10.30.0.0/16", f[1])
			continue
		}
		parsed[f[0]] = p
	}
	vnet, ok := parsed["VNetCIDR"]
	if !ok {
		return
	}
	for _, k := range []string{"NodesCIDR", "EndpointsCIDR"} {
		if p, ok := parsed[k]; ok && (!vnet.Contains(p.Addr()) || p.Bits() < vnet.Bits()) {
			c.Failf("Network."+k, "%s is not inside Network.VNetCIDR (%s)", p, vnet)
		}
	}
	if p, q := parsed["NodesCIDR"], parsed["EndpointsCIDR"]; p.IsValid() && q.IsValid() && p.Overlaps(q) {
		c.Failf("Network.EndpointsCIDR", "%s overlaps Network.NodesCIDR (%s)", q, p)
	}
	for _, k := range []string{"PodCIDR", "ServiceCIDR"} {
		if p, ok := parsed[k]; ok && p.Overlaps(vnet) {
			c.Failf("Network."+k, "%s overlaps Network.VNetCIDR (%s)", p, vnet)
		}
	}
	if p, q := parsed["PodCIDR"], parsed["ServiceCIDR"]; p.IsValid() && q.IsValid() && p.Overlaps(q) {
		c.Failf("Network.ServiceCIDR", "%s overlaps Network.PodCIDR (%s)", q, p)
	}
}

// dnsServiceIP is the tenth address of the Services' range.
func dnsServiceIP(serviceCIDR string) string {
	a := netip.MustParsePrefix(serviceCIDR).Addr()
	for range 10 {
		a = a.Next()
	}
	return a.String()
}

// Cluster is an AKS cluster with its VNet, identity, Key Vault key, Log
// Analytics workspace and GPU pool, and a Kubernetes provider for it.
type Cluster struct {
	pulumi.ResourceState
	cloud.Access

	// ClusterName is the AKS cluster's name.
	ClusterName pulumi.StringOutput `pulumi:"clusterName"`
	// VNetID is the cluster's VNet.
	VNetID pulumi.StringOutput `pulumi:"vnetId"`
	// NodesSubnetID and EndpointsSubnetID are its subnets.
	NodesSubnetID pulumi.StringOutput `pulumi:"nodesSubnetId"`
	// EndpointsSubnetID is the private endpoints' subnet.
	EndpointsSubnetID pulumi.StringOutput `pulumi:"endpointsSubnetId"`
	// EndpointsCIDR is that subnet's range (Network.EndpointsCIDR with its
	// default), where Azure Cache's private endpoint takes its address:
	// the server pods' NetworkPolicy egress to Redis.
	EndpointsCIDR string
	// WorkspaceID is the Log Analytics workspace.
	WorkspaceID pulumi.StringOutput `pulumi:"workspaceId"`
	// OIDCIssuerURL is the issuer for workload identity federation.
	OIDCIssuerURL pulumi.StringOutput `pulumi:"oidcIssuerUrl"`
}

var _ cloud.Cluster = (*Cluster)(nil)

// NewCluster creates the AKS cluster. Pass the azure-native provider in opts.
func NewCluster(ctx *pulumi.Context, name string, args *ClusterArgs, opts ...pulumi.ResourceOption) (*Cluster, error) {
	comp := &Cluster{}
	return cloud.New(ctx, "azure.NewCluster", ClusterType, name, args, comp, opts, func(a ClusterArgs) (ClusterArgs, error) { return a.prepare(name) },
		func(a ClusterArgs) error {
			return (&clusterBuilder{ctx: ctx, name: name, a: a, comp: comp, tags: kube.StringMap(a.Tags)}).build()
		})
}

type clusterBuilder struct {
	ctx  *pulumi.Context
	name string
	a    ClusterArgs
	comp *Cluster
	tags pulumi.StringMap
}

func (b *clusterBuilder) child() pulumi.ResourceOption { return pulumi.Parent(b.comp) }

// roleID is a built-in role's definition ID in the subscription.
func (b *clusterBuilder) roleID(role string) pulumi.StringInput {
	return pulumi.Sprintf("/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s", b.a.SubscriptionID, role)
}

// grant gives the identity a role on scope.
func (b *clusterBuilder) grant(name string, id *managedidentity.UserAssignedIdentity, role string, scope pulumi.StringInput) (pulumi.Resource, error) {
	r, err := authorization.NewRoleAssignment(b.ctx, b.name+"-"+name, &authorization.RoleAssignmentArgs{
		PrincipalId: id.PrincipalId, PrincipalType: pulumi.String("ServicePrincipal"), RoleDefinitionId: b.roleID(role), Scope: scope,
	}, b.child())
	if err != nil {
		return nil, fmt.Errorf("role assignment %s: %w", name, err)
	}
	return r, nil
}

func (b *clusterBuilder) build() error {
	ctx, name, a := b.ctx, b.name, b.a
	id, err := managedidentity.NewUserAssignedIdentity(ctx, name+"-control-plane", &managedidentity.UserAssignedIdentityArgs{
		ResourceGroupName: a.ResourceGroupName, Location: pulumi.String(a.Location), Tags: b.tags,
	}, b.child())
	if err != nil {
		return fmt.Errorf("control-plane identity: %w", err)
	}
	vnet, err := network.NewVirtualNetwork(ctx, name+"-vnet", &network.VirtualNetworkArgs{
		ResourceGroupName: a.ResourceGroupName, Location: pulumi.String(a.Location),
		AddressSpace: network.AddressSpaceArgs{AddressPrefixes: kube.StringArray(a.Network.VNetCIDR)},
		// Subnets inline: a VirtualNetwork update would delete subnets
		// managed as separate resources.
		Subnets: network.SubnetTypeArray{
			network.SubnetTypeArgs{Name: pulumi.String(nodesSubnet), AddressPrefix: pulumi.String(a.Network.NodesCIDR),
				ServiceEndpoints: network.ServiceEndpointPropertiesFormatArray{network.ServiceEndpointPropertiesFormatArgs{Service: pulumi.String("Microsoft.Storage")}}},
			network.SubnetTypeArgs{Name: pulumi.String(endpointsSubnet), AddressPrefix: pulumi.String(a.Network.EndpointsCIDR),
				PrivateEndpointNetworkPolicies: pulumi.String("Disabled")},
		},
		Tags: b.tags,
	}, b.child())
	if err != nil {
		return fmt.Errorf("vnet: %w", err)
	}
	c := b.comp
	c.VNetID = vnet.ID().ToStringOutput()
	c.NodesSubnetID = pulumi.Sprintf("%s/subnets/%s", vnet.ID(), nodesSubnet)
	c.EndpointsSubnetID = pulumi.Sprintf("%s/subnets/%s", vnet.ID(), endpointsSubnet)
	c.EndpointsCIDR = a.Network.EndpointsCIDR
	netGrant, err := b.grant("network", id, roleNetworkContributor, c.NodesSubnetID)
	if err != nil {
		return err
	}
	ws, err := register(ctx, tokenWorkspace, name+"-logs", workspaceArgs{
		ResourceGroupName: a.ResourceGroupName, Location: a.Location, RetentionInDays: a.LogRetentionDays, Tags: b.tags,
	}.inputs(), b.child())
	if err != nil {
		return err
	}
	c.WorkspaceID = ws.ID().ToStringOutput()
	key, keyGrant, err := b.secretsKey(id)
	if err != nil {
		return err
	}
	cluster, err := b.cluster(id, key, []pulumi.Resource{netGrant, keyGrant})
	if err != nil {
		return err
	}
	gpu, err := containerservice.NewAgentPool(ctx, name+"-gpu", &containerservice.AgentPoolArgs{
		ResourceGroupName: a.ResourceGroupName,
		ResourceName:      cluster.Name,
		AgentPoolName:     pulumi.String("gpu"),
		Mode:              pulumi.String("User"),
		OsType:            pulumi.String("Linux"),
		Type:              pulumi.String("VirtualMachineScaleSets"),
		VmSize:            pulumi.String(a.GPUNodes.VMSize),
		OsDiskSizeGB:      pulumi.Int(a.GPUNodes.OSDiskSizeGB),
		EnableAutoScaling: pulumi.Bool(true),
		MinCount:          pulumi.Int(a.GPUNodes.MinCount),
		MaxCount:          pulumi.Int(a.GPUNodes.MaxCount),
		Count:             pulumi.Int(a.GPUNodes.MinCount),
		NodeTaints:        kube.StringArray(GPUTaint),
		NodeLabels:        kube.StringMap(map[string]string{GPULabel: "true", "node-role": "gpu"}),
		VnetSubnetID:      c.NodesSubnetID,
		AvailabilityZones: zones(a.Zones),
		Tags:              b.tags,
	}, b.child(), pulumi.IgnoreChanges([]string{"count"}))
	if err != nil {
		return fmt.Errorf("gpu agent pool: %w", err)
	}
	c.ClusterName = cluster.Name
	c.OIDCIssuerURL = cluster.OidcIssuerProfile.Elem().IssuerURL()
	creds := containerservice.ListManagedClusterUserCredentialsOutput(ctx, containerservice.ListManagedClusterUserCredentialsOutputArgs{
		ResourceGroupName: a.ResourceGroupName, ResourceName: cluster.Name, Format: pulumi.String("exec"),
	})
	c.Kubeconfig = pulumi.ToSecret(creds.Kubeconfigs().ApplyT(func(kcs []containerservice.CredentialResultResponse) (string, error) {
		if len(kcs) == 0 {
			return "", fmt.Errorf("AKS returned no user kubeconfig")
		}
		raw, err := base64.StdEncoding.DecodeString(kcs[0].Value)
		if err != nil {
			return "", fmt.Errorf("AKS user kubeconfig: %w", err)
		}
		return setKubeloginMode(string(raw), a.KubeloginMode)
	})).(pulumi.StringOutput)
	if c.Provider, err = cloud.NewKubernetesProvider(ctx, name, c.Kubeconfig, c, gpu); err != nil {
		return err
	}
	return ctx.RegisterResourceOutputs(c, pulumi.Map{
		"clusterName": c.ClusterName, "kubeconfig": c.Kubeconfig, "vnetId": c.VNetID, "nodesSubnetId": c.NodesSubnetID,
		"endpointsSubnetId": c.EndpointsSubnetID, "workspaceId": c.WorkspaceID, "oidcIssuerUrl": c.OIDCIssuerURL,
	})
}

// vaultName derives a Key Vault name (3 to 24 letters, digits and single
// dashes, globally unique) from the cluster's name and subscription:
// auto-naming would exceed 24 characters. Purge protection keeps a deleted
// vault's name reserved for 90 days.
func vaultName(cluster, subscription string) string {
	sum := sha256.Sum256([]byte(subscription + "/" + cluster))
	var prefix []byte
	for _, r := range strings.ToLower(cluster) {
		if len(prefix) == 14 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' && len(prefix) > 0 {
			prefix = append(prefix, byte(r))
		}
	}
	return "kv" + string(prefix) + "-" + hex.EncodeToString(sum[:])[:7]
}

// zones is an optional list of availability zones.
func zones(zs []string) pulumi.StringArrayInput {
	if len(zs) == 0 {
		return nil
	}
	return kube.StringArray(zs...)
}

// secretsKey creates the Key Vault (RBAC, purge protection) and the
// rotating RSA key that wraps Secrets' data keys, and lets the control
// plane's identity use it.
func (b *clusterBuilder) secretsKey(id *managedidentity.UserAssignedIdentity) (*keyvault.Key, pulumi.Resource, error) {
	a := b.a
	vault, err := keyvault.NewVault(b.ctx, b.name+"-kv", &keyvault.VaultArgs{
		ResourceGroupName: a.ResourceGroupName, Location: pulumi.String(a.Location),
		VaultName: pulumi.String(vaultName(a.ClusterName, a.SubscriptionID)),
		Properties: keyvault.VaultPropertiesArgs{
			TenantId:                  pulumi.String(a.TenantID),
			Sku:                       keyvault.SkuArgs{Family: pulumi.String("A"), Name: keyvault.SkuNameStandard},
			EnableRbacAuthorization:   pulumi.Bool(true),
			EnablePurgeProtection:     pulumi.Bool(true),
			EnableSoftDelete:          pulumi.Bool(true),
			SoftDeleteRetentionInDays: pulumi.Int(90),
		},
		Tags: b.tags,
	}, b.child())
	if err != nil {
		return nil, nil, fmt.Errorf("key vault: %w", err)
	}
	key, err := keyvault.NewKey(b.ctx, b.name+"-secrets", &keyvault.KeyArgs{
		ResourceGroupName: a.ResourceGroupName,
		VaultName:         vault.Name,
		Properties: keyvault.KeyPropertiesArgs{
			Kty:     pulumi.String("RSA"),
			KeySize: pulumi.Int(2048),
			RotationPolicy: keyvault.RotationPolicyArgs{
				LifetimeActions: keyvault.LifetimeActionArray{keyvault.LifetimeActionArgs{
					Action:  keyvault.ActionArgs{Type: keyvault.KeyRotationPolicyActionTypeRotate},
					Trigger: keyvault.TriggerArgs{TimeAfterCreate: pulumi.String("P90D")},
				}},
				Attributes: keyvault.KeyRotationPolicyAttributesArgs{ExpiryTime: pulumi.String("P2Y")},
			},
		},
		Tags: b.tags,
	}, b.child())
	if err != nil {
		return nil, nil, fmt.Errorf("secrets key: %w", err)
	}
	g, err := b.grant("kms", id, roleKeyVaultCryptoUser, vault.ID())
	if err != nil {
		return nil, nil, err
	}
	return key, g, nil
}

func (b *clusterBuilder) cluster(id *managedidentity.UserAssignedIdentity, key *keyvault.Key, deps []pulumi.Resource) (*containerservice.ManagedCluster, error) {
	a := b.a
	access := containerservice.ManagedClusterAPIServerAccessProfileArgs{EnablePrivateCluster: pulumi.Bool(a.PrivateCluster)}
	if !a.PrivateCluster {
		access.AuthorizedIPRanges = kube.StringArray(a.AuthorizedIPRanges...)
	}
	args := &containerservice.ManagedClusterArgs{
		ResourceGroupName: a.ResourceGroupName,
		ResourceName:      pulumi.String(a.ClusterName),
		Location:          pulumi.String(a.Location),
		DnsPrefix:         pulumi.String(a.ClusterName),
		Identity: containerservice.ManagedClusterIdentityArgs{
			Type: containerservice.ResourceIdentityTypeUserAssigned, UserAssignedIdentities: pulumi.StringArray{id.ID()},
		},
		Sku:                  containerservice.ManagedClusterSKUArgs{Name: pulumi.String("Base"), Tier: pulumi.String("Standard")},
		EnableRBAC:           pulumi.Bool(true),
		DisableLocalAccounts: pulumi.Bool(true),
		AadProfile: containerservice.ManagedClusterAADProfileArgs{
			Managed: pulumi.Bool(true), EnableAzureRBAC: pulumi.Bool(true), TenantID: pulumi.String(a.TenantID),
			AdminGroupObjectIDs: kube.StringArray(a.AdminGroupObjectIDs...),
		},
		ApiServerAccessProfile: access,
		NetworkProfile: containerservice.ContainerServiceNetworkProfileArgs{
			NetworkPlugin: pulumi.String("azure"), NetworkPluginMode: pulumi.String("overlay"), NetworkPolicy: pulumi.String(a.NetworkPolicy),
			PodCidr: pulumi.String(a.Network.PodCIDR), ServiceCidr: pulumi.String(a.Network.ServiceCIDR),
			DnsServiceIP: pulumi.String(dnsServiceIP(a.Network.ServiceCIDR)), LoadBalancerSku: pulumi.String("standard"),
		},
		AgentPoolProfiles: containerservice.ManagedClusterAgentPoolProfileArray{containerservice.ManagedClusterAgentPoolProfileArgs{
			Name: pulumi.String("system"), Mode: pulumi.String("System"), OsType: pulumi.String("Linux"),
			Type: pulumi.String("VirtualMachineScaleSets"), VmSize: pulumi.String(a.SystemNodes.VMSize),
			OsDiskSizeGB:      pulumi.Int(a.SystemNodes.OSDiskSizeGB),
			EnableAutoScaling: pulumi.Bool(true), MinCount: pulumi.Int(a.SystemNodes.MinCount), MaxCount: pulumi.Int(a.SystemNodes.MaxCount),
			Count:        pulumi.Int(a.SystemNodes.MinCount),
			VnetSubnetID: b.comp.NodesSubnetID, AvailabilityZones: zones(a.Zones),
			NodeLabels: kube.StringMap(map[string]string{"node-role": "system"}), Tags: b.tags,
		}},
		SecurityProfile: containerservice.ManagedClusterSecurityProfileArgs{
			AzureKeyVaultKms: containerservice.AzureKeyVaultKmsArgs{
				Enabled: pulumi.Bool(true), KeyId: key.KeyUriWithVersion, KeyVaultNetworkAccess: pulumi.String("Public"),
			},
			WorkloadIdentity: containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs{Enabled: pulumi.Bool(true)},
		},
		OidcIssuerProfile:  containerservice.ManagedClusterOIDCIssuerProfileArgs{Enabled: pulumi.Bool(true)},
		AutoUpgradeProfile: containerservice.ManagedClusterAutoUpgradeProfileArgs{UpgradeChannel: pulumi.String("patch")},
		AddonProfiles: containerservice.ManagedClusterAddonProfileMap{
			"omsagent": containerservice.ManagedClusterAddonProfileArgs{
				Enabled: pulumi.Bool(true),
				Config:  pulumi.StringMap{"logAnalyticsWorkspaceResourceID": b.comp.WorkspaceID, "useAADAuth": pulumi.String("true")},
			},
		},
		Tags: b.tags,
	}
	if a.KubernetesVersion != "" {
		args.KubernetesVersion = pulumi.String(a.KubernetesVersion)
	}
	cluster, err := containerservice.NewManagedCluster(b.ctx, b.name, args, b.child(), pulumi.DependsOn(deps),
		pulumi.IgnoreChanges([]string{"agentPoolProfiles[0].count"}))
	if err != nil {
		return nil, fmt.Errorf("aks cluster: %w", err)
	}
	return cluster, nil
}

// setKubeloginMode rewrites the --login mode of every kubelogin exec in an
// AKS user kubeconfig (AKS writes devicecode, which needs a person).
func setKubeloginMode(kubeconfig, mode string) (string, error) {
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(kubeconfig), &doc); err != nil {
		return "", fmt.Errorf("AKS user kubeconfig: %w", err)
	}
	users, _ := doc["users"].([]any)
	for _, u := range users {
		exec, _ := walk(u, "user", "exec").(map[string]any)
		if exec == nil || exec["command"] != "kubelogin" {
			continue
		}
		args, _ := exec["args"].([]any)
		found := false
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "--login" || args[i] == "-l" {
				args[i+1], found = mode, true
			}
		}
		if !found {
			args = append(args, "--login", mode)
		}
		exec["args"] = args
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("AKS user kubeconfig: %w", err)
	}
	return string(out), nil
}

// walk follows map keys through decoded YAML.
func walk(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
