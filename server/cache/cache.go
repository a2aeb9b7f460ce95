// Package cache is the server's Redis result cache. Only deterministic
// (greedy) generations are cached, keyed by a SHA-256 of everything that
// decides their output. Redis is an optimisation, never a dependency: every
// operation has a short timeout, and after a failure the cache stays out of
// the way for a cool-down, so a down or slow Redis costs at most one timeout
// now and then while requests carry on uncached.
package cache

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// ErrUnavailable is returned, without asking Redis, during the cool-down
// that follows a failed operation.
var ErrUnavailable = errors.New("cache: redis unavailable (cooling down after an error)")

// Defaults for Options' zero values.
const (
	DefaultTimeout  = 50 * time.Millisecond
	DefaultTTL      = time.Hour
	DefaultCooldown = time.Second
	DefaultPrefix   = "mmllm:result:"
)

// Options tune the cache; zero values take the defaults above.
type Options struct {
	// Timeout bounds each Redis operation.
	Timeout time.Duration
	// TTL is how long an entry lives.
	TTL time.Duration
	// Cooldown is how long the cache is skipped after a failure (< 0: never
	// skipped).
	Cooldown time.Duration
	// Prefix starts every key.
	Prefix string
}

// Cache stores generation results in Redis. It is safe for concurrent use.
type Cache struct {
	rdb       redis.UniversalClient
	opts      Options
	downUntil atomic.Int64 // unix nanoseconds; 0 when healthy
	lastOK    atomic.Int64 // unix nanoseconds of the last call Redis answered
}

// New returns a cache over rdb. The client must honour context deadlines
// (redis.Options.ContextTimeoutEnabled), or Timeout cannot cut a slow Redis
// short; NewClient builds such a client.
func New(rdb redis.UniversalClient, opts Options) (*Cache, error) {
	if rdb == nil {
		return nil, errors.New("cache: nil redis client")
	}
	if opts.Timeout < 0 || opts.TTL < 0 {
		return nil, fmt.Errorf("cache: negative timeout %v or TTL %v", opts.Timeout, opts.TTL)
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.TTL == 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Cooldown == 0 {
		opts.Cooldown = DefaultCooldown
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	return &Cache{rdb: rdb, opts: opts}, nil
}

// ClientOption configures a client NewClient builds beyond its arguments.
type ClientOption func(*redis.Options) error

// WithTLS makes the client connect over TLS 1.2 or newer and verify the
// server's certificate, for the address's host name or IP address, against
// roots (nil: the system's roots). The managed services accept nothing
// else: ElastiCache with transit encryption and Azure Cache for Redis
// (port 6380) present publicly trusted certificates; Memorystore's is
// signed by the instance's own CA (LoadRootCAs). A rediss:// address turns
// TLS on with the system's roots by itself.
func WithTLS(roots *x509.CertPool) ClientOption {
	return func(opt *redis.Options) error {
		host, _, err := net.SplitHostPort(opt.Addr)
		if err != nil {
			return fmt.Errorf("cache: redis address %q for TLS: %w", opt.Addr, err)
		}
		opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots, ServerName: host}
		return nil
	}
}

// LoadRootCAs reads the PEM certificates in path (Memorystore's server CA,
// the caCert of components/gcp.Redis) into a pool for WithTLS.
func LoadRootCAs(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cache: redis CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("cache: redis CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}

// NewClient returns a Redis client for addr ("host:port" or a redis:// or
// rediss:// URL) whose dials, reads and writes give up after timeout, that
// honours context deadlines and never retries: what a cache that must not
// slow requests down needs. A non-empty password is sent with AUTH; opts
// add TLS (WithTLS).
func NewClient(addr, password string, timeout time.Duration, opts ...ClientOption) (*redis.Client, error) {
	if timeout <= 0 {
		return nil, fmt.Errorf("cache: redis timeout %v must be positive", timeout)
	}
	opt := &redis.Options{Addr: addr}
	if strings.Contains(addr, "://") {
		var err error
		if opt, err = redis.ParseURL(addr); err != nil {
			return nil, fmt.Errorf("cache: redis address %q: %w", addr, err)
		}
	}
	if password != "" {
		opt.Password = password
	}
	for _, o := range opts {
		if err := o(opt); err != nil {
			return nil, err
		}
	}
	opt.DialTimeout = timeout
	opt.ReadTimeout = timeout
	opt.WriteTimeout = timeout
	opt.PoolTimeout = timeout
	opt.ContextTimeoutEnabled = true
	opt.MaxRetries = -1
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return redis.NewClient(opt), nil
}

// Cacheable reports whether req's result may be cached: only greedy
// decoding gives the same answer every time.
func Cacheable(req api.GenerateRequest) bool { return req.Sampling.Greedy() }

// entry is the stored form of a result (timings are not kept: a hit took
// none of them).
type entry struct {
	Text             string `json:"text"`
	PromptTokens     int    `json:"prompt_tokens"`
	CompletionTokens int    `json:"completion_tokens"`
	FinishReason     string `json:"finish_reason"`
}

// Get returns the result stored under key; found is false on a miss. An
// error means Redis failed (or is cooling down) and the caller should go on
// without the cache.
func (c *Cache) Get(ctx context.Context, key Key) (res api.GenerateResult, found bool, err error) {
	if err := c.available(); err != nil {
		return res, false, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	raw, err := c.rdb.Get(ctx, c.opts.Prefix+key.String()).Bytes()
	if errors.Is(err, redis.Nil) {
		c.answered()
		return res, false, nil
	}
	if err != nil {
		return res, false, c.failed("get", err)
	}
	c.answered()
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		// A corrupt entry is a miss; the next Set replaces it.
		return res, false, fmt.Errorf("cache: entry %s is not valid JSON: %w", key, err)
	}
	return api.GenerateResult{Text: e.Text, PromptTokens: e.PromptTokens,
		CompletionTokens: e.CompletionTokens, FinishReason: e.FinishReason}, true, nil
}

// Set stores res under key for the TTL.
func (c *Cache) Set(ctx context.Context, key Key, res api.GenerateResult) error {
	if err := c.available(); err != nil {
		return err
	}
	raw, err := json.Marshal(entry{Text: res.Text, PromptTokens: res.PromptTokens,
		CompletionTokens: res.CompletionTokens, FinishReason: res.FinishReason})
	if err != nil {
		return fmt.Errorf("cache: encoding entry %s: %w", key, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	if err := c.rdb.Set(ctx, c.opts.Prefix+key.String(), raw, c.opts.TTL).Err(); err != nil {
		return c.failed("set", err)
	}
	c.answered()
	return nil
}

// available returns ErrUnavailable during a cool-down.
func (c *Cache) available() error {
	if until := c.downUntil.Load(); until != 0 && time.Now().UnixNano() < until {
		return ErrUnavailable
	}
	return nil
}

func (c *Cache) answered() { c.lastOK.Store(time.Now().UnixNano()) }

// failed starts a cool-down, unless the failure is a time-out while Redis
// answered another call within the cool-down window, and wraps err. A
// time-out then means a busy Redis (or a busy machine), not a dead one;
// skipping Redis for a whole cool-down would send every cached request to
// the engine and overload it (seen in the load test, docs/load-test.md).
func (c *Cache) failed(op string, err error) error {
	now := time.Now()
	busy := isTimeout(err) && now.UnixNano()-c.lastOK.Load() < int64(c.opts.Cooldown)
	if c.opts.Cooldown > 0 && !busy {
		c.downUntil.Store(now.Add(c.opts.Cooldown).UnixNano())
	}
	return fmt.Errorf("cache: redis %s: %w", op, err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
