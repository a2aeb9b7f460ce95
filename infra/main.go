// Command infra is the project's Pulumi program (Pulumi.yaml's main): it
// runs stack.Program, which reads the stack's typed config from stacks/ and
// composes the components. See infra/README.md.
package main

import (
	"github.com/mobile-mm-llm/mobile-mm-llm/infra/stack"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() { pulumi.Run(stack.Program) }
