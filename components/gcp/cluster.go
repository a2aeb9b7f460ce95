// Package gcp holds the project's Google Cloud components: the private GKE
// GPU cluster with its VPC, Memorystore for Redis and the dual-region model
// bucket. They take the Google provider through the resource options, name
// the project explicitly on every resource, and make no invokes (the
// project number comes in through Args).
package gcp

import (
	"cmp"
	"fmt"
	"net/netip"
	"regexp"
	"slices"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/compute"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/container"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/kms"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/projects"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/serviceaccount"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ClusterType is the GKE cluster component's type token.
const ClusterType = "mobile-mm-llm:gcp:Cluster"

// GPU node taint and label (the workloads tolerate and select them).
const (
	// GPUTaintKey is the GPU nodes' taint key.
	GPUTaintKey = "nvidia.com/gpu"
	// GPUTaintValue is its value (effect NoSchedule).
	GPUTaintValue = "present"
	// GPULabel is the label GPU nodes carry and GPU pods select.
	GPULabel = "nvidia.com/gpu.present"
)

// nodeRoles are the project roles of the nodes' service account: logs,
// metrics and pulling images, nothing else (the default compute account
// has Editor).
var nodeRoles = []string{
	"roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/monitoring.viewer",
	"roles/stackdriver.resourceMetadata.writer", "roles/autoscaling.metricsWriter", "roles/artifactregistry.reader",
}

// loggedComponents are the control-plane and node components sent to Cloud
// Logging.
var loggedComponents = []string{"SYSTEM_COMPONENTS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER", "WORKLOADS"}

// NetworkArgs are the cluster VPC's address ranges.
type NetworkArgs struct {
	// NodesCIDR is the subnet's primary range (default 10.10.0.0/20).
	NodesCIDR string
	// PodsCIDR is the pods' secondary range (default 10.16.0.0/14).
	PodsCIDR string
	// ServicesCIDR is the Services' secondary range (default 10.20.0.0/20).
	ServicesCIDR string
	// MasterCIDR is the /28 the control plane's private endpoint lives in
	// (default 172.16.0.0/28).
	MasterCIDR string
}

// NodePool configures an autoscaled node pool; counts are totals across
// the pool's zones.
type NodePool struct {
	// MachineType is the Compute Engine machine type.
	MachineType string
	// MinNodes and MaxNodes bound the autoscaler (both zero: the defaults).
	MinNodes, MaxNodes int
	// DiskSizeGB is the boot disk (default 100; GPU nodes 200).
	DiskSizeGB int
	// Zones pin the pool to zones of the region where the machine (and its
	// GPU) is offered (default: the cluster's zones).
	Zones []string
	// Spot uses Spot VMs (cheaper, preemptible).
	Spot bool
}

// GPU is the accelerator on each GPU node.
type GPU struct {
	// Type is the accelerator ("nvidia-l4", "nvidia-tesla-t4").
	Type string
	// Count is the GPUs per node (default 1).
	Count int
	// DriverVersion is what GKE installs: DEFAULT or LATEST (default
	// LATEST), or INSTALLATION_DISABLED to bring the GPU operator's driver.
	DriverVersion string
}

// ClusterArgs configure a regional, private GKE cluster with Workload
// Identity, shielded nodes, Cloud KMS encryption of Secrets, a system pool
// and a tainted GPU pool. Project, ProjectNumber, Region, Labels and
// MasterAuthorizedCIDRs (unless PrivateEndpoint) are required.
type ClusterArgs struct {
	// Project is the project ID.
	Project string
	// ProjectNumber is the project's number (GKE's service agent is named
	// by it and must use the Secrets key).
	ProjectNumber string
	// Region is the cluster's region ("asia-southeast1").
	Region string
	// ClusterName is the GKE cluster's name (default: the component's).
	ClusterName string
	// ReleaseChannel is RAPID, REGULAR (default) or STABLE.
	ReleaseChannel string
	// Network are the address ranges.
	Network NetworkArgs
	// MasterAuthorizedCIDRs are the only networks allowed to reach the
	// public API endpoint (operators, CI).
	MasterAuthorizedCIDRs []string
	// PrivateEndpoint turns the public endpoint off (Pulumi must then run
	// inside the VPC).
	PrivateEndpoint bool
	// SystemNodes run add-ons and operators (default 1..3 e2-standard-4).
	SystemNodes NodePool
	// GPUNodes are the GPU nodes (default 1..4 g2-standard-8).
	GPUNodes NodePool
	// GPU is the GPU nodes' accelerator (default one nvidia-l4).
	GPU GPU
	// AllowDeletion turns GKE's deletion protection off (for test stacks).
	AllowDeletion bool
	// Labels are put on every labelled resource; they must hold
	// cloud.RequiredTags and be valid GCP labels.
	Labels map[string]string
}

var (
	projectID   = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	number      = regexp.MustCompile(`^[0-9]{6,20}$`)
	gcpRegion   = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+$`)
	gcpZone     = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+-[a-z]$`)
	machineType = regexp.MustCompile(`^[a-z][a-z0-9]*-[a-z0-9-]+$`)
	accelerator = regexp.MustCompile(`^nvidia-[a-z0-9-]+$`)
	// resourceName is a GKE cluster or Compute Engine resource name.
	resourceName = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$`)
)

func (p NodePool) or(d NodePool) NodePool {
	p.MachineType = cmp.Or(p.MachineType, d.MachineType)
	if p.MinNodes == 0 && p.MaxNodes == 0 {
		p.MinNodes, p.MaxNodes = d.MinNodes, d.MaxNodes
	}
	p.DiskSizeGB = cmp.Or(p.DiskSizeGB, d.DiskSizeGB)
	return p
}

func (p NodePool) check(c *kube.Checker, key, region string) {
	if !machineType.MatchString(p.MachineType) {
		c.Failf(key+".MachineType", "%q is not a machine type such as g2-standard-8", p.MachineType)
	}
	switch {
	case p.MinNodes < 0:
		c.Failf(key+".MinNodes", "is %d; it must be at least 0", p.MinNodes)
	case p.MaxNodes < 1:
		c.Failf(key+".MaxNodes", "is %d; it must be at least 1", p.MaxNodes)
	case p.MinNodes > p.MaxNodes:
		c.Failf(key+".MinNodes", "is %d, above %s.MaxNodes (%d)", p.MinNodes, key, p.MaxNodes)
	}
	c.Range(key+".DiskSizeGB", p.DiskSizeGB, 10, 65536)
	checkZones(c, key+".Zones", p.Zones, region)
}

// checkZones checks that zones are distinct zones of region.
func checkZones(c *kube.Checker, key string, zones []string, region string) {
	for i, z := range zones {
		if !gcpZone.MatchString(z) || z[:len(z)-2] != region || slices.Index(zones, z) != i {
			c.Failf(key, "%q is not a distinct zone of %s", z, region)
		}
	}
}

// prepare fills the defaults and validates the result.
func (args ClusterArgs) prepare(name string) (ClusterArgs, error) {
	a := args
	a.ClusterName = cmp.Or(a.ClusterName, name)
	a.ReleaseChannel = cmp.Or(a.ReleaseChannel, "REGULAR")
	n := &a.Network
	n.NodesCIDR = cmp.Or(n.NodesCIDR, "10.10.0.0/20")
	n.PodsCIDR = cmp.Or(n.PodsCIDR, "10.16.0.0/14")
	n.ServicesCIDR = cmp.Or(n.ServicesCIDR, "10.20.0.0/20")
	n.MasterCIDR = cmp.Or(n.MasterCIDR, "172.16.0.0/28")
	a.SystemNodes = a.SystemNodes.or(NodePool{MachineType: "e2-standard-4", MinNodes: 1, MaxNodes: 3, DiskSizeGB: 100})
	a.GPUNodes = a.GPUNodes.or(NodePool{MachineType: "g2-standard-8", MinNodes: 1, MaxNodes: 4, DiskSizeGB: 200})
	a.GPU.Type = cmp.Or(a.GPU.Type, "nvidia-l4")
	a.GPU.Count = cmp.Or(a.GPU.Count, 1)
	a.GPU.DriverVersion = cmp.Or(a.GPU.DriverVersion, "LATEST")
	return a, a.validate()
}

func (a ClusterArgs) validate() error {
	c := kube.NewChecker("gcp.NewCluster")
	checkProject(c, a.Project, a.Region, a.Labels)
	if !number.MatchString(a.ProjectNumber) {
		c.Failf("ProjectNumber", "%q is not a project number (digits; gcloud projects describe PROJECT)", a.ProjectNumber)
	}
	if !resourceName.MatchString(a.ClusterName) {
		c.Failf("ClusterName", "%q is not a GKE cluster name (lower-case letters, digits and '-', at most 40)", a.ClusterName)
	}
	if !slices.Contains([]string{"RAPID", "REGULAR", "STABLE"}, a.ReleaseChannel) {
		c.Failf("ReleaseChannel", "is %q; use RAPID, REGULAR or STABLE", a.ReleaseChannel)
	}
	ranges := map[string]string{"Network.NodesCIDR": a.Network.NodesCIDR, "Network.PodsCIDR": a.Network.PodsCIDR,
		"Network.ServicesCIDR": a.Network.ServicesCIDR, "Network.MasterCIDR": a.Network.MasterCIDR}
	checkRanges(c, ranges)
	if p, err := netip.ParsePrefix(a.Network.MasterCIDR); err == nil && p.Bits() != 28 {
		c.Failf("Network.MasterCIDR", "%q must be a /28", a.Network.MasterCIDR)
	}
	cloud.CheckCIDRs(c, "MasterAuthorizedCIDRs", a.MasterAuthorizedCIDRs, !a.PrivateEndpoint)
	a.SystemNodes.check(c, "SystemNodes", a.Region)
	a.GPUNodes.check(c, "GPUNodes", a.Region)
	if !accelerator.MatchString(a.GPU.Type) {
		c.Failf("GPU.Type", "%q is not a GPU type such as nvidia-l4", a.GPU.Type)
	}
	if !slices.Contains([]int{1, 2, 4, 8, 16}, a.GPU.Count) {
		c.Failf("GPU.Count", "is %d; use 1, 2, 4, 8 or 16", a.GPU.Count)
	}
	if !slices.Contains([]string{"DEFAULT", "LATEST", "INSTALLATION_DISABLED"}, a.GPU.DriverVersion) {
		c.Failf("GPU.DriverVersion", "is %q; use DEFAULT, LATEST or INSTALLATION_DISABLED", a.GPU.DriverVersion)
	}
	return c.Err()
}

// checkProject checks what every GCP component needs.
func checkProject(c *kube.Checker, project, region string, labels map[string]string) {
	if !projectID.MatchString(project) {
		c.Failf("Project", "%q is not a project ID", project)
	}
	if !gcpRegion.MatchString(region) {
		c.Failf("Region", "%q is not a region such as asia-southeast1", region)
	}
	cloud.CheckTags(c, "Labels", labels, true)
}

// checkRanges checks that each range is an IPv4 CIDR and none overlaps
// another.
func checkRanges(c *kube.Checker, ranges map[string]string) {
	keys := kube.SortedKeys(ranges)
	parsed := map[string]netip.Prefix{}
	for _, k := range keys {
		p, err := netip.ParsePrefix(ranges[k])
		if err != nil || !p.Addr().Is4() || p.Masked() != p {
			c.Failf(k, "%q is not an IPv4 network such as 10.10.0.0/20", ranges[k])
			continue
		}
		for _, o := range keys {
			if q, ok := parsed[o]; ok && q.Overlaps(p) {
				c.Failf(k, "%s overlaps %s (%s)", p, o, q)
			}
		}
		parsed[k] = p
	}
}

// Cluster is a private GKE cluster with its VPC, a system pool and a GPU
// pool, and a Kubernetes provider for it.
type Cluster struct {
	pulumi.ResourceState
	cloud.Access

	// ClusterName is the GKE cluster's name.
	ClusterName pulumi.StringOutput `pulumi:"clusterName"`
	// Endpoint is the API server's address.
	Endpoint pulumi.StringOutput `pulumi:"endpoint"`
	// NetworkID is the VPC (Memorystore's authorized network).
	NetworkID pulumi.StringOutput `pulumi:"networkId"`
	// WorkloadPool is the Workload Identity pool (PROJECT.svc.id.goog).
	WorkloadPool pulumi.StringOutput `pulumi:"workloadPool"`
	// NodeServiceAccount is the nodes' Google service account e-mail.
	NodeServiceAccount pulumi.StringOutput `pulumi:"nodeServiceAccount"`
}

var _ cloud.Cluster = (*Cluster)(nil)

// NewCluster creates the GKE cluster. Pass the Google provider in opts.
func NewCluster(ctx *pulumi.Context, name string, args *ClusterArgs, opts ...pulumi.ResourceOption) (*Cluster, error) {
	comp := &Cluster{}
	return cloud.New(ctx, "gcp.NewCluster", ClusterType, name, args, comp, opts, func(a ClusterArgs) (ClusterArgs, error) { return a.prepare(name) },
		func(a ClusterArgs) error {
			return (&clusterBuilder{ctx: ctx, name: name, a: a, comp: comp, labels: kube.StringMap(a.Labels), project: pulumi.String(a.Project)}).build()
		})
}

type clusterBuilder struct {
	ctx     *pulumi.Context
	name    string
	a       ClusterArgs
	comp    *Cluster
	labels  pulumi.StringMap
	project pulumi.String
}

func (b *clusterBuilder) child() pulumi.ResourceOption { return pulumi.Parent(b.comp) }

func (b *clusterBuilder) build() error {
	network, subnet, nat, err := b.network()
	if err != nil {
		return err
	}
	key, keyUse, err := b.secretsKey()
	if err != nil {
		return err
	}
	sa, roles, err := b.nodeAccount()
	if err != nil {
		return err
	}
	cluster, err := b.cluster(network, subnet, key, keyUse)
	if err != nil {
		return err
	}
	system, err := b.nodePool("system", b.a.SystemNodes, cluster, sa, nil, nil, roles)
	if err != nil {
		return err
	}
	gpu, err := b.nodePool("gpu", b.a.GPUNodes, cluster, sa, container.NodePoolNodeConfigGuestAcceleratorArray{
		container.NodePoolNodeConfigGuestAcceleratorArgs{
			Type:  pulumi.String(b.a.GPU.Type),
			Count: pulumi.Int(b.a.GPU.Count),
			GpuDriverInstallationConfig: container.NodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfigArgs{
				GpuDriverVersion: pulumi.String(b.a.GPU.DriverVersion),
			},
		},
	}, container.NodePoolNodeConfigTaintArray{container.NodePoolNodeConfigTaintArgs{
		Key: pulumi.String(GPUTaintKey), Value: pulumi.String(GPUTaintValue), Effect: pulumi.String("NO_SCHEDULE"),
	}}, roles)
	if err != nil {
		return err
	}
	c := b.comp
	c.ClusterName, c.Endpoint, c.NetworkID = cluster.Name, cluster.Endpoint, network.ID().ToStringOutput()
	c.WorkloadPool, c.NodeServiceAccount = pulumi.Sprintf("%s.svc.id.goog", b.a.Project), sa.Email
	c.Kubeconfig = pulumi.ToSecret(pulumi.All(cluster.Name, cluster.Endpoint, cluster.MasterAuth.ClusterCaCertificate().Elem()).ApplyT(
		func(v []any) (string, error) {
			return cloud.Kubeconfig(cloud.KubeconfigArgs{Name: v[0].(string), Server: "https://" + v[1].(string), CAData: v[2].(string),
				Exec: cloud.Exec{Command: "gke-gcloud-auth-plugin", ProvideClusterInfo: true,
					InstallHint: "the kubeconfig needs gke-gcloud-auth-plugin (gcloud components install gke-gcloud-auth-plugin)"}})
		})).(pulumi.StringOutput)
	if c.Provider, err = cloud.NewKubernetesProvider(b.ctx, b.name, c.Kubeconfig, c, system, gpu, nat); err != nil {
		return err
	}
	return b.ctx.RegisterResourceOutputs(c, pulumi.Map{
		"clusterName": c.ClusterName, "endpoint": c.Endpoint, "kubeconfig": c.Kubeconfig, "networkId": c.NetworkID,
		"workloadPool": c.WorkloadPool, "nodeServiceAccount": c.NodeServiceAccount,
	})
}

// network creates the VPC, the nodes' subnet with the pods' and Services'
// secondary ranges, and Cloud NAT (private nodes have no public address).
func (b *clusterBuilder) network() (*compute.Network, *compute.Subnetwork, *compute.RouterNat, error) {
	ctx, name, n := b.ctx, b.name, b.a.Network
	network, err := compute.NewNetwork(ctx, name, &compute.NetworkArgs{
		Project: b.project, AutoCreateSubnetworks: pulumi.Bool(false), RoutingMode: pulumi.String("REGIONAL"),
	}, b.child())
	if err != nil {
		return nil, nil, nil, fmt.Errorf("network: %w", err)
	}
	subnet, err := compute.NewSubnetwork(ctx, name, &compute.SubnetworkArgs{
		Project: b.project, Region: pulumi.String(b.a.Region), Network: network.ID(),
		IpCidrRange:           pulumi.String(n.NodesCIDR),
		PrivateIpGoogleAccess: pulumi.Bool(true),
		SecondaryIpRanges: compute.SubnetworkSecondaryIpRangeArray{
			compute.SubnetworkSecondaryIpRangeArgs{RangeName: pulumi.String("pods"), IpCidrRange: pulumi.String(n.PodsCIDR)},
			compute.SubnetworkSecondaryIpRangeArgs{RangeName: pulumi.String("services"), IpCidrRange: pulumi.String(n.ServicesCIDR)},
		},
	}, b.child())
	if err != nil {
		return nil, nil, nil, fmt.Errorf("subnetwork: %w", err)
	}
	router, err := compute.NewRouter(ctx, name, &compute.RouterArgs{Project: b.project, Region: pulumi.String(b.a.Region), Network: network.ID()}, b.child())
	if err != nil {
		return nil, nil, nil, fmt.Errorf("router: %w", err)
	}
	nat, err := compute.NewRouterNat(ctx, name, &compute.RouterNatArgs{
		Project: b.project, Region: pulumi.String(b.a.Region), Router: router.Name,
		NatIpAllocateOption:           pulumi.String("AUTO_ONLY"),
		SourceSubnetworkIpRangesToNat: pulumi.String("ALL_SUBNETWORKS_ALL_IP_RANGES"),
		LogConfig:                     compute.RouterNatLogConfigArgs{Enable: pulumi.Bool(true), Filter: pulumi.String("ERRORS_ONLY")},
	}, b.child())
	if err != nil {
		return nil, nil, nil, fmt.Errorf("cloud nat: %w", err)
	}
	return network, subnet, nat, nil
}

// secretsKey creates the Cloud KMS key that encrypts Secrets in etcd and
// lets GKE's service agent use it. Key rings cannot be deleted: a destroyed
// stack leaves an empty ring behind.
func (b *clusterBuilder) secretsKey() (*kms.CryptoKey, pulumi.Resource, error) {
	ring, err := kms.NewKeyRing(b.ctx, b.name, &kms.KeyRingArgs{Project: b.project, Location: pulumi.String(b.a.Region)}, b.child())
	if err != nil {
		return nil, nil, fmt.Errorf("key ring: %w", err)
	}
	key, err := kms.NewCryptoKey(b.ctx, b.name+"-secrets", &kms.CryptoKeyArgs{
		KeyRing:        ring.ID(),
		Purpose:        pulumi.String("ENCRYPT_DECRYPT"),
		RotationPeriod: pulumi.String("7776000s"), // 90 days
		Labels:         b.labels,
	}, b.child(), pulumi.Protect(!b.a.AllowDeletion))
	if err != nil {
		return nil, nil, fmt.Errorf("secrets key: %w", err)
	}
	use, err := kms.NewCryptoKeyIAMMember(b.ctx, b.name+"-secrets-gke", &kms.CryptoKeyIAMMemberArgs{
		CryptoKeyId: key.ID(),
		Role:        pulumi.String("roles/cloudkms.cryptoKeyEncrypterDecrypter"),
		Member:      pulumi.Sprintf("serviceAccount:service-%s@container-engine-robot.iam.gserviceaccount.com", b.a.ProjectNumber),
	}, b.child())
	if err != nil {
		return nil, nil, fmt.Errorf("secrets key grant: %w", err)
	}
	return key, use, nil
}

// nodeAccount creates the nodes' least-privilege service account.
func (b *clusterBuilder) nodeAccount() (*serviceaccount.Account, []pulumi.Resource, error) {
	sa, err := serviceaccount.NewAccount(b.ctx, b.name+"-nodes", &serviceaccount.AccountArgs{
		Project:     b.project,
		AccountId:   pulumi.String(accountID(b.a.ClusterName + "-nodes")),
		DisplayName: pulumi.Sprintf("GKE nodes of %s", b.a.ClusterName),
	}, b.child())
	if err != nil {
		return nil, nil, fmt.Errorf("node service account: %w", err)
	}
	var grants []pulumi.Resource
	for _, role := range nodeRoles {
		g, err := projects.NewIAMMember(b.ctx, b.name+"-nodes-"+role[len("roles/"):], &projects.IAMMemberArgs{
			Project: b.project, Role: pulumi.String(role), Member: pulumi.Sprintf("serviceAccount:%s", sa.Email),
		}, b.child())
		if err != nil {
			return nil, nil, fmt.Errorf("node role %s: %w", role, err)
		}
		grants = append(grants, g)
	}
	return sa, grants, nil
}

// accountID shortens s to a service account ID (6 to 30 characters).
func accountID(s string) string {
	if len(s) > 30 {
		s = s[:30]
	}
	for len(s) > 0 && s[len(s)-1] == '-' {
		s = s[:len(s)-1]
	}
	return s
}

func (b *clusterBuilder) cluster(network *compute.Network, subnet *compute.Subnetwork, key *kms.CryptoKey, keyUse pulumi.Resource) (*container.Cluster, error) {
	a := b.a
	var cidrs container.ClusterMasterAuthorizedNetworksConfigCidrBlockArray
	for _, c := range a.MasterAuthorizedCIDRs {
		cidrs = append(cidrs, container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs{CidrBlock: pulumi.String(c), DisplayName: pulumi.String(c)})
	}
	cluster, err := container.NewCluster(b.ctx, b.name, &container.ClusterArgs{
		Project:               b.project,
		Name:                  pulumi.String(a.ClusterName),
		Location:              pulumi.String(a.Region), // regional: three control-plane replicas
		Network:               network.ID(),
		Subnetwork:            subnet.ID(),
		RemoveDefaultNodePool: pulumi.Bool(true),
		InitialNodeCount:      pulumi.Int(1),
		DeletionProtection:    pulumi.Bool(!a.AllowDeletion),
		ReleaseChannel:        container.ClusterReleaseChannelArgs{Channel: pulumi.String(a.ReleaseChannel)},
		DatapathProvider:      pulumi.String("ADVANCED_DATAPATH"), // Dataplane V2 enforces NetworkPolicies
		IpAllocationPolicy: container.ClusterIpAllocationPolicyArgs{
			ClusterSecondaryRangeName: pulumi.String("pods"), ServicesSecondaryRangeName: pulumi.String("services"),
		},
		PrivateClusterConfig: container.ClusterPrivateClusterConfigArgs{
			EnablePrivateNodes:    pulumi.Bool(true),
			EnablePrivateEndpoint: pulumi.Bool(a.PrivateEndpoint),
			MasterIpv4CidrBlock:   pulumi.String(a.Network.MasterCIDR),
		},
		MasterAuthorizedNetworksConfig: container.ClusterMasterAuthorizedNetworksConfigArgs{
			CidrBlocks: cidrs, GcpPublicCidrsAccessEnabled: pulumi.Bool(false),
		},
		MasterAuth: container.ClusterMasterAuthArgs{
			ClientCertificateConfig: container.ClusterMasterAuthClientCertificateConfigArgs{IssueClientCertificate: pulumi.Bool(false)},
		},
		WorkloadIdentityConfig: container.ClusterWorkloadIdentityConfigArgs{WorkloadPool: pulumi.Sprintf("%s.svc.id.goog", a.Project)},
		EnableShieldedNodes:    pulumi.Bool(true),
		// The Backup for GKE agent, which the infra program's backup plan
		// (backup.enabled) needs on the cluster.
		AddonsConfig: container.ClusterAddonsConfigArgs{
			GkeBackupAgentConfig: container.ClusterAddonsConfigGkeBackupAgentConfigArgs{Enabled: pulumi.Bool(true)},
		},
		DatabaseEncryption: container.ClusterDatabaseEncryptionArgs{State: pulumi.String("ENCRYPTED"), KeyName: key.ID()},
		LoggingConfig:      container.ClusterLoggingConfigArgs{EnableComponents: kube.StringArray(loggedComponents...)},
		MonitoringConfig: container.ClusterMonitoringConfigArgs{
			EnableComponents: kube.StringArray("SYSTEM_COMPONENTS", "APISERVER", "SCHEDULER", "CONTROLLER_MANAGER"),
		},
		ResourceLabels: b.labels,
	}, b.child(), pulumi.DependsOn([]pulumi.Resource{keyUse}))
	if err != nil {
		return nil, fmt.Errorf("gke cluster: %w", err)
	}
	return cluster, nil
}

func (b *clusterBuilder) nodePool(role string, p NodePool, cluster *container.Cluster, sa *serviceaccount.Account,
	gpus container.NodePoolNodeConfigGuestAcceleratorArray, taints container.NodePoolNodeConfigTaintArray, deps []pulumi.Resource) (*container.NodePool, error) {
	labels := map[string]string{"node-role": role}
	locationPolicy := "BALANCED"
	if gpus != nil {
		labels[GPULabel] = "true"
		locationPolicy = "ANY" // take GPUs in whichever zone has them
	}
	var zones pulumi.StringArrayInput
	if len(p.Zones) > 0 {
		zones = kube.StringArray(p.Zones...)
	}
	pool, err := container.NewNodePool(b.ctx, b.name+"-"+role, &container.NodePoolArgs{
		Project:       b.project,
		Location:      pulumi.String(b.a.Region),
		Cluster:       cluster.Name,
		NodeLocations: zones,
		Autoscaling: container.NodePoolAutoscalingArgs{
			TotalMinNodeCount: pulumi.Int(p.MinNodes), TotalMaxNodeCount: pulumi.Int(p.MaxNodes), LocationPolicy: pulumi.String(locationPolicy),
		},
		Management: container.NodePoolManagementArgs{AutoRepair: pulumi.Bool(true), AutoUpgrade: pulumi.Bool(true)},
		NodeConfig: container.NodePoolNodeConfigArgs{
			MachineType:            pulumi.String(p.MachineType),
			DiskSizeGb:             pulumi.Int(p.DiskSizeGB),
			DiskType:               pulumi.String("pd-balanced"),
			ImageType:              pulumi.String("COS_CONTAINERD"),
			Spot:                   pulumi.Bool(p.Spot),
			ServiceAccount:         sa.Email,
			OauthScopes:            kube.StringArray("https://www.googleapis.com/auth/cloud-platform"),
			ShieldedInstanceConfig: container.NodePoolNodeConfigShieldedInstanceConfigArgs{EnableSecureBoot: pulumi.Bool(true), EnableIntegrityMonitoring: pulumi.Bool(true)},
			WorkloadMetadataConfig: container.NodePoolNodeConfigWorkloadMetadataConfigArgs{Mode: pulumi.String("GKE_METADATA")},
			Metadata:               pulumi.StringMap{"disable-legacy-endpoints": pulumi.String("true")},
			GuestAccelerators:      gpus,
			Taints:                 taints,
			Labels:                 kube.StringMap(labels),
			ResourceLabels:         b.labels,
		},
	}, b.child(), pulumi.DependsOn(deps), pulumi.IgnoreChanges([]string{"initialNodeCount"}))
	if err != nil {
		return nil, fmt.Errorf("%s node pool: %w", role, err)
	}
	return pool, nil
}
