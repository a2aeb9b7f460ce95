// Package aws holds the project's AWS components: the VPC and the EKS GPU
// cluster, ElastiCache Redis and the replicated model bucket. They take the
// AWS provider of their region through the resource options (pulumi.Provider
// or pulumi.Providers) and make no invokes: availability zones and account
// facts come in through Args, so bad config fails at preview and the
// components run under mocks as they do in a deployment.
package aws

import (
	"cmp"
	"fmt"
	"net/netip"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// NetworkType is the Network component's type token.
const NetworkType = "mobile-mm-llm:aws:Network"

// NetworkArgs configure a VPC with a public and a private subnet in each of
// two or three availability zones.
type NetworkArgs struct {
	// CIDR is the VPC's IPv4 block, /16 to /20 (default 10.0.0.0/16). The
	// first three quarters hold the private subnets (one per zone, where the
	// nodes and pods get their addresses); the last quarter's first
	// sixteenths hold the public ones (NAT gateways, load balancers).
	CIDR string
	// AvailabilityZones are two or three zones of the region ("us-east-1a").
	// They come from config, not from an invoke: a region's zone names are
	// stable, and the choice (GPU capacity differs by zone) is the operator's.
	AvailabilityZones []string
	// SingleNATGateway puts one NAT gateway in the first zone instead of one
	// per zone: cheaper, but the private subnets lose egress when that zone
	// fails. For non-production stacks.
	SingleNATGateway bool
	// ClusterName, when set, adds the kubernetes.io/cluster/NAME tag that
	// the AWS load balancer controller discovers subnets by.
	ClusterName string
	// Tags are put on every resource; they must hold cloud.RequiredTags.
	Tags map[string]string
}

// Network is a VPC with public and private subnets across zones, an
// internet gateway and NAT gateways.
type Network struct {
	pulumi.ResourceState

	// VpcID is the VPC's ID.
	VpcID pulumi.StringOutput `pulumi:"vpcId"`
	// PrivateSubnetIDs are the private subnets, in zone order.
	PrivateSubnetIDs pulumi.StringArrayOutput `pulumi:"privateSubnetIds"`
	// PublicSubnetIDs are the public subnets, in zone order.
	PublicSubnetIDs pulumi.StringArrayOutput `pulumi:"publicSubnetIds"`

	// PrivateCIDRs and PublicCIDRs are the subnets' blocks, known when
	// NewNetwork returns.
	PrivateCIDRs, PublicCIDRs []string
}

func (a NetworkArgs) withDefaults() NetworkArgs {
	a.CIDR = cmp.Or(a.CIDR, "10.0.0.0/16")
	return a
}

// check records a's problems under prefix ("Network.").
func (a NetworkArgs) check(c *kube.Checker, prefix string) {
	if p, err := netip.ParsePrefix(a.CIDR); err != nil || !p.Addr().Is4() || p.Masked() != p || p.Bits() < 16 || p.Bits() > 20 {
		c.Failf(prefix+"CIDR", "%q is not an IPv4 network from /16 to /20 such as 10.0.0.0/16", a.CIDR)
	}
	if n := len(a.AvailabilityZones); n < 2 || n > 3 {
		c.Failf(prefix+"AvailabilityZones", "has %d zones; give 2 or 3 zones of the region (EKS needs two)", n)
	}
	seen := map[string]bool{}
	for _, z := range a.AvailabilityZones {
		if !availabilityZone.MatchString(z) || seen[z] {
			c.Failf(prefix+"AvailabilityZones", "%q is not a distinct zone name such as us-east-1a", z)
		}
		seen[z] = true
	}
	cloud.CheckTags(c, prefix+"Tags", a.Tags, false)
}

// subnets splits the VPC block: private subnet i is quarter i, public
// subnet i is the i-th sixteenth of the last quarter.
func subnets(cidr string, zones int) (private, public []string, err error) {
	vpc, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, nil, fmt.Errorf("CIDR %q: %w", cidr, err)
	}
	last, err := subnet(vpc, 2, 3)
	if err != nil {
		return nil, nil, err
	}
	for i := range zones {
		p, err := subnet(vpc, 2, i)
		if err != nil {
			return nil, nil, err
		}
		q, err := subnet(last, 4, i)
		if err != nil {
			return nil, nil, err
		}
		private, public = append(private, p.String()), append(public, q.String())
	}
	return private, public, nil
}

// subnet returns the index-th block of base lengthened by newBits (what
// Terraform calls cidrsubnet), for IPv4.
func subnet(base netip.Prefix, newBits, index int) (netip.Prefix, error) {
	bits := base.Bits() + newBits
	if !base.Addr().Is4() || bits > 32 || index < 0 || index >= 1<<newBits {
		return netip.Prefix{}, fmt.Errorf("no subnet %d of /%d in %s", index, bits, base)
	}
	a := base.Masked().Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= uint32(index) << (32 - bits)
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), bits), nil
}

// NewNetwork creates the VPC. Pass the region's AWS provider in opts.
func NewNetwork(ctx *pulumi.Context, name string, args *NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	comp := &Network{}
	return cloud.New(ctx, "aws.NewNetwork", NetworkType, name, args, comp, opts,
		func(a NetworkArgs) (NetworkArgs, error) {
			a = a.withDefaults()
			c := kube.NewChecker("aws.NewNetwork")
			a.check(c, "")
			return a, c.Err()
		},
		func(a NetworkArgs) error { return buildNetwork(ctx, name, a, comp) })
}

// newNetwork creates a Network from checked Args (for aws.NewCluster).
func newNetwork(ctx *pulumi.Context, name string, a NetworkArgs, opts ...pulumi.ResourceOption) (*Network, error) {
	comp := &Network{}
	if err := ctx.RegisterComponentResource(NetworkType, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	if err := buildNetwork(ctx, name, a, comp); err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	return comp, nil
}

func buildNetwork(ctx *pulumi.Context, name string, a NetworkArgs, comp *Network) error {
	var err error
	if comp.PrivateCIDRs, comp.PublicCIDRs, err = subnets(a.CIDR, len(a.AvailabilityZones)); err != nil {
		return err
	}
	child := pulumi.Parent(comp)
	tags := func(n string, extra map[string]string) pulumi.StringMap {
		return cloud.WithTags(a.Tags, kube.Merge(map[string]string{"Name": n}, extra))
	}
	vpc, err := ec2.NewVpc(ctx, name+"-vpc", &ec2.VpcArgs{
		CidrBlock:          pulumi.String(a.CIDR),
		EnableDnsHostnames: pulumi.Bool(true), // EKS nodes and private endpoints need DNS names
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               tags(name, nil),
	}, child)
	if err != nil {
		return fmt.Errorf("vpc: %w", err)
	}
	igw, err := ec2.NewInternetGateway(ctx, name+"-igw", &ec2.InternetGatewayArgs{VpcId: vpc.ID(), Tags: tags(name, nil)}, child)
	if err != nil {
		return fmt.Errorf("internet gateway: %w", err)
	}
	publicRT, err := ec2.NewRouteTable(ctx, name+"-public", &ec2.RouteTableArgs{
		VpcId:  vpc.ID(),
		Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID()}},
		Tags:   tags(name+"-public", nil),
	}, child)
	if err != nil {
		return fmt.Errorf("public route table: %w", err)
	}
	clusterTag := map[string]string{}
	if a.ClusterName != "" {
		clusterTag["kubernetes.io/cluster/"+a.ClusterName] = "shared"
	}
	var privateIDs, publicIDs pulumi.StringArray
	var nats []*ec2.NatGateway
	for i, zone := range a.AvailabilityZones {
		n := fmt.Sprintf("%s-public-%s", name, zone)
		pub, err := ec2.NewSubnet(ctx, n, &ec2.SubnetArgs{
			VpcId: vpc.ID(), AvailabilityZone: pulumi.String(zone), CidrBlock: pulumi.String(comp.PublicCIDRs[i]),
			MapPublicIpOnLaunch: pulumi.Bool(false), // nothing launched here needs a public address but the NAT's EIP
			Tags:                tags(n, kube.Merge(clusterTag, map[string]string{"kubernetes.io/role/elb": "1"})),
		}, child)
		if err != nil {
			return fmt.Errorf("public subnet %s: %w", zone, err)
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, n, &ec2.RouteTableAssociationArgs{SubnetId: pub.ID(), RouteTableId: publicRT.ID()}, child); err != nil {
			return fmt.Errorf("public route %s: %w", zone, err)
		}
		publicIDs = append(publicIDs, pub.ID())
		if i == 0 || !a.SingleNATGateway {
			eip, err := ec2.NewEip(ctx, fmt.Sprintf("%s-nat-%s", name, zone), &ec2.EipArgs{Domain: pulumi.String("vpc"), Tags: tags(name+"-nat-"+zone, nil)},
				child, pulumi.DependsOn([]pulumi.Resource{igw}))
			if err != nil {
				return fmt.Errorf("nat address %s: %w", zone, err)
			}
			nat, err := ec2.NewNatGateway(ctx, fmt.Sprintf("%s-nat-%s", name, zone), &ec2.NatGatewayArgs{
				AllocationId: eip.ID(), SubnetId: pub.ID(), Tags: tags(name+"-nat-"+zone, nil),
			}, child)
			if err != nil {
				return fmt.Errorf("nat gateway %s: %w", zone, err)
			}
			nats = append(nats, nat)
		}
	}
	for i, zone := range a.AvailabilityZones {
		n := fmt.Sprintf("%s-private-%s", name, zone)
		priv, err := ec2.NewSubnet(ctx, n, &ec2.SubnetArgs{
			VpcId: vpc.ID(), AvailabilityZone: pulumi.String(zone), CidrBlock: pulumi.String(comp.PrivateCIDRs[i]),
			Tags: tags(n, kube.Merge(clusterTag, map[string]string{"kubernetes.io/role/internal-elb": "1"})),
		}, child)
		if err != nil {
			return fmt.Errorf("private subnet %s: %w", zone, err)
		}
		nat := nats[min(i, len(nats)-1)]
		rt, err := ec2.NewRouteTable(ctx, n, &ec2.RouteTableArgs{
			VpcId:  vpc.ID(),
			Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: nat.ID()}},
			Tags:   tags(n, nil),
		}, child)
		if err != nil {
			return fmt.Errorf("private route table %s: %w", zone, err)
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, n, &ec2.RouteTableAssociationArgs{SubnetId: priv.ID(), RouteTableId: rt.ID()}, child); err != nil {
			return fmt.Errorf("private route %s: %w", zone, err)
		}
		privateIDs = append(privateIDs, priv.ID())
	}
	comp.VpcID = vpc.ID().ToStringOutput()
	comp.PrivateSubnetIDs = privateIDs.ToStringArrayOutput()
	comp.PublicSubnetIDs = publicIDs.ToStringArrayOutput()
	return ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"vpcId": comp.VpcID, "privateSubnetIds": comp.PrivateSubnetIDs, "publicSubnetIds": comp.PublicSubnetIDs,
	})
}
