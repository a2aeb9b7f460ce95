package workflows

import (
	"bytes"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// The workflow files, as far as the checks read them.
type workflow struct {
	Name        string              `yaml:"name"`
	On          map[string]*trigger `yaml:"on"`
	Permissions yaml.Node           `yaml:"permissions"`
	Jobs        map[string]*job     `yaml:"jobs"`
}

type trigger struct {
	Branches []string          `yaml:"branches"`
	Tags     []string          `yaml:"tags"`
	Inputs   map[string]*input `yaml:"inputs"`
}

type input struct {
	Type     string `yaml:"type"`
	Required bool   `yaml:"required"`
	Default  any    `yaml:"default"`
}

type job struct {
	Name        string            `yaml:"name"`
	If          string            `yaml:"if"`
	Needs       any               `yaml:"needs"`
	Permissions yaml.Node         `yaml:"permissions"`
	Environment string            `yaml:"environment"`
	Concurrency *concurrency      `yaml:"concurrency"`
	Env         map[string]string `yaml:"env"`
	Uses        string            `yaml:"uses"`
	With        map[string]any    `yaml:"with"`
	Secrets     any               `yaml:"secrets"`
	Strategy    *struct {
		Matrix struct {
			Include []map[string]any `yaml:"include"`
		} `yaml:"matrix"`
	} `yaml:"strategy"`
	Steps []*step `yaml:"steps"`
}

type concurrency struct {
	Group            string `yaml:"group"`
	CancelInProgress any    `yaml:"cancel-in-progress"`
}

type step struct {
	ID   string            `yaml:"id"`
	Name string            `yaml:"name"`
	If   string            `yaml:"if"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]any    `yaml:"with"`
	Env  map[string]string `yaml:"env"`
}

// workflowFiles returns every workflow file's path relative to the root.
func workflowFiles(t *testing.T) []string {
	t.Helper()
	root := repoRoot(t)
	var files []string
	for _, pattern := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(root, ".github", "workflows", pattern))
		require.NoError(t, err)
		for _, f := range m {
			rel, err := filepath.Rel(root, f)
			require.NoError(t, err)
			files = append(files, filepath.ToSlash(rel))
		}
	}
	slices.Sort(files)
	return files
}

func loadWorkflow(t *testing.T, rel string) *workflow {
	t.Helper()
	var w workflow
	require.NoError(t, yaml.Unmarshal([]byte(readRepoFile(t, rel)), &w), rel)
	require.NotEmpty(t, w.Jobs, "%s has jobs", rel)
	return &w
}

func TestWorkflowFiles(t *testing.T) {
	require.Subset(t, workflowFiles(t), []string{
		".github/workflows/ci.yml", ".github/workflows/deploy.yml",
		".github/workflows/image.yml", ".github/workflows/pulumi-stack.yml",
	})
}

// TestWorkflowsLint runs actionlint (syntax, expressions and their types,
// the inputs of the popular actions, reusable workflow calls, and the run:
// scripts through shellcheck when it is installed) over every workflow.
func TestWorkflowsLint(t *testing.T) {
	var out bytes.Buffer
	opts := &actionlint.LinterOptions{}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		opts.Shellcheck = sc
	} else {
		t.Log("shellcheck is not installed: run: scripts are linted without it")
	}
	l, err := actionlint.NewLinter(&out, opts)
	require.NoError(t, err)
	errs, err := l.LintRepository(repoRoot(t))
	require.NoError(t, err)
	require.Empty(t, errs, out.String())

	// The linter does check action inputs: a misspelt one is caught.
	out.Reset()
	bad := []byte("on: push\npermissions: {}\njobs:\n  x:\n    runs-on: ubuntu-latest\n    permissions: {}\n" +
		"    steps:\n      - uses: pulumi/actions@v6\n        with:\n          stack_name: dev\n")
	errs, err = l.Lint("bad.yml", bad, nil)
	require.NoError(t, err)
	require.NotEmpty(t, errs, "actionlint flags the unknown input stack_name")
}

// allowedWrites are the write permissions each job may hold; every
// other scope is at most read.
var allowedWrites = map[string][]string{
	"deploy.yml/regional":     {"id-token"},
	"deploy.yml/global":       {"id-token"},
	"pulumi-stack.yml/pulumi": {"id-token"},
	"image.yml/publish":       {"packages"},
}

func TestWorkflowPermissions(t *testing.T) {
	for _, rel := range workflowFiles(t) {
		w := loadWorkflow(t, rel)
		require.Equal(t, yaml.MappingNode, w.Permissions.Kind, "%s: top-level permissions: {}", rel)
		require.Empty(t, w.Permissions.Content, "%s: no permission at the top level; each job asks for its own", rel)
		for name, j := range w.Jobs {
			id := path.Base(rel) + "/" + name
			require.Equal(t, yaml.MappingNode, j.Permissions.Kind, "%s has permissions (scope: level)", id)
			var perms map[string]string
			require.NoError(t, j.Permissions.Decode(&perms), "%s: permissions is a map of scope to level (not read-all/write-all)", id)
			for scope, level := range perms {
				switch level {
				case "read", "none":
				case "write":
					require.Contains(t, allowedWrites[id], scope, "%s may not write %s", id, scope)
				default:
					require.Fail(t, "bad permission level", "%s: %s: %q", id, scope, level)
				}
			}
			for _, scope := range allowedWrites[id] {
				require.Equal(t, "write", perms[scope], "%s needs %s: write", id, scope)
			}
		}
	}
}

// pinned is an action reference pinned to a major version or a commit.
var pinned = regexp.MustCompile(`^[A-Za-z0-9-]+/[A-Za-z0-9._/-]+@(v\d+|[0-9a-f]{40})$`)

func TestActionsArePinned(t *testing.T) {
	for _, rel := range workflowFiles(t) {
		for name, j := range loadWorkflow(t, rel).Jobs {
			uses := []string{j.Uses}
			for _, s := range j.Steps {
				uses = append(uses, s.Uses)
			}
			for _, u := range uses {
				if u == "" || strings.HasPrefix(u, "./") {
					continue
				}
				require.Regexp(t, pinned, u, "%s/%s", rel, name)
			}
		}
	}
}

func TestCIRunsMakeTestAndPolicy(t *testing.T) {
	w := loadWorkflow(t, ".github/workflows/ci.yml")
	require.Contains(t, w.On, "pull_request")
	require.Contains(t, w.On, "push")
	var runs []string
	for _, j := range w.Jobs {
		for _, s := range j.Steps {
			runs = append(runs, strings.TrimSpace(s.Run))
		}
	}
	require.Contains(t, runs, "make test")
	require.Contains(t, runs, "make policy")
	mk := readRepoFile(t, "Makefile")
	require.Regexp(t, `(?m)^test:`, mk)
	require.Regexp(t, `(?m)^policy:`, mk)
}

// githubCtx is the github context of a run of event on ref, from this
// repository (not a fork).
func githubCtx(event, ref string) Context {
	pr := map[string]any{"head": map[string]any{"repo": map[string]any{"full_name": "mobile-mm-llm/mobile-mm-llm"}}}
	return Context{"github": map[string]any{
		"event_name": event, "ref": ref, "repository": "mobile-mm-llm/mobile-mm-llm",
		"event": map[string]any{"pull_request": pr},
	}}
}

// triggered reports whether w runs for event on ref, by its on: filters.
func triggered(t *testing.T, w *workflow, event, ref string) bool {
	t.Helper()
	tr, ok := w.On[event]
	if !ok {
		return false
	}
	if event != "push" || tr == nil || (len(tr.Branches) == 0 && len(tr.Tags) == 0) {
		return true
	}
	match := func(patterns []string, name string) bool {
		for _, p := range patterns {
			ok, err := path.Match(p, name)
			require.NoError(t, err)
			if ok {
				return true
			}
		}
		return false
	}
	if b, ok := strings.CutPrefix(ref, "refs/heads/"); ok {
		return match(tr.Branches, b)
	}
	if tag, ok := strings.CutPrefix(ref, "refs/tags/"); ok {
		return match(tr.Tags, tag)
	}
	return false
}

func TestImageWorkflow(t *testing.T) {
	w := loadWorkflow(t, ".github/workflows/image.yml")
	df := parseRepoDockerfile(t)
	declared := map[string]bool{}
	for _, s := range df.Stages {
		args, err := df.Args(s)
		require.NoError(t, err)
		for k := range args {
			declared[k] = true
		}
	}
	for _, tc := range []struct {
		event, ref string
		build, pub bool
	}{
		{"pull_request", "refs/pull/7/merge", true, false},
		{"push", "refs/heads/main", false, true},
		{"push", "refs/tags/v1.2.3", false, true},
		{"push", "refs/heads/feature", false, false},
	} {
		if !triggered(t, w, tc.event, tc.ref) {
			require.False(t, tc.build || tc.pub, "%s %s does not trigger image.yml", tc.event, tc.ref)
			continue
		}
		for name, want := range map[string]bool{"build": tc.build, "publish": tc.pub} {
			got, err := EvalBool(w.Jobs[name].If, githubCtx(tc.event, tc.ref))
			require.NoError(t, err)
			require.Equal(t, want, got, "image.yml job %s on %s %s", name, tc.event, tc.ref)
		}
	}
	for name, push := range map[string]bool{"build": false, "publish": true} {
		var build, meta *step
		for _, s := range w.Jobs[name].Steps {
			switch {
			case strings.HasPrefix(s.Uses, "docker/build-push-action@"):
				build = s
			case strings.HasPrefix(s.Uses, "docker/metadata-action@"):
				meta = s
			}
		}
		require.NotNil(t, build, "image.yml/%s builds with buildx", name)
		require.NotNil(t, meta, "image.yml/%s takes tags and labels from the git ref", name)
		require.Equal(t, push, build.With["push"], "image.yml/%s push", name)
		require.Equal(t, ".", build.With["context"])
		require.Equal(t, "${{ steps.meta.outputs.labels }}", build.With["labels"], "OCI labels")
		require.Equal(t, "${{ steps.meta.outputs.tags }}", build.With["tags"])
		require.Equal(t, "meta", meta.ID)
		require.Contains(t, meta.With["tags"], "type=sha", "every image is tagged by commit")
		for _, kv := range strings.Split(strings.TrimSpace(build.With["build-args"].(string)), "\n") {
			k, _, _ := strings.Cut(strings.TrimSpace(kv), "=")
			require.True(t, declared[k], "build-arg %s is an ARG of the Dockerfile", k)
		}
	}
	pub := w.Jobs["publish"]
	var login bool
	for _, s := range pub.Steps {
		if strings.HasPrefix(s.Uses, "docker/login-action@") {
			require.Equal(t, "ghcr.io", s.With["registry"])
			login = true
		}
		if strings.HasPrefix(s.Uses, "docker/metadata-action@") {
			require.Contains(t, s.With["tags"], "type=ref,event=tag", "a v1.2.3 tag pushes :v1.2.3, the stacks' image tag form")
		}
	}
	require.True(t, login)
	require.Contains(t, readRepoFile(t, "stacks/Pulumi.dev.yaml"), "ghcr.io/mobile-mm-llm/mmllm:v", "the stacks pull what publish pushes")
}
