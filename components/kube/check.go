package kube

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// Checker collects the problems of a component's Args, each naming the Args
// key (the field path, e.g. "Autoscaling.MinReplicas"), so that bad stack
// configuration fails at preview with a message saying what to fix rather
// than as a provider error later.
type Checker struct {
	component string
	errs      []error
}

// NewChecker returns a Checker for the component named in its errors
// ("workload.NewInference").
func NewChecker(component string) *Checker { return &Checker{component: component} }

// Failf records a problem of key.
func (c *Checker) Failf(key, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

// Err returns every recorded problem as one error, or nil.
func (c *Checker) Err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s: invalid args: %w", c.component, errors.Join(c.errs...))
}

// dns1123Label is a Kubernetes name that is also a DNS label.
var dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Name checks that v is a DNS-1123 label (Namespaces, Services and most
// object names): at most 63 lower-case letters, digits and dashes.
func (c *Checker) Name(key, v string) {
	if len(v) > 63 || !dns1123Label.MatchString(v) {
		c.Failf(key, "%q is not a valid Kubernetes name (1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit)", v)
	}
}

// Required checks that v is not empty.
func (c *Checker) Required(key, v string) {
	if strings.TrimSpace(v) == "" {
		c.Failf(key, "is required")
	}
}

// Min checks that v is at least min.
func (c *Checker) Min(key string, v, min int) {
	if v < min {
		c.Failf(key, "is %d; it must be at least %d", v, min)
	}
}

// Range checks that min <= v <= max.
func (c *Checker) Range(key string, v, min, max int) {
	if v < min || v > max {
		c.Failf(key, "is %d; it must be between %d and %d", v, min, max)
	}
}

// Port checks that v is a TCP/UDP port number.
func (c *Checker) Port(key string, v int) { c.Range(key, v, 1, 65535) }

// tagPattern is an image tag.
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// digestPattern is a sha256 image digest.
var digestPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// Image checks that v is an image reference pinned by a release tag (not
// "latest") or by a sha256 digest.
func (c *Checker) Image(key, v string) {
	if v == "" {
		c.Failf(key, "is required (an image pinned by tag or @sha256 digest)")
		return
	}
	if ref, digest, ok := strings.Cut(v, "@"); ok {
		if ref == "" || !digestPattern.MatchString(digest) {
			c.Failf(key, "%q has a malformed digest; use NAME@sha256:<64 hex digits>", v)
		}
		return
	}
	_, tag, ok := strings.Cut(v[strings.LastIndex(v, "/")+1:], ":")
	switch {
	case !ok:
		c.Failf(key, "%q has no tag, so it floats on latest; pin a release tag or an @sha256 digest", v)
	case tag == "latest":
		c.Failf(key, "%q floats on latest; pin a release tag or an @sha256 digest", v)
	case !tagPattern.MatchString(tag):
		c.Failf(key, "%q has a malformed tag %q", v, tag)
	}
}

// Resources checks that every quantity of r is set and valid and that no
// request exceeds its limit.
func (c *Checker) Resources(key string, r Resources) {
	c.quantityPair(key+".CPURequest", r.CPURequest, key+".CPULimit", r.CPULimit)
	c.quantityPair(key+".MemoryRequest", r.MemoryRequest, key+".MemoryLimit", r.MemoryLimit)
}

func (c *Checker) quantityPair(reqKey, req, limKey, lim string) {
	rv, rerr := c.Quantity(reqKey, req)
	lv, lerr := c.Quantity(limKey, lim)
	if rerr == nil && lerr == nil && rv > lv {
		c.Failf(reqKey, "%s is above %s (%s)", req, limKey, lim)
	}
}

// Quantity checks that v is a positive Kubernetes quantity and returns its
// value; the error is non-nil (and recorded) when it is not.
func (c *Checker) Quantity(key, v string) (float64, error) {
	q, err := ParseQuantity(v)
	if err == nil && q <= 0 {
		err = fmt.Errorf("%q must be above zero", v)
	}
	if err != nil {
		c.Failf(key, "%v", err)
	}
	return q, err
}

// labelKeyPattern is the name part of a label key; labelValuePattern a label value.
var (
	labelNamePattern  = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
	labelValuePattern = regexp.MustCompile(`^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$`)
	labelPrefixLabel  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

// Labels checks that every key and value of m is a valid label; required
// says whether m may be empty.
func (c *Checker) Labels(key string, m map[string]string, required bool) {
	if required && len(m) == 0 {
		c.Failf(key, "is required (at least one label)")
	}
	for _, k := range SortedKeys(m) {
		name := k
		if prefix, rest, ok := strings.Cut(k, "/"); ok {
			if len(prefix) > 253 || !labelPrefixLabel.MatchString(prefix) {
				c.Failf(key, "label key %q has an invalid prefix", k)
				continue
			}
			name = rest
		}
		if !labelNamePattern.MatchString(name) {
			c.Failf(key, "label key %q is invalid", k)
		}
		if !labelValuePattern.MatchString(m[k]) {
			c.Failf(key, "label %q has an invalid value %q", k, m[k])
		}
	}
}

// URL checks that v is an absolute http or https URL.
func (c *Checker) URL(key, v string) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.Failf(key, "%q is not an http(s) URL with a host", v)
	}
}

// dnsHostPattern is a fully qualified host name (an optional leading
// wildcard label).
var dnsHostPattern = regexp.MustCompile(`^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Host checks that v is a DNS host name with at least two labels.
func (c *Checker) Host(key, v string) {
	if len(v) > 253 || !dnsHostPattern.MatchString(v) {
		c.Failf(key, "%q is not a lower-case DNS host name such as api.example.com", v)
	}
}

// CIDR checks that v is an IPv4 or IPv6 network in CIDR notation.
func (c *Checker) CIDR(key, v string) {
	if _, _, err := net.ParseCIDR(v); err != nil {
		c.Failf(key, "%q is not a CIDR such as 10.0.0.0/8", v)
	}
}

// chartVersionPattern is one chart release: semver with an optional "v".
var chartVersionPattern = regexp.MustCompile(`^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)

// ChartVersion checks that v pins one Helm chart release (not a range).
func (c *Checker) ChartVersion(key, v string) {
	if !chartVersionPattern.MatchString(v) {
		c.Failf(key, "%q is not an exact chart version such as 1.2.3 or v24.9.2", v)
	}
}

// CheckCall is the first check of every component constructor: args must
// not be nil and the component's name not empty.
func CheckCall[A any](constructor, name string, args *A) error {
	switch {
	case args == nil:
		return fmt.Errorf("%s: args are required", constructor)
	case name == "":
		return fmt.Errorf("%s: name is required", constructor)
	}
	return nil
}
