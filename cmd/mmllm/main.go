// Command mmllm is the command-line entry point of mobile-mm-llm: it runs
// the inference server, inspects the engine's kernels, and (as the issues
// land) quantizes models, runs inference and checks stacks against policy.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/mobile-mm-llm/mobile-mm-llm/cmd/mmllm/internal/infercmd"
	"github.com/mobile-mm-llm/mobile-mm-llm/cmd/mmllm/internal/kernelscmd"
	"github.com/mobile-mm-llm/mobile-mm-llm/cmd/mmllm/internal/loadcmd"
	"github.com/mobile-mm-llm/mobile-mm-llm/cmd/mmllm/internal/policycmd"
	"github.com/mobile-mm-llm/mobile-mm-llm/cmd/mmllm/internal/quantizecmd"
	"github.com/mobile-mm-llm/mobile-mm-llm/cmd/mmllm/internal/servecmd"
	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "mmllm:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "mmllm",
		Short:         "Run and deploy a small INT2 multimodal LLM",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(kernelscmd.New(), servecmd.New(), infercmd.New(), quantizecmd.New(), loadcmd.New(), policycmd.New(), newDeployCmd(runDeploy), newHealthCmd(), newVersionCmd())
	return root
}
