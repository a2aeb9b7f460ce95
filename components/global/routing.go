// Package global holds the global stack's component: DNS routing across the
// regional stacks, with a health check per region and weighted or
// latency-based Route 53 records that drop unhealthy regions. Manual
// failover is a config change (Region.Drained) and pulumi up, never a
// hand-edited record. Package cloud, below it, holds what the per-cloud
// components share.
package global

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// RoutingType is the routing component's type token.
const RoutingType = "mobile-mm-llm:global:Routing"

// Routing policies.
const (
	// Weighted splits traffic by Region.Weight (the guide's 40/35/25).
	Weighted = "weighted"
	// Latency sends each client to the region with the lowest latency
	// from its resolver (Region.LatencyRegion names that region in AWS's
	// terms, for regions on other clouds too).
	Latency = "latency"
)

// Region is one regional stack's public endpoint.
type Region struct {
	// Name identifies the region in records and health checks ("us-east").
	Name string
	// Endpoint is the region's API host name (its Ingress or load
	// balancer), e.g. from the regional stack's outputs through a
	// StackReference.
	Endpoint pulumi.StringInput
	// Weight is the region's share under Weighted, 0 to 255; the weights of
	// all regions sum to 100.
	Weight int
	// LatencyRegion is the AWS region closest to it (Latency policy):
	// us-east-1, eu-west-1, ap-southeast-1...
	LatencyRegion string
	// Drained takes the region out of DNS (weight 0, or no latency record)
	// while keeping its health check: the manual failover switch.
	Drained bool
}

// HealthCheck configures the per-region HTTPS health checks.
type HealthCheck struct {
	// Path is the request path (default /health, the server's liveness).
	Path string
	// Port is the HTTPS port (default 443).
	Port int
	// IntervalSeconds is 10 or 30 (default 30).
	IntervalSeconds int
	// FailureThreshold is the consecutive failures (and successes) that
	// flip the state, 1 to 10 (default 3).
	FailureThreshold int
}

// RoutingArgs configure global DNS for Domain in a Route 53 hosted zone.
// ZoneID, Domain, Regions and Tags are required.
type RoutingArgs struct {
	// ZoneID is the Route 53 hosted zone of Domain.
	ZoneID pulumi.StringInput
	// Domain is the API's name ("api.mobile-mm-llm.com"); a CNAME, so not
	// the zone apex.
	Domain string
	// Policy is Weighted (default) or Latency.
	Policy string
	// TTL of the records in seconds (default 60: clients follow a failover
	// within a minute of Route 53 noticing it).
	TTL int
	// HealthCheck configures the checks.
	HealthCheck HealthCheck
	// Regions are the regional endpoints.
	Regions []Region
	// Tags are put on the health checks; they must hold cloud.RequiredTags.
	Tags map[string]string
}

// Routing is the global DNS entry point.
type Routing struct {
	pulumi.ResourceState

	// FQDN is the name clients use.
	FQDN pulumi.StringOutput `pulumi:"fqdn"`
	// HealthCheckIDs are the Route 53 health checks by region name.
	HealthCheckIDs pulumi.StringMapOutput `pulumi:"healthCheckIds"`

	// Serving lists the regions that get traffic (not drained, weight
	// above zero), known when NewRouting returns.
	Serving []string
}

var (
	regionName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$`)
	awsRegion  = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`)
	domain     = regexp.MustCompile(`^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$`)
)

// prepare fills the defaults and validates the result.
func (args RoutingArgs) prepare() (RoutingArgs, error) {
	a := args
	a.Policy = cmp.Or(a.Policy, Weighted)
	a.TTL = cmp.Or(a.TTL, 60)
	h := &a.HealthCheck
	h.Path = cmp.Or(h.Path, "/health")
	h.Port = cmp.Or(h.Port, 443)
	h.IntervalSeconds = cmp.Or(h.IntervalSeconds, 30)
	h.FailureThreshold = cmp.Or(h.FailureThreshold, 3)
	return a, a.validate()
}

func (a RoutingArgs) validate() error {
	c := kube.NewChecker("global.NewRouting")
	if a.ZoneID == nil {
		c.Failf("ZoneID", "is required (the Route 53 hosted zone's ID)")
	}
	if !domain.MatchString(a.Domain) || len(a.Domain) > 253 {
		c.Failf("Domain", "%q is not a lower-case DNS name such as api.example.com", a.Domain)
	}
	if !slices.Contains([]string{Weighted, Latency}, a.Policy) {
		c.Failf("Policy", "is %q; use %s or %s", a.Policy, Weighted, Latency)
	}
	c.Range("TTL", a.TTL, 10, 86400)
	if len(a.HealthCheck.Path) == 0 || a.HealthCheck.Path[0] != '/' {
		c.Failf("HealthCheck.Path", "%q must start with /", a.HealthCheck.Path)
	}
	c.Port("HealthCheck.Port", a.HealthCheck.Port)
	if !slices.Contains([]int{10, 30}, a.HealthCheck.IntervalSeconds) {
		c.Failf("HealthCheck.IntervalSeconds", "is %d; Route 53 checks every 10 or 30 seconds", a.HealthCheck.IntervalSeconds)
	}
	c.Range("HealthCheck.FailureThreshold", a.HealthCheck.FailureThreshold, 1, 10)
	a.checkRegions(c)
	cloud.CheckTags(c, "Tags", a.Tags, false)
	return c.Err()
}

func (a RoutingArgs) checkRegions(c *kube.Checker) {
	if len(a.Regions) == 0 {
		c.Failf("Regions", "is required (at least one regional endpoint)")
		return
	}
	sum, serving := 0, 0
	for i, r := range a.Regions {
		key := fmt.Sprintf("Regions[%d]", i)
		if !regionName.MatchString(r.Name) || slices.IndexFunc(a.Regions, func(o Region) bool { return o.Name == r.Name }) != i {
			c.Failf(key+".Name", "%q is not a distinct lower-case name such as us-east", r.Name)
		}
		if r.Endpoint == nil {
			c.Failf(key+".Endpoint", "is required (the region's API host name)")
		}
		c.Range(key+".Weight", r.Weight, 0, 255)
		sum += r.Weight
		if a.Policy == Latency && !awsRegion.MatchString(r.LatencyRegion) {
			c.Failf(key+".LatencyRegion", "%q is not an AWS region; latency routing names the AWS region nearest to each endpoint", r.LatencyRegion)
		}
		if !r.Drained && (a.Policy == Latency || r.Weight > 0) {
			serving++
		}
	}
	if a.Policy == Weighted && sum != 100 {
		c.Failf("Regions[].Weight", "sum to %d; they must sum to 100 (drain a region with Drained, not by editing weights)", sum)
	}
	if serving == 0 {
		c.Failf("Regions[].Drained", "leaves no region serving; keep at least one")
	}
}

// NewRouting creates the health checks and records. Pass the AWS provider
// of the account that owns the hosted zone in opts.
func NewRouting(ctx *pulumi.Context, name string, args *RoutingArgs, opts ...pulumi.ResourceOption) (*Routing, error) {
	comp := &Routing{}
	return cloud.New(ctx, "global.NewRouting", RoutingType, name, args, comp, opts, RoutingArgs.prepare,
		func(a RoutingArgs) error { return buildRouting(ctx, name, a, comp) })
}

func buildRouting(ctx *pulumi.Context, name string, a RoutingArgs, comp *Routing) error {
	child := pulumi.Parent(comp)
	checks := pulumi.StringMap{}
	for _, r := range a.Regions {
		n := name + "-" + r.Name
		hc, err := route53.NewHealthCheck(ctx, n, &route53.HealthCheckArgs{
			Type:             pulumi.String("HTTPS"),
			Fqdn:             r.Endpoint,
			Port:             pulumi.Int(a.HealthCheck.Port),
			ResourcePath:     pulumi.String(a.HealthCheck.Path),
			RequestInterval:  pulumi.Int(a.HealthCheck.IntervalSeconds),
			FailureThreshold: pulumi.Int(a.HealthCheck.FailureThreshold),
			EnableSni:        pulumi.Bool(true),
			MeasureLatency:   pulumi.Bool(true),
			Tags:             cloud.WithTags(a.Tags, map[string]string{"Name": n}),
		}, child)
		if err != nil {
			return fmt.Errorf("health check %s: %w", r.Name, err)
		}
		checks[r.Name] = hc.ID()
		rec := &route53.RecordArgs{
			ZoneId:        a.ZoneID,
			Name:          pulumi.String(a.Domain),
			Type:          pulumi.String("CNAME"),
			Ttl:           pulumi.Int(a.TTL),
			Records:       pulumi.StringArray{r.Endpoint},
			SetIdentifier: pulumi.String(r.Name),
			HealthCheckId: hc.ID(),
		}
		switch {
		case a.Policy == Weighted:
			weight := r.Weight
			if r.Drained {
				weight = 0
			}
			rec.WeightedRoutingPolicies = route53.RecordWeightedRoutingPolicyArray{route53.RecordWeightedRoutingPolicyArgs{Weight: pulumi.Int(weight)}}
		case r.Drained:
			continue // a latency record would still attract its nearest clients
		default:
			rec.LatencyRoutingPolicies = route53.RecordLatencyRoutingPolicyArray{route53.RecordLatencyRoutingPolicyArgs{Region: pulumi.String(r.LatencyRegion)}}
		}
		if !r.Drained && (a.Policy == Latency || r.Weight > 0) {
			comp.Serving = append(comp.Serving, r.Name)
		}
		if _, err := route53.NewRecord(ctx, n, rec, child); err != nil {
			return fmt.Errorf("record %s: %w", r.Name, err)
		}
	}
	comp.FQDN = pulumi.String(a.Domain).ToStringOutput()
	comp.HealthCheckIDs = checks.ToStringMapOutput()
	return ctx.RegisterResourceOutputs(comp, pulumi.Map{"fqdn": comp.FQDN, "healthCheckIds": comp.HealthCheckIDs})
}
