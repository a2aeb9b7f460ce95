// Package servecmd implements `mmllm serve`: it loads a model (the embedded
// default one unless --model is given), starts the inference API and the
// metrics listener, and drains in-flight requests on SIGTERM.
package servecmd

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/cuda"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/gguf"
	"github.com/mobile-mm-llm/mobile-mm-llm/engine/runtime"
	"github.com/mobile-mm-llm/mobile-mm-llm/models"
	"github.com/mobile-mm-llm/mobile-mm-llm/server"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/auth"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/cache"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/sched"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// EnvTokens names the environment variable holding API tokens (comma or
// newline separated), used when --tokens-file is not given.
const EnvTokens = "MMLLM_API_TOKENS"

// Options are the command's flags.
type Options struct {
	Model, MMProj, Name    string
	ModelsDir              string
	Addr, MetricsAddr      string
	Device                 string
	Threads, Slots, Queue  int
	Context                int
	MaxQueueWait, Deadline time.Duration
	DrainTimeout           time.Duration
	TokensFile             string
	Rate                   float64
	Burst                  int
	RedisAddr              string
	RedisPasswordFile      string
	RedisTLS               bool
	RedisCAFile            string
	RedisTimeout           time.Duration
	ImageDomains           []string
	MaxBodyBytes           int64
	ready                  chan<- [2]net.Addr // tests: the bound addresses
}

// New returns the `serve` command.
func New() *cobra.Command { return newCommand(&Options{}) }

// newCommand returns the `serve` command with its flags bound to o.
func newCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the inference API server",
		Long: "Run the inference API (POST /v1/inference, /v1/chat/completions, /health, /ready) and, on its own\n" +
			"listener, Prometheus metrics. Without --model it serves the embedded tiny random-weight model.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flagsFromEnv(cmd); err != nil {
				return err
			}
			return Run(cmd.Context(), o, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "", "text model GGUF (default: model.gguf in --models-dir, else the embedded tiny model)")
	f.StringVar(&o.ModelsDir, "models-dir", "", "directory holding model.gguf and, for images, mmproj.gguf")
	f.StringVar(&o.MMProj, "mmproj", "", "vision projector GGUF for --model")
	f.StringVar(&o.Name, "name", "", "model id clients use (default: from the file name)")
	f.StringVar(&o.Addr, "addr", ":8080", "API listen address")
	f.StringVar(&o.MetricsAddr, "metrics-addr", ":8000", "metrics listen address")
	f.StringVar(&o.Device, "device", "cpu", "where the decoder runs: cpu, or cuda (falls back to the CPU, saying why, without a usable GPU)")
	f.IntVar(&o.Threads, "threads", 0, "kernel threads (0: all CPUs)")
	f.IntVar(&o.Slots, "slots", 1, "requests run at once")
	f.IntVar(&o.Queue, "queue", 16, "requests that may wait for a slot")
	f.IntVar(&o.Context, "context", 0, "tokens per sequence (0: the model's, at most 4096)")
	f.DurationVar(&o.MaxQueueWait, "max-queue-wait", server.DefaultSched().MaxQueueWait, "longest wait for a slot (a request predicted to wait longer is refused at once)")
	f.DurationVar(&o.Deadline, "deadline", 30*time.Second, "longest request, queue included")
	f.DurationVar(&o.DrainTimeout, "drain-timeout", 20*time.Second, "how long SIGTERM waits for in-flight requests")
	f.StringVar(&o.TokensFile, "tokens-file", "", "file of API bearer tokens, one per line (default: $"+EnvTokens+"; none: no auth)")
	f.Float64Var(&o.Rate, "rate", 0, "requests per second per token (0: unlimited)")
	f.IntVar(&o.Burst, "burst", 0, "requests a token may make at once (0: the rate)")
	f.StringVar(&o.RedisAddr, "redis-addr", "", "Redis address for the result cache (empty: no cache)")
	f.StringVar(&o.RedisPasswordFile, "redis-password-file", "", "file holding the Redis password (AUTH)")
	f.BoolVar(&o.RedisTLS, "redis-tls", false, "connect to Redis over TLS, verifying its certificate (the managed services need it)")
	f.StringVar(&o.RedisCAFile, "redis-ca-file", "", "PEM CA certificates that sign Redis's certificate, with --redis-tls (default: the system's roots)")
	f.DurationVar(&o.RedisTimeout, "redis-timeout", 50*time.Millisecond, "bound on each Redis call")
	f.StringSliceVar(&o.ImageDomains, "image-domains", nil, "domains chat image_url may fetch over https")
	f.Int64Var(&o.MaxBodyBytes, "max-body-bytes", 0, "largest request body (0: the server's default)")
	return cmd
}

// Run serves until ctx ends, then drains and shuts down.
func Run(ctx context.Context, o *Options, logOut io.Writer) error {
	log := slog.New(slog.NewTextHandler(logOut, nil))
	gin.SetMode(gin.ReleaseMode)

	text, mmproj, name, rev, err := openModel(o)
	if err != nil {
		return err
	}
	defer text.Close()
	if mmproj != nil {
		defer mmproj.Close()
	}
	logf := func(format string, args ...any) { log.Warn(fmt.Sprintf(format, args...)) }
	dev, err := cuda.Select(o.Device, logf)
	if err != nil {
		return fmt.Errorf("serve: --device: %w", err)
	}
	if dev != nil {
		defer dev.Close()
	}
	rt, err := runtime.Open(text, mmproj, runtime.Options{Threads: o.Threads, Sequences: o.Slots, Context: o.Context, Device: dev, Logf: logf})
	if err != nil {
		return err
	}
	defer rt.Close()
	backend := server.Backend{Device: rt.Device(), Kernels: rt.Kernels()}
	if rt.Device() == "cuda" {
		backend.Kernels = dev.Name
	}
	eng := newEngine(rt, name, rev)

	tokens, err := loadTokens(o.TokensFile)
	if err != nil {
		return err
	}
	c, closeCache, err := openCache(o)
	if err != nil {
		return err
	}
	defer closeCache()
	srv, err := server.New(log, server.Options{
		Engine:       eng,
		Sched:        sched.Options{Slots: o.Slots, QueueSize: o.Queue, MaxQueueWait: o.MaxQueueWait, Deadline: o.Deadline},
		Auth:         auth.Options{Tokens: tokens, Rate: o.Rate, Burst: o.Burst},
		Cache:        c,
		ImageDomains: o.ImageDomains,
		MaxBodyBytes: o.MaxBodyBytes,
		Backend:      backend,
	})
	if err != nil {
		return err
	}

	apiLn, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	metricsLn, err := net.Listen("tcp", o.MetricsAddr)
	if err != nil {
		apiLn.Close()
		return fmt.Errorf("serve: %w", err)
	}
	apiSrv := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	metricsSrv := &http.Server{Handler: srv.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- apiSrv.Serve(apiLn) }()
	go func() { errc <- metricsSrv.Serve(metricsLn) }()
	log.Info("serving", "model", name, "vision", rt.Vision(), "device", backend.Device, "kernels", backend.Kernels,
		"api", apiLn.Addr().String(), "metrics", metricsLn.Addr().String(), "auth", len(tokens) > 0, "cache", c != nil)
	if o.ready != nil {
		o.ready <- [2]net.Addr{apiLn.Addr(), metricsLn.Addr()}
	}
	// Warm up while already answering /health (and /ready with 503).
	go func() {
		if err := eng.warmUp(ctx); err != nil && ctx.Err() == nil {
			errc <- err
		}
	}()

	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			apiSrv.Close()
			metricsSrv.Close()
			return fmt.Errorf("serve: %w", err)
		}
	}
	log.Info("draining", "timeout", o.DrainTimeout)
	dctx, cancel := context.WithTimeout(context.Background(), o.DrainTimeout)
	defer cancel()
	drainErr := srv.Drain(dctx)
	shutErr := errors.Join(apiSrv.Shutdown(dctx), metricsSrv.Shutdown(dctx))
	if drainErr != nil {
		return fmt.Errorf("serve: drain: %w", drainErr)
	}
	return shutErr
}

// flagsFromEnv sets every flag the command line left unset from the
// environment variable MMLLM_<FLAG> (upper case, '-' as '_'), so a
// Kubernetes Deployment can configure the server through env.
func flagsFromEnv(cmd *cobra.Command) error {
	var errs []error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		env := "MMLLM_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && !f.Changed {
			if err := cmd.Flags().Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("serve: %s=%q: %w", env, v, err))
			}
		}
	})
	return errors.Join(errs...)
}

// openModel opens --model/--mmproj, the files of --models-dir, or the
// embedded default.
func openModel(o *Options) (text, mmproj *gguf.File, name string, rev []byte, err error) {
	if o.Model == "" && o.ModelsDir != "" {
		o.Model = filepath.Join(o.ModelsDir, "model.gguf")
		if o.MMProj == "" {
			if p := filepath.Join(o.ModelsDir, "mmproj.gguf"); fileExists(p) {
				o.MMProj = p
			}
		}
	}
	if o.Model == "" {
		if o.MMProj != "" {
			return nil, nil, "", nil, errors.New("serve: --mmproj needs --model")
		}
		text, mmproj, err = models.Default()
		return text, mmproj, firstNonEmpty(o.Name, models.Name), []byte(models.Name), err
	}
	if text, err = gguf.Open(o.Model); err != nil {
		return nil, nil, "", nil, fmt.Errorf("serve: %w", err)
	}
	if o.MMProj != "" {
		if mmproj, err = gguf.Open(o.MMProj); err != nil {
			text.Close()
			return nil, nil, "", nil, fmt.Errorf("serve: %w", err)
		}
	}
	st, err := os.Stat(o.Model)
	if err != nil {
		return nil, nil, "", nil, fmt.Errorf("serve: %w", err)
	}
	base := strings.TrimSuffix(st.Name(), ".gguf")
	rev = fmt.Appendf(nil, "%s|%d|%d|%s", o.Model, st.Size(), st.ModTime().UnixNano(), o.MMProj)
	return text, mmproj, firstNonEmpty(o.Name, base), rev, nil
}

func loadTokens(path string) ([]string, error) {
	if path != "" {
		return auth.LoadTokens(path)
	}
	return auth.ParseTokens(os.Getenv(EnvTokens)), nil
}

// readSecretFile returns a file's content without surrounding white space;
// an empty path means no secret.
// openCache connects the result cache to --redis-addr (nil without one),
// with the password of --redis-password-file and, with --redis-tls, over
// TLS trusting --redis-ca-file. The returned func closes the client.
func openCache(o *Options) (*cache.Cache, func(), error) {
	noop := func() {}
	if o.RedisAddr == "" {
		if o.RedisTLS || o.RedisCAFile != "" || o.RedisPasswordFile != "" {
			return nil, noop, errors.New("serve: --redis-tls, --redis-ca-file and --redis-password-file need --redis-addr")
		}
		return nil, noop, nil
	}
	password, err := readSecretFile(o.RedisPasswordFile)
	if err != nil {
		return nil, noop, err
	}
	var opts []cache.ClientOption
	switch {
	case o.RedisCAFile != "" && !o.RedisTLS:
		return nil, noop, errors.New("serve: --redis-ca-file needs --redis-tls")
	case o.RedisTLS:
		var roots *x509.CertPool
		if o.RedisCAFile != "" {
			if roots, err = cache.LoadRootCAs(o.RedisCAFile); err != nil {
				return nil, noop, fmt.Errorf("serve: --redis-ca-file: %w", err)
			}
		}
		opts = append(opts, cache.WithTLS(roots))
	}
	rdb, err := cache.NewClient(o.RedisAddr, password, o.RedisTimeout, opts...)
	if err != nil {
		return nil, noop, fmt.Errorf("serve: --redis-addr: %w", err)
	}
	closeClient := func() { _ = rdb.Close() }
	c, err := cache.New(rdb, cache.Options{Timeout: o.RedisTimeout})
	if err != nil {
		closeClient()
		return nil, noop, fmt.Errorf("serve: %w", err)
	}
	return c, closeClient, nil
}

func readSecretFile(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("serve: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
