package loadtest

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Latencies summarises a set of request latencies. The percentiles are
// exact (nearest rank over every sample), not estimates.
type Latencies struct {
	Count                    int
	Mean, P50, P95, P99, Max time.Duration
}

// summarize sorts d in place and returns its summary.
func summarize(d []time.Duration) Latencies {
	if len(d) == 0 {
		return Latencies{}
	}
	slices.Sort(d)
	var sum time.Duration
	for _, v := range d {
		sum += v
	}
	rank := func(q float64) time.Duration {
		i := int(q*float64(len(d))+0.999999999) - 1 // ceil(q·n) - 1
		return d[min(max(i, 0), len(d)-1)]
	}
	return Latencies{Count: len(d), Mean: sum / time.Duration(len(d)),
		P50: rank(0.50), P95: rank(0.95), P99: rank(0.99), Max: d[len(d)-1]}
}

// Report is the outcome of a run.
type Report struct {
	// BaseURL, Targets, Rate and Duration echo the run's Config.
	BaseURL  string
	Targets  []Kind
	Rate     int
	Duration time.Duration
	// Planned is Rate × Duration; Sent is how many were sent (fewer when
	// the generator fell behind or the run was cancelled).
	Planned, Sent uint64
	// SendRate is the achieved request rate, over the span from the first
	// request sent to the last.
	SendRate float64
	// Elapsed runs from the first request sent to the last answer.
	Elapsed time.Duration
	// OK counts the 2xx answers; Throughput is OK per second of Elapsed.
	OK         uint64
	Throughput float64
	// Status counts the answers by HTTP status; 0 counts requests that got
	// no answer (a refused connection, a timeout).
	Status map[int]uint64
	// Failures counts the other-than-2xx answers by status and the API's
	// error code ("503 queue_full"), or by the kind of client-side error
	// ("no answer: timeout", "no answer: connection refused", ...).
	Failures map[string]uint64
	// CacheHits counts the 2xx answers marked "cached": true.
	CacheHits uint64
	// Latency covers every request, Accepted the 2xx answers and Shed the
	// 503s.
	Latency, Accepted, Shed Latencies
}

// Failed is the number of requests not answered with a 2xx.
func (r *Report) Failed() uint64 { return r.Sent - r.OK }

// recorder accumulates results into a Report.
type recorder struct {
	r                  Report
	all, ok, shed      []time.Duration
	firstSent, lastSnt time.Time
	lastEnd            time.Time
}

func newRecorder(cfg Config, planned uint64) *recorder {
	return &recorder{r: Report{BaseURL: cfg.BaseURL, Targets: cfg.Targets, Rate: cfg.Rate, Duration: cfg.Duration,
		Planned: planned, Status: map[int]uint64{}, Failures: map[string]uint64{}}}
}

func (c *recorder) add(res *vegeta.Result) {
	r := &c.r
	r.Sent++
	r.Status[int(res.Code)]++
	c.all = append(c.all, res.Latency)
	switch {
	case res.Code >= 200 && res.Code < 300:
		r.OK++
		c.ok = append(c.ok, res.Latency)
		if isCacheHit(res) {
			r.CacheHits++
		}
	default:
		if res.Code == http.StatusServiceUnavailable {
			c.shed = append(c.shed, res.Latency)
		}
		r.Failures[errorCode(res)]++
	}
	if c.firstSent.IsZero() || res.Timestamp.Before(c.firstSent) {
		c.firstSent = res.Timestamp
	}
	if res.Timestamp.After(c.lastSnt) {
		c.lastSnt = res.Timestamp
	}
	if end := res.End(); end.After(c.lastEnd) {
		c.lastEnd = end
	}
}

func (c *recorder) report() *Report {
	r := c.r
	r.Latency, r.Accepted, r.Shed = summarize(c.all), summarize(c.ok), summarize(c.shed)
	if span := c.lastSnt.Sub(c.firstSent); r.Sent > 1 && span > 0 {
		r.SendRate = float64(r.Sent-1) / span.Seconds()
	}
	if r.Elapsed = c.lastEnd.Sub(c.firstSent); r.Elapsed > 0 {
		r.Throughput = float64(r.OK) / r.Elapsed.Seconds()
	}
	return &r
}

// SLA holds the thresholds a run is checked against.
type SLA struct {
	// MaxP95 bounds the 95th percentile latency (0: not checked).
	MaxP95 time.Duration
	// MaxErrorRate bounds the fraction of requests not answered with a
	// 2xx (negative: not checked; 0: no errors at all).
	MaxErrorRate float64
	// MinThroughput is the least 2xx answers per second (0: not checked).
	MinThroughput float64
	// ShedOK treats 503 answers as load shedding rather than errors,
	// provided each came within MaxShedLatency; MaxP95 then applies to the
	// 2xx answers alone. This is the overload target: every request is
	// answered or refused quickly.
	ShedOK bool
	// MaxShedLatency bounds each 503 when ShedOK (default 1 s).
	MaxShedLatency time.Duration
}

// GuideSLA is the deployment guide's: P95 under 500 ms and an error rate
// under 0.1%. (Its 1000+ requests/s is the offered rate, Config.Rate.)
func GuideSLA() SLA { return SLA{MaxP95: 500 * time.Millisecond, MaxErrorRate: 0.001} }

// Verdict is one checked threshold.
type Verdict struct {
	// What is the measured value against its bound, as printed.
	What string
	// OK reports whether the bound was met.
	OK bool
}

// Check compares r with s. The verdicts list each checked threshold, and
// always whether every planned request was sent (a run that fell behind
// did not offer the load it claims); the error, wrapping ErrSLA, names the
// missed ones.
func (r *Report) Check(s SLA) ([]Verdict, error) {
	var out []Verdict
	add := func(ok bool, format string, args ...any) {
		out = append(out, Verdict{What: fmt.Sprintf(format, args...), OK: ok})
	}
	add(r.Sent == r.Planned && r.Sent > 0, "sent %d of %d planned requests", r.Sent, r.Planned)
	errs := r.Failed()
	if s.ShedOK {
		shed := r.Status[http.StatusServiceUnavailable]
		errs -= shed
		limit := s.MaxShedLatency
		if limit == 0 {
			limit = time.Second
		}
		add(r.Shed.Max <= limit, "slowest 503 %v <= %v (%d shed)", round(r.Shed.Max), limit, shed)
	}
	if s.MaxP95 > 0 {
		lat, of := r.Latency, "all"
		if s.ShedOK {
			lat, of = r.Accepted, "2xx"
		}
		add(lat.Count > 0 && lat.P95 <= s.MaxP95, "p95 (%s) %v <= %v", of, round(lat.P95), s.MaxP95)
	}
	if s.MaxErrorRate >= 0 {
		rate := 0.0
		if r.Sent > 0 {
			rate = float64(errs) / float64(r.Sent)
		}
		add(r.Sent > 0 && rate <= s.MaxErrorRate, "error rate %.3f%% <= %.3f%% (%d errors)", 100*rate, 100*s.MaxErrorRate, errs)
	}
	if s.MinThroughput > 0 {
		add(r.Throughput >= s.MinThroughput, "throughput %.1f/s >= %.1f/s", r.Throughput, s.MinThroughput)
	}
	var missed []string
	for _, v := range out {
		if !v.OK {
			missed = append(missed, v.What)
		}
	}
	if missed != nil {
		return out, fmt.Errorf("%w: %s", ErrSLA, strings.Join(missed, "; "))
	}
	return out, nil
}

// round keeps three significant figures' worth of a latency for printing.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// Write prints r for people.
func (r *Report) Write(w io.Writer) error {
	var b strings.Builder
	kinds := make([]string, len(r.Targets))
	for i, k := range r.Targets {
		kinds[i] = string(k)
	}
	fmt.Fprintf(&b, "target      %s (%s)\n", r.BaseURL, strings.Join(kinds, ", "))
	fmt.Fprintf(&b, "offered     %d req/s for %v: %d requests\n", r.Rate, r.Duration, r.Planned)
	fmt.Fprintf(&b, "sent        %d at %.1f req/s\n", r.Sent, r.SendRate)
	pct := 0.0
	if r.Sent > 0 {
		pct = 100 * float64(r.OK) / float64(r.Sent)
	}
	fmt.Fprintf(&b, "answered    %d 2xx (%.3f%%) in %v, throughput %.1f/s\n", r.OK, pct, round(r.Elapsed), r.Throughput)
	codes := slices.Sorted(maps.Keys(r.Status))
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d: %d", c, r.Status[c])
	}
	fmt.Fprintf(&b, "status      %s\n", strings.Join(parts, ", "))
	for _, f := range slices.Sorted(maps.Keys(r.Failures)) {
		fmt.Fprintf(&b, "failed      %d × %s\n", r.Failures[f], f)
	}
	if r.CacheHits > 0 {
		fmt.Fprintf(&b, "cache hits  %d\n", r.CacheHits)
	}
	for _, l := range []struct {
		name string
		lat  Latencies
	}{{"all", r.Latency}, {"2xx", r.Accepted}, {"503", r.Shed}} {
		if l.lat.Count == 0 && l.name != "all" {
			continue
		}
		fmt.Fprintf(&b, "latency     %-4s n=%d  p50 %v  p95 %v  p99 %v  max %v  mean %v\n", l.name, l.lat.Count,
			round(l.lat.P50), round(l.lat.P95), round(l.lat.P99), round(l.lat.Max), round(l.lat.Mean))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("loadtest: writing the report: %w", err)
	}
	return nil
}
