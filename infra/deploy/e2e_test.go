//go:build e2e

// The end-to-end checks of `make e2e` (scripts/e2e.sh), compiled only with
// the build tag e2e: they need the Pulumi CLI and the Kubernetes provider
// that scripts/e2e-tools.sh builds, and the manifests the script's
// `mmllm deploy --stack local --render-dir` wrote. Each environment
// variable they read is required: a missing one fails, never skips.
//
//	MMLLM_E2E_RENDER_DIR   the local stack's rendered manifests
//	MMLLM_E2E_POLICY_PACK  the mmllm-policy-pack executable
//	MMLLM_E2E_BACKEND      the file:// state backend the update used
//	E2E_API_TOKENS, E2E_REDIS_PASSWORD, E2E_GRAFANA_PASSWORD  its secrets
//	PULUMI_CONFIG_PASSPHRASE  for the passphrase secrets provider
package deploy

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/infra/stack"
	"github.com/mobile-mm-llm/mobile-mm-llm/policies"
	"github.com/mobile-mm-llm/mobile-mm-llm/policies/runner"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

// localStack is the stack the script rendered.
const localStack = "local"

// insecureStack is the deliberately insecure fixture's stack.
const insecureStack = "e2e-insecure"

// blockingRules are the mandatory rules the insecure fixture must break,
// whatever else it breaks.
var blockingRules = []string{
	"k8s-no-privileged", "k8s-no-host-namespaces", "k8s-image-pinned",
	"k8s-no-public-services", "k8s-pdb-per-deployment",
}

func requiredEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	require.NotEmpty(t, v, "%s must be set (scripts/e2e.sh sets it)", name)
	return v
}

// e2eSecrets are the secrets the script gave the local stack's update
// (render mode needs no kubeconfig).
func e2eSecrets(t *testing.T) map[string]string {
	t.Helper()
	return map[string]string{
		stack.KeyAPITokens:            requiredEnv(t, "E2E_API_TOKENS"),
		stack.KeyRedisPassword:        requiredEnv(t, "E2E_REDIS_PASSWORD"),
		stack.KeyGrafanaAdminPassword: requiredEnv(t, "E2E_GRAFANA_PASSWORD"),
	}
}

// projectSettings loads the repository's Pulumi.yaml.
func projectSettings(t *testing.T) *Options {
	t.Helper()
	p, err := LoadProject(filepath.Join(repoRoot, "Pulumi.yaml"))
	require.NoError(t, err)
	return &Options{
		Project: p, ProjectDir: repoRoot, Backend: requiredEnv(t, "MMLLM_E2E_BACKEND"), SecretsProvider: "passphrase",
		PolicyPacks: []string{requiredEnv(t, "MMLLM_E2E_POLICY_PACK")},
		Stdout:      testWriter{t}, Stderr: testWriter{t}, Preview: true,
	}
}

// testWriter sends the engine's progress to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// mockCheck runs program for the stack file under Pulumi's mocks (the
// policy runner) and returns the resources and violations it found.
func mockCheck(t *testing.T, prog runner.Program, dir, name string) *runner.Result {
	t.Helper()
	sf, err := runner.LoadStack(dir, name, prog.Project)
	require.NoError(t, err)
	set, err := policies.DefaultSet()
	require.NoError(t, err)
	res, err := prog.Check(sf, set)
	require.NoError(t, err)
	return res
}

// verdicts formats violations as sorted "level rule resource" lines.
func engineVerdicts(vs []Violation) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		level := v.Level
		if level == "advisory" || level == "warning" {
			level = "advisory"
		}
		out = append(out, fmt.Sprintf("%s %s %s", level, v.Policy, urnName(v.URN)))
	}
	slices.Sort(out)
	return out
}

func mockVerdicts(vs []policies.Violation) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		out = append(out, fmt.Sprintf("%s %s %s", v.Severity, v.RuleID, urnName(v.URN)))
	}
	slices.Sort(out)
	return out
}

// urnName is a URN's resource name (its last "::" part).
func urnName(urn string) string {
	if i := strings.LastIndex(urn, "::"); i >= 0 {
		return urn[i+2:]
	}
	return urn
}

// TestE2ERenderedManifestsDecodeStrictly checks every manifest the local
// stack rendered, and that the engine rendered one object for each
// Kubernetes object the program registers under the mocks.
func TestE2ERenderedManifestsDecodeStrictly(t *testing.T) {
	dir := requiredEnv(t, "MMLLM_E2E_RENDER_DIR")
	set, err := ValidateManifests(dir)
	require.NoError(t, err)
	got := set.CountByKind()
	for _, k := range slices.Sorted(maps.Keys(got)) {
		t.Logf("rendered %3d %s", got[k], k)
	}
	t.Logf("rendered %d objects in %d files", len(set.Objects), set.Files)

	prog := runner.Program{Project: stack.Project, Run: stack.Program, Keys: stack.ConfigKeys(), SecretKeys: stack.SecretKeys()}
	want := map[string]int{}
	for _, r := range mockCheck(t, prog, filepath.Join(repoRoot, "stacks"), localStack).Resources {
		av, _ := r.Props["apiVersion"].(string)
		kind, _ := r.Props["kind"].(string)
		if strings.HasPrefix(r.Type, "kubernetes:") && av != "" && kind != "" {
			want[av+"/"+kind]++
		}
	}
	require.Equal(t, want, got, "rendered objects by kind, against the objects registered under the mocks")
}

// TestE2EPolicyPackPassesTheLocalStack previews the local stack, after
// the script's update with the same config, with the pack executable: no
// mandatory violation, the engine's verdicts are the policy runner's, and
// the program is stable (nothing to change after the update).
func TestE2EPolicyPackPassesTheLocalStack(t *testing.T) {
	o := projectSettings(t)
	o.Stack, o.StacksDir = localStack, filepath.Join(repoRoot, "stacks")
	o.RenderDir, o.Secrets = requiredEnv(t, "MMLLM_E2E_RENDER_DIR"), e2eSecrets(t)
	res, err := Run(context.Background(), *o, stack.Program)
	require.NoError(t, err)
	require.Empty(t, res.Mandatory())
	require.NotZero(t, res.Changes["same"])
	require.Equal(t, map[string]int{"same": res.Changes["same"]}, res.Changes, "a preview right after the update changes nothing")

	prog := runner.Program{Project: stack.Project, Run: stack.Program, Keys: stack.ConfigKeys(), SecretKeys: stack.SecretKeys()}
	mock := mockCheck(t, prog, filepath.Join(repoRoot, "stacks"), localStack)
	require.Equal(t, mockVerdicts(mock.Report.Violations), engineVerdicts(res.Violations))
	t.Logf("local: %d resources previewed, verdicts: %q", res.Resources(), engineVerdicts(res.Violations))
}

// insecureProgram is a deliberately insecure workload: privileged, on the
// host's network, an unpinned image, a public LoadBalancer and no
// PodDisruptionBudget; its provider renders to renderDir, so no cluster is
// needed.
func insecureProgram(renderDir string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "render", &kubernetes.ProviderArgs{RenderYamlToDirectory: pulumi.String(renderDir)})
		if err != nil {
			return err
		}
		labels := pulumi.StringMap{"app": pulumi.String("insecure")}
		meta := &metav1.ObjectMetaArgs{Name: pulumi.String("insecure"), Namespace: pulumi.String("default"), Labels: labels}
		if _, err := appsv1.NewDeployment(ctx, "insecure", &appsv1.DeploymentArgs{
			Metadata: meta,
			Spec: &appsv1.DeploymentSpecArgs{
				Selector: &metav1.LabelSelectorArgs{MatchLabels: labels},
				Template: &corev1.PodTemplateSpecArgs{
					Metadata: &metav1.ObjectMetaArgs{Labels: labels},
					Spec: &corev1.PodSpecArgs{
						HostNetwork: pulumi.Bool(true),
						Containers: corev1.ContainerArray{&corev1.ContainerArgs{
							Name: pulumi.String("web"), Image: pulumi.String("nginx:latest"),
							SecurityContext: &corev1.SecurityContextArgs{Privileged: pulumi.Bool(true)},
						}},
					},
				},
			},
		}, pulumi.Provider(p)); err != nil {
			return err
		}
		_, err = corev1.NewService(ctx, "insecure", &corev1.ServiceArgs{
			Metadata: meta,
			Spec: &corev1.ServiceSpecArgs{
				Type:     pulumi.String("LoadBalancer"),
				Selector: labels,
				Ports:    corev1.ServicePortArray{&corev1.ServicePortArgs{Port: pulumi.Int(80)}},
			},
		}, pulumi.Provider(p))
		return err
	}
}

// TestE2EPolicyPackBlocksTheInsecureFixture previews the insecure fixture
// with the pack executable: the engine fails the preview with the
// mandatory violations the policy runner finds in the same program.
func TestE2EPolicyPackBlocksTheInsecureFixture(t *testing.T) {
	stacks := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(stacks, "Pulumi."+insecureStack+".yaml"),
		[]byte("config:\n  mobile-mm-llm:environment: dev\n"), 0o644))
	program := insecureProgram(t.TempDir())

	o := projectSettings(t)
	o.Stack, o.StacksDir = insecureStack, stacks
	res, err := Run(context.Background(), *o, program)
	require.ErrorContains(t, err, "preview blocked by mandatory policies", "a mandatory violation must fail the preview")
	t.Logf("the engine's error: %v", err)
	require.NotNil(t, res)

	got := map[string]bool{}
	for _, v := range res.Mandatory() {
		got[v.Policy] = true
	}
	for _, id := range blockingRules {
		require.True(t, got[id], "mandatory violation of %s expected; got %v", id, slices.Sorted(maps.Keys(got)))
	}

	mock := mockCheck(t, runner.Program{Project: stack.Project, Run: program, Keys: []string{"environment"}}, stacks, insecureStack)
	require.Equal(t, mockVerdicts(mock.Report.Violations), engineVerdicts(res.Violations))
	t.Logf("insecure: blocked by %q", slices.Sorted(maps.Keys(got)))
}
