package openai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
)

// maxRedirects bounds the hops of one image fetch.
const maxRedirects = 3

// nonPublic are address ranges that netip's predicates do not cover but
// that must never be reached from a user-supplied URL: "this network",
// carrier-grade NAT, IETF protocol assignments, benchmarking, reserved and
// broadcast, and the IPv6 prefixes that embed an IPv4 address (NAT64,
// 6to4), which could smuggle a private one.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
}

// publicIP reports whether a may be dialled for a user-supplied URL: not
// loopback, private, link-local, multicast, unspecified or otherwise
// special.
func publicIP(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || a.IsMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// fetcher downloads images from https URLs on allowed domains, refusing
// every connection (first request and each redirect) whose resolved
// address is not public.
type fetcher struct {
	domains   []string // lower case, no leading dot
	maxBytes  int64
	client    *http.Client
	transport *http.Transport
	// allowIP decides which resolved addresses may be dialled; publicIP
	// unless a test loosens it.
	allowIP func(netip.Addr) bool
}

// newFetcher returns a fetcher for the domain allowlist (an entry also
// allows its subdomains; "*.example.com" and ".example.com" mean the same).
// With no domains it refuses every URL.
func newFetcher(domains []string, timeout time.Duration, maxBytes int64) (*fetcher, error) {
	f := &fetcher{maxBytes: maxBytes, allowIP: publicIP}
	for _, d := range domains {
		d = strings.TrimSuffix(strings.TrimLeft(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(d)), "*"), "."), ".")
		d = strings.TrimSuffix(strings.TrimPrefix(d, "["), "]")
		if d == "" || strings.ContainsAny(d, "/:@ ") && !isIP(d) {
			return nil, fmt.Errorf("openai: image domain %q is not a host name", d)
		}
		f.domains = append(f.domains, d)
	}
	dialer := &net.Dialer{
		Timeout: timeout,
		// Control runs after name resolution, on the address about to be
		// connected: the one place a DNS answer cannot slip past the check.
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("openai: refusing to dial unparsable address %q: %w", address, err)
			}
			if !f.allowIP(ap.Addr()) {
				return fmt.Errorf("openai: refusing to connect to non-public address %s", ap.Addr())
			}
			return nil
		},
	}
	f.transport = &http.Transport{
		Proxy:                  nil, // a proxy would dial on our behalf, unchecked
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           16,
		IdleConnTimeout:        30 * time.Second,
	}
	f.client = &http.Client{
		Transport: f.transport,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return fmt.Errorf("openai: more than %d redirects", maxRedirects)
			}
			return f.checkURL(req.URL)
		},
	}
	return f, nil
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// hostAllowed reports whether host is on the allowlist: equal to an entry,
// or (for names) a subdomain of one.
func (f *fetcher) hostAllowed(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, d := range f.domains {
		if host == d || !isIP(d) && !isIP(host) && strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// checkURL refuses anything but https URLs without credentials on an
// allowed host.
func (f *fetcher) checkURL(u *url.URL) error {
	switch {
	case u.Scheme != "https":
		return fmt.Errorf("openai: image URL scheme %q is not https", u.Scheme)
	case u.User != nil:
		return errors.New("openai: image URL must not carry credentials")
	case !f.hostAllowed(u.Hostname()):
		return fmt.Errorf("openai: image host %q is not on the allowlist", u.Hostname())
	}
	return nil
}

// fetch downloads the image at rawURL, at most maxBytes of it. Errors are
// 400 *api.Error values.
func (f *fetcher) fetch(ctx context.Context, rawURL string) ([]byte, error) {
	if len(f.domains) == 0 {
		return nil, api.BadRequest("invalid_image_url", "image URLs are not enabled on this server; send the image as a data URI")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, api.BadRequest("invalid_image_url", fmt.Sprintf("image URL: %v", err))
	}
	if err := f.checkURL(u); err != nil {
		return nil, api.BadRequest("invalid_image_url", err.Error())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, api.BadRequest("invalid_image_url", fmt.Sprintf("image URL: %v", err))
	}
	req.Header.Set("Accept", "image/jpeg, image/png, image/webp")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, api.BadRequest("image_fetch_failed", fmt.Sprintf("fetching the image: %v", err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, api.BadRequest("image_fetch_failed", fmt.Sprintf("fetching the image: status %s", resp.Status))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, api.BadRequest("image_fetch_failed", fmt.Sprintf("reading the image: %v", err))
	}
	if int64(len(data)) > f.maxBytes {
		return nil, api.BadRequest("image_too_large", fmt.Sprintf("the image at the URL is over %d bytes", f.maxBytes))
	}
	return data, nil
}
