// Package auth checks bearer tokens and rate-limits each token.
//
// Tokens are compared in constant time (each presented token is hashed and
// compared with every configured token's hash, so neither the position of a
// match nor a common prefix shows in the timing), and each token has its own
// token-bucket limiter, created up front: the set of limiters never grows
// with traffic.
package auth

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
	"golang.org/x/time/rate"
)

// Options configure an Authenticator.
type Options struct {
	// Tokens are the accepted bearer tokens; none disables auth.
	Tokens []string
	// Rate is the requests per second each token may sustain (0: no limit).
	Rate float64
	// Burst is how many requests a token may make at once (default: the
	// rate rounded up, at least 1).
	Burst int
}

// Authenticator accepts requests that carry a configured bearer token
// within its rate. It is safe for concurrent use.
type Authenticator struct {
	hashes   [][sha256.Size]byte
	limiters []*rate.Limiter // parallel to hashes; nil entries when unlimited
}

// New returns an authenticator for opts.
func New(opts Options) (*Authenticator, error) {
	if opts.Rate < 0 || math.IsNaN(opts.Rate) || math.IsInf(opts.Rate, 0) {
		return nil, fmt.Errorf("auth: rate %v must be finite and >= 0", opts.Rate)
	}
	if opts.Burst < 0 {
		return nil, fmt.Errorf("auth: burst %d is negative", opts.Burst)
	}
	burst := opts.Burst
	if burst == 0 {
		burst = max(1, int(math.Ceil(opts.Rate)))
	}
	a := &Authenticator{}
	seen := map[[sha256.Size]byte]bool{}
	for i, tok := range opts.Tokens {
		if err := checkToken(tok); err != nil {
			return nil, fmt.Errorf("auth: token %d: %w", i+1, err)
		}
		h := sha256.Sum256([]byte(tok))
		if seen[h] {
			continue
		}
		seen[h] = true
		a.hashes = append(a.hashes, h)
		var lim *rate.Limiter
		if opts.Rate > 0 {
			lim = rate.NewLimiter(rate.Limit(opts.Rate), burst)
		}
		a.limiters = append(a.limiters, lim)
	}
	return a, nil
}

// Enabled reports whether any token is configured.
func (a *Authenticator) Enabled() bool { return len(a.hashes) > 0 }

// Authorize checks an Authorization header value at time now. It returns
// nil when auth is disabled or the token is valid and within its rate, a
// 401 *api.Error for a missing or unknown token, and a 429 *api.Error with
// RetryAfter when the token is over its rate.
func (a *Authenticator) Authorize(header string, now time.Time) error {
	if !a.Enabled() {
		return nil
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return unauthorized("missing bearer token (send Authorization: Bearer <token>)")
	}
	idx := a.match(strings.TrimSpace(tok))
	if idx < 0 {
		return unauthorized("invalid bearer token")
	}
	lim := a.limiters[idx]
	if lim == nil {
		return nil
	}
	r := lim.ReserveN(now, 1)
	if delay := r.DelayFrom(now); delay > 0 {
		r.CancelAt(now)
		return &api.Error{Status: http.StatusTooManyRequests, Code: "rate_limited",
			Message: "rate limit exceeded for this token", RetryAfter: delay}
	}
	return nil
}

// match returns the index of the configured token equal to tok, or -1,
// looking at every configured token whatever matches.
func (a *Authenticator) match(tok string) int {
	h := sha256.Sum256([]byte(tok))
	idx := -1
	for i := range a.hashes {
		eq := subtle.ConstantTimeCompare(h[:], a.hashes[i][:])
		idx = subtle.ConstantTimeSelect(eq, i, idx)
	}
	return idx
}

func unauthorized(msg string) error {
	return api.NewError(http.StatusUnauthorized, "unauthorized", msg)
}

// checkToken refuses tokens that cannot be sent in a header.
func checkToken(tok string) error {
	if tok == "" {
		return fmt.Errorf("empty token")
	}
	if strings.ContainsAny(tok, " \t\r\n,") {
		return fmt.Errorf("token contains white space or a comma")
	}
	return nil
}

// ParseTokens splits a list of tokens separated by commas, white space or
// new lines, skipping blank entries and lines starting with '#'. It suits
// both a token file and an environment variable.
func ParseTokens(s string) []string {
	var toks []string
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") {
			continue
		}
		toks = append(toks, strings.FieldsFunc(line, func(r rune) bool {
			return r == ',' || r == ' ' || r == '\t'
		})...)
	}
	return toks
}

// LoadTokens reads the tokens in the file at path (see ParseTokens).
func LoadTokens(path string) ([]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: reading token file: %w", err)
	}
	toks := ParseTokens(string(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))))
	if len(toks) == 0 {
		return nil, fmt.Errorf("auth: token file %s holds no tokens", path)
	}
	return toks, nil
}
