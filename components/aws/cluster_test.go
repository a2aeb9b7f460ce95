package aws

import (
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud/cloudtest"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/internal/mocktest"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func clusterArgs() *ClusterArgs {
	return &ClusterArgs{
		Region:            "us-east-1",
		Network:           NetworkArgs{AvailabilityZones: []string{"us-east-1a", "us-east-1b", "us-east-1c"}},
		PublicAccessCIDRs: []string{"203.0.113.0/24"},
		GPUNodes:          Nodes{InstanceTypes: []string{"g6.2xlarge"}, MinSize: 0, MaxSize: 6, DesiredSize: 2},
		AdminRoleARNs:     []string{"arn:aws:iam::123456789012:role/ci-deploy"},
		Tags:              tags,
	}
}

func runCluster(t *testing.T, args *ClusterArgs) (*cloudtest.Mocks, *Cluster) {
	t.Helper()
	m := newMocks()
	return m, cloudtest.MustConstruct(t, m, NewCluster, "prod-us-east-1", args)
}

func TestClusterEKS(t *testing.T) {
	m, comp := runCluster(t, clusterArgs())
	eks := cloudtest.One(t, m.Mocks, "aws:eks/cluster:Cluster", "prod-us-east-1").Plain()
	require.Equal(t, "prod-us-east-1", eks["name"])
	require.Equal(t, DefaultKubernetesVersion, eks["version"])
	require.Equal(t, map[string]any{
		"endpointPrivateAccess": true, "endpointPublicAccess": true,
		"publicAccessCidrs": []any{"203.0.113.0/24"},
		"subnetIds":         mocktest.At(eks, "vpcConfig", "subnetIds"),
	}, eks["vpcConfig"])
	require.Len(t, mocktest.At(eks, "vpcConfig", "subnetIds"), 6, "three private and three public subnets")
	require.Equal(t, []any{"secrets"}, mocktest.At(eks, "encryptionConfig", "resources"))
	require.Equal(t, "arn:aws:kms::123456789012:prod-us-east-1-secrets", mocktest.At(eks, "encryptionConfig", "provider", "keyArn"))
	require.Equal(t, []any{"api", "audit", "authenticator", "controllerManager", "scheduler"}, eks["enabledClusterLogTypes"])
	require.Equal(t, "API", mocktest.At(eks, "accessConfig", "authenticationMode"))

	key := cloudtest.One(t, m.Mocks, "aws:kms/key:Key", "prod-us-east-1-secrets").Plain()
	require.Equal(t, true, key["enableKeyRotation"])
	logs := cloudtest.One(t, m.Mocks, "aws:cloudwatch/logGroup:LogGroup", "prod-us-east-1-control-plane").Plain()
	require.Equal(t, "/aws/eks/prod-us-east-1/cluster", logs["name"])
	require.Equal(t, 90.0, logs["retentionInDays"])
	kmsPolicy := cloudtest.One(t, m.Mocks, "aws:iam/rolePolicy:RolePolicy", "prod-us-east-1-cluster-kms").Plain()
	require.Contains(t, kmsPolicy["policy"], `"Resource":"arn:aws:kms::123456789012:prod-us-east-1-secrets"`)

	// IRSA: the OIDC provider trusts the cluster's issuer, and the VPC CNI's
	// role trusts only kube-system/aws-node through it.
	oidc := cloudtest.One(t, m.Mocks, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "prod-us-east-1-oidc").Plain()
	require.Equal(t, issuer, oidc["url"])
	require.Equal(t, []any{"sts.amazonaws.com"}, oidc["clientIdLists"])
	cniRole := cloudtest.One(t, m.Mocks, "aws:iam/role:Role", "prod-us-east-1-vpc-cni").Plain()
	var trust struct {
		Statement []struct {
			Principal map[string]string
			Action    string
			Condition map[string]map[string]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(cniRole["assumeRolePolicy"].(string)), &trust))
	host := "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
	require.Equal(t, "arn:aws:iam::123456789012:oidc-provider/"+host, trust.Statement[0].Principal["Federated"])
	require.Equal(t, "sts:AssumeRoleWithWebIdentity", trust.Statement[0].Action)
	require.Equal(t, map[string]string{host + ":sub": "system:serviceaccount:kube-system:aws-node", host + ":aud": "sts.amazonaws.com"},
		trust.Statement[0].Condition["StringEquals"])
	addon := cloudtest.One(t, m.Mocks, "aws:eks/addon:Addon", "prod-us-east-1-vpc-cni").Plain()
	require.Equal(t, "arn:aws:iam::123456789012:prod-us-east-1-vpc-cni", addon["serviceAccountRoleArn"])

	gpu := cloudtest.One(t, m.Mocks, "aws:eks/nodeGroup:NodeGroup", "prod-us-east-1-gpu").Plain()
	require.Equal(t, DefaultGPUAMIType, gpu["amiType"])
	require.Equal(t, []any{"g6.2xlarge"}, gpu["instanceTypes"])
	require.Equal(t, map[string]any{"minSize": 0.0, "maxSize": 6.0, "desiredSize": 2.0}, gpu["scalingConfig"])
	require.Equal(t, []any{map[string]any{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}}, gpu["taints"])
	require.Equal(t, "true", mocktest.At(gpu, "labels", GPULabel))
	require.Equal(t, 100.0, gpu["diskSize"])
	system := cloudtest.One(t, m.Mocks, "aws:eks/nodeGroup:NodeGroup", "prod-us-east-1-system").Plain()
	require.Nil(t, system["taints"], "add-ons run on untainted nodes")
	require.Equal(t, map[string]any{"minSize": 2.0, "maxSize": 4.0, "desiredSize": 2.0}, system["scalingConfig"])
	require.Len(t, m.OfType("aws:iam/rolePolicyAttachment:RolePolicyAttachment"), 4, "cluster policy, CNI policy, worker and ECR read-only")

	admin := cloudtest.One(t, m.Mocks, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "prod-us-east-1-admin-0").Plain()
	require.Equal(t, "arn:aws:iam::123456789012:role/ci-deploy", admin["principalArn"])
	require.Equal(t, map[string]any{"type": "cluster"}, admin["accessScope"])

	// The kubeconfig asks aws eks get-token for this cluster, is secret,
	// and configures the provider parented to the component.
	prov := cloudtest.One(t, m.Mocks, "pulumi:providers:kubernetes", "prod-us-east-1-k8s")
	require.True(t, prov.Inputs["kubeconfig"].ContainsSecrets())
	require.Equal(t, cloudtest.One(t, m.Mocks, ClusterType, "prod-us-east-1").URN, prov.Parent)
	require.NotNil(t, comp.KubernetesProvider())
	var kc struct {
		Clusters []struct {
			Cluster map[string]string
		}
		Users []struct {
			User struct {
				Exec struct {
					Command string
					Args    []string
				}
			}
		}
	}
	require.NoError(t, yaml.Unmarshal([]byte(prov.Plain()["kubeconfig"].(string)), &kc))
	require.Equal(t, "https://EXAMPLE.gr7.us-east-1.eks.amazonaws.com", kc.Clusters[0].Cluster["server"])
	require.Equal(t, "Q0EtREFUQQ==", kc.Clusters[0].Cluster["certificate-authority-data"])
	require.Equal(t, "aws", kc.Users[0].User.Exec.Command)
	require.Equal(t, []string{"--region", "us-east-1", "eks", "get-token", "--cluster-name", "prod-us-east-1", "--output", "json"}, kc.Users[0].User.Exec.Args)
	require.Equal(t, "sg-cluster", cloudtest.Await[string](t, comp.ClusterSecurityGroupID))

	cloudtest.RequireParented(t, m.Mocks, "prod-us-east-1")
	m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule")
}

func TestClusterNetwork(t *testing.T) {
	m, comp := runCluster(t, clusterArgs())
	require.Equal(t, []string{"10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18"}, comp.Network.PrivateCIDRs)
	require.Equal(t, []string{"10.0.192.0/22", "10.0.196.0/22", "10.0.200.0/22"}, comp.Network.PublicCIDRs)
	for i, zone := range []string{"us-east-1a", "us-east-1b", "us-east-1c"} {
		priv := cloudtest.One(t, m.Mocks, "aws:ec2/subnet:Subnet", "prod-us-east-1-private-"+zone).Plain()
		require.Equal(t, zone, priv["availabilityZone"])
		require.Equal(t, comp.Network.PrivateCIDRs[i], priv["cidrBlock"])
		require.Equal(t, "1", mocktest.At(priv, "tags", "kubernetes.io/role/internal-elb"))
		require.Equal(t, "shared", mocktest.At(priv, "tags", "kubernetes.io/cluster/prod-us-east-1"))
		require.Equal(t, "ml-serving", mocktest.At(priv, "tags", "cost-center"))
		rt := cloudtest.One(t, m.Mocks, "aws:ec2/routeTable:RouteTable", "prod-us-east-1-private-"+zone).Plain()
		require.Equal(t, "prod-us-east-1-nat-"+zone+"-id", mocktest.At(rt, "routes", 0, "natGatewayId"), "each zone egresses through its own NAT")
	}
	require.Len(t, m.OfType("aws:ec2/natGateway:NatGateway"), 3)

	args := clusterArgs()
	args.Network.SingleNATGateway = true
	m, _ = runCluster(t, args)
	require.Len(t, m.OfType("aws:ec2/natGateway:NatGateway"), 1)
	rt := cloudtest.One(t, m.Mocks, "aws:ec2/routeTable:RouteTable", "prod-us-east-1-private-us-east-1c").Plain()
	require.Equal(t, "prod-us-east-1-nat-us-east-1a-id", mocktest.At(rt, "routes", 0, "natGatewayId"))
}

func TestClusterPrivateEndpoint(t *testing.T) {
	args := clusterArgs()
	args.PrivateEndpoint, args.PublicAccessCIDRs = true, nil
	m, _ := runCluster(t, args)
	eks := cloudtest.One(t, m.Mocks, "aws:eks/cluster:Cluster", "prod-us-east-1").Plain()
	require.Equal(t, false, mocktest.At(eks, "vpcConfig", "endpointPublicAccess"))
	require.Nil(t, mocktest.At(eks, "vpcConfig", "publicAccessCidrs"))
	m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule")
}

func TestSubnet(t *testing.T) {
	tests := []struct {
		base    string
		bits, i int
		want    string
	}{
		{"10.0.0.0/16", 2, 0, "10.0.0.0/18"},
		{"10.0.0.0/16", 2, 3, "10.0.192.0/18"},
		{"10.0.192.0/18", 4, 15, "10.0.252.0/22"},
		{"172.16.0.0/20", 2, 1, "172.16.4.0/22"},
	}
	for _, tt := range tests {
		got, err := subnet(netip.MustParsePrefix(tt.base), tt.bits, tt.i)
		require.NoError(t, err)
		require.Equal(t, tt.want, got.String(), "%s +%d #%d", tt.base, tt.bits, tt.i)
	}
	_, err := subnet(netip.MustParsePrefix("10.0.0.0/16"), 2, 4)
	require.Error(t, err)
	_, err = subnet(netip.MustParsePrefix("10.0.0.0/30"), 4, 0)
	require.Error(t, err)
}

func TestClusterRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *ClusterArgs)
		want   string
	}{
		{"no region", func(a *ClusterArgs) { a.Region = "" }, "Region:"},
		{"one zone", func(a *ClusterArgs) { a.Network.AvailabilityZones = []string{"us-east-1a"} }, "Network.AvailabilityZones: has 1 zones"},
		{"foreign zone", func(a *ClusterArgs) { a.Network.AvailabilityZones[1] = "eu-west-1b" }, `"eu-west-1b" is not a zone of us-east-1`},
		{"bad cidr", func(a *ClusterArgs) { a.Network.CIDR = "10.0.0.0/24" }, "Network.CIDR:"},
		{"open endpoint", func(a *ClusterArgs) { a.PublicAccessCIDRs = []string{"0.0.0.0/0"} }, "PublicAccessCIDRs: \"0.0.0.0/0\" opens"},
		{"no cidrs", func(a *ClusterArgs) { a.PublicAccessCIDRs = nil }, "PublicAccessCIDRs: is required"},
		{"min above max", func(a *ClusterArgs) { a.GPUNodes.MinSize, a.GPUNodes.MaxSize = 5, 3 }, "GPUNodes.MinSize: is 5, above GPUNodes.MaxSize (3)"},
		{"desired outside", func(a *ClusterArgs) { a.GPUNodes.DesiredSize = 9 }, "GPUNodes.DesiredSize: is 9"},
		{"cpu ami for gpus", func(a *ClusterArgs) { a.GPUNodes.AMIType = "AL2023_x86_64_STANDARD" }, "GPUNodes.AMIType:"},
		{"spot typo", func(a *ClusterArgs) { a.GPUNodes.CapacityType = "spot" }, "GPUNodes.CapacityType:"},
		{"retention", func(a *ClusterArgs) { a.LogRetentionDays = 10 }, "LogRetentionDays: is 10"},
		{"version", func(a *ClusterArgs) { a.KubernetesVersion = "latest" }, "KubernetesVersion:"},
		{"admin arn", func(a *ClusterArgs) { a.AdminRoleARNs = []string{"ci-deploy"} }, "AdminRoleARNs/KubeconfigRoleARN:"},
		{"no tags", func(a *ClusterArgs) { a.Tags = map[string]string{"owner": "x"} }, "Tags: lacks environment, cost-center"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := clusterArgs()
			tt.mutate(args)
			mocktest.RequireRejected(t, mocktest.Construct(NewCluster, "prod-us-east-1", args), "aws.NewCluster: invalid args", tt.want)
		})
	}
	mocktest.RequireRejected(t, mocktest.Construct(NewCluster, "prod-us-east-1", nil), "aws.NewCluster: args are required")
}
