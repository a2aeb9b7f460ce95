// Package deploy drives the Pulumi engine through the Automation API: it runs
// a Go program (the project's stack.Program, or any pulumi.RunFunc) inline,
// so no pulumi-language-go plugin is needed, with the project settings from
// Pulumi.yaml and one stack's settings file from stacks/. It backs
// `mmllm deploy` and the end-to-end run (`make e2e`, docs/e2e.md).
//
// The stack's settings file is copied, unchanged, into a temporary work
// directory beside the project settings, so the CLI reads its config exactly
// as `pulumi up` in the repository would, while the repository's files are
// never written to (the CLI adds an encryption salt, render paths and
// secrets to the copy only).
package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/policies/runner"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"
)

// CLIName is the Pulumi CLI's executable, looked up on PATH.
const CLIName = "pulumi"

// CLIHint says how to get the Pulumi CLI; errors about a missing CLI end
// with it.
const CLIHint = "install it (https://www.pulumi.com/docs/install/) or run `make e2e`, " +
	"which builds it from source into ${XDG_CACHE_HOME:-$HOME/.cache}/mmllm-e2e/bin " +
	"(`source <(scripts/e2e-tools.sh --env)` puts that on PATH)"

// RenderDirPath is the config path, below the project's cluster key, that
// makes the Kubernetes provider write manifests to a directory
// (renderYamlToDirectory) instead of applying them to a cluster.
const RenderDirPath = "cluster.renderDir"

// Options is one run of the engine on one stack.
type Options struct {
	// Stack is the stack's name; its settings are StacksDir/Pulumi.<Stack>.yaml.
	Stack string
	// StacksDir holds the stacks' settings files.
	StacksDir string
	// Project is the project's settings (LoadProject reads Pulumi.yaml).
	Project *workspace.Project
	// ProjectDir is the directory of Pulumi.yaml: a relative
	// cluster.renderDir in the stack file is taken from there, as under
	// `pulumi up` (the inline program's root is the work directory).
	ProjectDir string
	// Preview previews instead of updating.
	Preview bool
	// RenderDir, when set, is written to the config path
	// <project>:cluster.renderDir (made absolute from the current
	// directory): the program then renders manifests into it rather than
	// reaching a cluster.
	RenderDir string
	// Backend is the state backend's URL (file://DIR for a local one); empty
	// keeps the CLI's own (PULUMI_BACKEND_URL or `pulumi login`).
	Backend string
	// SecretsProvider is given to a stack the run creates ("passphrase",
	// a KMS URL...); empty keeps the backend's default.
	SecretsProvider string
	// Secrets are config values set as secrets in the work directory's copy
	// of the stack file: full key ("project:key") or a key of the project's
	// namespace, to value.
	Secrets map[string]string
	// PolicyPacks are policy packs (a directory, or a pack executable) the
	// engine runs; a mandatory violation fails the run.
	PolicyPacks []string
	// Stdout receives the engine's progress; Stderr its errors. Nil discards.
	Stdout, Stderr io.Writer
	// KeepWorkDir keeps the temporary work directory (its path is in Result).
	KeepWorkDir bool
}

// Violation is one policy violation the engine reported.
type Violation struct {
	// Pack is the policy pack's name.
	Pack string
	// Policy is the policy's name (the rule's ID for the project's pack).
	Policy string
	// Level is the enforcement level: "mandatory", "advisory" or "warning".
	Level string
	// URN is the resource's, empty for a stack-wide violation.
	URN string
	// Message is the policy's message.
	Message string
}

// Result is what a run did.
type Result struct {
	// Preview is whether it was a preview.
	Preview bool
	// Changes counts the resource operations by kind ("create", "same"...).
	Changes map[string]int
	// Violations are the policy violations reported, mandatory or not.
	Violations []Violation
	// Outputs are the stack outputs after an update (secrets as "[secret]").
	Outputs map[string]string
	// WorkDir is the work directory, when KeepWorkDir kept it.
	WorkDir string
	// RenderDir is where the manifests were rendered ("" when the stack
	// did not render).
	RenderDir string
}

// Resources returns how many resources the run counted, whatever the
// operation.
func (r *Result) Resources() int {
	n := 0
	for _, c := range r.Changes {
		n += c
	}
	return n
}

// Mandatory returns the violations that block a run.
func (r *Result) Mandatory() []Violation {
	var out []Violation
	for _, v := range r.Violations {
		if v.Level == string(apitype.Mandatory) {
			out = append(out, v)
		}
	}
	return out
}

// MandatoryPolicies returns the names of the policies with mandatory
// violations, sorted, each once.
func (r *Result) MandatoryPolicies() []string {
	var ids []string
	for _, v := range r.Mandatory() {
		ids = append(ids, v.Policy)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// LoadProject reads the project settings file (Pulumi.yaml).
func LoadProject(path string) (*workspace.Project, error) {
	if path == "" {
		return nil, errors.New("project settings: no path given")
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("project settings %s: %w", path, err)
	}
	p, err := workspace.LoadProject(path)
	if err != nil {
		return nil, fmt.Errorf("project settings %s: %w", path, err)
	}
	return p, nil
}

// ReadStackFile returns the settings file of stack name in dir and its
// path; a stack without a file is an error that lists the stacks there.
func ReadStackFile(dir, name string) ([]byte, string, error) {
	path, err := runner.StackPath(dir, name)
	if err != nil {
		return nil, "", err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		known, lerr := runner.ListStacks(dir)
		if lerr != nil {
			return nil, "", fmt.Errorf("stack %q: no file %s (%w)", name, path, lerr)
		}
		return nil, "", fmt.Errorf("stack %q: no file %s; the stacks in %s are: %s", name, path, dir, strings.Join(known, ", "))
	}
	if err != nil {
		return nil, "", fmt.Errorf("stack %q: %w", name, err)
	}
	return data, path, nil
}

// FindCLI returns the path of the Pulumi CLI on PATH, or an error that
// says how to get it.
func FindCLI() (string, error) {
	p, err := exec.LookPath(CLIName)
	if err != nil {
		return "", fmt.Errorf("the Pulumi CLI (%s) is not on PATH: %s", CLIName, CLIHint)
	}
	return p, nil
}

// FullKey returns key in project's namespace unless it names one already.
func FullKey(project, key string) string {
	if strings.Contains(key, ":") {
		return key
	}
	return project + ":" + key
}

// check validates o without touching the disk beyond the stack file.
func (o *Options) check() error {
	var errs []string
	if o.Project == nil {
		errs = append(errs, "no project settings (LoadProject reads Pulumi.yaml)")
	} else if o.Project.Name == "" {
		errs = append(errs, "the project settings have no name")
	}
	if o.Stack == "" {
		errs = append(errs, "no stack name")
	}
	if o.StacksDir == "" {
		errs = append(errs, "no stacks directory")
	}
	for k, v := range o.Secrets {
		if strings.TrimSpace(v) == "" {
			errs = append(errs, fmt.Sprintf("secret %s: empty value", k))
		}
	}
	for _, p := range o.PolicyPacks {
		if _, err := os.Stat(p); err != nil {
			errs = append(errs, fmt.Sprintf("policy pack: %v", err))
		}
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return fmt.Errorf("deploy: %s", strings.Join(errs, "; "))
	}
	return nil
}

// workspaceProject is the project as written to the work directory: the
// stack file lies beside it and the program runs inline, so neither
// stackConfigDir nor main applies there.
func workspaceProject(p *workspace.Project) workspace.Project {
	w := *p
	w.StackConfigDir = ""
	w.Main = ""
	return w
}

// prepareWorkDir makes a temporary work directory holding a copy of the
// stack's settings file, and returns it and the file's content; the
// workspace writes Pulumi.yaml there.
func prepareWorkDir(o *Options) (string, []byte, error) {
	data, _, err := ReadStackFile(o.StacksDir, o.Stack)
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "mmllm-deploy-")
	if err != nil {
		return "", nil, fmt.Errorf("deploy: work directory: %w", err)
	}
	dst := filepath.Join(dir, "Pulumi."+o.Stack+".yaml")
	if err := os.WriteFile(dst, data, 0o600); err != nil {
		return "", nil, errors.Join(fmt.Errorf("deploy: %s: %w", dst, err), os.RemoveAll(dir))
	}
	return dir, data, nil
}

// renderDirFor returns the absolute render directory of the run: o's
// RenderDir from the current directory, else the stack file's
// cluster.renderDir from ProjectDir; "" when neither is set.
func renderDirFor(o *Options, stackFile []byte) (string, error) {
	if o.RenderDir != "" {
		abs, err := filepath.Abs(o.RenderDir)
		if err != nil {
			return "", fmt.Errorf("deploy: render directory %s: %w", o.RenderDir, err)
		}
		return abs, nil
	}
	rd, err := stackRenderDir(stackFile, o.Project.Name.String())
	if err != nil {
		return "", fmt.Errorf("deploy: stack %q: %w", o.Stack, err)
	}
	if rd == "" || filepath.IsAbs(rd) {
		return rd, nil
	}
	root, err := filepath.Abs(o.ProjectDir)
	if err != nil {
		return "", fmt.Errorf("deploy: project directory %s: %w", o.ProjectDir, err)
	}
	return filepath.Join(root, rd), nil
}

// stackRenderDir reads cluster.renderDir of project's namespace from a
// stack settings file ("" when unset).
func stackRenderDir(stackFile []byte, project string) (string, error) {
	var f struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(stackFile, &f); err != nil {
		return "", fmt.Errorf("stack settings: %w", err)
	}
	cluster, ok := f.Config[project+":cluster"]
	if !ok {
		cluster = f.Config["cluster"]
	}
	m, ok := cluster.(map[string]any)
	if !ok {
		return "", nil
	}
	switch v := m["renderDir"].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", fmt.Errorf("%s:%s: a string, not %T", project, RenderDirPath, v)
	}
}

// envVars are the environment the CLI runs with, beyond the process's own.
func (o *Options) envVars() map[string]string {
	env := map[string]string{"PULUMI_SKIP_UPDATE_CHECK": "true"}
	if o.Backend != "" {
		env["PULUMI_BACKEND_URL"] = o.Backend
	}
	return env
}

// Run runs program on the stack: an update, or a preview with o.Preview.
// The engine's progress streams to o.Stdout as it runs.
func Run(ctx context.Context, o Options, program pulumi.RunFunc) (*Result, error) {
	if program == nil {
		return nil, errors.New("deploy: no program")
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	if _, err := FindCLI(); err != nil {
		return nil, fmt.Errorf("deploy: %w", err)
	}
	dir, stackFile, err := prepareWorkDir(&o)
	if err != nil {
		return nil, err
	}
	res := &Result{Preview: o.Preview}
	if o.KeepWorkDir {
		res.WorkDir = dir
	} else {
		defer func() { _ = os.RemoveAll(dir) }()
	}
	renderDir, err := renderDirFor(&o, stackFile)
	if err != nil {
		return nil, err
	}
	res.RenderDir = renderDir
	// The CLI runs in the work directory: relative pack paths would miss.
	packs, err := absPaths(o.PolicyPacks)
	if err != nil {
		return nil, fmt.Errorf("deploy: policy pack: %w", err)
	}

	wopts := []auto.LocalWorkspaceOption{
		auto.WorkDir(dir),
		auto.Project(workspaceProject(o.Project)),
		auto.EnvVars(o.envVars()),
	}
	if o.SecretsProvider != "" {
		wopts = append(wopts, auto.SecretsProvider(o.SecretsProvider))
	}
	st, err := auto.UpsertStackInlineSource(ctx, o.Stack, o.Project.Name.String(), program, wopts...)
	if err != nil {
		return nil, fmt.Errorf("deploy: stack %q: %w", o.Stack, err)
	}
	if err := setConfig(ctx, &st, &o, renderDir); err != nil {
		return nil, err
	}

	evs := make(chan events.EngineEvent)
	collected := make(chan []Violation, 1)
	go func() { collected <- collectViolations(evs) }()
	stdout, stderr := writerOr(o.Stdout), writerOr(o.Stderr)
	var runErr error
	if o.Preview {
		var pr auto.PreviewResult
		pr, runErr = st.Preview(ctx, optpreview.ProgressStreams(stdout), optpreview.ErrorProgressStreams(stderr),
			optpreview.EventStreams(evs), optpreview.PolicyPacks(packs...))
		res.Changes = opCounts(pr.ChangeSummary)
	} else {
		var ur auto.UpResult
		ur, runErr = st.Up(ctx, optup.ProgressStreams(stdout), optup.ErrorProgressStreams(stderr),
			optup.EventStreams(evs), optup.PolicyPacks(packs...))
		if ur.Summary.ResourceChanges != nil {
			res.Changes = make(map[string]int, len(*ur.Summary.ResourceChanges))
			for k, v := range *ur.Summary.ResourceChanges {
				res.Changes[k] = v
			}
		}
		res.Outputs = outputStrings(ur.Outputs)
	}
	// The SDK closes the event channel when the engine's log ends; a run that
	// failed before the engine started never opens it.
	select {
	case res.Violations = <-collected:
	case <-time.After(10 * time.Second):
	}
	if runErr != nil {
		if ids := res.MandatoryPolicies(); len(ids) > 0 {
			return res, fmt.Errorf("deploy: stack %q: %s blocked by mandatory policies %s: %w",
				o.Stack, opName(o.Preview), strings.Join(ids, ", "), runErr)
		}
		return res, fmt.Errorf("deploy: stack %q: %s: %w", o.Stack, opName(o.Preview), runErr)
	}
	return res, nil
}

// setConfig writes the secrets and the render directory into the work
// directory's copy of the stack file.
func setConfig(ctx context.Context, st *auto.Stack, o *Options, renderDir string) error {
	keys := make([]string, 0, len(o.Secrets))
	for k := range o.Secrets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		full := FullKey(o.Project.Name.String(), k)
		if err := st.SetConfig(ctx, full, auto.ConfigValue{Value: o.Secrets[k], Secret: true}); err != nil {
			return fmt.Errorf("deploy: stack %q: setting secret %s: %w", o.Stack, full, err)
		}
	}
	if renderDir != "" {
		key := FullKey(o.Project.Name.String(), RenderDirPath)
		if err := st.SetConfigWithOptions(ctx, key, auto.ConfigValue{Value: renderDir}, &auto.ConfigOptions{Path: true}); err != nil {
			return fmt.Errorf("deploy: stack %q: setting %s: %w", o.Stack, key, err)
		}
	}
	return nil
}

// collectViolations reads engine events until the channel closes and
// returns the policy violations among them.
func collectViolations(evs <-chan events.EngineEvent) []Violation {
	var out []Violation
	for e := range evs {
		if p := e.PolicyEvent; p != nil {
			out = append(out, Violation{
				Pack: p.PolicyPackName, Policy: p.PolicyName, Level: p.EnforcementLevel,
				URN: p.ResourceURN, Message: strings.TrimSpace(p.Message),
			})
		}
	}
	return out
}

// opCounts converts the engine's change summary.
func opCounts(m map[apitype.OpType]int) map[string]int {
	if m == nil {
		return nil
	}
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[string(k)] = v
	}
	return out
}

// outputStrings formats stack outputs, hiding secrets.
func outputStrings(m auto.OutputMap) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v.Secret {
			out[k] = "[secret]"
			continue
		}
		out[k] = fmt.Sprint(v.Value)
	}
	return out
}

// absPaths makes every path absolute from the current directory.
func absPaths(paths []string) ([]string, error) {
	out := make([]string, len(paths))
	for i, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out[i] = abs
	}
	return out, nil
}

func opName(preview bool) string {
	if preview {
		return "preview"
	}
	return "up"
}

func writerOr(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
