// Package kernelscmd implements `mmllm kernels`: it lists the kernel sets
// compiled into the binary, which this CPU supports, and which one the
// engine uses (MMLLM_KERNELS forces one).
package kernelscmd

import (
	"fmt"
	"io"
	"runtime"
	"text/tabwriter"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
	"github.com/spf13/cobra"
)

// New returns the `kernels` command.
func New() *cobra.Command {
	return &cobra.Command{
		Use:   "kernels",
		Short: "Show the engine's kernel sets and the one in use",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd.OutOrStdout())
		},
	}
}

func run(w io.Writer) error {
	use, err := kernels.Default()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "KERNELS\tSUPPORTED\tPRIORITY\tIN USE\n")
	for _, im := range kernels.Impls() {
		inUse := ""
		if im == use {
			inUse = "*"
		}
		fmt.Fprintf(tw, "%s\t%v\t%d\t%s\n", im.Name, im.Supported, im.Priority, inUse)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s/%s, %d threads; set %s to force a kernel set\n",
		runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), kernels.EnvKernels)
	return err
}
