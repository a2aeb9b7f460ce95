package stack_test

import (
	"encoding/json"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/workload"
	"github.com/mobile-mm-llm/mobile-mm-llm/infra/stack"
	"github.com/mobile-mm-llm/mobile-mm-llm/policies"
	"github.com/mobile-mm-llm/mobile-mm-llm/policies/runner"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

// plainOf returns every registration of typ as plain values, by Pulumi name.
func plainOf(rec *runner.Recorder, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, r := range rec.OfType(typ) {
		out[r.Name] = r.Plain()
	}
	return out
}

// providerOf returns the plain inputs of the provider r was created with.
func providerOf(t *testing.T, rec *runner.Recorder, r runner.Registration) map[string]any {
	t.Helper()
	for _, p := range rec.Registrations() {
		if p.URN+"::"+p.ID == r.Provider {
			return p.Plain()
		}
	}
	t.Fatalf("%s %s has no explicit provider", r.Type, r.Name)
	return nil
}

// requireCount requires n registrations of typ.
func requireCount(t *testing.T, rec *runner.Recorder, typ string, n int) {
	t.Helper()
	require.Len(t, rec.OfType(typ), n, typ)
}

// tagsOf returns the tags map in plain form.
func tagsOf(cfg *stack.Config) map[string]any {
	out := map[string]any{}
	for k, v := range cfg.Tags {
		out[k] = v
	}
	return out
}

// checkCloud: a cloud kind's providers, node pool bounds, model store and
// its DR copy, managed Redis and backup plan follow the config, every cloud
// resource created through the stack's explicit providers.
func checkCloud(t *testing.T, rec *runner.Recorder, cfg *stack.Config) {
	t.Helper()
	outputs := rec.StackOutputs()
	if !cfg.CloudKind() {
		require.Empty(t, rec.OfType("pulumi:providers:aws"))
		require.NotContains(t, outputs, resource.PropertyKey("modelStore"))
		return
	}
	require.Contains(t, outputs, resource.PropertyKey("modelStore"))
	for _, r := range rec.Registrations() {
		if r.Custom && !r.Read && (strings.HasPrefix(r.Type, "aws:") || strings.HasPrefix(r.Type, "gcp:") || strings.HasPrefix(r.Type, "azure-native:")) {
			require.NotEmpty(t, r.Provider, "%s %s uses an explicit provider", r.Type, r.Name)
		}
	}
	switch cfg.Cluster.Kind {
	case stack.ClusterEKS:
		checkEKS(t, rec, cfg)
	case stack.ClusterGKE:
		checkGKE(t, rec, cfg)
	case stack.ClusterAKS:
		checkAKS(t, rec, cfg)
	}
}

func checkEKS(t *testing.T, rec *runner.Recorder, cfg *stack.Config) {
	t.Helper()
	e := cfg.Cluster.EKS
	var regions []any
	for _, p := range rec.OfType("pulumi:providers:aws") {
		plain := p.Plain()
		regions = append(regions, plain["region"])
		require.Equal(t, tagsOf(cfg), at(plain, "defaultTags", "tags"), "the providers tag every resource")
	}
	require.ElementsMatch(t, []any{e.Region, cfg.Models.BackupRegion}, regions)

	requireCount(t, rec, "aws:eks/cluster:Cluster", 1)
	groups := plainOf(rec, "aws:eks/nodeGroup:NodeGroup")
	require.Len(t, groups, 2)
	gpu := groups["cluster-gpu"]
	require.Equal(t, float64(e.GPUNodes.MinSize), at(gpu, "scalingConfig", "minSize"))
	require.Equal(t, float64(e.GPUNodes.MaxSize), at(gpu, "scalingConfig", "maxSize"))
	require.Equal(t, e.PublicAccessCIDRs, toStrings(at(plainOne(t, rec, "aws:eks/cluster:Cluster"), "vpcConfig", "publicAccessCidrs")))
	zones := len(e.AvailabilityZones)
	requireCount(t, rec, "aws:ec2/subnet:Subnet", 2*zones)
	nats := zones
	if e.SingleNATGateway {
		nats = 1
	}
	requireCount(t, rec, "aws:ec2/natGateway:NatGateway", nats)

	// The model bucket in the region and its replica in the backup region.
	buckets := rec.OfType("aws:s3/bucketV2:BucketV2")
	require.Len(t, buckets, 2)
	var primary runner.Registration
	var bucketRegions []any
	for _, b := range buckets {
		region := providerOf(t, rec, b)["region"]
		bucketRegions = append(bucketRegions, region)
		if region == e.Region {
			primary = b
		}
	}
	require.ElementsMatch(t, []any{e.Region, cfg.Models.BackupRegion}, bucketRegions)
	requireCount(t, rec, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", 2)

	groupsRedis := rec.OfType("aws:elasticache/replicationGroup:ReplicationGroup")
	if cfg.ManagedRedis() {
		require.Len(t, groupsRedis, 1)
		require.True(t, groupsRedis[0].Inputs["authToken"].IsSecret(), "the AUTH token stays secret")
		require.Equal(t, runner.Placeholder(stack.FullKey(stack.KeyRedisPassword)), groupsRedis[0].Plain()["authToken"])
	} else {
		require.Empty(t, groupsRedis)
	}

	selections := rec.OfType("aws:backup/selection:Selection")
	if !cfg.Backup.Enabled {
		require.Empty(t, selections)
		return
	}
	require.Len(t, selections, 1)
	require.Contains(t, selections[0].PropertyDeps["resources"], primary.URN, "AWS Backup selects the region's model bucket")
	_, plan := one(t, rec, "aws:backup/plan:Plan")
	fields := strings.Fields(cfg.Backup.Schedule)
	require.Equal(t, "cron("+fields[0]+" "+fields[1]+" * * ? *)", at(plan, "rules", 0, "schedule"))
	require.Equal(t, float64(cfg.Backup.RetentionDays), at(plan, "rules", 0, "lifecycle", "deleteAfter"))
	out := rec.StackOutputs()
	require.Equal(t, "mmllm-"+rec.Stack()+"-models", out["backupVault"].StringValue(), "the restore runbook reads the vault")
	role := plainOf(rec, "aws:iam/role:Role")["backup"]
	require.Contains(t, role["assumeRolePolicy"], `"Service":"backup.amazonaws.com"`)
	require.True(t, strings.HasSuffix(out["backupRoleArn"].StringValue(), "/backup"), "the output is that role's ARN")
}

func checkGKE(t *testing.T, rec *runner.Recorder, cfg *stack.Config) {
	t.Helper()
	g := cfg.Cluster.GKE
	_, prov := one(t, rec, "pulumi:providers:gcp")
	require.Equal(t, g.Project, prov["project"])
	require.Equal(t, g.Region, prov["region"])
	gke, _ := one(t, rec, "gcp:container/cluster:Cluster")
	require.Equal(t, true, at(gke.Plain(), "addonsConfig", "gkeBackupAgentConfig", "enabled"), "Backup for GKE needs its agent")
	pools := plainOf(rec, "gcp:container/nodePool:NodePool")
	require.Len(t, pools, 2)
	require.Equal(t, float64(g.GPUNodes.MinNodes), at(pools["cluster-gpu"], "autoscaling", "totalMinNodeCount"))
	require.Equal(t, float64(g.GPUNodes.MaxNodes), at(pools["cluster-gpu"], "autoscaling", "totalMaxNodeCount"))
	require.Equal(t, g.GPU.Type, at(pools["cluster-gpu"], "nodeConfig", "guestAccelerators", 0, "type"))
	_, bucket := one(t, rec, "gcp:storage/bucket:Bucket")
	require.ElementsMatch(t, []any{strings.ToUpper(g.Region), strings.ToUpper(cfg.Models.BackupRegion)},
		at(bucket, "customPlacementConfig", "dataLocations"), "a dual-region bucket: the DR copy")
	requireCount(t, rec, "gcp:redis/instance:Instance", oneIf(cfg.ManagedRedis()))
	plans := rec.OfType("gcp:gkebackup/backupPlan:BackupPlan")
	if !cfg.Backup.Enabled {
		require.Empty(t, plans)
		return
	}
	require.Len(t, plans, 1)
	plan := plans[0].Plain()
	require.Contains(t, plans[0].PropertyDeps["cluster"], gke.URN, "the plan backs up the stack's cluster")
	require.Equal(t, cfg.Backup.Schedule, at(plan, "backupSchedule", "cronSchedule"))
	require.Equal(t, float64(cfg.Backup.RetentionDays), at(plan, "retentionPolicy", "backupRetainDays"))
	require.Equal(t, true, at(plan, "backupConfig", "includeSecrets"))
	require.Equal(t, true, at(plan, "backupConfig", "includeVolumeData"))
}

func checkAKS(t *testing.T, rec *runner.Recorder, cfg *stack.Config) {
	t.Helper()
	a := cfg.Cluster.AKS
	_, prov := one(t, rec, "pulumi:providers:azure-native")
	require.Equal(t, a.SubscriptionID, prov["subscriptionId"])
	require.Equal(t, a.TenantID, prov["tenantId"])
	_, aks := one(t, rec, "azure-native:containerservice:ManagedCluster")
	require.Equal(t, a.ResourceGroup, aks["resourceGroupName"])
	require.Equal(t, a.Location, aks["location"])
	_, pool := one(t, rec, "azure-native:containerservice:AgentPool")
	require.Equal(t, float64(a.GPUNodes.MinCount), pool["minCount"])
	require.Equal(t, float64(a.GPUNodes.MaxCount), pool["maxCount"])
	_, account := one(t, rec, "azure-native:storage:StorageAccount")
	require.Equal(t, cfg.Models.AccountName, account["accountName"])
	require.Equal(t, cfg.Models.SKU, at(account, "sku", "name"))
	requireCount(t, rec, "azure-native:cache:Redis", oneIf(cfg.ManagedRedis()))
}

// plainOne returns the plain inputs of the only registration of typ.
func plainOne(t *testing.T, rec *runner.Recorder, typ string) map[string]any {
	t.Helper()
	_, plain := one(t, rec, typ)
	return plain
}

// toStrings converts a plain list to strings.
func toStrings(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}

// checkGlobal: the global stack reads every region through a
// StackReference and routes its domain to the regions' endpoints, with a
// health check, a record of the configured weight, and an alarm each.
func checkGlobal(t *testing.T, rec *runner.Recorder, cfg *stack.Config) {
	t.Helper()
	r := cfg.Routing
	var refs []string
	for _, ref := range rec.OfType(runner.StackReferenceType) {
		require.True(t, ref.Read, "a StackReference is read, not managed")
		refs = append(refs, ref.ID)
	}
	var want []string
	for _, reg := range r.Regions {
		want = append(want, reg.Stack)
	}
	require.ElementsMatch(t, want, refs)

	_, prov := one(t, rec, "pulumi:providers:aws")
	require.Equal(t, stack.GlobalAWSRegion, prov["region"])
	checks := plainOf(rec, "aws:route53/healthCheck:HealthCheck")
	records := plainOf(rec, "aws:route53/record:Record")
	alarms := rec.OfType("aws:cloudwatch/metricAlarm:MetricAlarm")
	require.Len(t, checks, len(r.Regions))
	require.Len(t, alarms, len(r.Regions))
	for _, reg := range r.Regions {
		// The endpoint is the regional stack's ingress host, read from its outputs.
		_, regional := loadStack(t, stacksDir, reg.Stack[strings.LastIndex(reg.Stack, "/")+1:])
		require.Equal(t, regional.Environment, cfg.Environment)
		require.Equal(t, regional.Ingress.GlobalHost, r.Domain, "region %s answers to the global name", reg.Name)
		check := checks["routing-"+reg.Name]
		require.Equal(t, regional.Ingress.Host, check["fqdn"], "region %s", reg.Name)
		require.Equal(t, r.HealthCheck.Path, check["resourcePath"])
		rec := records["routing-"+reg.Name]
		require.Equal(t, r.Domain, rec["name"])
		require.Equal(t, []any{regional.Ingress.Host}, rec["records"])
		require.Equal(t, float64(reg.Weight), at(rec, "weightedRoutingPolicies", 0, "weight"))
	}
	for _, a := range alarms {
		plain := a.Plain()
		require.Equal(t, "HealthCheckStatus", plain["metricName"])
		require.Equal(t, toAny(r.AlarmTopicARNs), plain["alarmActions"])
		require.NotEmpty(t, a.PropertyDeps["dimensions"], "the alarm watches a health check of the routing")
	}
	outputs := rec.StackOutputs()
	if b := cfg.StateBackup; b != nil {
		_, sel := one(t, rec, "aws:backup/selection:Selection")
		require.Equal(t, []any{b.BucketARN}, sel["resources"])
		require.Equal(t, "mmllm-"+rec.Stack()+"-state", outputs["stateBackupVault"].StringValue())
	}
	require.Equal(t, r.Domain, outputs["fqdn"].StringValue())
	var serving []string
	for _, v := range outputs["serving"].ArrayValue() {
		serving = append(serving, v.StringValue())
	}
	var weighted []string
	for _, reg := range r.Regions {
		if reg.Weight > 0 && !reg.Drained {
			weighted = append(weighted, reg.Name)
		}
	}
	require.Equal(t, weighted, serving)
}

// oneIf is 1 if b, else 0.
func oneIf(b bool) int {
	if b {
		return 1
	}
	return 0
}

// mustJSON encodes v as a structured config value.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// toAny converts strings to a plain list.
func toAny(ss []string) []any {
	var out []any
	for _, s := range ss {
		out = append(out, s)
	}
	return out
}

func TestGlobalStackErrors(t *testing.T) {
	sf, cfg := loadStack(t, stacksDir, "global")
	regions := func(mutate func(i int, r map[string]any)) string {
		var list []any
		for i, r := range cfg.Routing.Regions {
			m := map[string]any{"name": r.Name, "stack": r.Stack, "weight": r.Weight, "latencyRegion": r.LatencyRegion}
			mutate(i, m)
			list = append(list, m)
		}
		return `{"zoneId":"Z1","domain":"` + cfg.Routing.Domain + `","regions":` + mustJSON(t, list) + `}`
	}
	tests := []struct {
		name string
		sf   *runner.StackFile
		want string
	}{
		{"a dev region", withConfig(sf, "g1", "routing", regions(func(i int, r map[string]any) {
			if i == 0 {
				r["stack"] = "organization/mobile-mm-llm/dev"
			}
		})), `region us-east: stack organization/mobile-mm-llm/dev is a "dev" stack, this one "production"`},
		{"a missing region", withConfig(sf, "g2", "routing", regions(func(i int, r map[string]any) {
			if i == 1 {
				r["stack"] = "organization/mobile-mm-llm/prod-mars"
			}
		})), `stack reference "organization/mobile-mm-llm/prod-mars": stack "prod-mars": no file`},
		{"weights", withConfig(sf, "g3", "routing", regions(func(i int, r map[string]any) { r["weight"] = 20 })),
			"mobile-mm-llm:routing.regions[].weight: sum to 80; they must sum to 100"},
		{"a regional key", withConfig(sf, "g4", "image", "ghcr.io/mobile-mm-llm/mmllm:v0.3.1"), "mobile-mm-llm:image: is a regional stack's key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := program.Execute(tt.sf)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestGlobalFailoverIsAConfigChange(t *testing.T) {
	sf, cfg := loadStack(t, stacksDir, "global")
	set, err := policies.DefaultSet()
	require.NoError(t, err)
	// Drain us-east (routing.regions[0].drained: true), as docs/runbooks/failover.md does.
	var list []any
	for i, r := range cfg.Routing.Regions {
		list = append(list, map[string]any{"name": r.Name, "stack": r.Stack, "weight": r.Weight, "latencyRegion": r.LatencyRegion, "drained": i == 0})
	}
	routing := map[string]any{"zoneId": cfg.Routing.ZoneID, "domain": cfg.Routing.Domain, "policy": cfg.Routing.Policy,
		"alarmTopicArns": toAny(cfg.Routing.AlarmTopicARNs), "regions": list}
	drained := withConfig(sf, "global-drained", "routing", mustJSON(t, routing))
	rec, err := program.Execute(drained)
	require.NoError(t, err)
	records := plainOf(rec, "aws:route53/record:Record")
	require.Equal(t, float64(0), at(records["routing-"+cfg.Routing.Regions[0].Name], "weightedRoutingPolicies", 0, "weight"), "drained")
	require.Equal(t, float64(cfg.Routing.Regions[1].Weight), at(records["routing-"+cfg.Routing.Regions[1].Name], "weightedRoutingPolicies", 0, "weight"))
	requireCount(t, rec, "aws:route53/healthCheck:HealthCheck", len(cfg.Routing.Regions))
	var serving []string
	for _, v := range rec.StackOutputs()["serving"].ArrayValue() {
		serving = append(serving, v.StringValue())
	}
	require.False(t, slices.Contains(serving, cfg.Routing.Regions[0].Name))
	res, err := program.Check(drained, set)
	require.NoError(t, err)
	require.False(t, res.Failed(), "%v", res.Report.Violations)
}

func TestRegionalOutputsForTheGlobalStack(t *testing.T) {
	sf, cfg := loadStack(t, stacksDir, "prod-gcp-asia-southeast1")
	rec, err := program.Execute(sf)
	require.NoError(t, err)
	out := rec.StackOutputs()
	require.Equal(t, cfg.Ingress.Host, out["endpoint"].StringValue())
	require.Equal(t, "/health", out["healthCheckPath"].StringValue())
	require.Equal(t, "production", out["environment"].StringValue())
	require.True(t, out["kubeconfig"].IsSecret())
	require.Equal(t, "192.0.2.20:6378", out["redisAddress"].StringValue(), "the Memorystore endpoint (the runner's placeholder)")
	require.True(t, strings.HasPrefix(out["modelStore"].StringValue(), "gs://"))

	sf, _ = loadStack(t, stacksDir, "local")
	rec, err = program.Execute(sf)
	require.NoError(t, err)
	require.NotContains(t, rec.StackOutputs(), resource.PropertyKey("kubeconfig"), "render mode has no kubeconfig")
}

func TestNewClusterNeedsTheCloudProviders(t *testing.T) {
	sf, _ := loadStack(t, stacksDir, "prod-aws-us-east-1")
	p := program
	p.Run = func(ctx *pulumi.Context) error {
		cfg, err := stack.ParseConfig(ctx.GetConfig)
		if err != nil {
			return err
		}
		_, err = stack.NewCluster(ctx, "cluster", cfg, stack.Secrets{}, nil)
		return err
	}
	rec, err := p.Execute(sf)
	require.ErrorContains(t, err, `mobile-mm-llm:cluster.kind: "eks" needs its cloud providers`)
	require.Empty(t, rec.Registrations())
}

// checkManagedRedis: the server uses the stack's managed Redis: its
// endpoint (the redisAddress output), TLS, the AUTH token or key as a
// mounted secret file, Memorystore's CA as a file; and the server's pods
// may reach exactly where the service lives, on its port.
func checkManagedRedis(t *testing.T, rec *runner.Recorder, cfg *stack.Config) {
	t.Helper()
	_, dep := one(t, rec, "kubernetes:apps/v1:Deployment")
	container := at(dep, "spec", "template", "spec", "containers", 0)
	env := map[string]any{}
	for _, e := range at(container, "env").([]any) {
		env[at(e, "name").(string)] = at(e, "value")
	}
	address := rec.StackOutputs()["redisAddress"].StringValue()
	require.Equal(t, address, env["MMLLM_REDIS_ADDR"], "the server connects to the managed endpoint")
	require.Equal(t, "true", env["MMLLM_REDIS_TLS"])
	require.Equal(t, workload.RedisPasswordDir+"/password", env["MMLLM_REDIS_PASSWORD_FILE"])
	auth := plainOf(rec, "kubernetes:core/v1:Secret")["inference-redis-auth"]
	require.NotNil(t, auth, "the AUTH token's Secret")
	for _, s := range rec.OfType("kubernetes:core/v1:Secret") {
		if s.Name == "inference-redis-auth" {
			require.True(t, s.Inputs["stringData"].ContainsSecrets(), "the AUTH token stays secret")
		}
	}
	want := map[string]string{
		stack.ClusterEKS: runner.Placeholder(stack.FullKey(stack.KeyRedisPassword)),
		stack.ClusterGKE: runner.Placeholder("gcp:redis/instance:Instance.authString"),
	}
	if w, ok := want[cfg.Cluster.Kind]; ok {
		require.Equal(t, w, at(auth, "stringData", "password"), "the password is the managed service's")
	} else {
		require.NotEmpty(t, at(auth, "stringData", "password"), "Azure Cache's primary key")
	}
	caMaps := plainOf(rec, "kubernetes:core/v1:ConfigMap")
	if cfg.Cluster.Kind == stack.ClusterGKE {
		require.Equal(t, workload.RedisCADir+"/"+workload.RedisCAKey, env["MMLLM_REDIS_CA_FILE"])
		require.Contains(t, at(caMaps["inference-redis-ca"], "data", workload.RedisCAKey), "-----BEGIN CERTIFICATE-----", "Memorystore's CA")
	} else {
		require.NotContains(t, env, "MMLLM_REDIS_CA_FILE", "the system's roots verify ElastiCache and Azure Cache")
		require.NotContains(t, caMaps, "inference-redis-ca")
	}

	// The egress rule to Redis: exactly where the service lives.
	egress := at(plainOf(rec, "kubernetes:networking.k8s.io/v1:NetworkPolicy")["security-inference-egress"], "spec", "egress", 0)
	var cidrs []string
	for _, peer := range at(egress, "to").([]any) {
		cidrs = append(cidrs, at(peer, "ipBlock", "cidr").(string))
	}
	port := address[strings.LastIndex(address, ":")+1:]
	require.Equal(t, []any{map[string]any{"protocol": "TCP", "port": mustFloat(t, port)}}, at(egress, "ports"), "the endpoint's port")
	switch cfg.Cluster.Kind {
	case stack.ClusterEKS:
		// ElastiCache's subnet group: the subnets its nodes get addresses in.
		_, group := one(t, rec, "aws:elasticache/subnetGroup:SubnetGroup")
		subnets := plainOf(rec, "aws:ec2/subnet:Subnet")
		var want []string
		for _, id := range toStrings(group["subnetIds"]) {
			want = append(want, subnets[strings.TrimSuffix(id, "-id")]["cidrBlock"].(string))
		}
		require.ElementsMatch(t, want, cidrs)
	case stack.ClusterGKE:
		require.Len(t, cidrs, 1)
		_, reserved, err := net.ParseCIDR(cidrs[0])
		require.NoError(t, err)
		require.True(t, reserved.Contains(net.ParseIP(address[:strings.LastIndex(address, ":")])), "Memorystore's range holds its host")
	case stack.ClusterAKS:
		// The private endpoint's subnet in the cluster's VNet.
		_, endpoint := one(t, rec, "azure-native:network:PrivateEndpoint")
		subnet := at(endpoint, "subnet", "id").(string)
		_, vnet := one(t, rec, "azure-native:network:VirtualNetwork")
		var want []string
		for _, s := range at(vnet, "subnets").([]any) {
			if strings.HasSuffix(subnet, "/subnets/"+at(s, "name").(string)) {
				want = append(want, at(s, "addressPrefix").(string))
			}
		}
		require.Equal(t, want, cidrs)
	}
}

// mustFloat parses a port as the plain values hold numbers.
func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return float64(n)
}

// TestManagedRedisServesTheServer runs the cloud stacks with a managed
// Redis, the Azure one switched to Azure Cache: the server is connected to
// each over TLS, and the policies still pass.
func TestManagedRedisServesTheServer(t *testing.T) {
	set, err := policies.DefaultSet()
	require.NoError(t, err)
	azure, _ := loadStack(t, stacksDir, "prod-azure-westeurope")
	for _, sf := range []*runner.StackFile{
		mustLoad(t, "prod-aws-us-east-1"), mustLoad(t, "prod-gcp-asia-southeast1"),
		withConfig(azure, "prod-azure-managed-redis", "redis", `{"enabled":true,"kind":"managed"}`, "backup", ""),
	} {
		t.Run(sf.Name, func(t *testing.T) {
			cfg, err := stack.ParseConfig(func(k string) (string, bool) { v, ok := sf.Config[k]; return v, ok })
			require.NoError(t, err)
			require.True(t, cfg.ManagedRedis())
			rec, err := program.Execute(sf)
			require.NoError(t, err)
			checkManagedRedis(t, rec, cfg)
			res, err := program.Check(sf, set)
			require.NoError(t, err)
			var mandatory []string
			for _, v := range res.Report.Violations {
				if v.Severity == policies.Mandatory {
					mandatory = append(mandatory, v.RuleID+": "+v.Message)
				}
			}
			if cfg.Cluster.Kind == stack.ClusterAKS {
				// Without backup.enabled the production stack lacks a backup
				// schedule; nothing else fails.
				require.Equal(t, []string{"production-backup-schedule"}, ruleIDs(res.Report.Violations))
				return
			}
			require.Empty(t, mandatory)
		})
	}
}

// mustLoad reads a stack file of stacks/.
func mustLoad(t *testing.T, name string) *runner.StackFile {
	t.Helper()
	sf, _ := loadStack(t, stacksDir, name)
	return sf
}

// ruleIDs are the rule ids of the mandatory violations.
func ruleIDs(vs []policies.Violation) []string {
	var out []string
	for _, v := range vs {
		if v.Severity == policies.Mandatory {
			out = append(out, v.RuleID)
		}
	}
	return out
}
