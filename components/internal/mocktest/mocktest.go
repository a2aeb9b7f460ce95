// Package mocktest runs a Pulumi program under the SDK's mocks, records every
// resource it registers (type token, name, URN, provider, inputs, property
// dependencies) and runs the project's policy rules over them, for the
// components' unit tests.
package mocktest

import (
	"slices"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/policies"
	"github.com/mobile-mm-llm/mobile-mm-llm/policies/runner"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

// Project is the project name the mocks run under.
const Project = "mobile-mm-llm"

// Registered is one resource registration the program made (the policy
// runner's record, so that components and stacks are checked alike).
type Registered = runner.Registration

// Mocks is a pulumi.MockResourceMonitor that records registrations: the
// policy runner's Recorder, whose hooks (computed outputs, invoke answers)
// cloudtest sets. Every resource's outputs are its inputs (so names and
// namespaces resolve), and, unless a hook answers, every invoke fails:
// components must make no provider calls outside resources.
type Mocks struct {
	*runner.Recorder
}

// New returns mocks for stack that have recorded nothing yet.
func New(stack string) *Mocks {
	rec := runner.NewRecorder(Project, stack)
	rec.InvokeHint = "unexpected: components must not call providers outside resources"
	return &Mocks{Recorder: rec}
}

// Run runs program under m and returns the program's error; what it
// registers adds to what m recorded before.
func (m *Mocks) Run(program pulumi.RunFunc) error {
	return pulumi.RunErr(program, pulumi.WithMocks(Project, m.Stack(), m))
}

// Run runs program under mocks as stack and returns the recordings and the
// program's error.
func Run(stack string, program pulumi.RunFunc) (*Mocks, error) {
	m := New(stack)
	return m, m.Run(program)
}

// MustRun is Run that fails the test on an error.
func MustRun(t *testing.T, stack string, program pulumi.RunFunc) *Mocks {
	t.Helper()
	m, err := Run(stack, program)
	require.NoError(t, err)
	return m
}

// MustRunWithProvider is MustRun for a program that takes an explicit
// Kubernetes provider (as pulumi.Provider) to pass to its components.
func MustRunWithProvider(t *testing.T, stack string, program func(ctx *pulumi.Context, provider pulumi.ResourceOption) error) *Mocks {
	t.Helper()
	return MustRun(t, stack, func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{})
		if err != nil {
			return err
		}
		return program(ctx, pulumi.Provider(p))
	})
}

// Construct returns a program that calls a component constructor with name
// and args (and no provider).
func Construct[A, C any](newFn func(*pulumi.Context, string, *A, ...pulumi.ResourceOption) (C, error), name string, args *A) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		_, err := newFn(ctx, name, args)
		return err
	}
}

// RequireRejected runs program and requires it to fail with an error
// containing every one of wants, having created no resource.
func RequireRejected(t *testing.T, program pulumi.RunFunc, wants ...string) {
	t.Helper()
	m, err := Run("dev", program)
	require.Error(t, err)
	for _, w := range wants {
		require.ErrorContains(t, err, w)
	}
	require.Empty(t, m.Types(), "nothing is created from bad args")
}

// Resources returns every recorded registration, in order.
func (m *Mocks) Resources() []Registered { return m.Registrations() }

// One returns the only registration of type typ whose Kubernetes
// metadata.name is name, failing the test otherwise.
func (m *Mocks) One(t *testing.T, typ, name string) Registered {
	t.Helper()
	var found []Registered
	for _, r := range m.OfType(typ) {
		if At(r.Plain(), "metadata", "name") == name {
			found = append(found, r)
		}
	}
	require.Len(t, found, 1, "want exactly one %s named %q", typ, name)
	return found[0]
}

// Types returns the sorted type tokens of every custom resource.
func (m *Mocks) Types() []string {
	var out []string
	for _, r := range m.Resources() {
		if r.Custom {
			out = append(out, r.Type)
		}
	}
	slices.Sort(out)
	return out
}

// At walks plain values by map keys (string) and list indexes (int) and
// returns what it finds there, or nil.
func At(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k < 0 || k >= len(l) {
				return nil
			}
			v = l[k]
		default:
			return nil
		}
	}
	return v
}

// CheckPolicies runs policies.DefaultSet over the recorded resources, as a
// production stack and as a non-production one, fails the test on any
// mandatory violation of a rule not in except (stack rules that another
// component satisfies: the caller says which), and returns the advisory ones.
func (m *Mocks) CheckPolicies(t *testing.T, except ...string) []policies.Violation {
	t.Helper()
	set, err := policies.DefaultSet()
	require.NoError(t, err)
	res := m.PolicyResources()
	require.NotEmpty(t, res)
	for _, id := range except {
		require.True(t, slices.ContainsFunc(set.Rules(), func(r policies.Rule) bool { return r.ID == id }),
			"CheckPolicies: unknown rule %q in except", id)
	}
	var advisory []policies.Violation
	for _, info := range []policies.StackInfo{policies.NewStackInfo("dev", ""), policies.NewStackInfo("prod", "")} {
		for _, v := range set.Check(res, info) {
			switch {
			case slices.Contains(except, v.RuleID):
			case v.Severity == policies.Mandatory:
				t.Errorf("stack %q (production %v): %s: %s", info.Name, info.Production, v.RuleID, v.Message)
			default:
				advisory = append(advisory, v)
			}
		}
	}
	return advisory
}
