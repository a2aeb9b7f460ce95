package stack

import (
	"fmt"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/global"
	"github.com/mobile-mm-llm/mobile-mm-llm/components/kube"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// GlobalDeployment is what DeployGlobal created.
type GlobalDeployment struct {
	// AWS is the provider of GlobalAWSRegion, tagging by default.
	AWS *aws.Provider
	// References are the regional stacks by region name.
	References map[string]*pulumi.StackReference
	// Routing is the DNS routing with its health checks.
	Routing *global.Routing
	// Alarms are the health checks' CloudWatch alarms by region name.
	Alarms map[string]*cloudwatch.MetricAlarm
	// StateBackup backs up the Pulumi state bucket (stateBackup), or nil.
	StateBackup *S3Backup
	// Outputs are the stack outputs: fqdn, healthCheckIds, serving (the
	// regions that get traffic), endpoints (by region name), environment,
	// and with stateBackup stateBackupVault and stateBackupRoleArn.
	Outputs map[string]pulumi.Input
}

// DeployGlobal deploys the global stack: it reads each regional stack's
// endpoint through a StackReference (refusing a region whose environment
// is not this stack's), routes Domain across them with a health check per
// region (global.NewRouting), raises a CloudWatch alarm when a region's
// check fails, and backs up the Pulumi state bucket (stateBackup).
// Regional failover is a change of routing.regions[i].drained and
// `pulumi up` (docs/runbooks/failover.md).
func DeployGlobal(ctx *pulumi.Context, cfg *Config) (*GlobalDeployment, error) {
	if !cfg.IsGlobal() {
		return nil, fmt.Errorf("DeployGlobal: %s is not set; this is a regional stack", FullKey("routing"))
	}
	g := &GlobalDeployment{References: map[string]*pulumi.StackReference{}, Alarms: map[string]*cloudwatch.MetricAlarm{}}
	var err error
	if g.AWS, err = newAWSProvider(ctx, "aws", GlobalAWSRegion, cfg.Tags); err != nil {
		return nil, fmt.Errorf("global stack: aws provider: %w", err)
	}
	endpoints := map[string]pulumi.StringInput{}
	for _, r := range cfg.Routing.Regions {
		ref, err := pulumi.NewStackReference(ctx, "region-"+r.Name, &pulumi.StackReferenceArgs{Name: pulumi.String(r.Stack)})
		if err != nil {
			return nil, fmt.Errorf("%s: region %s: stack reference %s: %w", FullKey("routing"), r.Name, r.Stack, err)
		}
		g.References[r.Name] = ref
		endpoints[r.Name] = regionEndpoint(ref, r, cfg.Environment)
	}
	inRegion := pulumi.Provider(g.AWS)
	if g.Routing, err = global.NewRouting(ctx, "routing", cfg.routingArgs(endpoints), inRegion); err != nil {
		return nil, err
	}
	for _, r := range cfg.Routing.Regions {
		if g.Alarms[r.Name], err = newHealthAlarm(ctx, cfg, r.Name, g.Routing, inRegion); err != nil {
			return nil, err
		}
	}
	if b := cfg.StateBackup; b != nil {
		if g.StateBackup, err = newS3Backup(ctx, "state-backup", s3BackupArgs{
			prefix: "mmllm-" + ctx.Stack() + "-state", buckets: pulumi.StringArray{pulumi.String(b.BucketARN)},
			schedule: b.Schedule, retentionDays: b.RetentionDays, tags: cfg.Tags,
		}, inRegion); err != nil {
			return nil, err
		}
	}
	refs := pulumi.StringMap{}
	for name, e := range endpoints {
		refs[name] = e
	}
	g.Outputs = map[string]pulumi.Input{
		"fqdn":           g.Routing.FQDN,
		"healthCheckIds": g.Routing.HealthCheckIDs,
		"serving":        pulumi.ToStringArray(g.Routing.Serving),
		"endpoints":      refs,
		"environment":    pulumi.String(string(cfg.Environment)),
	}
	if g.StateBackup != nil {
		g.Outputs["stateBackupVault"], g.Outputs["stateBackupRoleArn"] = g.StateBackup.VaultName, g.StateBackup.RoleARN
	}
	return g, nil
}

// regionEndpoint is the regional stack's output endpoint, failing the
// deployment when the stack has none or is of another environment (a
// production name must not route to a dev cluster).
func regionEndpoint(ref *pulumi.StackReference, r RegionRef, env Environment) pulumi.StringOutput {
	return pulumi.All(ref.GetStringOutput(pulumi.String("endpoint")), ref.GetStringOutput(pulumi.String("environment"))).ApplyT(
		func(v []any) (string, error) {
			endpoint, regionEnv := v[0].(string), v[1].(string)
			switch {
			case regionEnv != string(env):
				return "", fmt.Errorf("%s: region %s: stack %s is a %q stack, this one %q", FullKey("routing"), r.Name, r.Stack, regionEnv, env)
			case endpoint == "":
				return "", fmt.Errorf("%s: region %s: stack %s exports an empty endpoint", FullKey("routing"), r.Name, r.Stack)
			}
			return endpoint, nil
		}).(pulumi.StringOutput)
}

// newHealthAlarm alarms when the region's Route 53 health check reports
// it unhealthy for a minute (HealthCheckStatus below 1; no data counts as
// unhealthy), notifying routing.alarmTopicArns both ways.
func newHealthAlarm(ctx *pulumi.Context, cfg *Config, region string, routing *global.Routing, opts ...pulumi.ResourceOption) (*cloudwatch.MetricAlarm, error) {
	var topics pulumi.Array
	for _, t := range cfg.Routing.AlarmTopicARNs {
		topics = append(topics, pulumi.String(t))
	}
	alarm, err := cloudwatch.NewMetricAlarm(ctx, "health-"+region, &cloudwatch.MetricAlarmArgs{
		AlarmDescription: pulumi.Sprintf("Region %s of %s fails its health check: Route 53 is failing its traffic over; see docs/runbooks/failover.md",
			region, cfg.Routing.Domain),
		Namespace:          pulumi.String("AWS/Route53"),
		MetricName:         pulumi.String("HealthCheckStatus"),
		Dimensions:         pulumi.StringMap{"HealthCheckId": routing.HealthCheckIDs.MapIndex(pulumi.String(region))},
		Statistic:          pulumi.String("Minimum"),
		Period:             pulumi.Int(60),
		EvaluationPeriods:  pulumi.Int(1),
		Threshold:          pulumi.Float64(1),
		ComparisonOperator: pulumi.String("LessThanThreshold"),
		TreatMissingData:   pulumi.String("breaching"),
		AlarmActions:       topics,
		OkActions:          topics,
		Tags:               kube.StringMap(cfg.Tags),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("health alarm of region %s: %w", region, err)
	}
	return alarm, nil
}
