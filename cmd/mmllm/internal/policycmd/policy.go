// Package policycmd implements `mmllm policy`: `check` runs the infra
// program for one stack (or every stack) of stacks/ under Pulumi's mocks
// and evaluates the policy rules over what it registers, failing on any
// mandatory violation; `rules` lists the rules.
package policycmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/infra/stack"
	"github.com/mobile-mm-llm/mobile-mm-llm/policies"
	"github.com/mobile-mm-llm/mobile-mm-llm/policies/runner"
	"github.com/spf13/cobra"
)

// Output formats.
const (
	formatTable = "table"
	formatJSON  = "json"
)

// checkOptions are `policy check`'s inputs after flag parsing.
type checkOptions struct {
	stack     string
	all       bool
	stacksDir string
	format    string
	out       io.Writer
	program   runner.Program
}

// New returns the `policy` command.
func New() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Check stacks against the policy rules",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCheckCmd(runCheck), newRulesCmd())
	return cmd
}

// Program is the stack program as the runner checks it.
func Program() runner.Program {
	return runner.Program{Project: stack.Project, Run: stack.Program, Keys: stack.ConfigKeys(), SecretKeys: stack.SecretKeys()}
}

// newCheckCmd builds `policy check`; runF runs the parsed options (tests
// pass a recorder to check flag parsing alone).
func newCheckCmd(runF func(*checkOptions) error) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check (--stack NAME | --all) [--stacks-dir DIR] [--format table|json]",
		Short: "Run a stack's program under mocks and check its resources against the policy rules",
		Long: `Check runs the Pulumi program in infra/ for a stack under the Pulumi SDK's mocks,
with the config of DIR/Pulumi.<stack>.yaml (secret keys get placeholders), records
every resource it registers and evaluates the policy rules over them: the same
rules ` + "`pulumi preview --policy-pack`" + ` applies. The stack's environment key decides
whether the production rules apply. It exits non-zero on any mandatory violation
or when the program fails (bad config names its key).

With --format json it prints a report object for --stack, an array for --all.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.out = cmd.OutOrStdout()
			o.program = Program()
			if err := o.validate(); err != nil {
				return err
			}
			return runF(o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.stack, "stack", "", "the stack to check (its file is DIR/Pulumi.<stack>.yaml)")
	f.BoolVar(&o.all, "all", false, "check every stack in the stacks directory")
	f.StringVar(&o.stacksDir, "stacks-dir", "stacks", "the directory of the stacks' settings files")
	f.StringVar(&o.format, "format", formatTable, "output format: table or json")
	return cmd
}

// validate checks the flags' combination.
func (o *checkOptions) validate() error {
	switch {
	case o.stack == "" && !o.all:
		return errors.New("policy check: name a stack with --stack NAME, or use --all")
	case o.stack != "" && o.all:
		return errors.New("policy check: --stack and --all exclude each other")
	case o.format != formatTable && o.format != formatJSON:
		return fmt.Errorf("policy check: --format is %q; use %s or %s", o.format, formatTable, formatJSON)
	}
	return nil
}

// stackReport is one stack's report, or why it could not be checked.
type stackReport struct {
	policies.Report
	// Error is why the stack could not be checked (its program failed).
	Error string `json:"error,omitempty"`
}

// failed reports whether the stack fails the check.
func (r stackReport) failed() bool { return r.Error != "" || r.Mandatory > 0 }

// runCheck checks the stacks and writes the reports.
func runCheck(o *checkOptions) error {
	names := []string{o.stack}
	if o.all {
		var err error
		if names, err = runner.ListStacks(o.stacksDir); err != nil {
			return fmt.Errorf("policy check: %w", err)
		}
		if len(names) == 0 {
			return fmt.Errorf("policy check: no Pulumi.<stack>.yaml files in %s", o.stacksDir)
		}
	}
	set, err := policies.DefaultSet()
	if err != nil {
		return fmt.Errorf("policy check: %w", err)
	}
	reports := make([]stackReport, 0, len(names))
	for _, name := range names {
		rep, err := checkStack(o, set, name)
		if err != nil && !o.all {
			return fmt.Errorf("policy check: %w", err)
		}
		reports = append(reports, rep)
	}
	if err := write(o, reports); err != nil {
		return err
	}
	var failed []string
	for _, r := range reports {
		if r.failed() {
			failed = append(failed, r.Stack)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("policy check failed for stack(s) %s", strings.Join(failed, ", "))
	}
	return nil
}

// checkStack checks one stack; a stack that cannot be checked gives a
// report carrying the error, and the error.
func checkStack(o *checkOptions, set *policies.Set, name string) (stackReport, error) {
	sf, err := runner.LoadStack(o.stacksDir, name, o.program.Project)
	if err == nil {
		var res *runner.Result
		if res, err = o.program.Check(sf, set); err == nil {
			return stackReport{Report: res.Report}, nil
		}
	}
	return stackReport{Report: policies.Report{Stack: name, Violations: []policies.Violation{}}, Error: err.Error()}, err
}

// write prints the reports in the chosen format.
func write(o *checkOptions, reports []stackReport) error {
	if o.format == formatJSON {
		enc := json.NewEncoder(o.out)
		enc.SetIndent("", "  ")
		var v any = reports
		if !o.all {
			v = reports[0]
		}
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("policy check: writing JSON: %w", err)
		}
		return nil
	}
	for i, r := range reports {
		if i > 0 {
			fmt.Fprintln(o.out)
		}
		if r.Error != "" {
			fmt.Fprintf(o.out, "stack %s: ERROR: %s\n", r.Stack, r.Error)
			continue
		}
		if err := r.WriteTable(o.out); err != nil {
			return err
		}
	}
	return nil
}

// newRulesCmd builds `policy rules`.
func newRulesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rules",
		Short: "List the policy rules with their severity and rationale",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := policies.DefaultSet()
			if err != nil {
				return fmt.Errorf("policy rules: %w", err)
			}
			return policies.WriteRules(cmd.OutOrStdout(), set.Rules())
		},
	}
}
