package auth

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
	"github.com/stretchr/testify/require"
)

const (
	tokA = "token-a-0123456789"
	tokB = "token-b-0123456789"
)

func status(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return http.StatusOK
	}
	var e *api.Error
	require.ErrorAs(t, err, &e)
	return e.Status
}

func TestAuthorize(t *testing.T) {
	a, err := New(Options{Tokens: []string{tokA, tokB}})
	require.NoError(t, err)
	require.True(t, a.Enabled())
	now := time.Now()
	for _, tc := range []struct {
		header string
		want   int
	}{
		{"Bearer " + tokA, http.StatusOK},
		{"bearer " + tokB, http.StatusOK},
		{"  Bearer   " + tokA + " ", http.StatusOK},
		{"", http.StatusUnauthorized},
		{"Bearer", http.StatusUnauthorized},
		{"Bearer ", http.StatusUnauthorized},
		{"Basic " + tokA, http.StatusUnauthorized},
		{"Bearer " + tokA + "x", http.StatusUnauthorized},
		{"Bearer " + tokA[:len(tokA)-1], http.StatusUnauthorized},
		{tokA, http.StatusUnauthorized},
	} {
		t.Run(tc.header, func(t *testing.T) {
			require.Equal(t, tc.want, status(t, a.Authorize(tc.header, now)))
		})
	}
}

func TestNoTokensDisablesAuth(t *testing.T) {
	a, err := New(Options{Rate: 1})
	require.NoError(t, err)
	require.False(t, a.Enabled())
	require.NoError(t, a.Authorize("", time.Now()))
}

func TestRateLimitIsPerToken(t *testing.T) {
	a, err := New(Options{Tokens: []string{tokA, tokB}, Rate: 2, Burst: 2})
	require.NoError(t, err)
	now := time.Now()
	require.NoError(t, a.Authorize("Bearer "+tokA, now))
	require.NoError(t, a.Authorize("Bearer "+tokA, now))
	err = a.Authorize("Bearer "+tokA, now)
	var e *api.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, http.StatusTooManyRequests, e.Status)
	require.InDelta(t, 500*time.Millisecond, e.RetryAfter, float64(10*time.Millisecond), "one token comes back every 1/rate")

	// Another token has its own bucket, and refused requests do not drain it.
	require.NoError(t, a.Authorize("Bearer "+tokB, now))
	require.NoError(t, a.Authorize("Bearer "+tokA, now.Add(500*time.Millisecond)))
}

func TestNewValidates(t *testing.T) {
	for _, opts := range []Options{
		{Tokens: []string{""}},
		{Tokens: []string{"has space"}},
		{Tokens: []string{"a,b"}},
		{Tokens: []string{tokA}, Rate: -1},
		{Tokens: []string{tokA}, Burst: -1},
	} {
		_, err := New(opts)
		require.Error(t, err, "%+v", opts)
	}
}

func TestParseAndLoadTokens(t *testing.T) {
	require.Equal(t, []string{"a", "b", "c", "d"}, ParseTokens("a, b\n# comment c\n\n  c\td,\r\n"))
	require.Empty(t, ParseTokens(" ,\n#x\n"))

	dir := t.TempDir()
	path := filepath.Join(dir, "tokens")
	require.NoError(t, os.WriteFile(path, []byte("\xef\xbb\xbf"+tokA+"\n"+tokB+"\n"), 0o600))
	toks, err := LoadTokens(path)
	require.NoError(t, err)
	require.Equal(t, []string{tokA, tokB}, toks)

	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, []byte("# none\n"), 0o600))
	_, err = LoadTokens(empty)
	require.ErrorContains(t, err, empty)
	_, err = LoadTokens(filepath.Join(dir, "missing"))
	require.Error(t, err)
}

func TestRetryAfterIsTheBucketsRefillTime(t *testing.T) {
	for _, tc := range []struct {
		rate    float64
		burst   int
		elapsed time.Duration // since the bucket was emptied
		want    time.Duration
	}{
		{rate: 2, burst: 1, want: 500 * time.Millisecond},
		{rate: 0.25, burst: 1, want: 4 * time.Second},
		{rate: 0.25, burst: 1, elapsed: 2500 * time.Millisecond, want: 1500 * time.Millisecond},
		{rate: 0.1, burst: 3, elapsed: time.Second, want: 9 * time.Second},
	} {
		t.Run(fmt.Sprintf("%v/s burst %d after %v", tc.rate, tc.burst, tc.elapsed), func(t *testing.T) {
			a, err := New(Options{Tokens: []string{tokA}, Rate: tc.rate, Burst: tc.burst})
			require.NoError(t, err)
			now := time.Unix(1_000_000, 0)
			for range tc.burst {
				require.NoError(t, a.Authorize("Bearer "+tokA, now))
			}
			err = a.Authorize("Bearer "+tokA, now.Add(tc.elapsed))
			var e *api.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, http.StatusTooManyRequests, e.Status)
			require.InDelta(t, tc.want, e.RetryAfter, float64(time.Millisecond))
			// Once that time has passed, the token is accepted again.
			require.NoError(t, a.Authorize("Bearer "+tokA, now.Add(tc.elapsed+tc.want)))
		})
	}
}
