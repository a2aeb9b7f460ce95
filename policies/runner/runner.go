// Package runner checks a stack against the policy rules without a Pulumi
// engine or a cloud: it runs the stack's Pulumi program under the SDK's
// mocks (pulumi.RunErr with pulumi.WithMocks) with the config of the
// stack's settings file, records every resource the program registers with
// its inputs, and evaluates policies.DefaultSet over them, as
// `pulumi preview --policy-pack` would. `mmllm policy check` is its
// command line.
package runner

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mobile-mm-llm/mobile-mm-llm/policies"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Program is the Pulumi program a stack runs, and what the runner must know
// of its configuration.
type Program struct {
	// Project is the Pulumi project's name, the namespace of its config keys.
	Project string
	// Run is the program.
	Run pulumi.RunFunc
	// Keys are the config keys (without the namespace) the program reads;
	// a stack file setting another key of the namespace is an error.
	Keys []string
	// SecretKeys are the keys the program reads as secrets. Stack files in
	// the repository hold none (each deployer sets them with `pulumi config
	// set --secret`), so the runner gives the absent ones placeholders.
	SecretKeys []string
	// Invokes answers the provider functions the program calls (default
	// DefaultInvokes); any other invoke fails.
	Invokes map[string]InvokeFunc
	// Outputs computes the outputs a cloud adds to resources, per type
	// token (default DefaultOutputs).
	Outputs map[string]OutputsFunc
}

// config returns the program's config map and secret keys for sf: its
// values, with placeholders for the absent secret keys. A key of the
// project's namespace that the program does not read is an error.
func (p Program) config(sf *StackFile) (map[string]string, []string, error) {
	var unknown []string
	for full := range sf.Config {
		ns, key, _ := strings.Cut(full, ":")
		if ns == p.Project && !slices.Contains(p.Keys, key) {
			unknown = append(unknown, full)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, nil, fmt.Errorf("stack %q: %s: unknown config key(s) %s; the program reads %s",
			sf.Name, sf.Path, strings.Join(unknown, ", "), strings.Join(p.Keys, ", "))
	}
	cfg := maps.Clone(sf.Config)
	secret := slices.Clone(sf.SecretKeys)
	for _, key := range p.SecretKeys {
		full := p.Project + ":" + key
		if _, ok := cfg[full]; !ok {
			cfg[full] = Placeholder(full)
			secret = append(secret, full)
		}
	}
	return cfg, secret, nil
}

// withConfig gives the program its config, as the Pulumi engine does
// through PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS.
func withConfig(cfg map[string]string, secretKeys []string) pulumi.RunOption {
	return func(info *pulumi.RunInfo) {
		info.Config = cfg
		info.ConfigSecretKeys = secretKeys
	}
}

// Execute runs the program for the stack under mocks and returns what it
// registered and exported; the error is the program's (bad config names
// its key). The stacks it reads through pulumi.StackReference are run the
// same way, from their files beside sf, for their outputs.
func (p Program) Execute(sf *StackFile) (*Recorder, error) {
	return p.execute(sf, nil)
}

// execute is Execute for a stack referenced through the stacks in chain.
func (p Program) execute(sf *StackFile, chain []string) (*Recorder, error) {
	if p.Run == nil || p.Project == "" {
		return nil, fmt.Errorf("runner: Program needs Run and Project")
	}
	cfg, secret, err := p.config(sf)
	if err != nil {
		return nil, err
	}
	rec := NewRecorder(p.Project, sf.Name)
	rec.Invokes, rec.Outputs = p.Invokes, p.Outputs
	if rec.Invokes == nil {
		rec.Invokes = DefaultInvokes()
	}
	if rec.Outputs == nil {
		rec.Outputs = DefaultOutputs()
	}
	rec.InvokeHint = "the policy runner has no result for provider functions; compute the value in the program or from config"
	rec.Reads = map[string]ReadFunc{StackReferenceType: p.referenceReader(sf, append(slices.Clone(chain), sf.Name))}
	if err := pulumi.RunErr(recordExports(p.Run, rec), pulumi.WithMocks(p.Project, sf.Name, rec), withConfig(cfg, secret)); err != nil {
		return rec, fmt.Errorf("stack %q (%s): the program failed: %w", sf.Name, sf.Path, programErrors(err))
	}
	if err := rec.awaitExports(); err != nil {
		return rec, fmt.Errorf("stack %q (%s): %w", sf.Name, sf.Path, err)
	}
	return rec, nil
}

// programErrors unwraps the list the SDK collects a program's errors in
// (printed as "1 error occurred: * ..."), so the message is the program's.
func programErrors(err error) error {
	var list interface{ WrappedErrors() []error }
	if errors.As(err, &list) && len(list.WrappedErrors()) > 0 {
		return errors.Join(list.WrappedErrors()...)
	}
	return err
}

// Result is one stack's check.
type Result struct {
	// Stack is the stack's name.
	Stack string
	// Info is what the rules knew of the stack.
	Info policies.StackInfo
	// Resources are the resources judged.
	Resources []policies.Resource
	// Report holds the violations and their counts.
	Report policies.Report
}

// Failed reports whether a mandatory rule was broken.
func (r *Result) Failed() bool { return r.Report.Mandatory > 0 }

// Check runs the program for the stack and evaluates set over the
// resources it registered; the stack's environment key decides whether the
// production rules apply.
func (p Program) Check(sf *StackFile, set *policies.Set) (*Result, error) {
	if set == nil {
		return nil, fmt.Errorf("runner: no policy set")
	}
	rec, err := p.Execute(sf)
	if err != nil {
		return nil, err
	}
	res := rec.PolicyResources()
	if len(res) == 0 {
		return nil, fmt.Errorf("stack %q: the program registered no resources to check", sf.Name)
	}
	info := policies.NewStackInfo(sf.Name, sf.Environment(p.Project))
	return &Result{Stack: sf.Name, Info: info, Resources: res, Report: policies.NewReport(info, set.Check(res, info))}, nil
}
