package security

import (
	"slices"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/internal/mocktest"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

var appLabels = map[string]string{"app.kubernetes.io/name": "mobile-multimodal-llm", "app.kubernetes.io/instance": "inference"}

func validArgs() *Args {
	return &Args{
		Namespace:      "mmllm",
		AppPodLabels:   appLabels,
		Redis:          &Peer{PodLabels: map[string]string{"app.kubernetes.io/name": "redis"}},
		OperatorGroups: []string{"mmllm-oncall"},
	}
}

func run(t *testing.T, args *Args) *mocktest.Mocks {
	t.Helper()
	return mocktest.MustRunWithProvider(t, "dev", func(ctx *pulumi.Context, k8s pulumi.ResourceOption) error {
		_, err := NewBaseline(ctx, "security", args, k8s)
		return err
	})
}

func spec(t *testing.T, m *mocktest.Mocks, name string) map[string]any {
	t.Helper()
	np := m.One(t, "kubernetes:networking.k8s.io/v1:NetworkPolicy", name).Plain()
	require.Equal(t, "mmllm", mocktest.At(np, "metadata", "namespace"))
	return np["spec"].(map[string]any)
}

func nsPeer(ns string, pods map[string]any) map[string]any {
	return map[string]any{
		"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": ns}},
		"podSelector":       map[string]any{"matchLabels": pods},
	}
}

func tcp(port float64) map[string]any { return map[string]any{"protocol": "TCP", "port": port} }

func TestBaselineNetworkPolicies(t *testing.T) {
	m := run(t, validArgs())
	app := map[string]any{"app.kubernetes.io/name": "mobile-multimodal-llm", "app.kubernetes.io/instance": "inference"}

	deny := spec(t, m, "mobile-multimodal-llm-default-deny")
	require.Equal(t, map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{}},
		"policyTypes": []any{"Ingress", "Egress"}}, deny, "selects every pod, allows nothing")

	dns := spec(t, m, "mobile-multimodal-llm-allow-dns")
	require.Equal(t, []any{"Egress"}, dns["policyTypes"])
	require.Equal(t, []any{map[string]any{
		"to":    []any{nsPeer("kube-system", map[string]any{"k8s-app": "kube-dns"})},
		"ports": []any{map[string]any{"protocol": "UDP", "port": 53.0}, tcp(53)},
	}}, dns["egress"])

	in := spec(t, m, "mobile-multimodal-llm-inference-ingress")
	require.Equal(t, app, mocktest.At(in, "podSelector", "matchLabels"))
	require.Equal(t, []any{
		map[string]any{"from": []any{nsPeer("ingress-nginx", map[string]any{})}, "ports": []any{tcp(8080)}},
		map[string]any{"from": []any{nsPeer("monitoring", map[string]any{})}, "ports": []any{tcp(8000)}},
	}, in["ingress"])
	require.Nil(t, in["egress"])

	out := spec(t, m, "mobile-multimodal-llm-inference-egress")
	require.Equal(t, app, mocktest.At(out, "podSelector", "matchLabels"))
	require.Equal(t, []any{
		map[string]any{"to": []any{nsPeer("mmllm", map[string]any{"app.kubernetes.io/name": "redis"})}, "ports": []any{tcp(6379)}},
		map[string]any{"to": []any{
			map[string]any{"ipBlock": map[string]any{"cidr": "0.0.0.0/0"}},
			map[string]any{"ipBlock": map[string]any{"cidr": "::/0"}},
		}, "ports": []any{tcp(443)}},
	}, out["egress"])

	// Security alone runs no pods; the stack rules are the other components'.
	m.CheckPolicies(t, "production-alert-rules", "production-backup-schedule")
}

func TestBaselineWithoutRedis(t *testing.T) {
	args := validArgs()
	args.Redis = nil
	args.HTTPSEgressCIDRs = []string{"203.0.113.0/24"}
	args.IngressPodLabels = map[string]string{"app.kubernetes.io/name": "ingress-nginx"}
	m := run(t, args)
	out := spec(t, m, "mobile-multimodal-llm-inference-egress")
	require.Equal(t, []any{map[string]any{
		"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "203.0.113.0/24"}}}, "ports": []any{tcp(443)},
	}}, out["egress"])
	in := spec(t, m, "mobile-multimodal-llm-inference-ingress")
	require.Equal(t, nsPeer("ingress-nginx", map[string]any{"app.kubernetes.io/name": "ingress-nginx"}),
		mocktest.At(in, "ingress", 0, "from", 0))
}

// A managed Redis lives outside the cluster: the pods reach its addresses
// (an element may be an output, Memorystore's reserved range) on its port.
func TestBaselineManagedRedis(t *testing.T) {
	args := validArgs()
	args.Redis = &Peer{CIDRs: []pulumi.StringInput{pulumi.String("10.30.16.0/24"), pulumi.String("10.40.0.0/29").ToStringOutput()}, Port: 6380}
	m := run(t, args)
	out := spec(t, m, "mobile-multimodal-llm-inference-egress")
	require.Equal(t, map[string]any{"to": []any{
		map[string]any{"ipBlock": map[string]any{"cidr": "10.30.16.0/24"}},
		map[string]any{"ipBlock": map[string]any{"cidr": "10.40.0.0/29"}},
	}, "ports": []any{tcp(6380)}}, mocktest.At(out, "egress", 0))
}

func TestBaselineRBAC(t *testing.T) {
	m := run(t, validArgs())
	verbsOn := func(role map[string]any, group, res string) []string {
		var out []string
		for _, r := range role["rules"].([]any) {
			r := r.(map[string]any)
			if slices.Contains(r["apiGroups"].([]any), any(group)) && slices.Contains(r["resources"].([]any), any(res)) {
				for _, v := range r["verbs"].([]any) {
					out = append(out, v.(string))
				}
			}
		}
		slices.Sort(out)
		return out
	}
	viewer := m.One(t, "kubernetes:rbac.authorization.k8s.io/v1:Role", "mobile-multimodal-llm-viewer").Plain()
	operator := m.One(t, "kubernetes:rbac.authorization.k8s.io/v1:Role", "mobile-multimodal-llm-operator").Plain()
	for _, role := range []map[string]any{viewer, operator} {
		require.Empty(t, verbsOn(role, "", "secrets"), "no role reads Secrets")
		require.Empty(t, verbsOn(role, "", "pods/exec"), "exec is break-glass")
		require.Equal(t, []string{"get", "list", "watch"}, verbsOn(role, "", "pods/log"))
		for _, r := range role["rules"].([]any) {
			for _, field := range []string{"apiGroups", "resources", "verbs"} {
				require.NotContains(t, r.(map[string]any)[field], "*")
			}
		}
	}
	require.Equal(t, []string{"get", "list", "watch"}, verbsOn(viewer, "apps", "deployments"), "viewer only reads")
	require.Equal(t, []string{"get", "list", "patch", "watch"}, verbsOn(operator, "apps", "deployments"), "rollout restart")
	require.Equal(t, []string{"get", "patch", "update"}, verbsOn(operator, "apps", "deployments/scale"))
	require.Equal(t, []string{"delete", "get", "list", "watch"}, verbsOn(operator, "", "pods"))

	// Only the operator role has groups, so only it is bound.
	bindings := m.OfType("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
	require.Len(t, bindings, 1)
	b := bindings[0].Plain()
	require.Equal(t, map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "mobile-multimodal-llm-operator"}, b["roleRef"])
	require.Equal(t, []any{map[string]any{"kind": "Group", "name": "mmllm-oncall", "apiGroup": "rbac.authorization.k8s.io"}}, b["subjects"])
}

func TestBaselineRejectsBadArgs(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(a *Args)
		want   string
	}{
		{"no namespace", func(a *Args) { a.Namespace = "" }, "Namespace:"},
		{"no app labels", func(a *Args) { a.AppPodLabels = nil }, "AppPodLabels: is required"},
		{"bad label", func(a *Args) { a.AppPodLabels = map[string]string{"app": "has space"} }, "AppPodLabels:"},
		{"bad port", func(a *Args) { a.APIPort = 70000 }, "APIPort:"},
		{"redis without labels", func(a *Args) { a.Redis = &Peer{} }, "Redis.PodLabels:"},
		{"redis pods and addresses", func(a *Args) { a.Redis.CIDRs = []pulumi.StringInput{pulumi.String("10.0.0.0/16")} }, "Redis.CIDRs: exclude"},
		{"bad redis cidr", func(a *Args) { a.Redis = &Peer{CIDRs: []pulumi.StringInput{pulumi.String("10.0.0.1")}} }, "Redis.CIDRs[0]:"},
		{"nil redis cidr", func(a *Args) { a.Redis = &Peer{CIDRs: []pulumi.StringInput{nil}} }, "Redis.CIDRs[0]: is nil"},
		{"bad cidr", func(a *Args) { a.HTTPSEgressCIDRs = []string{"0.0.0.0"} }, "HTTPSEgressCIDRs[0]:"},
		{"empty group", func(a *Args) { a.ViewerGroups = []string{""} }, "ViewerGroups[0]: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := validArgs()
			tt.mutate(args)
			mocktest.RequireRejected(t, mocktest.Construct(NewBaseline, "security", args), "security.NewBaseline: invalid args", tt.want)
		})
	}
	mocktest.RequireRejected(t, mocktest.Construct(NewBaseline, "security", nil), "security.NewBaseline: args are required")
}
