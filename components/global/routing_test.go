package global

import (
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global/cloud/cloudtest"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/internal/mocktest"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

// guideArgs are the deployment guide's three regions and weights.
func guideArgs() *RoutingArgs {
	return &RoutingArgs{
		ZoneID: pulumi.String("Z123456789"),
		Domain: "api.mobile-mm-llm.com",
		Regions: []Region{
			{Name: "us-east", Endpoint: pulumi.String("api-us-east.mobile-mm-llm.com"), Weight: 40, LatencyRegion: "us-east-1"},
			{Name: "eu-west", Endpoint: pulumi.String("api-eu-west.mobile-mm-llm.com"), Weight: 35, LatencyRegion: "eu-west-1"},
			{Name: "ap-southeast", Endpoint: pulumi.String("api-ap-southeast.mobile-mm-llm.com"), Weight: 25, LatencyRegion: "ap-southeast-1"},
		},
		Tags: map[string]string{"environment": "production", "owner": "platform", "cost-center": "ml-serving"},
	}
}

func runRouting(t *testing.T, args *RoutingArgs) (*cloudtest.Mocks, *Routing) {
	t.Helper()
	m := &cloudtest.Mocks{}
	return m, cloudtest.MustConstruct(t, m, NewRouting, "global", args)
}

func TestRoutingWeighted(t *testing.T) {
	m, r := runRouting(t, guideArgs())
	require.Equal(t, []string{"us-east", "eu-west", "ap-southeast"}, r.Serving)
	for _, want := range []struct {
		name   string
		weight float64
	}{{"us-east", 40}, {"eu-west", 35}, {"ap-southeast", 25}} {
		host := "api-" + want.name + ".mobile-mm-llm.com"
		hc := cloudtest.One(t, m.Mocks, "aws:route53/healthCheck:HealthCheck", "global-"+want.name).Plain()
		for k, v := range map[string]any{"type": "HTTPS", "fqdn": host, "port": 443.0, "resourcePath": "/health",
			"requestInterval": 30.0, "failureThreshold": 3.0, "enableSni": true} {
			require.Equal(t, v, hc[k], "%s %s", want.name, k)
		}
		rec := cloudtest.One(t, m.Mocks, "aws:route53/record:Record", "global-"+want.name).Plain()
		for k, v := range map[string]any{"zoneId": "Z123456789", "name": "api.mobile-mm-llm.com", "type": "CNAME", "ttl": 60.0,
			"records": []any{host}, "setIdentifier": want.name, "healthCheckId": "global-" + want.name + "-id",
			"weightedRoutingPolicies": []any{map[string]any{"weight": want.weight}}} {
			require.Equal(t, v, rec[k], "%s %s", want.name, k)
		}
		require.Nil(t, rec["latencyRoutingPolicies"])
	}
	require.Equal(t, map[string]string{"us-east": "global-us-east-id", "eu-west": "global-eu-west-id", "ap-southeast": "global-ap-southeast-id"},
		cloudtest.Await[map[string]string](t, r.HealthCheckIDs))
	cloudtest.RequireParented(t, m.Mocks, "global")
	m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule")
}

func TestRoutingDrainIsAConfigChange(t *testing.T) {
	args := guideArgs()
	args.Regions[0].Drained = true
	m, r := runRouting(t, args)
	require.Equal(t, []string{"eu-west", "ap-southeast"}, r.Serving)
	rec := cloudtest.One(t, m.Mocks, "aws:route53/record:Record", "global-us-east").Plain()
	require.Equal(t, []any{map[string]any{"weight": 0.0}}, rec["weightedRoutingPolicies"], "kept with weight 0, so undraining is one flag")
	require.Len(t, m.OfType("aws:route53/healthCheck:HealthCheck"), 3, "the drained region is still checked")
}

func TestRoutingLatency(t *testing.T) {
	args := guideArgs()
	args.Policy = Latency
	args.Regions[1].Drained = true
	m, r := runRouting(t, args)
	require.Equal(t, []string{"us-east", "ap-southeast"}, r.Serving)
	require.Len(t, m.OfType("aws:route53/record:Record"), 2, "no record for the drained region")
	rec := cloudtest.One(t, m.Mocks, "aws:route53/record:Record", "global-ap-southeast").Plain()
	require.Equal(t, []any{map[string]any{"region": "ap-southeast-1"}}, rec["latencyRoutingPolicies"])
	require.Nil(t, rec["weightedRoutingPolicies"])
	require.Equal(t, "global-ap-southeast-id", rec["healthCheckId"])
}

func TestRoutingRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *RoutingArgs)
		want   string
	}{
		{"weights", func(a *RoutingArgs) { a.Regions[2].Weight = 15 }, "Regions[].Weight: sum to 90; they must sum to 100"},
		{"all drained", func(a *RoutingArgs) {
			for i := range a.Regions {
				a.Regions[i].Drained = true
			}
		}, "Regions[].Drained: leaves no region serving"},
		{"duplicate", func(a *RoutingArgs) { a.Regions[1].Name = "us-east" }, `Regions[1].Name: "us-east" is not a distinct`},
		{"no endpoint", func(a *RoutingArgs) { a.Regions[0].Endpoint = nil }, "Regions[0].Endpoint: is required"},
		{"latency region", func(a *RoutingArgs) { a.Policy, a.Regions[2].LatencyRegion = Latency, "asia-southeast1" }, `Regions[2].LatencyRegion: "asia-southeast1" is not an AWS region`},
		{"policy", func(a *RoutingArgs) { a.Policy = "geo" }, "Policy:"},
		{"domain", func(a *RoutingArgs) { a.Domain = "API.example.com" }, "Domain:"},
		{"interval", func(a *RoutingArgs) { a.HealthCheck.IntervalSeconds = 15 }, "HealthCheck.IntervalSeconds: is 15"},
		{"no regions", func(a *RoutingArgs) { a.Regions = nil }, "Regions: is required"},
		{"no zone", func(a *RoutingArgs) { a.ZoneID = nil }, "ZoneID: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := guideArgs()
			tt.mutate(args)
			mocktest.RequireRejected(t, mocktest.Construct(NewRouting, "global", args), "global.NewRouting: invalid args", tt.want)
		})
	}
}
