package aws

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// ClusterType is the EKS cluster component's type token.
const ClusterType = "mobile-mm-llm:aws:Cluster"

// GPU node defaults and the taint every GPU node carries (the workloads
// tolerate it; the k8s-gpu-toleration policy requires it).
const (
	// GPUTaintKey is the GPU nodes' taint key.
	GPUTaintKey = "nvidia.com/gpu"
	// GPUTaintValue is its value (effect NoSchedule).
	GPUTaintValue = "present"
	// GPULabel is the label GPU nodes carry and GPU pods select.
	GPULabel = "nvidia.com/gpu.present"
	// DefaultGPUAMIType is the EKS-optimized Amazon Linux 2023 AMI with the
	// NVIDIA driver and container toolkit.
	DefaultGPUAMIType = "AL2023_x86_64_NVIDIA"
	// DefaultKubernetesVersion is the EKS version when Args leave it empty.
	DefaultKubernetesVersion = "1.31"
)

// GPUAMITypes are the EKS AMI types with the NVIDIA driver.
var GPUAMITypes = []string{"AL2023_x86_64_NVIDIA", "AL2023_ARM_64_NVIDIA", "AL2_x86_64_GPU", "BOTTLEROCKET_x86_64_NVIDIA", "BOTTLEROCKET_ARM_64_NVIDIA"}

// controlPlaneLogs are the EKS control-plane logs the cluster ships (all of
// them; the policies require api, audit and authenticator).
var controlPlaneLogs = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}

// logRetentionDays are the retention periods CloudWatch Logs accepts.
var logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Nodes configures a managed node group.
type Nodes struct {
	// InstanceTypes are the EC2 instance types (the first that has capacity
	// is used).
	InstanceTypes []string
	// MinSize, MaxSize and DesiredSize bound the group; the cluster
	// autoscaler moves the size between them afterwards, so later changes
	// of DesiredSize are ignored. All three zero means the defaults.
	MinSize, MaxSize, DesiredSize int
	// DiskSize is the root volume in GiB (default 50, GPU nodes 100).
	DiskSize int
	// CapacityType is ON_DEMAND (default) or SPOT.
	CapacityType string
	// AMIType is the AMI type (GPU nodes: one of GPUAMITypes, default
	// DefaultGPUAMIType; system nodes: AL2023_x86_64_STANDARD).
	AMIType string
}

func (n Nodes) or(d Nodes) Nodes {
	if len(n.InstanceTypes) == 0 {
		n.InstanceTypes = d.InstanceTypes
	}
	if n.MinSize == 0 && n.MaxSize == 0 && n.DesiredSize == 0 {
		n.MinSize, n.MaxSize, n.DesiredSize = d.MinSize, d.MaxSize, d.DesiredSize
	}
	n.DiskSize = cmp.Or(n.DiskSize, d.DiskSize)
	n.CapacityType = cmp.Or(n.CapacityType, d.CapacityType)
	n.AMIType = cmp.Or(n.AMIType, d.AMIType)
	return n
}

// instanceType is an EC2 instance type name.
var instanceType = regexp.MustCompile(`^[a-z][a-z0-9-]*\.[a-z0-9]+$`)

func (n Nodes) check(c *kube.Checker, key string, amiTypes []string) {
	if len(n.InstanceTypes) == 0 {
		c.Failf(key+".InstanceTypes", "is required")
	}
	for _, t := range n.InstanceTypes {
		if !instanceType.MatchString(t) {
			c.Failf(key+".InstanceTypes", "%q is not an EC2 instance type such as g5.xlarge", t)
		}
	}
	checkBounds(c, key, n.MinSize, n.MaxSize, n.DesiredSize)
	c.Range(key+".DiskSize", n.DiskSize, 20, 16384)
	if !slices.Contains([]string{"ON_DEMAND", "SPOT"}, n.CapacityType) {
		c.Failf(key+".CapacityType", "is %q; use ON_DEMAND or SPOT", n.CapacityType)
	}
	if !slices.Contains(amiTypes, n.AMIType) {
		c.Failf(key+".AMIType", "is %q; use one of %v", n.AMIType, amiTypes)
	}
}

// checkBounds checks an autoscaling triple: 0 <= min <= desired <= max, max >= 1.
func checkBounds(c *kube.Checker, key string, minN, maxN, desired int) {
	switch {
	case minN < 0:
		c.Failf(key+".MinSize", "is %d; it must be at least 0", minN)
	case maxN < 1:
		c.Failf(key+".MaxSize", "is %d; it must be at least 1", maxN)
	case minN > maxN:
		c.Failf(key+".MinSize", "is %d, above %s.MaxSize (%d)", minN, key, maxN)
	case desired < minN || desired > maxN:
		c.Failf(key+".DesiredSize", "is %d, outside %s.MinSize..MaxSize (%d..%d)", desired, key, minN, maxN)
	}
}

// ClusterArgs configure an EKS cluster with its VPC, a system node group and
// a GPU node group. Region, Network.AvailabilityZones, PublicAccessCIDRs
// (unless PrivateEndpoint) and Tags are required.
type ClusterArgs struct {
	// Region is the cluster's region (the provider's); the kubeconfig asks
	// for tokens there.
	Region string
	// ClusterName is the EKS cluster's name (default: the component's name).
	ClusterName string
	// KubernetesVersion is the EKS version (default DefaultKubernetesVersion).
	KubernetesVersion string
	// Network is the VPC (ClusterName and Tags are filled in).
	Network NetworkArgs
	// PublicAccessCIDRs are the only networks allowed to reach the public
	// API endpoint (operators, CI). Never 0.0.0.0/0.
	PublicAccessCIDRs []string
	// PrivateEndpoint turns the public endpoint off: the API is reachable
	// only from the VPC (and peered networks, VPN), so Pulumi must run there.
	PrivateEndpoint bool
	// LogRetentionDays keeps control-plane logs this long (default 90).
	LogRetentionDays int
	// SystemNodes run cluster add-ons and operators (default 2..4
	// m6i.large, AL2023_x86_64_STANDARD).
	SystemNodes Nodes
	// GPUNodes are the tainted GPU nodes (default 1..4 g5.xlarge,
	// DefaultGPUAMIType, 100 GiB).
	GPUNodes Nodes
	// AdminRoleARNs get cluster-admin access entries (CI's deploy role);
	// whoever creates the cluster gets it too.
	AdminRoleARNs []string
	// KubeconfigRoleARN, if set, is the role the kubeconfig's aws eks
	// get-token assumes.
	KubeconfigRoleARN string
	// Tags are put on every resource; they must hold cloud.RequiredTags.
	Tags map[string]string
}

// prepare fills the defaults and validates the result.
func (args ClusterArgs) prepare(name string) (ClusterArgs, error) {
	a := args
	a.ClusterName = cmp.Or(a.ClusterName, name)
	a.KubernetesVersion = cmp.Or(a.KubernetesVersion, DefaultKubernetesVersion)
	a.LogRetentionDays = cmp.Or(a.LogRetentionDays, 90)
	a.Network = a.Network.withDefaults()
	a.Network.ClusterName = a.ClusterName
	a.Network.Tags = kube.Merge(a.Tags, a.Network.Tags)
	a.SystemNodes = a.SystemNodes.or(Nodes{InstanceTypes: []string{"m6i.large"}, MinSize: 2, MaxSize: 4, DesiredSize: 2,
		DiskSize: 50, CapacityType: "ON_DEMAND", AMIType: "AL2023_x86_64_STANDARD"})
	a.GPUNodes = a.GPUNodes.or(Nodes{InstanceTypes: []string{"g5.xlarge"}, MinSize: 1, MaxSize: 4, DesiredSize: 1,
		DiskSize: 100, CapacityType: "ON_DEMAND", AMIType: DefaultGPUAMIType})
	return a, a.validate()
}

var kubernetesVersion = regexp.MustCompile(`^1\.[0-9]{2}$`)

func (a ClusterArgs) validate() error {
	c := kube.NewChecker("aws.NewCluster")
	if !region.MatchString(a.Region) {
		c.Failf("Region", "%q is not an AWS region such as us-east-1", a.Region)
	}
	if !clusterName.MatchString(a.ClusterName) {
		c.Failf("ClusterName", "%q is not an EKS cluster name (letters, digits, '-' and '_', at most 100)", a.ClusterName)
	}
	if !kubernetesVersion.MatchString(a.KubernetesVersion) {
		c.Failf("KubernetesVersion", "%q is not an EKS version such as 1.31", a.KubernetesVersion)
	}
	a.Network.check(c, "Network.")
	for _, z := range a.Network.AvailabilityZones {
		if region.MatchString(a.Region) && (len(z) != len(a.Region)+1 || z[:len(a.Region)] != a.Region) {
			c.Failf("Network.AvailabilityZones", "%q is not a zone of %s", z, a.Region)
		}
	}
	cloud.CheckCIDRs(c, "PublicAccessCIDRs", a.PublicAccessCIDRs, !a.PrivateEndpoint)
	if !slices.Contains(logRetentionDays, a.LogRetentionDays) {
		c.Failf("LogRetentionDays", "is %d; CloudWatch accepts %v", a.LogRetentionDays, logRetentionDays)
	}
	a.SystemNodes.check(c, "SystemNodes", []string{"AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64"})
	a.GPUNodes.check(c, "GPUNodes", GPUAMITypes)
	for _, r := range append(slices.Clone(a.AdminRoleARNs), a.KubeconfigRoleARN) {
		if r != "" && !iamARN.MatchString(r) {
			c.Failf("AdminRoleARNs/KubeconfigRoleARN", "%q is not an IAM role or user ARN", r)
		}
	}
	cloud.CheckTags(c, "Tags", a.Tags, false)
	return c.Err()
}

// Cluster is an EKS cluster with its VPC, KMS key, OIDC provider, system
// and GPU node groups, and a Kubernetes provider for it.
type Cluster struct {
	pulumi.ResourceState
	cloud.Access

	// ClusterName is the EKS cluster's name.
	ClusterName pulumi.StringOutput `pulumi:"clusterName"`
	// Endpoint is the API server URL.
	Endpoint pulumi.StringOutput `pulumi:"endpoint"`
	// OIDCProviderARN and OIDCIssuerURL are for IRSA roles (IRSATrustPolicy).
	OIDCProviderARN pulumi.StringOutput `pulumi:"oidcProviderArn"`
	// OIDCIssuerURL is the cluster's service-account token issuer.
	OIDCIssuerURL pulumi.StringOutput `pulumi:"oidcIssuerUrl"`
	// ClusterSecurityGroupID is the security group EKS puts on the control
	// plane and the managed nodes (Redis admits it).
	ClusterSecurityGroupID pulumi.StringOutput `pulumi:"clusterSecurityGroupId"`
	// SecretsKeyARN is the KMS key encrypting Kubernetes Secrets.
	SecretsKeyARN pulumi.StringOutput `pulumi:"secretsKeyArn"`

	// Network is the cluster's VPC.
	Network *Network
}

var _ cloud.Cluster = (*Cluster)(nil)

// NewCluster creates the EKS cluster. Pass the region's AWS provider in opts.
func NewCluster(ctx *pulumi.Context, name string, args *ClusterArgs, opts ...pulumi.ResourceOption) (*Cluster, error) {
	comp := &Cluster{}
	return cloud.New(ctx, "aws.NewCluster", ClusterType, name, args, comp, opts, func(a ClusterArgs) (ClusterArgs, error) { return a.prepare(name) },
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

func (b *clusterBuilder) build() error {
	ctx, name, a := b.ctx, b.name, b.a
	network, err := newNetwork(ctx, name, a.Network, b.child())
	if err != nil {
		return err
	}
	b.comp.Network = network
	key, err := kms.NewKey(ctx, name+"-secrets", &kms.KeyArgs{
		Description:       pulumi.Sprintf("Envelope encryption of Kubernetes Secrets in EKS cluster %s", a.ClusterName),
		EnableKeyRotation: pulumi.Bool(true),
		Tags:              b.tags,
	}, b.child())
	if err != nil {
		return fmt.Errorf("secrets key: %w", err)
	}
	cluster, err := b.cluster(network, key)
	if err != nil {
		return err
	}
	oidc, err := iam.NewOpenIdConnectProvider(ctx, name+"-oidc", &iam.OpenIdConnectProviderArgs{
		Url:           cluster.Identities.Index(pulumi.Int(0)).Oidcs().Index(pulumi.Int(0)).Issuer().Elem(),
		ClientIdLists: pulumi.StringArray{pulumi.String("sts.amazonaws.com")},
		Tags:          b.tags,
	}, b.child())
	if err != nil {
		return fmt.Errorf("oidc provider: %w", err)
	}
	b.comp.OIDCProviderARN, b.comp.OIDCIssuerURL = oidc.Arn, oidc.Url.ApplyT(func(u string) string { return "https://" + strings.TrimPrefix(u, "https://") }).(pulumi.StringOutput)
	cni, err := b.cniAddon(cluster, oidc)
	if err != nil {
		return err
	}
	groups, err := b.nodeGroups(cluster, network, cni)
	if err != nil {
		return err
	}
	if err := b.accessEntries(cluster); err != nil {
		return err
	}
	b.comp.ClusterName, b.comp.Endpoint, b.comp.SecretsKeyARN = cluster.Name, cluster.Endpoint, key.Arn
	b.comp.ClusterSecurityGroupID = cluster.VpcConfig.ClusterSecurityGroupId().Elem()
	b.comp.Kubeconfig = pulumi.ToSecret(pulumi.All(cluster.Name, cluster.Endpoint, cluster.CertificateAuthority.Data().Elem()).ApplyT(
		func(v []any) (string, error) {
			return cloud.Kubeconfig(cloud.KubeconfigArgs{Name: v[0].(string), Server: v[1].(string), CAData: v[2].(string), Exec: b.exec(v[0].(string))})
		})).(pulumi.StringOutput)
	if b.comp.Provider, err = cloud.NewKubernetesProvider(ctx, name, b.comp.Kubeconfig, b.comp, groups...); err != nil {
		return err
	}
	return ctx.RegisterResourceOutputs(b.comp, pulumi.Map{
		"clusterName": b.comp.ClusterName, "endpoint": b.comp.Endpoint, "kubeconfig": b.comp.Kubeconfig,
		"oidcProviderArn": b.comp.OIDCProviderARN, "oidcIssuerUrl": b.comp.OIDCIssuerURL,
		"clusterSecurityGroupId": b.comp.ClusterSecurityGroupID, "secretsKeyArn": b.comp.SecretsKeyARN,
	})
}

// exec is the kubeconfig's credential plugin: the AWS CLI's eks get-token.
func (b *clusterBuilder) exec(cluster string) cloud.Exec {
	args := []string{"--region", b.a.Region, "eks", "get-token", "--cluster-name", cluster, "--output", "json"}
	if b.a.KubeconfigRoleARN != "" {
		args = append(args, "--role-arn", b.a.KubeconfigRoleARN)
	}
	return cloud.Exec{Command: "aws", Args: args, InstallHint: "the kubeconfig needs the AWS CLI v2 (aws) on PATH"}
}

func (b *clusterBuilder) cluster(network *Network, key *kms.Key) (*eks.Cluster, error) {
	ctx, name, a := b.ctx, b.name, b.a
	trust, err := assumeRolePolicy("eks.amazonaws.com")
	if err != nil {
		return nil, err
	}
	role, attached, err := newRole(ctx, name+"-cluster", pulumi.String(trust), b.tags, []string{"AmazonEKSClusterPolicy"}, b.child())
	if err != nil {
		return nil, err
	}
	// The default key policy delegates to IAM, so the cluster role needs
	// these to wrap and unwrap Secrets' data keys.
	keyUse, err := iam.NewRolePolicy(ctx, name+"-cluster-kms", &iam.RolePolicyArgs{
		Role: role.Name,
		Policy: key.Arn.ApplyT(func(arn string) (string, error) {
			return policyJSON(statement{Effect: "Allow", Action: []string{"kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey", "kms:CreateGrant"}, Resource: arn})
		}).(pulumi.StringOutput),
	}, b.child())
	if err != nil {
		return nil, fmt.Errorf("cluster role key policy: %w", err)
	}
	// EKS writes to this group; creating it first sets its retention.
	logs, err := cloudwatch.NewLogGroup(ctx, name+"-control-plane", &cloudwatch.LogGroupArgs{
		Name:            pulumi.Sprintf("/aws/eks/%s/cluster", a.ClusterName),
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		Tags:            b.tags,
	}, b.child())
	if err != nil {
		return nil, fmt.Errorf("control-plane log group: %w", err)
	}
	subnetIDs := pulumi.All(network.PrivateSubnetIDs, network.PublicSubnetIDs).ApplyT(func(v []any) []string {
		return append(slices.Clone(v[0].([]string)), v[1].([]string)...)
	}).(pulumi.StringArrayOutput)
	cidrs := pulumi.StringArray{}
	for _, c := range a.PublicAccessCIDRs {
		cidrs = append(cidrs, pulumi.String(c))
	}
	vpc := eks.ClusterVpcConfigArgs{
		SubnetIds:             subnetIDs,
		EndpointPrivateAccess: pulumi.Bool(true),
		EndpointPublicAccess:  pulumi.Bool(!a.PrivateEndpoint),
	}
	if !a.PrivateEndpoint {
		vpc.PublicAccessCidrs = cidrs
	}
	cluster, err := eks.NewCluster(ctx, name, &eks.ClusterArgs{
		Name:                   pulumi.String(a.ClusterName),
		Version:                pulumi.String(a.KubernetesVersion),
		RoleArn:                role.Arn,
		VpcConfig:              vpc,
		EnabledClusterLogTypes: kube.StringArray(controlPlaneLogs...),
		EncryptionConfig: eks.ClusterEncryptionConfigArgs{
			Provider:  eks.ClusterEncryptionConfigProviderArgs{KeyArn: key.Arn},
			Resources: kube.StringArray("secrets"),
		},
		AccessConfig: eks.ClusterAccessConfigArgs{
			AuthenticationMode:                      pulumi.String("API"),
			BootstrapClusterCreatorAdminPermissions: pulumi.Bool(true),
		},
		Tags: b.tags,
	}, b.child(), pulumi.DependsOn(append([]pulumi.Resource{keyUse, logs}, attached...)))
	if err != nil {
		return nil, fmt.Errorf("eks cluster: %w", err)
	}
	return cluster, nil
}

// cniAddon manages the VPC CNI as an EKS add-on whose aws-node service
// account assumes its own IRSA role, so the nodes' role needs no network
// permissions.
func (b *clusterBuilder) cniAddon(cluster *eks.Cluster, oidc *iam.OpenIdConnectProvider) (*eks.Addon, error) {
	trust := IRSATrustPolicy(oidc.Arn, oidc.Url, "kube-system", "aws-node")
	role, attached, err := newRole(b.ctx, b.name+"-vpc-cni", trust, b.tags, []string{"AmazonEKS_CNI_Policy"}, b.child())
	if err != nil {
		return nil, err
	}
	addon, err := eks.NewAddon(b.ctx, b.name+"-vpc-cni", &eks.AddonArgs{
		ClusterName:              cluster.Name,
		AddonName:                pulumi.String("vpc-cni"),
		ServiceAccountRoleArn:    role.Arn,
		ResolveConflictsOnCreate: pulumi.String("OVERWRITE"),
		ResolveConflictsOnUpdate: pulumi.String("OVERWRITE"),
		Tags:                     b.tags,
	}, b.child(), pulumi.DependsOn(attached))
	if err != nil {
		return nil, fmt.Errorf("vpc-cni add-on: %w", err)
	}
	return addon, nil
}

func (b *clusterBuilder) nodeGroups(cluster *eks.Cluster, network *Network, cni *eks.Addon) ([]pulumi.Resource, error) {
	trust, err := assumeRolePolicy("ec2.amazonaws.com")
	if err != nil {
		return nil, err
	}
	role, attached, err := newRole(b.ctx, b.name+"-nodes", pulumi.String(trust), b.tags,
		[]string{"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly"}, b.child())
	if err != nil {
		return nil, err
	}
	deps := append([]pulumi.Resource{cni}, attached...)
	system, err := b.nodeGroup("system", b.a.SystemNodes, cluster, network, role, nil, nil, deps)
	if err != nil {
		return nil, err
	}
	gpu, err := b.nodeGroup("gpu", b.a.GPUNodes, cluster, network, role,
		map[string]string{GPULabel: "true"},
		eks.NodeGroupTaintArray{eks.NodeGroupTaintArgs{Key: pulumi.String(GPUTaintKey), Value: pulumi.String(GPUTaintValue), Effect: pulumi.String("NO_SCHEDULE")}},
		deps)
	if err != nil {
		return nil, err
	}
	return []pulumi.Resource{system, gpu}, nil
}

func (b *clusterBuilder) nodeGroup(role string, n Nodes, cluster *eks.Cluster, network *Network, nodeRole *iam.Role,
	labels map[string]string, taints eks.NodeGroupTaintArray, deps []pulumi.Resource) (*eks.NodeGroup, error) {
	ng, err := eks.NewNodeGroup(b.ctx, b.name+"-"+role, &eks.NodeGroupArgs{
		ClusterName:   cluster.Name,
		NodeRoleArn:   nodeRole.Arn,
		SubnetIds:     network.PrivateSubnetIDs,
		InstanceTypes: kube.StringArray(n.InstanceTypes...),
		AmiType:       pulumi.String(n.AMIType),
		CapacityType:  pulumi.String(n.CapacityType),
		DiskSize:      pulumi.Int(n.DiskSize),
		ScalingConfig: eks.NodeGroupScalingConfigArgs{
			MinSize: pulumi.Int(n.MinSize), MaxSize: pulumi.Int(n.MaxSize), DesiredSize: pulumi.Int(n.DesiredSize),
		},
		UpdateConfig: eks.NodeGroupUpdateConfigArgs{MaxUnavailable: pulumi.Int(1)},
		Labels:       kube.StringMap(kube.Merge(map[string]string{"node-role": role}, labels)),
		Taints:       taints,
		Tags:         b.tags,
	}, b.child(), pulumi.DependsOn(deps), pulumi.IgnoreChanges([]string{"scalingConfig.desiredSize"}))
	if err != nil {
		return nil, fmt.Errorf("%s node group: %w", role, err)
	}
	return ng, nil
}

// accessEntries gives AdminRoleARNs cluster-admin through EKS access
// entries (the cluster uses the API authentication mode, no aws-auth).
func (b *clusterBuilder) accessEntries(cluster *eks.Cluster) error {
	for i, arn := range b.a.AdminRoleARNs {
		n := fmt.Sprintf("%s-admin-%d", b.name, i)
		entry, err := eks.NewAccessEntry(b.ctx, n, &eks.AccessEntryArgs{
			ClusterName: cluster.Name, PrincipalArn: pulumi.String(arn), Type: pulumi.String("STANDARD"), Tags: b.tags,
		}, b.child())
		if err != nil {
			return fmt.Errorf("access entry %s: %w", arn, err)
		}
		if _, err := eks.NewAccessPolicyAssociation(b.ctx, n, &eks.AccessPolicyAssociationArgs{
			ClusterName:  cluster.Name,
			PrincipalArn: entry.PrincipalArn,
			PolicyArn:    pulumi.String("arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"),
			AccessScope:  eks.AccessPolicyAssociationAccessScopeArgs{Type: pulumi.String("cluster")},
		}, b.child()); err != nil {
			return fmt.Errorf("access policy %s: %w", arn, err)
		}
	}
	return nil
}
