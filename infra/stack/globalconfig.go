package stack

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// RoutingConfig is the key routing, which makes a stack the global stack:
// DNS routing across the regional stacks (global.NewRouting), whose
// endpoints it reads through pulumi.StackReference, and a CloudWatch alarm
// per region's health check.
type RoutingConfig struct {
	// ZoneID is the Route 53 hosted zone of Domain (required).
	ZoneID string `json:"zoneId"`
	// Domain is the name clients use, e.g. api.mobile-mm-llm.com (required).
	Domain string `json:"domain"`
	// Policy is "weighted" (default: the regions' weights) or "latency".
	Policy string `json:"policy,omitempty"`
	// TTL of the records in seconds (default 60).
	TTL int `json:"ttl,omitempty"`
	// HealthCheck tunes the per-region HTTPS checks (path, port,
	// intervalSeconds, failureThreshold; default /health, 443, 30, 3).
	HealthCheck global.HealthCheck `json:"healthCheck"`
	// AlarmTopicARNs are SNS topics the health-check alarms notify.
	AlarmTopicARNs []string `json:"alarmTopicArns,omitempty"`
	// Regions are the regional stacks routed to (required).
	Regions []RegionRef `json:"regions"`
}

// RegionRef is one element of routing.regions: a regional stack and its
// share of the traffic.
type RegionRef struct {
	// Name names the region in records and checks ("us-east").
	Name string `json:"name"`
	// Stack is the regional stack, "ORG/mobile-mm-llm/STACK" (required);
	// its outputs endpoint and environment are read.
	Stack string `json:"stack"`
	// Weight is the region's share under the weighted policy; the weights
	// sum to 100 (a weight of 0 is a standby, served only when every
	// weighted region is unhealthy).
	Weight int `json:"weight"`
	// LatencyRegion is the AWS region nearest the endpoint (latency policy).
	LatencyRegion string `json:"latencyRegion,omitempty"`
	// Drained takes the region out of DNS: the failover switch.
	Drained bool `json:"drained,omitempty"`
}

// StateBackupConfig is the key stateBackup of the global stack: AWS Backup
// of the S3 bucket that holds the Pulumi state of every stack, without
// which no failover (a config change and `pulumi up`) can run.
type StateBackupConfig struct {
	// BucketARN is the state bucket, in the global stack's AWS region
	// (us-east-1) (required).
	BucketARN string `json:"bucketArn"`
	// Schedule is a cron schedule in UTC (default "17 3 * * *").
	Schedule string `json:"schedule,omitempty"`
	// RetentionDays keeps the recovery points (default 35).
	RetentionDays int `json:"retentionDays,omitempty"`
}

// GlobalAWSRegion is the global stack's AWS region: Route 53 is global, but
// its health checks' CloudWatch metrics exist only in us-east-1.
const GlobalAWSRegion = "us-east-1"

// defaultStateRetentionDays keeps state backups five weeks.
const defaultStateRetentionDays = 35

// IsGlobal reports whether the stack is the global stack (key routing).
func (c *Config) IsGlobal() bool { return c.Routing != nil }

// stackRefPattern is a stack reference "ORG/PROJECT/STACK".
var stackRefPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

// s3BucketARN is an S3 bucket's ARN.
var s3BucketARN = regexp.MustCompile(`^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// snsTopicARN is an SNS topic's ARN.
var snsTopicARN = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)

// regionalKeys are the keys only a regional stack reads.
var regionalKeys = []string{"region", "cluster", "namespace", "image", "modelClaim", "replicas", "resources", "gpu", "keda",
	"redis", "monitoring", "ingress", "network", "rbac", "backup", "chaos", "models"}

// validateGlobal checks the global stack's config: environment, tags,
// routing and stateBackup, and that no regional key is set (set tells
// which keys the stack file sets).
func (c *Config) validateGlobal(ch *kube.Checker, set func(key string) bool) {
	if !slices.Contains(environments, c.Environment) {
		ch.Failf(FullKey("environment"), "is %q; use one of %s", c.Environment, joinQuoted(environments))
	}
	for _, k := range regionalKeys {
		if set(k) {
			ch.Failf(FullKey(k), "is a regional stack's key; this stack sets routing, which makes it the global stack")
		}
	}
	cloud.CheckTags(ch, FullKey("tags"), c.Tags, false)
	key := FullKey("routing")
	r := c.Routing
	ch.Required(key+".zoneId", r.ZoneID)
	ch.Host(key+".domain", r.Domain)
	if r.Policy != "" && r.Policy != global.Weighted && r.Policy != global.Latency {
		ch.Failf(key+".policy", "is %q; use %q or %q", r.Policy, global.Weighted, global.Latency)
	}
	for i, arn := range r.AlarmTopicARNs {
		if !snsTopicARN.MatchString(arn) {
			ch.Failf(fmt.Sprintf("%s.alarmTopicArns[%d]", key, i), "%q is not an SNS topic ARN", arn)
		}
	}
	c.validateRegionRefs(ch, key+".regions")
	if b := c.StateBackup; b != nil {
		bkey := FullKey("stateBackup")
		if !s3BucketARN.MatchString(b.BucketARN) {
			ch.Failf(bkey+".bucketArn", "%q is not an S3 bucket ARN such as arn:aws:s3:::my-pulumi-state", b.BucketARN)
		}
		checkAWSSchedule(ch, bkey+".schedule", b.Schedule)
		ch.Min(bkey+".retentionDays", b.RetentionDays, 1)
	}
}

// validateRegionRefs checks routing.regions: distinct names and stacks,
// stack references of this project, and weights summing to 100 under the
// weighted policy.
func (c *Config) validateRegionRefs(ch *kube.Checker, key string) {
	regions := c.Routing.Regions
	if len(regions) == 0 {
		ch.Failf(key, "is required: the regional stacks to route to")
		return
	}
	sum := 0
	for i, r := range regions {
		k := fmt.Sprintf("%s[%d]", key, i)
		if slices.IndexFunc(regions, func(o RegionRef) bool { return o.Name == r.Name }) != i {
			ch.Failf(k+".name", "%q is used twice", r.Name)
		}
		ch.Required(k+".name", r.Name)
		switch parts := strings.Split(r.Stack, "/"); {
		case !stackRefPattern.MatchString(r.Stack):
			ch.Failf(k+".stack", "%q is not a stack reference ORG/%s/STACK", r.Stack, Project)
		case parts[1] != Project:
			ch.Failf(k+".stack", "%q is a stack of project %q; the regions are stacks of %q", r.Stack, parts[1], Project)
		case slices.IndexFunc(regions, func(o RegionRef) bool { return o.Stack == r.Stack }) != i:
			ch.Failf(k+".stack", "%q is routed to twice", r.Stack)
		}
		ch.Range(k+".weight", r.Weight, 0, 100)
		sum += r.Weight
	}
	if c.Routing.Policy != global.Latency && sum != 100 {
		ch.Failf(key+"[].weight", "sum to %d; they must sum to 100 (take a region out with drained, not by editing weights)", sum)
	}
}

// routingArgs returns the routing component's Args for the regions'
// endpoints (by region name).
func (c *Config) routingArgs(endpoints map[string]pulumi.StringInput) *global.RoutingArgs {
	r := c.Routing
	a := &global.RoutingArgs{ZoneID: pulumi.String(r.ZoneID), Domain: r.Domain, Policy: r.Policy, TTL: r.TTL,
		HealthCheck: r.HealthCheck, Tags: c.Tags}
	for _, ref := range r.Regions {
		a.Regions = append(a.Regions, global.Region{Name: ref.Name, Endpoint: endpoints[ref.Name], Weight: ref.Weight,
			LatencyRegion: ref.LatencyRegion, Drained: ref.Drained})
	}
	return a
}
