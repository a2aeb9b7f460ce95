package workflows

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// deployStacks are the stacks the deploy workflow must cover, global last.
var deployStacks = []string{
	"dev", "prod-onprem", "local", "prod-aws-us-east-1", "prod-aws-eu-west-1",
	"prod-gcp-asia-southeast1", "prod-azure-westeurope", "global",
}

// stackFiles returns the stacks that stacks/Pulumi.<name>.yaml define.
func stackFiles(t *testing.T) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(repoRoot(t), "stacks", "Pulumi.*.yaml"))
	require.NoError(t, err)
	var names []string
	for _, f := range m {
		names = append(names, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// stackTarget is what a stack file says about where it deploys.
type stackTarget struct {
	cloud, region string
	render        bool
}

// readStackTarget reads the cluster kind and region of a stack file.
func readStackTarget(t *testing.T, stack string) stackTarget {
	t.Helper()
	var f struct {
		Config map[string]yaml.Node `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(readRepoFile(t, "stacks/Pulumi."+stack+".yaml")), &f))
	node, ok := f.Config["mobile-mm-llm:cluster"]
	if !ok {
		_, global := f.Config["mobile-mm-llm:routing"]
		require.True(t, global, "stack %s has neither cluster nor routing", stack)
		return stackTarget{cloud: "aws", region: "us-east-1"} // Route 53 and its health-check metrics live in us-east-1
	}
	var c struct {
		Kind      string         `yaml:"kind"`
		RenderDir string         `yaml:"renderDir"`
		EKS       map[string]any `yaml:"eks"`
		GKE       map[string]any `yaml:"gke"`
		AKS       map[string]any `yaml:"aks"`
	}
	require.NoError(t, node.Decode(&c))
	switch c.Kind {
	case "existing":
		return stackTarget{cloud: "none", render: c.RenderDir != ""}
	case "eks":
		return stackTarget{cloud: "aws", region: fmt.Sprint(c.EKS["region"])}
	case "gke":
		return stackTarget{cloud: "gcp", region: fmt.Sprint(c.GKE["region"])}
	case "aks":
		return stackTarget{cloud: "azure", region: fmt.Sprint(c.AKS["location"])}
	}
	t.Fatalf("stack %s: unknown cluster kind %q", stack, c.Kind)
	return stackTarget{}
}

// stackCall is one call of pulumi-stack.yml from deploy.yml.
type stackCall struct {
	job  string
	with map[string]any // matrix values substituted
}

// deployCalls returns every stack job of deploy.yml, matrix expanded.
func deployCalls(t *testing.T, w *workflow) []stackCall {
	t.Helper()
	var calls []stackCall
	for _, name := range []string{"regional", "global"} {
		j := w.Jobs[name]
		require.NotNil(t, j, "deploy.yml has job %s", name)
		require.Equal(t, "./.github/workflows/pulumi-stack.yml", j.Uses, "deploy.yml/%s runs pulumi-stack.yml", name)
		rows := []map[string]any{nil}
		if j.Strategy != nil {
			rows = j.Strategy.Matrix.Include
		}
		for _, row := range rows {
			with := map[string]any{}
			for k, v := range j.With {
				if s, ok := v.(string); ok && strings.HasPrefix(s, "${{ matrix.") {
					key := strings.TrimSuffix(strings.TrimPrefix(s, "${{ matrix."), " }}")
					mv, ok := row[key]
					require.True(t, ok, "deploy.yml/%s: matrix row %v has no %s", name, row, key)
					v = mv
				}
				with[k] = v
			}
			calls = append(calls, stackCall{job: name, with: with})
		}
	}
	return calls
}

func TestDeployMatrixCoversEveryStack(t *testing.T) {
	files := stackFiles(t)
	for _, s := range deployStacks {
		if !slices.Contains(files, s) {
			t.Errorf("stacks/Pulumi.%s.yaml is missing", s)
		}
	}
	require.ElementsMatch(t, deployStacks, files, "stacks/ holds exactly the deploy workflow's stacks")

	w := loadWorkflow(t, ".github/workflows/deploy.yml")
	var stacks []string
	for _, c := range deployCalls(t, w) {
		stacks = append(stacks, c.with["stack"].(string))
		if c.job == "global" {
			require.Equal(t, "global", c.with["stack"])
		} else {
			require.NotEqual(t, "global", c.with["stack"], "global runs in its own job, after the regions")
		}
	}
	require.ElementsMatch(t, files, stacks, "one deploy job per stack file")
	require.Equal(t, "regional", w.Jobs["global"].Needs, "global runs after every regional job")
}

func TestDeployTargetsMatchTheStackFiles(t *testing.T) {
	for _, c := range deployCalls(t, loadWorkflow(t, ".github/workflows/deploy.yml")) {
		stack := c.with["stack"].(string)
		want := readStackTarget(t, stack)
		require.Equal(t, want.cloud, c.with["cloud"], "stack %s: credentials for its cluster's cloud", stack)
		if want.cloud != "none" {
			require.Equal(t, want.region, c.with["region"], "stack %s: region", stack)
		}
		require.Equal(t, !want.render, c.with["smoke"], "stack %s: smoke-tested unless it only renders manifests", stack)
	}
}

// stackRun is what pulumi-stack.yml does for one call on one event.
type stackRun struct {
	ran     []string // names of the steps that run, in order
	skipped bool     // the calling job itself does not run
	env     string   // the job's environment
	group   string   // the job's concurrency group
}

// simulate evaluates deploy.yml's call of stack on event/ref and the
// if: of each step of pulumi-stack.yml, assuming every step succeeds.
// command overrides the computed command when not empty.
func simulate(t *testing.T, call stackCall, event, ref, command string) stackRun {
	t.Helper()
	deploy := loadWorkflow(t, ".github/workflows/deploy.yml")
	reusable := loadWorkflow(t, ".github/workflows/pulumi-stack.yml")
	gh := githubCtx(event, ref)
	runs, err := EvalBool(deploy.Jobs[call.job].If, gh)
	require.NoError(t, err)
	if !runs {
		return stackRun{skipped: true}
	}
	inputs := map[string]any{}
	for name, in := range reusable.On["workflow_call"].Inputs {
		inputs[name] = in.Default
	}
	for k, v := range call.with {
		_, declared := reusable.On["workflow_call"].Inputs[k]
		require.True(t, declared, "pulumi-stack.yml declares input %s", k)
		if s, ok := v.(string); ok {
			v, err = evalWith(s, gh)
			require.NoError(t, err)
		}
		inputs[k] = v
	}
	for name, in := range reusable.On["workflow_call"].Inputs {
		require.False(t, in.Required && inputs[name] == nil, "required input %s is passed", name)
	}
	if command != "" {
		inputs["command"] = command
	}
	ctx := Context{"github": gh["github"], "inputs": inputs, "steps": map[string]any{}}
	j := reusable.Jobs["pulumi"]
	run := stackRun{}
	run.env, err = Interpolate(j.Environment, ctx)
	require.NoError(t, err)
	run.group, err = Interpolate(j.Concurrency.Group, ctx)
	require.NoError(t, err)
	steps := ctx["steps"].(map[string]any)
	for _, s := range j.Steps {
		ok, err := EvalBool(s.If, ctx)
		require.NoError(t, err, "step %q", s.Name)
		outcome := "skipped"
		if ok {
			outcome = "success"
			run.ran = append(run.ran, stepLabel(s))
		}
		if s.ID != "" {
			steps[s.ID] = map[string]any{"outcome": outcome, "conclusion": outcome}
		}
	}
	return run
}

// evalWith evaluates a with: value: one whole ${{ }} keeps its type,
// text with ${{ }} inside is interpolated, plain text is itself.
func evalWith(s string, ctx Context) (any, error) {
	t := strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(t, "${{") && strings.HasSuffix(t, "}}") && strings.Count(t, "${{") == 1:
		return Eval(t, ctx)
	case strings.Contains(s, "${{"):
		return Interpolate(s, ctx)
	default:
		return s, nil
	}
}

// stepLabel names a step by what it does: "pulumi up", "pulumi preview",
// the action it uses, or its name.
func stepLabel(s *step) string {
	switch {
	case strings.HasPrefix(s.Uses, "pulumi/actions@") && s.With["command"] != nil:
		return fmt.Sprint("pulumi ", s.With["command"])
	case s.Uses != "":
		return strings.Split(s.Uses, "@")[0]
	default:
		return s.Name
	}
}

func callFor(t *testing.T, stack string) stackCall {
	t.Helper()
	for _, c := range deployCalls(t, loadWorkflow(t, ".github/workflows/deploy.yml")) {
		if c.with["stack"] == stack {
			return c
		}
	}
	t.Fatalf("no deploy job for stack %s", stack)
	return stackCall{}
}

// TestUpOnlyOnMainAndTags evaluates the workflows' conditions for each kind
// of run: pull requests preview, pushes to main and v* tags update (then
// smoke-test), nothing else updates, and a forced up elsewhere is refused.
func TestUpOnlyOnMainAndTags(t *testing.T) {
	deploy := loadWorkflow(t, ".github/workflows/deploy.yml")
	for _, tc := range []struct {
		event, ref   string
		triggers     bool
		preview, up  bool
		refuse, fork bool
	}{
		{event: "pull_request", ref: "refs/pull/7/merge", triggers: true, preview: true},
		{event: "push", ref: "refs/heads/main", triggers: true, up: true},
		{event: "push", ref: "refs/tags/v1.2.3", triggers: true, up: true},
		{event: "push", ref: "refs/heads/feature", triggers: false},
		{event: "push", ref: "refs/tags/nightly", triggers: false},
		{event: "workflow_dispatch", ref: "refs/heads/main", triggers: false},
		{event: "schedule", ref: "refs/heads/main", triggers: false},
	} {
		name := tc.event + " " + tc.ref
		require.Equal(t, tc.triggers, triggered(t, deploy, tc.event, tc.ref), "deploy.yml triggers on %s", name)
		if !tc.triggers {
			continue
		}
		for _, stack := range deployStacks {
			call := callFor(t, stack)
			r := simulate(t, call, tc.event, tc.ref, "")
			require.False(t, r.skipped, "%s: %s", name, stack)
			require.Equal(t, tc.preview, slices.Contains(r.ran, "pulumi preview"), "%s: %s previews: %v", name, stack, r.ran)
			require.Equal(t, tc.up, slices.Contains(r.ran, "pulumi up"), "%s: %s updates: %v", name, stack, r.ran)
			smoke := tc.up && call.with["smoke"] == true
			require.Equal(t, smoke, slices.Contains(r.ran, "Smoke test"), "%s: %s smoke test: %v", name, stack, r.ran)
			if smoke {
				require.Greater(t, slices.Index(r.ran, "Smoke test"), slices.Index(r.ran, "pulumi up"))
			}
			if tc.up {
				require.Equal(t, stack, r.env, "up runs in the stack's environment (its protection rules)")
			} else {
				require.Equal(t, stack+"-preview", r.env, "previews run in the stack's preview environment")
			}
		}
	}
	// Defence in depth: the reusable workflow itself refuses up outside
	// main and v* tags, whatever its caller passes.
	for _, ref := range []string{"refs/heads/feature", "refs/pull/7/merge", "refs/tags/nightly"} {
		for _, event := range []string{"push", "pull_request", "workflow_dispatch"} {
			r := simulate(t, callFor(t, "dev"), event, ref, "up")
			require.NotContains(t, r.ran, "pulumi up", "%s %s", event, ref)
			require.Contains(t, r.ran, "Refuse up outside main and release tags", "%s %s", event, ref)
		}
	}
	// Pull requests from forks get neither secrets nor OIDC: no job runs.
	fork := githubCtx("pull_request", "refs/pull/8/merge")
	fork["github"].(map[string]any)["event"] = map[string]any{"pull_request": map[string]any{
		"head": map[string]any{"repo": map[string]any{"full_name": "someone/fork"}}}}
	for _, name := range []string{"regional", "global"} {
		ok, err := EvalBool(deploy.Jobs[name].If, fork)
		require.NoError(t, err)
		require.False(t, ok, "deploy.yml/%s skips fork pull requests", name)
	}
}

func TestDeployConcurrencyPerStack(t *testing.T) {
	j := loadWorkflow(t, ".github/workflows/pulumi-stack.yml").Jobs["pulumi"]
	require.NotNil(t, j.Concurrency)
	require.Equal(t, false, j.Concurrency.CancelInProgress, "a running pulumi up is never cancelled")
	group := func(stack, event, ref string) string {
		return simulate(t, callFor(t, stack), event, ref, "").group
	}
	require.NotEqual(t, group("prod-aws-us-east-1", "push", "refs/heads/main"), group("prod-aws-eu-west-1", "push", "refs/heads/main"),
		"stacks update in parallel")
	require.Equal(t, group("dev", "push", "refs/heads/main"), group("dev", "push", "refs/tags/v1.2.3"),
		"one update of a stack at a time, whichever ref started it")
	require.NotEqual(t, group("dev", "pull_request", "refs/pull/1/merge"), group("dev", "pull_request", "refs/pull/2/merge"),
		"previews of different pull requests do not supersede each other")
	require.NotEqual(t, group("dev", "pull_request", "refs/pull/1/merge"), group("dev", "push", "refs/heads/main"),
		"a preview never waits behind an update")
}

func TestDeployCredentialsThroughOIDC(t *testing.T) {
	authActions := map[string]string{
		"aws":   "aws-actions/configure-aws-credentials",
		"gcp":   "google-github-actions/auth",
		"azure": "azure/login",
	}
	staticInputs := []string{"aws-access-key-id", "aws-secret-access-key", "credentials_json", "creds", "client-secret"}
	j := loadWorkflow(t, ".github/workflows/pulumi-stack.yml").Jobs["pulumi"]
	for _, s := range j.Steps {
		for _, in := range staticInputs {
			require.NotContains(t, s.With, in, "step %q: no stored cloud keys, OIDC only", s.Name)
		}
	}
	var perms map[string]string
	require.NoError(t, j.Permissions.Decode(&perms))
	require.Equal(t, "write", perms["id-token"], "OIDC needs id-token: write")

	for _, stack := range deployStacks {
		call := callFor(t, stack)
		for _, ev := range [][2]string{{"push", "refs/heads/main"}, {"pull_request", "refs/pull/3/merge"}} {
			r := simulate(t, call, ev[0], ev[1], "")
			for cloud, action := range authActions {
				require.Equal(t, call.with["cloud"] == cloud, slices.Contains(r.ran, action),
					"%s on %s: %s credentials: %v", stack, ev[0], cloud, r.ran)
			}
			at := func(label string) int {
				i := slices.Index(r.ran, label)
				require.GreaterOrEqual(t, i, 0, "%s: step %s runs: %v", stack, label, r.ran)
				return i
			}
			if action, ok := authActions[call.with["cloud"].(string)]; ok {
				require.Less(t, at(action), at("Select the stack, set its secrets"), "%s: credentials before pulumi", stack)
			}
		}
	}
}

func TestDeploySmokeStep(t *testing.T) {
	j := loadWorkflow(t, ".github/workflows/pulumi-stack.yml").Jobs["pulumi"]
	var smoke *step
	for _, s := range j.Steps {
		if s.Name == "Smoke test" {
			smoke = s
		}
	}
	require.NotNil(t, smoke)
	require.Contains(t, smoke.Run, "scripts/smoke-test.sh")
	require.Equal(t, "${{ secrets.SMOKE_API_TOKEN }}", smoke.Env["MMLLM_API_TOKEN"], "the bearer token comes from secrets")
	_, err := os.Stat(filepath.Join(repoRoot(t), "scripts", "smoke-test.sh"))
	require.NoError(t, err)
	// The endpoint: the regional stacks export url, the global stack fqdn.
	require.Equal(t, "fqdn", callFor(t, "global").with["url_output"])
	require.Nil(t, callFor(t, "dev").with["url_output"], "regional stacks use the default, url")
	require.Contains(t, readRepoFile(t, "infra/stack/program.go"), `"url":`, "the regional program exports url")
	require.Contains(t, readRepoFile(t, "infra/stack/global.go"), `"fqdn":`, "the global program exports fqdn")
}
