// Package quantizecmd implements `mmllm quantize IN.gguf OUT.gguf --recipe
// int2|int4|int8`: it converts a GGUF model to the engine's weight formats
// with engine/quantize, showing a progress bar on a terminal, and prints a
// summary of the types and bits per weight of every tensor and in total.
package quantizecmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/quantize"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// options are the command's inputs after flag parsing.
type options struct {
	in, out string
	recipe  string
	json    bool
	quiet   bool
	threads int
	stdout  io.Writer
	stderr  io.Writer
	bar     bool // show a progress bar on stderr
}

// New returns the `quantize` command.
func New() *cobra.Command { return newCmd(isTerminal) }

// newCmd builds the command; terminal says whether a writer is a terminal,
// which decides whether the progress bar is drawn.
func newCmd(terminal func(io.Writer) bool) *cobra.Command {
	var names []string
	for _, r := range quantize.Recipes() {
		names = append(names, r.Name)
	}
	opts := &options{}
	cmd := &cobra.Command{
		Use:   "quantize IN.gguf OUT.gguf --recipe " + strings.Join(names, "|"),
		Short: "Quantize a GGUF model to the engine's int2, int4 or int8 formats",
		Long: `Quantize converts every 2-D weight matrix of a GGUF model to the recipe's format
(1-D tensors are stored as F32; other tensors keep their type) and copies all
metadata. The int2 recipe keeps the embedding table / output head at int8 and
the attention matrices at int4 (docs/quantization.md says why). OUT is written
to a temporary file next to it and renamed when complete.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.in, opts.out = args[0], args[1]
			opts.stdout, opts.stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			opts.bar = !opts.quiet && terminal(opts.stderr)
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			return run(ctx, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.recipe, "recipe", "", "quantization recipe: "+strings.Join(names, ", "))
	f.BoolVar(&opts.json, "json", false, "print the summary as JSON")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "no progress bar")
	f.IntVar(&opts.threads, "threads", 0, "threads quantizing each tensor (0: all CPUs)")
	_ = cmd.MarkFlagRequired("recipe") // the flag exists: cannot fail
	return cmd
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// run quantizes and prints the summary.
func run(ctx context.Context, opts *options) error {
	recipe, err := quantize.RecipeByName(opts.recipe)
	if err != nil {
		return err
	}
	if opts.threads < 0 {
		return fmt.Errorf("quantize: --threads %d must not be negative", opts.threads)
	}
	qo := quantize.Options{Recipe: recipe, Threads: opts.threads}
	var bar *progressBar
	if opts.bar {
		bar = &progressBar{w: opts.stderr}
		qo.Progress = bar.update
	}
	sum, err := quantize.QuantizeFile(ctx, opts.in, opts.out, qo)
	if bar != nil {
		bar.close(err == nil)
	}
	if err != nil {
		return err
	}
	if opts.json {
		enc := json.NewEncoder(opts.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	if err := sum.WriteText(opts.stdout); err != nil {
		return err
	}
	_, err = fmt.Fprintf(opts.stdout, "wrote %s\n", opts.out)
	return err
}

// progressBar draws the conversion's progress, in weights, naming the
// tensor being converted. It is created at the first report, which carries
// the total.
type progressBar struct {
	w      io.Writer
	bar    *progressbar.ProgressBar
	tensor string
}

func (p *progressBar) update(pr quantize.Progress) {
	if p.bar == nil {
		p.bar = progressbar.NewOptions64(pr.Total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionClearOnFinish())
	}
	if pr.Tensor != p.tensor {
		p.tensor = pr.Tensor
		p.bar.Describe(fmt.Sprintf("%-28.28s", pr.Tensor))
	}
	_ = p.bar.Set64(pr.Done) // drawing errors must not fail the conversion
}

// close finishes the bar (clearing it) or, after a failure, ends its line
// so the error is printed below it.
func (p *progressBar) close(ok bool) {
	if p.bar == nil {
		return
	}
	if ok {
		_ = p.bar.Finish()
		return
	}
	_ = p.bar.Exit()
	fmt.Fprintln(p.w)
}
