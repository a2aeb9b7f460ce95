// Command mmllm-policy-pack is the project's Pulumi policy pack as an
// executable: `pulumi preview --policy-pack PATH-TO-THIS-BINARY` (Pulumi CLI
// v3.274 or later) starts it, and it serves every rule of package policies
// over the analyzer protocol. Run with --rules it prints the rule catalogue
// instead.
package main

import (
	"fmt"
	"os"

	"github.com/mobile-mm-llm/mobile-mm-llm/policies"
	"github.com/mobile-mm-llm/mobile-mm-llm/policies/pack"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mmllm-policy-pack:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	set, err := policies.DefaultSet()
	if err != nil {
		return err
	}
	if len(args) == 1 && args[0] == "--rules" {
		return policies.WriteRules(os.Stdout, set.Rules())
	}
	// The engine passes its own address as the only argument; policyx
	// reaches the engine through the handshake instead, so it is not read.
	return pack.Main(set)
}
