package runner

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// StackReferenceType is the type token pulumi.NewStackReference reads.
const StackReferenceType = "pulumi:pulumi:StackReference"

// recordExports wraps a program so that, once it has run, the stack
// outputs it exported are resolved into rec (ctx.GetCurrentExportMap is
// the SDK's hook for this; the mock monitor drops the stack's outputs).
// The values arrive asynchronously: rec.awaitExports waits for them once
// pulumi.RunErr has returned.
func recordExports(run pulumi.RunFunc, rec *Recorder) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		if err := run(ctx); err != nil {
			return err
		}
		for name, v := range ctx.GetCurrentExportMap() {
			out := pulumi.ToOutput(v)
			rec.pending.Add(1)
			go func() {
				// IsSecret waits for the value; the mocks resolve it meanwhile.
				secret := pulumi.IsSecret(out)
				out.ApplyT(func(x any) (any, error) {
					defer rec.pending.Done()
					pv := resource.NewPropertyValue(x)
					if secret {
						pv = resource.MakeSecret(pv)
					}
					rec.setExport(name, pv)
					return nil, nil
				})
			}()
		}
		return nil
	}
}

// exportTimeout bounds the wait for the stack outputs after a successful
// run, when every output is resolved and only their callbacks are pending.
const exportTimeout = 30 * time.Second

// awaitExports waits until recordExports has recorded every stack output.
func (r *Recorder) awaitExports() error {
	done := make(chan struct{})
	go func() { r.pending.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-time.After(exportTimeout):
		return fmt.Errorf("stack outputs did not resolve within %s (recorded: %v)", exportTimeout, r.StackOutputs().StableKeys())
	}
}

// referenceReader answers pulumi.NewStackReference under the mocks by
// running the program for the referenced stack, read from its file beside
// sf's, and returning what it exported: the outputs the real stack would
// have after `pulumi up` with the same config (secrets are placeholders).
// chain is the stacks being run, to refuse a cycle.
func (p Program) referenceReader(sf *StackFile, chain []string) ReadFunc {
	return func(args pulumi.MockResourceArgs) (resource.PropertyMap, error) {
		full := args.ID
		if n := args.Inputs["name"]; n.IsString() {
			full = n.StringValue()
		}
		name, err := p.referencedStack(full)
		if err != nil {
			return nil, err
		}
		if slices.Contains(chain, name) {
			return nil, fmt.Errorf("stack reference %q: a cycle (%s -> %s)", full, strings.Join(chain, " -> "), name)
		}
		ref, err := LoadStack(filepath.Dir(sf.Path), name, p.Project)
		if err != nil {
			return nil, fmt.Errorf("stack reference %q: %w", full, err)
		}
		rec, err := p.execute(ref, chain)
		if err != nil {
			return nil, fmt.Errorf("stack reference %q: %w", full, err)
		}
		outs := rec.StackOutputs()
		var secret []resource.PropertyValue
		for _, k := range outs.StableKeys() {
			if outs[k].IsSecret() {
				secret = append(secret, resource.NewProperty(string(k)))
			}
		}
		return resource.PropertyMap{
			"name":              resource.NewProperty(full),
			"outputs":           resource.NewProperty(outs),
			"secretOutputNames": resource.NewProperty(secret),
		}, nil
	}
}

// referencedStack returns the stack a reference names: "STACK" or
// "ORG/PROJECT/STACK" with PROJECT the program's.
func (p Program) referencedStack(full string) (string, error) {
	parts := strings.Split(full, "/")
	switch {
	case len(parts) == 1:
		return parts[0], nil
	case len(parts) == 3 && parts[1] == p.Project:
		return parts[2], nil
	case len(parts) == 3:
		return "", fmt.Errorf("stack reference %q: a stack of project %q; the runner runs only project %q's program", full, parts[1], p.Project)
	default:
		return "", fmt.Errorf("stack reference %q: use STACK or ORG/PROJECT/STACK", full)
	}
}
