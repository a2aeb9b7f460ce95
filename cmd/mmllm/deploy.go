package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/mobile-mm-llm/mobile-mm-llm/infra/deploy"
	"github.com/mobile-mm-llm/mobile-mm-llm/infra/stack"
	"github.com/spf13/cobra"
)

// deployOptions are `deploy`'s inputs after flag parsing.
type deployOptions struct {
	stack           string
	preview         bool
	renderDir       string
	stacksDir       string
	projectFile     string
	backend         string
	secretsProvider string
	secretEnv       []string
	policyPacks     []string
	// lookupEnv reads the environment (tests replace it).
	lookupEnv   func(string) (string, bool)
	out, errOut io.Writer
	// ctx cancels the run (the command's context: Ctrl-C).
	ctx context.Context
}

// newDeployCmd builds `deploy`; runF runs the parsed options (tests pass
// a recorder to check flag parsing alone).
func newDeployCmd(runF func(*deployOptions) error) *cobra.Command {
	o := &deployOptions{lookupEnv: os.LookupEnv}
	cmd := &cobra.Command{
		Use:   "deploy --stack NAME [--preview] [--render-dir DIR] [--stacks-dir DIR]",
		Short: "Run the infra program on a stack with the Pulumi engine (Automation API)",
		Long: `Deploy runs the project's Pulumi program (infra/stack.Program, the same function
infra/main.go runs) inline through the Pulumi Automation API, so only the Pulumi
CLI and the resource plugins are needed, not pulumi-language-go. The config is
DIR/Pulumi.<stack>.yaml with the project settings of Pulumi.yaml; the files are
copied into a temporary work directory and never written to. Progress streams to
stdout; policy violations are listed at the end.

--render-dir sets the config path mobile-mm-llm:cluster.renderDir, so the
Kubernetes provider writes every manifest into DIR instead of applying it.
--secret-env key=VAR sets a secret config key from an environment variable
(repeatable; the value never appears on the command line). --policy-pack runs a
policy pack (a directory or a pack executable such as mmllm-policy-pack); a
mandatory violation fails the run.

The CLI is found on PATH; ` + "`make e2e`" + ` builds one (and the Kubernetes provider).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.out, o.errOut, o.ctx = cmd.OutOrStdout(), cmd.ErrOrStderr(), cmd.Context()
			if err := o.validate(); err != nil {
				return err
			}
			return runF(o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.stack, "stack", "", "the stack (its settings are DIR/Pulumi.<stack>.yaml)")
	f.BoolVar(&o.preview, "preview", false, "preview the changes instead of applying them")
	f.StringVar(&o.renderDir, "render-dir", "", "render the Kubernetes manifests into this directory instead of applying them")
	f.StringVar(&o.stacksDir, "stacks-dir", "stacks", "the directory of the stacks' settings files")
	f.StringVar(&o.projectFile, "project", "Pulumi.yaml", "the project settings file")
	f.StringVar(&o.backend, "backend", "", "the state backend URL (default: the CLI's login; file://DIR for local state)")
	f.StringVar(&o.secretsProvider, "secrets-provider", "", "secrets provider for a new stack (default: the backend's; passphrase reads PULUMI_CONFIG_PASSPHRASE)")
	f.StringArrayVar(&o.secretEnv, "secret-env", nil, "set secret config KEY from environment variable VAR (KEY=VAR, repeatable)")
	f.StringArrayVar(&o.policyPacks, "policy-pack", nil, "run this policy pack (directory or executable; repeatable)")
	return cmd
}

// validate checks the flags that need no file or engine.
func (o *deployOptions) validate() error {
	if o.stack == "" {
		return fmt.Errorf("deploy: --stack is required")
	}
	if o.stacksDir == "" {
		return fmt.Errorf("deploy: --stacks-dir must not be empty")
	}
	if o.projectFile == "" {
		return fmt.Errorf("deploy: --project must not be empty")
	}
	_, err := o.secrets()
	return err
}

// secrets reads the --secret-env values: config key to value.
func (o *deployOptions) secrets() (map[string]string, error) {
	out := make(map[string]string, len(o.secretEnv))
	for _, kv := range o.secretEnv {
		key, env, ok := strings.Cut(kv, "=")
		key, env = strings.TrimSpace(key), strings.TrimSpace(env)
		if !ok || key == "" || env == "" {
			return nil, fmt.Errorf("deploy: --secret-env %q: want KEY=ENV_VAR", kv)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("deploy: --secret-env %q: key %s given twice", kv, key)
		}
		v, set := o.lookupEnv(env)
		if !set || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("deploy: --secret-env %q: environment variable %s is unset or empty", kv, env)
		}
		out[key] = v
	}
	return out, nil
}

// deployConfig turns the options into the driver's.
func (o *deployOptions) deployConfig() (deploy.Options, error) {
	proj, err := deploy.LoadProject(o.projectFile)
	if err != nil {
		return deploy.Options{}, fmt.Errorf("deploy: %w", err)
	}
	if proj.Name.String() != stack.Project {
		return deploy.Options{}, fmt.Errorf("deploy: %s names project %q; the program reads the config of %q", o.projectFile, proj.Name, stack.Project)
	}
	sec, err := o.secrets()
	if err != nil {
		return deploy.Options{}, err
	}
	return deploy.Options{
		Stack: o.stack, StacksDir: o.stacksDir, Project: proj, ProjectDir: filepath.Dir(o.projectFile), Preview: o.preview,
		RenderDir: o.renderDir, Backend: o.backend, SecretsProvider: o.secretsProvider,
		Secrets: sec, PolicyPacks: o.policyPacks, Stdout: o.out, Stderr: o.errOut,
	}, nil
}

// runDeploy runs stack.Program on the stack and prints the summary.
func runDeploy(o *deployOptions) error {
	cfg, err := o.deployConfig()
	if err != nil {
		return err
	}
	res, err := deploy.Run(o.ctx, cfg, stack.Program)
	if res != nil {
		writeDeploySummary(o.out, o.stack, res)
	}
	return err
}

// writeDeploySummary prints the resource counts and policy violations.
func writeDeploySummary(w io.Writer, name string, res *deploy.Result) {
	op := "up"
	if res.Preview {
		op = "preview"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(res.Changes)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, res.Changes[k]))
	}
	fmt.Fprintf(w, "\nmmllm deploy: stack %s: %s: %d resources (%s); %d policy violations, %d mandatory\n",
		name, op, res.Resources(), strings.Join(parts, ", "), len(res.Violations), len(res.Mandatory()))
	if len(res.Violations) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LEVEL\tPOLICY\tRESOURCE\tMESSAGE")
	for _, v := range res.Violations {
		msg, _, _ := strings.Cut(v.Message, "\n")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.Level, v.Policy, v.URN, msg)
	}
	_ = tw.Flush()
}
