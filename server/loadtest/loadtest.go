// Package loadtest drives the inference API at a constant request rate
// with vegeta (used as a library) and reports what the deployment guide's
// SLA is stated in: latency percentiles, throughput, the error rate and the
// answers by status code.
//
// A run is bounded in both count and time: it sends at most Rate ×
// Duration requests, stops sending after Duration plus a second of grace
// (when the generator falls behind, Report.Sent says so), and waits at most
// Config.Timeout for each answer. By default it only targets loopback
// addresses (Config.AllowRemote lifts that).
package loadtest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Defaults for Config's zero values.
const (
	DefaultMaxTokens  = 8
	DefaultTimeout    = 10 * time.Second
	DefaultMaxWorkers = 1000
	// MaxDuration bounds one run.
	MaxDuration = time.Hour
	// maxBody bounds how much of each answer is kept for inspection.
	maxBody = 64 << 10
	// sendGrace is how long past Duration the generator may still send the
	// planned requests when it has fallen behind.
	sendGrace = time.Second
)

// Config describes one run.
type Config struct {
	// BaseURL is the API's root, such as http://127.0.0.1:8080.
	BaseURL string
	// Rate is the offered load in requests per second (> 0).
	Rate int
	// Duration is how long the load is offered (> 0, at most MaxDuration);
	// Rate × Duration requests are sent in all.
	Duration time.Duration
	// Targets are the request kinds, sent round robin (default: Caption).
	Targets []Kind
	// Model is the model named in each request; empty asks for the
	// server's default.
	Model string
	// Token, when set, is sent as the bearer token.
	Token string
	// MaxTokens is each request's token budget (default DefaultMaxTokens).
	MaxTokens int
	// Image is the PNG or JPEG sent with each request (default: a 64×64
	// SamplePNG). Caption and Chat requests tag a copy in its metadata.
	Image []byte
	// Timeout bounds each request, answer included (default DefaultTimeout).
	Timeout time.Duration
	// MaxWorkers bounds the requests in flight at once (default
	// DefaultMaxWorkers); when all are busy the generator falls behind.
	MaxWorkers uint64
	// AllowRemote allows a BaseURL whose host is not a loopback address.
	AllowRemote bool
}

// withDefaults validates c and fills its defaults.
func (c Config) withDefaults() (Config, error) {
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return c, fmt.Errorf("loadtest: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return c, fmt.Errorf("loadtest: base URL %q: want http(s)://host[:port]", c.BaseURL)
	}
	if !c.AllowRemote && !isLoopback(u.Hostname()) {
		return c, fmt.Errorf("loadtest: base URL %q is not a loopback address (allow it explicitly to load a remote server)", c.BaseURL)
	}
	if c.Rate <= 0 {
		return c, fmt.Errorf("loadtest: rate %d: want > 0 requests/s", c.Rate)
	}
	if c.Duration <= 0 || c.Duration > MaxDuration {
		return c, fmt.Errorf("loadtest: duration %v: want > 0 and at most %v", c.Duration, MaxDuration)
	}
	if c.MaxTokens < 0 || c.Timeout < 0 {
		return c, fmt.Errorf("loadtest: negative max tokens %d or timeout %v", c.MaxTokens, c.Timeout)
	}
	if len(c.Targets) == 0 {
		c.Targets = []Kind{Caption}
	}
	c.MaxTokens = cmp.Or(c.MaxTokens, DefaultMaxTokens)
	c.Timeout = cmp.Or(c.Timeout, DefaultTimeout)
	c.MaxWorkers = cmp.Or(c.MaxWorkers, DefaultMaxWorkers)
	return c, nil
}

// isLoopback reports whether host is localhost or a loopback IP.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Planned returns how many requests a run of c sends: Rate × Duration,
// rounded, at least one.
func (c Config) Planned() uint64 {
	return uint64(max(1, math.Round(float64(c.Rate)*c.Duration.Seconds())))
}

// Run offers cfg's load and returns the report. It returns early, with
// what was answered so far, when ctx ends. The error is about the run
// itself (a bad Config); failed requests are counted in the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	targeter, err := newTargeter(cfg)
	if err != nil {
		return nil, err
	}
	planned := cfg.Planned()
	pacer := boundedPacer{ConstantPacer: vegeta.ConstantPacer{Freq: cfg.Rate, Per: time.Second}, limit: planned}
	// Our own transport (no proxy: the traffic goes where BaseURL says),
	// so that its idle connections can be closed when the run ends.
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: int(min(cfg.MaxWorkers, math.MaxInt32)),
	}
	defer transport.CloseIdleConnections()
	attacker := vegeta.NewAttacker(
		vegeta.Client(&http.Client{Transport: transport}),
		vegeta.Timeout(cfg.Timeout),
		vegeta.Redirects(vegeta.NoFollow),
		vegeta.MaxWorkers(cfg.MaxWorkers),
		vegeta.MaxBody(maxBody),
	)
	stop := context.AfterFunc(ctx, func() { attacker.Stop() })
	defer stop()

	rec := newRecorder(cfg, planned)
	for res := range attacker.Attack(targeter, pacer, cfg.Duration+sendGrace, "loadtest") {
		rec.add(res)
	}
	return rec.report(), nil
}

// boundedPacer paces like its ConstantPacer and stops after limit hits.
type boundedPacer struct {
	vegeta.ConstantPacer
	limit uint64
}

// Pace implements vegeta.Pacer.
func (p boundedPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= p.limit {
		return 0, true
	}
	return p.ConstantPacer.Pace(elapsed, hits)
}

// errorCode returns what a failed result is counted under: the status and
// the API's error code ("503 queue_full"), the status alone when the body
// is not the API's error, or the kind of client-side error for no answer.
func errorCode(res *vegeta.Result) string {
	if res.Code == 0 {
		return "no answer: " + clientError(res.Error)
	}
	status := strconv.Itoa(int(res.Code))
	var body struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(res.Body, &body); err != nil || body.Error.Code == "" {
		return status
	}
	return status + " " + body.Error.Code
}

// clientError names the kind of a transport error; the messages themselves
// carry URLs and port numbers that would make every failure distinct.
func clientError(msg string) string {
	for _, k := range []struct{ substr, kind string }{
		{"Client.Timeout", "timeout"},
		{"deadline exceeded", "timeout"},
		{"connection refused", "connection refused"},
		{"connection reset", "connection reset"},
		{"EOF", "connection closed"},
		{"cannot assign requested address", "out of local ports"},
		{"too many open files", "out of file descriptors"},
	} {
		if strings.Contains(msg, k.substr) {
			return k.kind
		}
	}
	return "other"
}

// isCacheHit reports whether a 200 answer of the native endpoint says it
// came from the cache (the server writes compact JSON).
func isCacheHit(res *vegeta.Result) bool {
	return bytes.Contains(res.Body, []byte(`"cached":true`))
}

// ErrSLA is wrapped by Report.Check's error when a threshold is missed.
var ErrSLA = errors.New("SLA missed")
