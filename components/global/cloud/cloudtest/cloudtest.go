// Package cloudtest runs the cloud components under mocktest's recording
// mocks, adding what those cannot give: the outputs a cloud computes (an
// EKS cluster's endpoint and OIDC issuer) and answers to the few invokes
// the components make on purpose (AKS credentials).
package cloudtest

import (
	"testing"

	"github.com/mobile-mm-llm/mobile-mm-llm/components/internal/mocktest"
	"github.com/mobile-mm-llm/mobile-mm-llm/policies/runner"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

// Stack is the stack the mocks run under; the policy checks take
// production or not from their own StackInfo.
const Stack = "test"

// Mocks are mocktest.Mocks (which record every registration and fail
// every invoke) with per-type computed outputs and per-token invoke
// answers, which Run hands to the recorder's hooks.
type Mocks struct {
	*mocktest.Mocks
	// Outputs adds outputs to every resource of a type token, computed
	// from its registration (name and inputs).
	Outputs map[string]runner.OutputsFunc
	// Invokes answers the invokes of a token; any other invoke fails.
	Invokes map[string]runner.InvokeFunc
}

// Run runs program under m and returns the program's error; the mocks are
// created for Stack on the first run, and keep recording across runs.
func (m *Mocks) Run(program pulumi.RunFunc) error {
	if m.Mocks == nil {
		m.Mocks = mocktest.New(Stack)
	}
	m.Mocks.Outputs, m.Mocks.Invokes = m.Outputs, m.Invokes
	return m.Mocks.Run(program)
}

// MustRun is Run that fails the test on an error.
func (m *Mocks) MustRun(t *testing.T, program pulumi.RunFunc) {
	t.Helper()
	require.NoError(t, m.Run(program))
}

// MustConstruct runs newFn(ctx, name, args) under m, fails the test on an
// error and returns the component.
func MustConstruct[A, C any](t *testing.T, m *Mocks, newFn func(*pulumi.Context, string, *A, ...pulumi.ResourceOption) (C, error), name string, args *A) C {
	t.Helper()
	var comp C
	m.MustRun(t, func(ctx *pulumi.Context) error {
		var err error
		comp, err = newFn(ctx, name, args)
		return err
	})
	return comp
}

// Obj builds a property map from plain values, for Outputs and Invokes.
func Obj(v map[string]any) resource.PropertyMap { return resource.NewPropertyMapFromMap(v) }

// One returns the only registration of type typ with the Pulumi name name.
func One(t *testing.T, m *mocktest.Mocks, typ, name string) mocktest.Registered {
	t.Helper()
	var found []mocktest.Registered
	for _, r := range m.OfType(typ) {
		if r.Name == name {
			found = append(found, r)
		}
	}
	require.Len(t, found, 1, "want exactly one %s named %q", typ, name)
	return found[0]
}

// Await reads the value of an output (waiting for it), for assertions.
func Await[T any](t *testing.T, o pulumi.Output) T {
	t.Helper()
	ch := make(chan any, 1)
	o.ApplyT(func(v any) any { ch <- v; return v })
	v := <-ch
	out, ok := v.(T)
	require.True(t, ok, "output is %T", v)
	return out
}

// RequireParented requires every registration but the root-level ones
// (components and providers the test program itself created) to have a
// parent, and every custom resource's parent to be a registered component.
func RequireParented(t *testing.T, m *mocktest.Mocks, rootNames ...string) {
	t.Helper()
	comps := map[string]bool{}
	for _, r := range m.Resources() {
		if !r.Custom {
			comps[r.URN] = true
		}
	}
	for _, r := range m.Resources() {
		root := false
		for _, n := range rootNames {
			root = root || r.Name == n
		}
		if root {
			continue
		}
		require.True(t, comps[r.Parent], "%s %q is parented to a component, not %q", r.Type, r.Name, r.Parent)
	}
}
