// Package loadcmd implements `mmllm loadtest`: a constant request rate
// against the inference API for a fixed time (package server/loadtest),
// a report of latency percentiles, throughput and answers by status, and a
// non-zero exit when the SLA given by flags is missed.
package loadcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/mobile-mm-llm/mobile-mm-llm/server"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/loadtest"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/sched"
	"github.com/spf13/cobra"
)

// EnvToken names the environment variable read for the bearer token when
// --token is not given (a flag's value shows in the process list).
const EnvToken = "MMLLM_LOADTEST_TOKEN"

// Options are the command's flags.
type Options struct {
	URL                  string
	Rate                 int
	Duration, Timeout    time.Duration
	Targets              []string
	Model, Token, Image  string
	MaxTokens            int
	MaxWorkers           uint64
	AllowRemote          bool
	MaxP95               time.Duration
	MaxErrorRate         float64
	MinThroughput        float64
	ShedOK               bool
	MaxShedLatency       time.Duration
	Stub                 bool
	StubDelay            time.Duration
	StubSlots, StubQueue int
}

// New returns the `loadtest` command.
func New() *cobra.Command {
	o := &Options{}
	sla := loadtest.GuideSLA()
	cmd := &cobra.Command{
		Use:   "loadtest",
		Short: "Offer a constant request rate to the inference API and check the SLA",
		Long: "Send --rate requests per second for --duration (rate × duration requests in all) to the API at\n" +
			"--url, round robin over --targets:\n" +
			"  caption  POST /v1/inference, a greedy caption of the image, tagged in its metadata so it is never cached\n" +
			"  cached   POST /v1/inference, the same greedy caption each time (a cache hit after the first)\n" +
			"  sampled  POST /v1/inference, the same caption at temperature 0.7 (never cached)\n" +
			"  chat     POST /v1/chat/completions, the tagged image and a question, greedy\n" +
			"Print the latency percentiles, throughput and answers by status, and exit non-zero when the\n" +
			"thresholds (by default the deployment guide's: p95 <= 500ms, error rate <= 0.1%) are missed or\n" +
			"the generator could not send every planned request. Only loopback URLs unless --allow-remote.\n" +
			"With --stub it loads an in-process server over a stand-in engine: the server path alone.",
		Example: "  mmllm loadtest --url http://127.0.0.1:8080 --rate 50 --duration 20s --targets caption\n" +
			"  mmllm loadtest --stub --rate 1000 --duration 15s --targets caption,cached,chat",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("token") {
				o.Token = os.Getenv(EnvToken)
			}
			return Run(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.URL, "url", "http://127.0.0.1:8080", "the API's base URL")
	f.IntVar(&o.Rate, "rate", 100, "requests per second")
	f.DurationVar(&o.Duration, "duration", 10*time.Second, "how long to offer the load")
	f.StringSliceVar(&o.Targets, "targets", []string{string(loadtest.Caption)}, "request kinds, sent round robin: caption, cached, sampled, chat")
	f.StringVar(&o.Model, "model", "", "model to ask for (default: the server's)")
	f.StringVar(&o.Token, "token", "", "bearer token (default: $"+EnvToken+")")
	f.StringVar(&o.Image, "image", "", "PNG or JPEG file to send (default: a generated 64x64 PNG)")
	f.IntVar(&o.MaxTokens, "max-tokens", loadtest.DefaultMaxTokens, "token budget of each request")
	f.DurationVar(&o.Timeout, "timeout", loadtest.DefaultTimeout, "bound on each request")
	f.Uint64Var(&o.MaxWorkers, "max-workers", loadtest.DefaultMaxWorkers, "most requests in flight at once")
	f.BoolVar(&o.AllowRemote, "allow-remote", false, "allow a --url that is not a loopback address")
	f.DurationVar(&o.MaxP95, "max-p95", sla.MaxP95, "SLA: highest p95 latency (0: not checked)")
	f.Float64Var(&o.MaxErrorRate, "max-error-rate", sla.MaxErrorRate, "SLA: highest fraction of non-2xx answers (negative: not checked)")
	f.Float64Var(&o.MinThroughput, "min-throughput", 0, "SLA: least 2xx answers per second (0: not checked)")
	f.BoolVar(&o.ShedOK, "shed-ok", false, "SLA: count 503s as load shedding, not errors, if each comes within --max-shed-latency; p95 over 2xx only")
	f.DurationVar(&o.MaxShedLatency, "max-shed-latency", time.Second, "SLA: slowest 503 allowed with --shed-ok")
	f.BoolVar(&o.Stub, "stub", false, "load an in-process server over a stand-in engine instead of --url")
	f.DurationVar(&o.StubDelay, "stub-delay", 0, "with --stub: time the stand-in engine takes per request")
	f.IntVar(&o.StubSlots, "stub-slots", 2, "with --stub: engine slots")
	f.IntVar(&o.StubQueue, "stub-queue", 64, "with --stub: admission queue size")
	return cmd
}

// Run offers the load, writes the report and the SLA verdicts to out, and
// returns an error wrapping loadtest.ErrSLA when a threshold is missed.
func Run(ctx context.Context, o *Options, out io.Writer) (retErr error) {
	kinds, err := loadtest.ParseKinds(o.Targets)
	if err != nil {
		return err
	}
	cfg := loadtest.Config{BaseURL: o.URL, Rate: o.Rate, Duration: o.Duration, Targets: kinds, Model: o.Model,
		Token: o.Token, MaxTokens: o.MaxTokens, Timeout: o.Timeout, MaxWorkers: o.MaxWorkers, AllowRemote: o.AllowRemote}
	if o.Image != "" {
		if cfg.Image, err = os.ReadFile(o.Image); err != nil {
			return fmt.Errorf("loadtest: --image: %w", err)
		}
	}
	if o.Stub {
		stop, err := startStub(o, &cfg, out)
		if err != nil {
			return err
		}
		defer func() { retErr = errors.Join(retErr, stop()) }()
	}
	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if err := rep.Write(out); err != nil {
		return err
	}
	verdicts, slaErr := rep.Check(loadtest.SLA{MaxP95: o.MaxP95, MaxErrorRate: o.MaxErrorRate,
		MinThroughput: o.MinThroughput, ShedOK: o.ShedOK, MaxShedLatency: o.MaxShedLatency})
	for _, v := range verdicts {
		mark := "ok  "
		if !v.OK {
			mark = "MISS"
		}
		if _, err := fmt.Fprintf(out, "SLA   %s  %s\n", mark, v.What); err != nil {
			return fmt.Errorf("loadtest: writing the verdicts: %w", err)
		}
	}
	return slaErr
}

// startStub serves the stand-in engine and points cfg at it.
func startStub(o *Options, cfg *loadtest.Config, out io.Writer) (stop func() error, err error) {
	gin.SetMode(gin.ReleaseMode)
	var tokens []string
	if o.Token != "" {
		tokens = []string{o.Token}
	}
	stub, err := loadtest.StartStub(loadtest.StubOptions{Delay: o.StubDelay, Tokens: tokens,
		Sched: sched.Options{Slots: o.StubSlots, QueueSize: o.StubQueue, MaxQueueWait: server.DefaultSched().MaxQueueWait, Deadline: server.DefaultSched().Deadline}})
	if err != nil {
		return nil, err
	}
	cfg.BaseURL = stub.URL
	if _, err := fmt.Fprintf(out, "stub        %s: engine delay %v, %d slots, queue %d\n", stub.URL, o.StubDelay, o.StubSlots, o.StubQueue); err != nil {
		return nil, errors.Join(fmt.Errorf("loadtest: %w", err), stub.Close())
	}
	return stub.Close, nil
}
