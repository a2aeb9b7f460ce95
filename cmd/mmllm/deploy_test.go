package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/infra/deploy"
	"github.com/stretchr/testify/require"
)

// repoRoot is the repository, where Pulumi.yaml and stacks/ are.
const repoRoot = "../.."

// parseDeploy runs `deploy ARGS...` with a recorder instead of the engine
// and returns the parsed options.
func parseDeploy(t *testing.T, args ...string) (*deployOptions, error) {
	t.Helper()
	var got *deployOptions
	cmd := newDeployCmd(func(o *deployOptions) error { got = o; return nil })
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs(args)
	err := cmd.Execute()
	return got, err
}

func TestDeployFlags(t *testing.T) {
	t.Setenv("E2E_TOKENS", "token-1")
	t.Setenv("E2E_REDIS", "redis-pw")
	o, err := parseDeploy(t, "--stack", "local", "--preview", "--render-dir", "out",
		"--policy-pack", "bin/pack", "--policy-pack", "other", "--backend", "file:///tmp/s",
		"--secret-env", "apiTokens=E2E_TOKENS", "--secret-env", "mobile-mm-llm:redisPassword=E2E_REDIS")
	require.NoError(t, err)
	require.Equal(t, "local", o.stack)
	require.True(t, o.preview)
	require.Equal(t, "out", o.renderDir)
	require.Equal(t, "stacks", o.stacksDir, "the default")
	require.Equal(t, "Pulumi.yaml", o.projectFile, "the default")
	require.Equal(t, []string{"bin/pack", "other"}, o.policyPacks)
	require.Equal(t, "file:///tmp/s", o.backend)
	sec, err := o.secrets()
	require.NoError(t, err)
	require.Equal(t, map[string]string{"apiTokens": "token-1", "mobile-mm-llm:redisPassword": "redis-pw"}, sec)
	require.NotNil(t, o.ctx)

	o, err = parseDeploy(t, "--stack", "dev")
	require.NoError(t, err)
	require.False(t, o.preview)
	require.Empty(t, o.renderDir)
}

func TestDeployFlagErrors(t *testing.T) {
	t.Setenv("E2E_EMPTY", " ")
	t.Setenv("E2E_SET", "v")
	for _, c := range []struct {
		args []string
		err  string
	}{
		{nil, "--stack is required"},
		{[]string{"--stack", "x", "extra"}, "unknown command"},
		{[]string{"--stack", "x", "--stacks-dir", ""}, "--stacks-dir must not be empty"},
		{[]string{"--stack", "x", "--project", ""}, "--project must not be empty"},
		{[]string{"--stack", "x", "--secret-env", "apiTokens"}, `--secret-env "apiTokens": want KEY=ENV_VAR`},
		{[]string{"--stack", "x", "--secret-env", "=E2E_SET"}, "want KEY=ENV_VAR"},
		{[]string{"--stack", "x", "--secret-env", "apiTokens=MMLLM_SURELY_UNSET_VAR"}, "environment variable MMLLM_SURELY_UNSET_VAR is unset or empty"},
		{[]string{"--stack", "x", "--secret-env", "apiTokens=E2E_EMPTY"}, "E2E_EMPTY is unset or empty"},
		{[]string{"--stack", "x", "--secret-env", "a=E2E_SET", "--secret-env", "a=E2E_SET"}, "key a given twice"},
	} {
		_, err := parseDeploy(t, c.args...)
		require.ErrorContains(t, err, c.err, strings.Join(c.args, " "))
	}
}

func TestDeployConfig(t *testing.T) {
	t.Setenv("E2E_TOKENS", "token-1")
	o := &deployOptions{stack: "dev", stacksDir: filepath.Join(repoRoot, "stacks"), projectFile: filepath.Join(repoRoot, "Pulumi.yaml"),
		renderDir: "out", policyPacks: []string{"pack"}, secretEnv: []string{"apiTokens=E2E_TOKENS"}, lookupEnv: os.LookupEnv}
	cfg, err := o.deployConfig()
	require.NoError(t, err)
	require.Equal(t, "mobile-mm-llm", cfg.Project.Name.String())
	require.Equal(t, repoRoot, cfg.ProjectDir)
	require.Equal(t, "dev", cfg.Stack)
	require.Equal(t, "out", cfg.RenderDir)
	require.Equal(t, []string{"pack"}, cfg.PolicyPacks)
	require.Equal(t, map[string]string{"apiTokens": "token-1"}, cfg.Secrets)

	other := filepath.Join(t.TempDir(), "Pulumi.yaml")
	require.NoError(t, os.WriteFile(other, []byte("name: another\nruntime: go\n"), 0o644))
	o.projectFile = other
	_, err = o.deployConfig()
	require.ErrorContains(t, err, `names project "another"; the program reads the config of "mobile-mm-llm"`)

	o.projectFile = filepath.Join(t.TempDir(), "Pulumi.yaml")
	_, err = o.deployConfig()
	require.ErrorContains(t, err, "project settings")
}

func TestDeployWithoutTheCLISaysHowToGetIt(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var out bytes.Buffer
	cmd := newDeployCmd(runDeploy)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs([]string{"--stack", "dev", "--stacks-dir", filepath.Join(repoRoot, "stacks"), "--project", filepath.Join(repoRoot, "Pulumi.yaml")})
	err := cmd.Execute()
	require.ErrorContains(t, err, "the Pulumi CLI (pulumi) is not on PATH")
	require.ErrorContains(t, err, "make e2e")
	require.Empty(t, out.String(), "nothing ran, so there is no summary")
}

func TestWriteDeploySummary(t *testing.T) {
	var out bytes.Buffer
	writeDeploySummary(&out, "local", &deploy.Result{
		Preview: true,
		Changes: map[string]int{"create": 3, "same": 1},
		Violations: []deploy.Violation{
			{Policy: "k8s-no-privileged", Level: "mandatory", URN: "urn:x::api", Message: "privileged\nsecond line"},
			{Policy: "k8s-helm-chart-pinned", Level: "advisory", Message: "pin it"},
		},
	})
	s := out.String()
	require.Contains(t, s, "stack local: preview: 4 resources (create 3, same 1); 2 policy violations, 1 mandatory")
	require.Regexp(t, `mandatory\s+k8s-no-privileged\s+urn:x::api\s+privileged\n`, s)
	require.NotContains(t, s, "second line")
	require.Regexp(t, `advisory\s+k8s-helm-chart-pinned\s+pin it`, s)

	out.Reset()
	writeDeploySummary(&out, "local", &deploy.Result{Changes: map[string]int{"create": 2}})
	require.Contains(t, out.String(), "stack local: up: 2 resources (create 2); 0 policy violations, 0 mandatory")
	require.NotContains(t, out.String(), "LEVEL")
}
