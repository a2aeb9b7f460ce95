package runner

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/mobile-mm-llm/mobile-mm-llm/policies"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Registration is one resource a program registered under the mocks.
type Registration struct {
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

// Recorder is a pulumi.MockResourceMonitor that records every resource
// registration. A resource's outputs are its inputs (so names and
// namespaces resolve), and invokes fail: the program is checked without
// any cloud.
type Recorder struct {
	project, stack string

	mu  sync.Mutex
	reg []Registration
}

// NewRecorder returns a Recorder for the stack of project.
func NewRecorder(project, stack string) *Recorder {
	return &Recorder{project: project, stack: stack}
}

// NewResource implements pulumi.MockResourceMonitor.
func (r *Recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	reg := Registration{Type: args.TypeToken, Name: args.Name, Provider: args.Provider, Custom: args.Custom,
		Inputs: args.Inputs, PropertyDeps: map[string][]string{}}
	if rpc := args.RegisterRPC; rpc != nil {
		reg.Parent = rpc.GetParent()
		for prop, deps := range rpc.GetPropertyDependencies() {
			reg.PropertyDeps[prop] = slices.Clone(deps.GetUrns())
		}
	}
	reg.URN = r.urn(reg.Parent, reg.Type, reg.Name)
	if reg.Custom {
		reg.ID = args.Name + "-id"
	}
	r.mu.Lock()
	r.reg = append(r.reg, reg)
	r.mu.Unlock()
	return reg.ID, args.Inputs, nil
}

// urn is the URN the SDK's mock monitor gives a resource: the parent's
// type qualifies the child's, except for the stack.
func (r *Recorder) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(r.stack), tokens.PackageName(r.project), parentType, tokens.Type(typ), name))
}

// Call implements pulumi.MockResourceMonitor: every invoke fails.
func (r *Recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return nil, fmt.Errorf("invoke %s: the policy runner has no result for provider functions; compute the value in the program or from config", args.Token)
}

// Registrations returns every recorded registration, in order.
func (r *Recorder) Registrations() []Registration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reg)
}

// OfType returns the registrations of the type token.
func (r *Recorder) OfType(typ string) []Registration {
	var out []Registration
	for _, reg := range r.Registrations() {
		if reg.Type == typ {
			out = append(out, reg)
		}
	}
	return out
}

// isProvider reports whether a type token is a provider's.
func isProvider(typ string) bool { return strings.HasPrefix(typ, "pulumi:providers:") }

// PolicyResources converts the custom resources (not components, not
// providers) into what the policy rules read, each with the inputs of its
// explicit provider.
func (r *Recorder) PolicyResources() []policies.Resource {
	regs := r.Registrations()
	providers := map[string]map[string]any{}
	for _, reg := range regs {
		if isProvider(reg.Type) {
			providers[reg.URN+"::"+reg.ID] = policies.FromResourcePropertyMap(reg.Inputs)
		}
	}
	var out []policies.Resource
	for _, reg := range regs {
		if !reg.Custom || isProvider(reg.Type) {
			continue
		}
		out = append(out, policies.Resource{URN: reg.URN, Type: reg.Type, Name: reg.Name, ID: reg.ID,
			Props: policies.FromResourcePropertyMap(reg.Inputs), PropertyDeps: reg.PropertyDeps,
			Provider: providers[reg.Provider]})
	}
	return out
}
