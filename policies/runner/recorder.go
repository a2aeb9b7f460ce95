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
	"google.golang.org/protobuf/types/known/emptypb"
)

// Registration is one resource a program registered (or read) under the
// mocks.
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
	// Read is true for a resource the program reads rather than manages
	// (a StackReference, a Get function); reads are not judged.
	Read bool
	// Inputs are the registered inputs, secrets kept as secrets.
	Inputs resource.PropertyMap
	// PropertyDeps maps an input property to the URNs it was computed from.
	PropertyDeps map[string][]string
	// Dependencies are the URNs the resource waits for: its DependsOn and
	// what its inputs were computed from.
	Dependencies []string
}

// Plain returns the inputs as plain values (secrets unwrapped), as the
// policy rules read them.
func (r Registration) Plain() map[string]any { return policies.FromResourcePropertyMap(r.Inputs) }

// OutputsFunc computes outputs a cloud would add to a resource (an EKS
// cluster's endpoint), from its registration.
type OutputsFunc = func(args pulumi.MockResourceArgs) resource.PropertyMap

// InvokeFunc answers a provider function from its arguments.
type InvokeFunc = func(args resource.PropertyMap) (resource.PropertyMap, error)

// ReadFunc answers the read of an existing resource (pulumi.NewStackReference)
// with its state.
type ReadFunc = func(args pulumi.MockResourceArgs) (resource.PropertyMap, error)

// Recorder is a pulumi.MockResourceMonitor that records every resource
// registration. A resource's outputs are its inputs (so names and
// namespaces resolve) plus what Outputs computes for its type; invokes are
// answered by Invokes and fail otherwise; reads are answered by Reads or
// return their inputs. Set the hooks before the run: the mocks read them
// concurrently.
type Recorder struct {
	project, stack string

	// Outputs adds computed outputs per type token.
	Outputs map[string]OutputsFunc
	// Invokes answers provider functions per token.
	Invokes map[string]InvokeFunc
	// Reads answers reads of existing resources per type token.
	Reads map[string]ReadFunc
	// InvokeHint ends the error of an invoke nobody answers: what the
	// caller should do instead.
	InvokeHint string

	mu      sync.Mutex
	reg     []Registration
	outputs int
	exports resource.PropertyMap
	// pending counts the stack outputs not recorded yet.
	pending sync.WaitGroup
}

// NewRecorder returns a Recorder for the stack of project.
func NewRecorder(project, stack string) *Recorder {
	return &Recorder{project: project, stack: stack}
}

// Project and Stack are what the Recorder builds URNs from.
func (r *Recorder) Project() string { return r.project }

// Stack is the stack the Recorder records (see Project).
func (r *Recorder) Stack() string { return r.stack }

// NewResource implements pulumi.MockResourceMonitor.
func (r *Recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	reg := Registration{Type: args.TypeToken, Name: args.Name, Provider: args.Provider, Custom: args.Custom,
		Inputs: args.Inputs, PropertyDeps: map[string][]string{}}
	if rpc := args.RegisterRPC; rpc != nil {
		reg.Parent = rpc.GetParent()
		reg.Dependencies = slices.Clone(rpc.GetDependencies())
		for prop, deps := range rpc.GetPropertyDependencies() {
			reg.PropertyDeps[prop] = slices.Clone(deps.GetUrns())
		}
	}
	state := args.Inputs
	if rpc := args.ReadRPC; rpc != nil {
		// Only custom resources can be read; the mock monitor says Custom false.
		reg.Parent, reg.Custom, reg.Read, reg.ID = rpc.GetParent(), true, true, args.ID
		if f := r.Reads[args.TypeToken]; f != nil {
			var err error
			if state, err = f(args); err != nil {
				return "", nil, fmt.Errorf("read %s %q: %w", args.TypeToken, args.Name, err)
			}
		}
	} else if reg.Custom {
		reg.ID = args.Name + "-id"
	}
	reg.URN = r.urn(reg.Parent, reg.Type, reg.Name)
	if f := r.Outputs[args.TypeToken]; f != nil {
		state = state.Copy()
		for k, v := range f(args) {
			state[k] = v
		}
	}
	r.mu.Lock()
	r.reg = append(r.reg, reg)
	r.mu.Unlock()
	return reg.ID, state, nil
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

// Call implements pulumi.MockResourceMonitor: Invokes answers, or the
// invoke fails naming its token.
func (r *Recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if f := r.Invokes[args.Token]; f != nil {
		return f(args.Args)
	}
	hint := r.InvokeHint
	if hint == "" {
		hint = "no answer under the mocks"
	}
	return nil, fmt.Errorf("invoke %s: %s", args.Token, hint)
}

// RegisterResourceOutputs counts output registrations: the components'
// and, at the end of the program, the stack's.
func (r *Recorder) RegisterResourceOutputs() (*emptypb.Empty, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outputs++
	return &emptypb.Empty{}, nil
}

// OutputRegistrations returns how many times RegisterResourceOutputs ran,
// the stack's own registration included.
func (r *Recorder) OutputRegistrations() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.outputs
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

// StackOutputs returns the stack outputs the program exported, resolved
// (secret ones as secrets), once Program.Execute has run it; nil before.
func (r *Recorder) StackOutputs() resource.PropertyMap {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.exports.Copy()
}

// setExport records one resolved stack output.
func (r *Recorder) setExport(name string, v resource.PropertyValue) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.exports == nil {
		r.exports = resource.PropertyMap{}
	}
	r.exports[resource.PropertyKey(name)] = v
}

// isProvider reports whether a type token is a provider's.
func isProvider(typ string) bool { return strings.HasPrefix(typ, "pulumi:providers:") }

// PolicyResources converts the managed custom resources (not components,
// providers or reads) into what the policy rules read, each with the
// inputs of its explicit provider.
func (r *Recorder) PolicyResources() []policies.Resource {
	regs := r.Registrations()
	providers := map[string]map[string]any{}
	for _, reg := range regs {
		if isProvider(reg.Type) {
			providers[reg.URN+"::"+reg.ID] = reg.Plain()
		}
	}
	var out []policies.Resource
	for _, reg := range regs {
		if !reg.Custom || reg.Read || isProvider(reg.Type) {
			continue
		}
		out = append(out, policies.Resource{URN: reg.URN, Type: reg.Type, Name: reg.Name, ID: reg.ID,
			Props: reg.Plain(), PropertyDeps: reg.PropertyDeps, Provider: providers[reg.Provider]})
	}
	return out
}
