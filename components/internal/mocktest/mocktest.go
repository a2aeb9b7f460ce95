// Package mocktest runs a Pulumi program under the SDK's mocks, records every
// resource it registers (type token, name, URN, provider, inputs, property
// dependencies) and runs the project's policy rules over them, for the
// components' unit tests.
package mocktest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/policies"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Project is the project name the mocks run under.
const Project = "mobile-mm-llm"

// Registered is one resource registration the program made.
type Registered struct {
	// Type is the type token ("kubernetes:apps/v1:Deployment").
	Type string
	// Name is the Pulumi logical name.
	Name string
	// URN is the URN the mock monitor gave the resource.
	URN string
	// ID is the mock's physical ID ("" for components).
	ID string
	// Parent is the parent's URN.
	Parent string
	// Provider is the explicit provider reference ("URN::ID"), if any.
	Provider string
	// Custom is false for component resources.
	Custom bool
	// Inputs are the registered inputs, secrets kept as secrets.
	Inputs resource.PropertyMap
	// PropertyDeps maps an input property to the URNs it was computed from.
	PropertyDeps map[string][]string
}

// Plain returns the inputs as plain values (secrets unwrapped), as the
// policy rules read them.
func (r Registered) Plain() map[string]any { return policies.FromResourcePropertyMap(r.Inputs) }

// Mocks is a pulumi.MockResourceMonitor that records registrations. Every
// resource's outputs are its inputs (so names and namespaces resolve), and
// every invoke fails: components must make no provider calls outside
// resources.
type Mocks struct {
	stack string

	mu        sync.Mutex
	resources []Registered
	outputs   int
}

// NewResource implements pulumi.MockResourceMonitor.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rec := Registered{Type: args.TypeToken, Name: args.Name, Provider: args.Provider, Custom: args.Custom,
		Inputs: args.Inputs, PropertyDeps: map[string][]string{}}
	if rpc := args.RegisterRPC; rpc != nil {
		rec.Parent = rpc.GetParent()
		for prop, deps := range rpc.GetPropertyDependencies() {
			rec.PropertyDeps[prop] = slices.Clone(deps.GetUrns())
		}
	}
	rec.URN = m.urn(rec.Parent, rec.Type, rec.Name)
	if rec.Custom {
		rec.ID = args.Name + "-id"
	}
	m.mu.Lock()
	m.resources = append(m.resources, rec)
	m.mu.Unlock()
	return rec.ID, args.Inputs, nil
}

// urn builds the URN the way the SDK's mock monitor does.
func (m *Mocks) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(Project), parentType, tokens.Type(typ), name))
}

// Call implements pulumi.MockResourceMonitor: it fails every invoke.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("unexpected invoke %s: components must not call providers outside resources", args.Token)
}

// RegisterResourceOutputs counts output registrations: the components'
// and, at the end of the program, the stack's.
func (m *Mocks) RegisterResourceOutputs() (*emptypb.Empty, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.outputs++
	return &emptypb.Empty{}, nil
}

// Run runs program under mocks as stack and returns the recordings and the
// program's error.
func Run(stack string, program pulumi.RunFunc) (*Mocks, error) {
	m := &Mocks{stack: stack}
	err := pulumi.RunErr(program, pulumi.WithMocks(Project, stack, m))
	return m, err
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
func (m *Mocks) Resources() []Registered {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.resources)
}

// OutputRegistrations returns how many times RegisterResourceOutputs ran,
// the stack's own registration included.
func (m *Mocks) OutputRegistrations() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.outputs
}

// OfType returns the registrations of the type token.
func (m *Mocks) OfType(typ string) []Registered {
	var out []Registered
	for _, r := range m.Resources() {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

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

// PolicyResources converts the custom resources into what the policy rules
// read, as the stack runner does.
func (m *Mocks) PolicyResources() []policies.Resource {
	var out []policies.Resource
	for _, r := range m.Resources() {
		if !r.Custom || strings.HasPrefix(r.Type, "pulumi:providers:") {
			continue
		}
		out = append(out, policies.Resource{URN: r.URN, Type: r.Type, Name: r.Name, ID: r.ID, Props: r.Plain(),
			PropertyDeps: r.PropertyDeps})
	}
	return out
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
