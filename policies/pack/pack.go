// Package pack is the one adapter between the project's policy rules
// (package policies) and Pulumi's experimental Go policy SDK, policyx: every
// rule becomes a policyx policy of the same name and enforcement level, and
// Main serves them to the engine for `pulumi preview --policy-pack PATH`.
// policyx's signatures change between releases; nothing else imports it.
package pack

import (
	"context"
	"fmt"

	"github.com/blang/semver"
	"github.com/mobile-mm-llm/mobile-mm-llm/policies"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const (
	// Name is the policy pack's name, as `pulumi preview` reports it.
	Name = "mobile-mm-llm"
	// Version is the policy pack's version.
	Version = "0.1.0"
	// EnvironmentConfigKey is the stack config key (in the project's
	// namespace) whose value "production" marks a production stack; without
	// it the stack's name decides (see policies.NewStackInfo).
	EnvironmentConfigKey = "environment"
)

// Main serves the rules of set as a policy pack over the analyzer protocol:
// it prints the port it listens on and returns when the engine is done.
func Main(set *policies.Set) error {
	if err := policyx.Main(Factory(set)); err != nil {
		return fmt.Errorf("serving policy pack %s: %w", Name, err)
	}
	return nil
}

// Factory returns the function policyx calls once it knows the stack: it
// builds the pack for that stack.
func Factory(set *policies.Set) func(*pulumi.Context) (policyx.PolicyPack, error) {
	return func(ctx *pulumi.Context) (policyx.PolicyPack, error) {
		return New(set, StackInfo(ctx))
	}
}

// StackInfo reads the stack's name and environment from the analyzer's
// context.
func StackInfo(ctx *pulumi.Context) policies.StackInfo {
	return policies.NewStackInfo(ctx.Stack(), config.Get(ctx, EnvironmentConfigKey))
}

// New returns the policy pack of set's rules for stack.
func New(set *policies.Set, stack policies.StackInfo) (policyx.PolicyPack, error) {
	version, err := semver.Parse(Version)
	if err != nil {
		return nil, fmt.Errorf("policy pack %s version %q: %w", Name, Version, err)
	}
	pack, err := policyx.NewPolicyPack(Name, version, policyx.EnforcementLevelMandatory, Policies(set, stack))
	if err != nil {
		return nil, fmt.Errorf("building policy pack %s: %w", Name, err)
	}
	return pack, nil
}

// Policies turns each rule into a policyx policy named by the rule's ID: a
// resource validation policy for a per-resource rule, a stack validation
// policy for a stack rule.
func Policies(set *policies.Set, stack policies.StackInfo) []policyx.Policy {
	rules := set.Rules()
	out := make([]policyx.Policy, 0, len(rules))
	for _, rule := range rules {
		level := policyx.EnforcementLevelAdvisory
		if rule.Severity == policies.Mandatory {
			level = policyx.EnforcementLevelMandatory
		}
		if rule.IsStackRule() {
			out = append(out, policyx.NewStackValidationPolicy(rule.ID, policyx.StackValidationPolicyArgs{
				Description:      rule.Description,
				EnforcementLevel: level,
				ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
					resources := make([]policies.Resource, 0, len(args.Resources))
					for _, r := range args.Resources {
						resources = append(resources, resourceOf(r))
					}
					report(args.Manager, rule.Evaluate(resources, stack))
					return nil
				},
			}))
			continue
		}
		out = append(out, policyx.NewResourceValidationPolicy(rule.ID, policyx.ResourceValidationPolicyArgs{
			Description:      rule.Description,
			EnforcementLevel: level,
			ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
				report(args.Manager, rule.Evaluate([]policies.Resource{resourceOf(args.Resource)}, stack))
				return nil
			},
		}))
	}
	return out
}

func report(m policyx.PolicyManager, vs []policies.Violation) {
	for _, v := range vs {
		m.ReportViolation(v.Message, v.URN)
	}
}

// resourceOf converts the analyzer's view of a resource.
func resourceOf(r policyx.AnalyzerResource) policies.Resource {
	out := policies.Resource{
		URN:          r.URN,
		Type:         r.Type,
		Name:         r.Name,
		Props:        policies.FromPropertyMap(r.Properties),
		PropertyDeps: r.PropertyDependencies,
	}
	if r.Provider.Type != "" {
		out.Provider = policies.FromPropertyMap(r.Provider.Properties)
	}
	return out
}
