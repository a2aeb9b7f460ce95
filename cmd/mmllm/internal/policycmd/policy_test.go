package policycmd

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/policies/runner"
	"github.com/stretchr/testify/require"
)

// stacksDir is the repository's stacks/.
const stacksDir = "../../../../stacks"

// run executes `policy ARGS...` and returns its output and error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := New()
	cmd.SilenceErrors, cmd.SilenceUsage = true, true // as under mmllm's root
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// TestEveryStackPasses is the policy gate of `make test`: every stack in
// stacks/ runs the real program and breaks no mandatory rule.
func TestEveryStackPasses(t *testing.T) {
	names, err := runner.ListStacks(stacksDir)
	require.NoError(t, err)
	require.NotEmpty(t, names, "stacks/ holds the stacks")
	out, err := run(t, "check", "--all", "--stacks-dir", stacksDir, "--format", "json")
	require.NoError(t, err, out)
	var reports []stackReport
	require.NoError(t, json.Unmarshal([]byte(out), &reports))
	require.Len(t, reports, len(names))
	for i, r := range reports {
		require.Equal(t, names[i], r.Stack)
		require.Empty(t, r.Error)
		for _, v := range r.Violations {
			require.NotEqual(t, "mandatory", string(v.Severity), "stack %s: %s: %s", r.Stack, v.RuleID, v.Message)
		}
	}
}

func TestFlagParsing(t *testing.T) {
	tests := []struct {
		args    []string
		want    checkOptions
		wantErr string
	}{
		{args: []string{"--stack", "dev"}, want: checkOptions{stack: "dev", stacksDir: "stacks", format: "table"}},
		{args: []string{"--all", "--stacks-dir", "x", "--format", "json"}, want: checkOptions{all: true, stacksDir: "x", format: "json"}},
		{args: nil, wantErr: "--stack NAME, or use --all"},
		{args: []string{"--stack", "dev", "--all"}, wantErr: "exclude each other"},
		{args: []string{"--stack", "dev", "--format", "yaml"}, wantErr: `--format is "yaml"`},
		{args: []string{"dev"}, wantErr: "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var got *checkOptions
			cmd := newCheckCmd(func(o *checkOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				require.Nil(t, got, "nothing runs on bad flags")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want.stack, got.stack)
			require.Equal(t, tt.want.all, got.all)
			require.Equal(t, tt.want.stacksDir, got.stacksDir)
			require.Equal(t, tt.want.format, got.format)
			require.Equal(t, "mobile-mm-llm", got.program.Project)
		})
	}
}

// writeStack writes Pulumi.<name>.yaml into dir.
func writeStack(t *testing.T, dir, name, body string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi."+name+".yaml"), []byte(body), 0o644))
}

// copyStack copies a stack of stacks/ into dir, editing it with replace
// (old, new pairs that must each match).
func copyStack(t *testing.T, dir, from, to string, replace ...string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(stacksDir, "Pulumi."+from+".yaml"))
	require.NoError(t, err)
	s := string(b)
	for i := 0; i+1 < len(replace); i += 2 {
		require.Contains(t, s, replace[i])
		s = strings.Replace(s, replace[i], replace[i+1], 1)
	}
	writeStack(t, dir, to, s)
}

func TestViolatingStackFailsWithRuleIDs(t *testing.T) {
	dir := t.TempDir()
	copyStack(t, dir, "prod-onprem", "prod-thin",
		"    min: 3\n", "    min: 2\n",
		"  mobile-mm-llm:backup:\n    enabled: true\n", "  mobile-mm-llm:backup:\n    enabled: false\n",
		`    schedule: "17 3 * * *"`+"\n    retentionDays: 14\n    storageSize: 50Gi\n", "")
	out, err := run(t, "check", "--stack", "prod-thin", "--stacks-dir", dir)
	require.ErrorContains(t, err, "policy check failed for stack(s) prod-thin")
	require.Regexp(t, `(?m)^k8s-autoscaler-min-replicas\s+mandatory\s+ScaledObject/inference-scaledobject\s+`, out)
	require.Regexp(t, `(?m)^production-backup-schedule\s+mandatory\s+Stack/prod-thin\s+`, out)
	require.Contains(t, out, "stack prod-thin: FAILED (2 mandatory")

	// The same stack as dev: 2 replicas and no backups are fine there.
	copyStack(t, dir, "prod-onprem", "dev-thin", "environment: production", "environment: dev",
		"    min: 3\n", "    min: 2\n")
	out, err = run(t, "check", "--stack", "dev-thin", "--stacks-dir", dir, "--format", "json")
	require.NoError(t, err, out)
	var rep stackReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Equal(t, "dev-thin", rep.Stack)
	require.False(t, rep.Production)
	require.Zero(t, rep.Mandatory)
}

func TestAllReportsEveryStackAndFailsOnAnyBadOne(t *testing.T) {
	dir := t.TempDir()
	copyStack(t, dir, "dev", "a-good")
	copyStack(t, dir, "dev", "b-latest", "mmllm:v0.3.1", "mmllm:latest")
	out, err := run(t, "check", "--all", "--stacks-dir", dir)
	require.ErrorContains(t, err, "policy check failed for stack(s) b-latest")
	require.Contains(t, out, "stack a-good: passed")
	require.Contains(t, out, "stack b-latest: ERROR:")
	require.Contains(t, out, `mobile-mm-llm:image: "ghcr.io/mobile-mm-llm/mmllm:latest" floats on latest`)

	out, err = run(t, "check", "--all", "--stacks-dir", dir, "--format", "json")
	require.Error(t, err)
	var reports []stackReport
	require.NoError(t, json.Unmarshal([]byte(out), &reports))
	require.Len(t, reports, 2)
	require.Empty(t, reports[0].Error)
	require.Contains(t, reports[1].Error, "mobile-mm-llm:image")
}

func TestBadStackNamesAndFiles(t *testing.T) {
	dir := t.TempDir()
	copyStack(t, dir, "dev", "dev")
	writeStack(t, dir, "broken", "config: [not, a, map]\n")
	writeStack(t, dir, "typo", "config:\n  mobile-mm-llm:replcas: {min: 2, max: 3}\n")
	tests := []struct{ stack, want string }{
		{"nope", `stack "nope": no file ` + filepath.Join(dir, "Pulumi.nope.yaml") + "; the stacks in " + dir + " are: broken, dev, typo"},
		{"../dev", `invalid stack name "../dev"`},
		{"broken", `stack "broken": ` + filepath.Join(dir, "Pulumi.broken.yaml") + ": yaml:"},
		{"typo", "unknown config key(s) mobile-mm-llm:replcas"},
	}
	for _, tt := range tests {
		t.Run(tt.stack, func(t *testing.T) {
			_, err := run(t, "check", "--stack", tt.stack, "--stacks-dir", dir)
			require.ErrorContains(t, err, tt.want)
		})
	}
	_, err := run(t, "check", "--all", "--stacks-dir", filepath.Join(dir, "missing"))
	require.ErrorContains(t, err, "listing stacks")
	_, err = run(t, "check", "--all", "--stacks-dir", t.TempDir())
	require.ErrorContains(t, err, "no Pulumi.<stack>.yaml files")
}

func TestRulesListsTheCatalogue(t *testing.T) {
	out, err := run(t, "rules")
	require.NoError(t, err)
	require.Regexp(t, `(?m)^k8s-image-pinned\s+mandatory\s+resource\s+`, out)
	require.Regexp(t, `(?m)^production-backup-schedule\s+mandatory\s+stack\s+`, out)
}
