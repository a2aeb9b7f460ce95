package openai

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
	"github.com/stretchr/testify/require"
)

func TestPublicIP(t *testing.T) {
	for addr, public := range map[string]bool{
		"127.0.0.1":        false,
		"127.9.9.9":        false,
		"::1":              false,
		"10.1.2.3":         false,
		"172.16.0.1":       false,
		"192.168.1.1":      false,
		"169.254.169.254":  false, // cloud metadata
		"fe80::1":          false,
		"fc00::1":          false,
		"0.0.0.0":          false,
		"::":               false,
		"100.64.1.1":       false,
		"198.18.0.1":       false,
		"224.0.0.1":        false,
		"255.255.255.255":  false,
		"::ffff:127.0.0.1": false,
		"::ffff:10.0.0.1":  false,
		"64:ff9b::a00:1":   false,
		"2002:a00:1::1":    false,
		"8.8.8.8":          true,
		"1.1.1.1":          true,
		"::ffff:8.8.8.8":   true,
		"2606:4700::1111":  true,
	} {
		require.Equal(t, public, publicIP(netip.MustParseAddr(addr)), addr)
	}
}

func TestHostAllowed(t *testing.T) {
	f, err := newFetcher([]string{"Example.com", "*.cdn.net", ".img.org.", "127.0.0.1", "[::1]"}, time.Second, 1<<20)
	require.NoError(t, err)
	for host, ok := range map[string]bool{
		"example.com":              true,
		"EXAMPLE.COM.":             true,
		"img.example.com":          true,
		"a.b.example.com":          true,
		"badexample.com":           false,
		"example.com.evil.net":     false,
		"cdn.net":                  true,
		"x.cdn.net":                true,
		"img.org":                  true,
		"127.0.0.1":                true,
		"::1":                      true,
		"127.0.0.2":                false,
		"1.127.0.0.1":              false,
		"evil.net":                 false,
		"":                         false,
		"169.254.169.254":          false,
		"metadata.google.internal": false,
	} {
		require.Equal(t, ok, f.hostAllowed(host), host)
	}
	for _, bad := range []string{"", "*", "https://example.com", "example.com/path", "user@example.com"} {
		_, err := newFetcher([]string{bad}, time.Second, 1)
		require.Error(t, err, bad)
	}
}

// imageServer is an https server on 127.0.0.1 that serves a fake image at
// /img and redirects from /to?u=URL, counting requests for /img.
type imageServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newImageServer(t *testing.T) *imageServer {
	s := &imageServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/img", func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		_, _ = w.Write([]byte("0123456789"))
	})
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/gone", http.NotFound)
	s.Server = httptest.NewTLSServer(mux)
	t.Cleanup(s.Close)
	return s
}

// trusting returns a fetcher that trusts srv's certificate.
func trusting(t *testing.T, srv *imageServer, domains []string, maxBytes int64) *fetcher {
	f, err := newFetcher(domains, 2*time.Second, maxBytes)
	require.NoError(t, err)
	f.transport.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	return f
}

func fetchCode(t *testing.T, f *fetcher, rawURL string) (string, string) {
	t.Helper()
	_, err := f.fetch(context.Background(), rawURL)
	var e *api.Error
	require.ErrorAs(t, err, &e, "fetching %s should fail", rawURL)
	require.Equal(t, http.StatusBadRequest, e.Status)
	return e.Code, e.Message
}

func TestFetchRefusesLoopbackEvenWhenAllowlisted(t *testing.T) {
	srv := newImageServer(t)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	f := trusting(t, srv, []string{"127.0.0.1", "localhost"}, 1<<20)

	code, msg := fetchCode(t, f, srv.URL+"/img")
	require.Equal(t, "image_fetch_failed", code)
	require.Contains(t, msg, "non-public address 127.0.0.1")

	// A name is checked on the address it resolves to.
	code, msg = fetchCode(t, f, "https://localhost:"+u.Port()+"/img")
	require.Equal(t, "image_fetch_failed", code)
	require.Contains(t, msg, "non-public address")
	require.Zero(t, srv.hits.Load(), "the server must never be reached")
}

func TestFetchChecksEveryRedirectHop(t *testing.T) {
	srv := newImageServer(t)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	f := trusting(t, srv, []string{"127.0.0.1", "127.0.0.2", "example.com"}, 1<<20)
	// Let this test reach its own server, and nothing else non-public.
	first := netip.MustParseAddr("127.0.0.1")
	f.allowIP = func(a netip.Addr) bool { return a == first || publicIP(a) }

	data, err := f.fetch(context.Background(), srv.URL+"/img")
	require.NoError(t, err, "the guard is what refuses; the fetch itself works")
	require.Equal(t, "0123456789", string(data))

	to := func(target string) string { return srv.URL + "/to?u=" + url.QueryEscape(target) }
	for _, tc := range []struct{ name, url, msg string }{
		{"redirect to plain http", to("http://127.0.0.1:" + u.Port() + "/img"), `scheme "http" is not https`},
		{"redirect off the allowlist", to("https://169.254.169.254/latest/meta-data/"), "not on the allowlist"},
		{"redirect to another loopback address", to("https://127.0.0.2:" + u.Port() + "/img"), "non-public address 127.0.0.2"},
		{"redirect with credentials", to("https://user:pw@127.0.0.1:" + u.Port() + "/img"), "credentials"},
		{"redirect loop", srv.URL + "/loop", "redirects"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := fetchCode(t, f, tc.url)
			require.Equal(t, "image_fetch_failed", code)
			require.Contains(t, msg, tc.msg)
		})
	}
	require.EqualValues(t, 1, srv.hits.Load(), "only the direct fetch reached /img")
}

func TestFetchRefusals(t *testing.T) {
	srv := newImageServer(t)
	f := trusting(t, srv, []string{"127.0.0.1"}, 5)
	f.allowIP = func(netip.Addr) bool { return true }
	for _, tc := range []struct{ url, code, msg string }{
		{srv.URL + "/img", "image_too_large", "over 5 bytes"},
		{srv.URL + "/gone", "image_fetch_failed", "404"},
		{"http://127.0.0.1/img", "invalid_image_url", "not https"},
		{"https://user:pw@127.0.0.1/img", "invalid_image_url", "credentials"},
		{"https://other.example/img", "invalid_image_url", "allowlist"},
		{"https://%zz", "invalid_image_url", "image URL"},
	} {
		code, msg := fetchCode(t, f, tc.url)
		require.Equal(t, tc.code, code, tc.url)
		require.Contains(t, msg, tc.msg, tc.url)
	}

	none, err := newFetcher(nil, time.Second, 1)
	require.NoError(t, err)
	code, msg := fetchCode(t, none, srv.URL+"/img")
	require.Equal(t, "invalid_image_url", code)
	require.True(t, strings.Contains(msg, "data URI"), msg)
}
