package policies

import (
	"fmt"
	"maps"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// allCases merges every rule's case table.
func allCases() map[string][]ruleCase {
	out := map[string][]ruleCase{}
	for _, table := range []map[string][]ruleCase{workloadCases, objectCases, k8sStackCases, storageCases, redisCases, clusterCases, tagCases, productionCases} {
		for id, cases := range table {
			out[id] = append(out[id], cases...)
		}
	}
	return out
}

func TestEveryRuleHasCompliantAndViolatingCases(t *testing.T) {
	cases := allCases()
	rules := rulesByID(t)
	require.GreaterOrEqual(t, len(rules), 25)
	for id := range rules {
		var passing, failing int
		for _, c := range cases[id] {
			if len(c.want) == 0 {
				passing++
			} else {
				failing++
			}
		}
		require.Positive(t, passing, "rule %s has no compliant case", id)
		require.Positive(t, failing, "rule %s has no violating case", id)
	}
	for id := range maps.Keys(cases) {
		require.Contains(t, rules, id, "cases for an unknown rule")
	}
}

// TestReadmeListsEveryRule keeps the README's catalogue in step with Rules.
func TestReadmeListsEveryRule(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	for _, r := range Rules() {
		require.Contains(t, string(readme), fmt.Sprintf("| `%s` | %s |", r.ID, r.Severity))
	}
}

// TestCompliantStackPassesEveryRule guards the fixtures the rule cases are
// built from: the production stack they start from breaks no rule.
func TestCompliantStackPassesEveryRule(t *testing.T) {
	set, err := DefaultSet()
	require.NoError(t, err)
	require.Empty(t, set.Check(compliantStack(), production))
	require.Empty(t, set.Check(compliantStack(), development))
}

// TestInsecureStackFails checks that a deliberately insecure stack fails with
// the expected rule IDs, one resource at a time.
func TestInsecureStackFails(t *testing.T) {
	insecure := apiWith(true, "hostNetwork")
	insecure = withAt(insecure, true, podSpecPath("Deployment"), "containers", 0, "securityContext", "privileged")
	insecure = withAt(insecure, "nginx:latest", podSpecPath("Deployment"), "containers", 0, "image")
	stack := stackWith(insecure, service("LoadBalancer", nil), goodWith(typeElastiCache, "cache", false, "transitEncryptionEnabled"))
	set, err := DefaultSet()
	require.NoError(t, err)
	vs := set.Check(stack, production)
	require.True(t, HasMandatory(vs))
	got := map[string][]string{}
	for _, v := range vs {
		got[v.RuleID] = append(got[v.RuleID], v.Resource)
	}
	require.Equal(t, map[string][]string{
		"k8s-no-privileged":      {"api"},
		"k8s-no-host-namespaces": {"api"},
		"k8s-image-pinned":       {"api"},
		"k8s-pdb-per-deployment": {"api"},
		"k8s-no-public-services": {"api"},
		"redis-tls":              {"cache"},
	}, got)
}

func TestNewSetRejectsBadRules(t *testing.T) {
	check := func(Resource, StackInfo) []Violation { return nil }
	valid := Rule{ID: "ok-rule", Description: "d", Rationale: "r", Severity: Advisory, Check: check}
	for _, c := range []struct {
		name  string
		rules []Rule
		err   string
	}{
		{"missing ID", []Rule{{Description: "Pods must not X.", Rationale: "r", Severity: Mandatory, Check: check}}, `rule 0 (no ID, description "Pods must not X."): missing ID`},
		{"bad ID", []Rule{{ID: "No Spaces", Description: "d", Rationale: "r", Severity: Mandatory, Check: check}}, `rule 0 ("No Spaces"): ID must be`},
		{"reserved ID", []Rule{{ID: "all", Description: "d", Rationale: "r", Severity: Mandatory, Check: check}}, `"all"`},
		{"missing severity", []Rule{{ID: "x", Description: "d", Rationale: "r", Check: check}}, `rule 0 ("x"): severity ""`},
		{"duplicate", []Rule{valid, valid}, `rule 1 ("ok-rule"): duplicate ID, also rule 0`},
		{"no rationale", []Rule{{ID: "x", Description: "d", Severity: Mandatory, Check: check}}, "missing description or rationale"},
		{"no check", []Rule{{ID: "x", Description: "d", Rationale: "r", Severity: Mandatory}}, "exactly one of Check and CheckStack"},
		{"both checks", []Rule{{ID: "x", Description: "d", Rationale: "r", Severity: Mandatory, Check: check,
			CheckStack: func([]Resource, StackInfo) []Violation { return nil }}}, "exactly one of Check and CheckStack"},
	} {
		_, err := NewSet(c.rules)
		require.ErrorContains(t, err, c.err, c.name)
	}
	set, err := NewSet([]Rule{valid})
	require.NoError(t, err)
	require.Len(t, set.Rules(), 1)
}

func TestPanickingRuleFailsClosed(t *testing.T) {
	boom := Rule{ID: "boom", Description: "d", Rationale: "r", Severity: Mandatory,
		Check: func(r Resource, _ StackInfo) []Violation { return []Violation{{Message: r.Props["x"].(string)}} }}
	vs := boom.Evaluate([]Resource{api()}, development)
	require.Len(t, vs, 1)
	require.Equal(t, "boom", vs[0].RuleID)
	require.Equal(t, "api", vs[0].Resource)
	require.Contains(t, vs[0].Message, "rule boom failed internally")

	stackBoom := Rule{ID: "stack-boom", Description: "d", Rationale: "r", Severity: Mandatory,
		CheckStack: func([]Resource, StackInfo) []Violation { panic("bad") }}
	vs = stackBoom.Evaluate(nil, production)
	require.Len(t, vs, 1)
	require.Equal(t, production.Name, vs[0].Resource)
}

func TestSortAndHasMandatory(t *testing.T) {
	vs := []Violation{
		{RuleID: "b", Severity: Advisory, Resource: "x"},
		{RuleID: "z", Severity: Mandatory, Resource: "y"},
		{RuleID: "a", Severity: Mandatory, Resource: "y"},
	}
	require.True(t, HasMandatory(vs))
	require.False(t, HasMandatory(vs[:1]))
	SortViolations(vs)
	require.Equal(t, []string{"a", "z", "b"}, []string{vs[0].RuleID, vs[1].RuleID, vs[2].RuleID})
}

func TestNewStackInfo(t *testing.T) {
	for _, c := range []struct {
		name, env string
		prod      bool
	}{
		{"prod-aws-us-east-1", "", true},
		{"aws.production.eu", "", true},
		{"products-dev", "", false},
		{"dev", "", false},
		{"staging", "production", true},
		{"prod-like", "staging", false},
		{"local", "Prod", true},
	} {
		got := NewStackInfo(c.name, c.env)
		require.Equal(t, c.name, got.Name)
		require.Equal(t, c.prod, got.Production, "%s/%s", c.name, c.env)
	}
}

func TestTypeTokens(t *testing.T) {
	require.Equal(t, "azure-native:storage:StorageAccount", normalType("azure-native:storage/v20230101:StorageAccount"))
	require.Equal(t, "aws:s3/bucketV2:BucketV2", normalType("aws:s3/bucketV2:BucketV2"))
	require.Equal(t, "Deployment", res("kubernetes:apps/v1:Deployment", "x", nil).k8sKind())
	require.Equal(t, "", res("kubernetes:apps/v1:DeploymentPatch", "x", nil).k8sKind())
	require.Equal(t, "", res("kubernetes:helm.sh/v3:Release", "x", nil).k8sKind())
	require.Equal(t, "", res("kubernetes:yaml/v2:ConfigGroup", "x", nil).k8sKind())
	require.Equal(t, "", res("aws:eks/cluster:Cluster", "x", nil).k8sKind())
	require.Equal(t, `resource "odd"`, res("odd", "odd", nil).label())
}
