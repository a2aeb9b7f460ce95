package deploy

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

// repoRoot is the repository, where Pulumi.yaml and stacks/ are.
const repoRoot = "../.."

func noop(*pulumi.Context) error { return nil }

func TestLoadProjectReadsTheRepositorysSettings(t *testing.T) {
	p, err := LoadProject(filepath.Join(repoRoot, "Pulumi.yaml"))
	require.NoError(t, err)
	require.Equal(t, "mobile-mm-llm", p.Name.String())
	require.Equal(t, "go", p.Runtime.Name())
	require.Equal(t, "stacks/", p.StackConfigDir)

	w := workspaceProject(p)
	require.Empty(t, w.StackConfigDir, "the stack file lies beside Pulumi.yaml in the work directory")
	require.Empty(t, w.Main)
	require.Equal(t, "stacks/", p.StackConfigDir, "the loaded settings are not changed")

	_, err = LoadProject(filepath.Join(t.TempDir(), "Pulumi.yaml"))
	require.ErrorContains(t, err, "Pulumi.yaml")
	_, err = LoadProject("")
	require.ErrorContains(t, err, "no path")
	bad := filepath.Join(t.TempDir(), "Pulumi.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("name: [\n"), 0o644))
	_, err = LoadProject(bad)
	require.ErrorContains(t, err, bad)
}

func TestReadStackFile(t *testing.T) {
	dir := t.TempDir()
	content := []byte("config:\n  mobile-mm-llm:environment: dev\n")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.dev.yaml"), content, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.prod.yaml"), content, 0o644))

	data, path, err := ReadStackFile(dir, "dev")
	require.NoError(t, err)
	require.Equal(t, content, data)
	require.Equal(t, filepath.Join(dir, "Pulumi.dev.yaml"), path)

	_, _, err = ReadStackFile(dir, "staging")
	require.ErrorContains(t, err, `stack "staging": no file`)
	require.ErrorContains(t, err, "the stacks in "+dir+" are: dev, prod")
	_, _, err = ReadStackFile(dir, "../dev")
	require.ErrorContains(t, err, "invalid stack name")
	_, _, err = ReadStackFile(filepath.Join(dir, "missing"), "dev")
	require.ErrorContains(t, err, "listing stacks")
}

func TestPrepareWorkDirCopiesTheStackFile(t *testing.T) {
	stacks := t.TempDir()
	content := []byte("config:\n  mobile-mm-llm:cluster:\n    kind: existing\n")
	require.NoError(t, os.WriteFile(filepath.Join(stacks, "Pulumi.local.yaml"), content, 0o644))
	dir, data, err := prepareWorkDir(&Options{Stack: "local", StacksDir: stacks})
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.Equal(t, content, data)
	got, err := os.ReadFile(filepath.Join(dir, "Pulumi.local.yaml"))
	require.NoError(t, err)
	require.Equal(t, content, got)

	_, _, err = prepareWorkDir(&Options{Stack: "absent", StacksDir: stacks})
	require.ErrorContains(t, err, "the stacks in "+stacks+" are: local")
}

func TestRenderDirFor(t *testing.T) {
	cwd, err := os.Getwd()
	require.NoError(t, err)
	proj := &workspace.Project{Name: "mobile-mm-llm"}
	relative := []byte("config:\n  mobile-mm-llm:cluster:\n    kind: existing\n    renderDir: rendered/local\n")
	for _, c := range []struct {
		name      string
		flag      string
		stackFile string
		want      string
		err       string
	}{
		{name: "flag, from the current directory", flag: "out", stackFile: string(relative), want: filepath.Join(cwd, "out")},
		{name: "stack file, from the project directory", stackFile: string(relative), want: "/repo/rendered/local"},
		{name: "stack file, absolute", stackFile: "config:\n  mobile-mm-llm:cluster: {renderDir: /abs/dir}\n", want: "/abs/dir"},
		{name: "stack file, key without namespace", stackFile: "config:\n  cluster: {renderDir: r}\n", want: "/repo/r"},
		{name: "no render mode", stackFile: "config:\n  mobile-mm-llm:cluster: {kind: existing}\n"},
		{name: "no config", stackFile: "encryptionsalt: x\n"},
		{name: "not a string", stackFile: "config:\n  mobile-mm-llm:cluster: {renderDir: [a]}\n", err: "mobile-mm-llm:cluster.renderDir: a string"},
		{name: "bad YAML", stackFile: "config: [\n", err: "stack settings"},
	} {
		got, err := renderDirFor(&Options{Stack: "local", Project: proj, ProjectDir: "/repo", RenderDir: c.flag}, []byte(c.stackFile))
		if c.err != "" {
			require.ErrorContains(t, err, c.err, c.name)
			continue
		}
		require.NoError(t, err, c.name)
		require.Equal(t, c.want, got, c.name)
	}
}

func TestOptionsCheck(t *testing.T) {
	proj := &workspace.Project{Name: "mobile-mm-llm"}
	valid := Options{Stack: "local", StacksDir: "stacks", Project: proj}
	require.NoError(t, valid.check())
	for _, c := range []struct {
		name string
		edit func(*Options)
		err  string
	}{
		{"no project", func(o *Options) { o.Project = nil }, "no project settings"},
		{"unnamed project", func(o *Options) { o.Project = &workspace.Project{} }, "no name"},
		{"no stack", func(o *Options) { o.Stack = "" }, "no stack name"},
		{"no stacks dir", func(o *Options) { o.StacksDir = "" }, "no stacks directory"},
		{"empty secret", func(o *Options) { o.Secrets = map[string]string{"apiTokens": " "} }, "secret apiTokens: empty value"},
		{"missing pack", func(o *Options) { o.PolicyPacks = []string{"/nonexistent/pack"} }, "/nonexistent/pack"},
	} {
		o := valid
		c.edit(&o)
		require.ErrorContains(t, o.check(), c.err, c.name)
	}
}

func TestEnvVars(t *testing.T) {
	require.Equal(t, map[string]string{"PULUMI_SKIP_UPDATE_CHECK": "true"}, (&Options{}).envVars())
	require.Equal(t, "file:///tmp/state", (&Options{Backend: "file:///tmp/state"}).envVars()["PULUMI_BACKEND_URL"])
}

func TestFullKey(t *testing.T) {
	require.Equal(t, "mobile-mm-llm:apiTokens", FullKey("mobile-mm-llm", "apiTokens"))
	require.Equal(t, "kubernetes:context", FullKey("mobile-mm-llm", "kubernetes:context"))
	require.Equal(t, "mobile-mm-llm:cluster.renderDir", FullKey("mobile-mm-llm", RenderDirPath))
}

func TestRunWithoutTheCLISaysHowToGetIt(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := FindCLI()
	require.ErrorContains(t, err, "make e2e")
	_, err = Run(context.Background(), Options{Stack: "local", StacksDir: filepath.Join(repoRoot, "stacks"),
		Project: &workspace.Project{Name: "mobile-mm-llm"}}, noop)
	require.ErrorContains(t, err, "the Pulumi CLI (pulumi) is not on PATH")
	require.ErrorContains(t, err, "make e2e")
}

func TestRunRejectsBadOptionsFirst(t *testing.T) {
	_, err := Run(context.Background(), Options{Stack: "local"}, noop)
	require.ErrorContains(t, err, "no project settings")
	_, err = Run(context.Background(), Options{}, nil)
	require.ErrorContains(t, err, "no program")
}

func TestCollectViolations(t *testing.T) {
	evs := make(chan events.EngineEvent, 4)
	evs <- events.EngineEvent{EngineEvent: apitype.EngineEvent{PolicyEvent: &apitype.PolicyEvent{
		PolicyPackName: "mmllm", PolicyName: "k8s-no-privileged", EnforcementLevel: "mandatory",
		ResourceURN: "urn:pulumi:s::p::kubernetes:apps/v1:Deployment::api", Message: "privileged\n",
	}}}
	evs <- events.EngineEvent{EngineEvent: apitype.EngineEvent{DiagnosticEvent: &apitype.DiagnosticEvent{Message: "not a policy"}}}
	evs <- events.EngineEvent{EngineEvent: apitype.EngineEvent{PolicyEvent: &apitype.PolicyEvent{
		PolicyPackName: "mmllm", PolicyName: "k8s-helm-chart-pinned", EnforcementLevel: "advisory", Message: "pin it",
	}}}
	close(evs)
	res := &Result{Violations: collectViolations(evs), Changes: opCounts(map[apitype.OpType]int{"create": 3, "same": 2})}
	require.Equal(t, []Violation{
		{Pack: "mmllm", Policy: "k8s-no-privileged", Level: "mandatory", URN: "urn:pulumi:s::p::kubernetes:apps/v1:Deployment::api", Message: "privileged"},
		{Pack: "mmllm", Policy: "k8s-helm-chart-pinned", Level: "advisory", Message: "pin it"},
	}, res.Violations)
	require.Equal(t, []Violation{res.Violations[0]}, res.Mandatory())
	require.Equal(t, []string{"k8s-no-privileged"}, res.MandatoryPolicies())
	res.Violations = append(res.Violations, Violation{Policy: "k8s-a", Level: "mandatory"}, Violation{Policy: "k8s-no-privileged", Level: "mandatory"})
	require.Equal(t, []string{"k8s-a", "k8s-no-privileged"}, res.MandatoryPolicies())
	require.Equal(t, 5, res.Resources())
	require.Nil(t, opCounts(nil))
}

func TestAbsPaths(t *testing.T) {
	cwd, err := os.Getwd()
	require.NoError(t, err)
	got, err := absPaths([]string{"bin/pack", "/abs/pack"})
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(cwd, "bin/pack"), "/abs/pack"}, got)
}
