package aws

import (
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud/cloudtest"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/internal/mocktest"
	"github.com/stretchr/testify/require"
)

func TestNewNetwork(t *testing.T) {
	args := &NetworkArgs{CIDR: "172.20.0.0/20", AvailabilityZones: []string{"eu-west-1a", "eu-west-1b"}, SingleNATGateway: true, Tags: tags}
	m := newMocks()
	n := cloudtest.MustConstruct(t, m, NewNetwork, "dev", args)
	require.Equal(t, []string{"172.20.0.0/22", "172.20.4.0/22"}, n.PrivateCIDRs)
	require.Equal(t, []string{"172.20.12.0/26", "172.20.12.64/26"}, n.PublicCIDRs)
	require.Len(t, m.OfType("aws:ec2/subnet:Subnet"), 4)
	require.Len(t, m.OfType("aws:ec2/natGateway:NatGateway"), 1)
	vpc := cloudtest.One(t, m.Mocks, "aws:ec2/vpc:Vpc", "dev-vpc").Plain()
	require.Equal(t, "172.20.0.0/20", vpc["cidrBlock"])
	require.Equal(t, true, vpc["enableDnsHostnames"])
	pub := cloudtest.One(t, m.Mocks, "aws:ec2/subnet:Subnet", "dev-public-eu-west-1a").Plain()
	require.Equal(t, false, pub["mapPublicIpOnLaunch"])
	for k := range pub["tags"].(map[string]any) {
		require.NotContains(t, k, "kubernetes.io/cluster/", "no cluster tag without ClusterName")
	}
	require.Equal(t, "1", mocktest.At(pub, "tags", "kubernetes.io/role/elb"))
	require.Equal(t, []string{"dev-private-eu-west-1a-id", "dev-private-eu-west-1b-id"}, cloudtest.Await[[]string](t, n.PrivateSubnetIDs.ToStringArrayOutput()))
	cloudtest.RequireParented(t, m.Mocks, "dev")
	m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule")

	bad := *args
	bad.CIDR, bad.AvailabilityZones = "10.0.0.0/8", []string{"eu-west-1a", "eu-west-1a", "eu-west-1b", "eu-west-1c"}
	mocktest.RequireRejected(t, mocktest.Construct(NewNetwork, "dev", &bad), "aws.NewNetwork: invalid args", "CIDR:", "AvailabilityZones: has 4 zones", `"eu-west-1a" is not a distinct zone`)
}
