package loadtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/gin-gonic/gin"
	"github.com/mobile-mm-llm/mobile-mm-llm/server"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/cache"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/openai"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/sched"
	"github.com/stretchr/testify/require"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// startStub serves a stub engine that works for a few milliseconds.
func startStub(t *testing.T, o StubOptions) *Stub {
	t.Helper()
	if o.Delay == 0 {
		o.Delay = 3 * time.Millisecond
	}
	if o.Sched == (sched.Options{}) {
		o.Sched = sched.Options{Slots: 4, QueueSize: 64, MaxQueueWait: 5 * time.Second, Deadline: 10 * time.Second}
	}
	s, err := StartStub(o)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// requireConsistent checks the report's counts against each other.
func requireConsistent(t *testing.T, r *Report) {
	t.Helper()
	var byStatus, byFailure uint64
	for _, n := range r.Status {
		byStatus += n
	}
	for _, n := range r.Failures {
		byFailure += n
	}
	require.Equal(t, r.Sent, byStatus, "status counts add up to the requests sent")
	require.Equal(t, r.Failed(), byFailure, "failure counts add up to the non-2xx answers")
	require.Equal(t, r.Sent, r.OK+r.Failed())
	require.Equal(t, int(r.Sent), r.Latency.Count)
	require.Equal(t, int(r.OK), r.Accepted.Count)
	require.Equal(t, int(r.Status[http.StatusServiceUnavailable]), r.Shed.Count)
	require.LessOrEqual(t, r.CacheHits, r.OK)
	for _, l := range []Latencies{r.Latency, r.Accepted, r.Shed} {
		if l.Count == 0 {
			continue
		}
		require.Positive(t, l.P50)
		require.LessOrEqual(t, l.P50, l.P95)
		require.LessOrEqual(t, l.P95, l.P99)
		require.LessOrEqual(t, l.P99, l.Max)
		require.LessOrEqual(t, l.Mean, l.Max)
	}
	require.LessOrEqual(t, r.Latency.Max, r.Elapsed)
}

func TestRunAgainstStubServer(t *testing.T) {
	stub := startStub(t, StubOptions{})
	r, err := Run(context.Background(), Config{BaseURL: stub.URL, Rate: 200, Duration: time.Second,
		Targets: []Kind{Caption, Cached, Sampled, Chat}})
	require.NoError(t, err)
	requireConsistent(t, r)
	require.Equal(t, uint64(200), r.Planned)
	require.Equal(t, r.Planned, r.Sent)
	require.Equal(t, map[int]uint64{http.StatusOK: 200}, r.Status, "failures: %v", r.Failures)
	require.Empty(t, r.Failures)
	require.Zero(t, r.CacheHits, "no cache is configured")
	require.Positive(t, r.SendRate)
	require.Positive(t, r.Throughput)

	v, err := r.Check(SLA{MaxErrorRate: 0})
	require.NoError(t, err)
	require.Equal(t, []Verdict{{What: "sent 200 of 200 planned requests", OK: true},
		{What: "error rate 0.000% <= 0.000% (0 errors)", OK: true}}, v)
}

func TestRunCountsRefusedRequests(t *testing.T) {
	stub := startStub(t, StubOptions{Tokens: []string{"s3cret"}})
	for _, tc := range []struct {
		token  string
		status int
	}{{"", http.StatusUnauthorized}, {"wrong", http.StatusUnauthorized}, {"s3cret", http.StatusOK}} {
		t.Run(tc.token, func(t *testing.T) {
			r, err := Run(context.Background(), Config{BaseURL: stub.URL, Rate: 100, Duration: 300 * time.Millisecond,
				Token: tc.token, Targets: []Kind{Caption, Chat}})
			require.NoError(t, err)
			requireConsistent(t, r)
			require.Equal(t, uint64(30), r.Sent)
			require.Equal(t, map[int]uint64{tc.status: 30}, r.Status)
			_, err = r.Check(GuideSLA())
			if tc.status == http.StatusOK {
				require.NoError(t, err)
				return
			}
			require.Equal(t, map[string]uint64{"401 unauthorized": 30}, r.Failures)
			require.ErrorIs(t, err, ErrSLA)
			require.ErrorContains(t, err, "error rate 100.000%")
		})
	}
}

func TestRunShedsLoadPastCapacity(t *testing.T) {
	// One slot, one queue place, 50 ms per request: 10 requests in 50 ms are
	// mostly refused with 503 queue_full.
	stub := startStub(t, StubOptions{Delay: 50 * time.Millisecond,
		Sched: sched.Options{Slots: 1, QueueSize: 1, MaxQueueWait: time.Second, Deadline: 10 * time.Second}})
	r, err := Run(context.Background(), Config{BaseURL: stub.URL, Rate: 200, Duration: 50 * time.Millisecond})
	require.NoError(t, err)
	requireConsistent(t, r)
	require.Equal(t, uint64(10), r.Sent)
	require.Equal(t, r.Sent, r.Status[http.StatusOK]+r.Status[http.StatusServiceUnavailable])
	require.Positive(t, r.Shed.Count)
	require.Equal(t, uint64(r.Shed.Count), r.Failures["503 queue_full"])

	_, err = r.Check(SLA{MaxErrorRate: 0})
	require.ErrorIs(t, err, ErrSLA, "503s are errors by default")
	v, err := r.Check(SLA{MaxErrorRate: 0, ShedOK: true, MaxShedLatency: time.Minute})
	require.NoError(t, err, "503s are load shedding with ShedOK")
	require.Len(t, v, 3)
}

func TestRunCountsCacheHits(t *testing.T) {
	rdb, err := cache.NewClient(miniredis.RunT(t).Addr(), "", time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { rdb.Close() })
	c, err := cache.New(rdb, cache.Options{Timeout: time.Second})
	require.NoError(t, err)
	stub := startStub(t, StubOptions{Cache: c})

	r, err := Run(context.Background(), Config{BaseURL: stub.URL, Rate: 100, Duration: 300 * time.Millisecond,
		Targets: []Kind{Cached, Caption}})
	require.NoError(t, err)
	requireConsistent(t, r)
	require.Equal(t, uint64(30), r.OK)
	require.Positive(t, r.CacheHits)
	// The captions' images are all different, so they never hit; the first
	// cached request misses.
	require.LessOrEqual(t, r.CacheHits, uint64(14))
}

func TestRunCountsRequestsWithoutAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	r, err := Run(context.Background(), Config{BaseURL: url, Rate: 100, Duration: 100 * time.Millisecond})
	require.NoError(t, err)
	requireConsistent(t, r)
	require.Equal(t, map[int]uint64{0: 10}, r.Status)
	require.Equal(t, map[string]uint64{"no answer: connection refused": 10}, r.Failures)
	require.Zero(t, r.Throughput)
}

func TestClientError(t *testing.T) {
	for msg, want := range map[string]string{
		`Post "http://127.0.0.1:1/v1/inference": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`: "timeout",
		`Post "http://127.0.0.1:1/v1/inference": dial tcp 127.0.0.1:1: connect: connection refused`:                          "connection refused",
		`Post "http://127.0.0.1:1/v1/inference": read tcp 127.0.0.1:5->127.0.0.1:1: read: connection reset by peer`:          "connection reset",
		`Post "http://127.0.0.1:1/v1/inference": EOF`:                                                                        "connection closed",
		"something new": "other",
	} {
		require.Equal(t, want, clientError(msg), msg)
	}
}

func TestRunStopsWithContext(t *testing.T) {
	stub := startStub(t, StubOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	r, err := Run(ctx, Config{BaseURL: stub.URL, Rate: 50, Duration: time.Minute})
	require.NoError(t, err)
	require.Less(t, time.Since(start), 30*time.Second)
	requireConsistent(t, r)
	require.Less(t, r.Sent, r.Planned)
	v, err := r.Check(SLA{MaxErrorRate: -1})
	require.ErrorIs(t, err, ErrSLA)
	require.False(t, v[0].OK, "a cut-short run did not offer its load")
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		err  string
	}{
		{"loopback v4", Config{BaseURL: "http://127.0.0.1:8080", Rate: 1, Duration: time.Second}, ""},
		{"loopback v6", Config{BaseURL: "http://[::1]:8080/", Rate: 1, Duration: time.Second}, ""},
		{"localhost", Config{BaseURL: "https://localhost", Rate: 1, Duration: time.Second}, ""},
		{"remote refused", Config{BaseURL: "http://10.0.0.1:8080", Rate: 1, Duration: time.Second}, "not a loopback address"},
		{"remote allowed", Config{BaseURL: "http://api.example.com", Rate: 1, Duration: time.Second, AllowRemote: true}, ""},
		{"no scheme", Config{BaseURL: "127.0.0.1:8080", Rate: 1, Duration: time.Second}, "base URL"},
		{"ftp", Config{BaseURL: "ftp://127.0.0.1", Rate: 1, Duration: time.Second}, "want http(s)"},
		{"zero rate", Config{BaseURL: "http://127.0.0.1", Duration: time.Second}, "rate 0"},
		{"zero duration", Config{BaseURL: "http://127.0.0.1", Rate: 1}, "duration 0s"},
		{"too long", Config{BaseURL: "http://127.0.0.1", Rate: 1, Duration: 2 * time.Hour}, "at most 1h"},
		{"negative timeout", Config{BaseURL: "http://127.0.0.1", Rate: 1, Duration: time.Second, Timeout: -1}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cfg.withDefaults()
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, []Kind{Caption}, got.Targets)
			require.Equal(t, DefaultMaxTokens, got.MaxTokens)
			require.Equal(t, DefaultTimeout, got.Timeout)
		})
	}
	_, err := Run(context.Background(), Config{BaseURL: "http://192.0.2.1", Rate: 1, Duration: time.Second})
	require.ErrorContains(t, err, "not a loopback address", "Run refuses before sending anything")
}

func TestPlanned(t *testing.T) {
	require.Equal(t, uint64(200), Config{Rate: 200, Duration: time.Second}.Planned())
	require.Equal(t, uint64(15000), Config{Rate: 1000, Duration: 15 * time.Second}.Planned())
	require.Equal(t, uint64(1), Config{Rate: 1, Duration: time.Millisecond}.Planned())
}

// nextTargets draws n targets from cfg's targeter.
func nextTargets(t *testing.T, cfg Config, n int) []vegeta.Target {
	t.Helper()
	cfg, err := cfg.withDefaults()
	require.NoError(t, err)
	tr, err := newTargeter(cfg)
	require.NoError(t, err)
	out := make([]vegeta.Target, n)
	for i := range out {
		require.NoError(t, tr(&out[i]))
	}
	return out
}

// decodeDataURI returns the image bytes of a base64 data URI.
func decodeDataURI(t *testing.T, uri string) []byte {
	t.Helper()
	_, b64, ok := strings.Cut(uri, ";base64,")
	require.True(t, ok, uri)
	b, err := base64.StdEncoding.DecodeString(b64)
	require.NoError(t, err)
	return b
}

func TestTargets(t *testing.T) {
	tgts := nextTargets(t, Config{BaseURL: "http://127.0.0.1:1/", Rate: 1, Duration: time.Second, Token: "tok", Model: "m",
		Targets: []Kind{Caption, Cached, Sampled, Chat}}, 8)
	for _, tg := range tgts {
		require.Equal(t, http.MethodPost, tg.Method)
		require.Equal(t, "Bearer tok", tg.Header.Get("Authorization"))
		require.Equal(t, "application/json", tg.Header.Get("Content-Type"))
	}
	require.Equal(t, "http://127.0.0.1:1/v1/inference", tgts[0].URL)
	require.Equal(t, "http://127.0.0.1:1/v1/chat/completions", tgts[3].URL)

	native := make([]server.InferenceRequest, 8)
	for _, i := range []int{0, 1, 2, 4, 5, 6} {
		require.NoError(t, json.Unmarshal(tgts[i].Body, &native[i]), string(tgts[i].Body))
		require.Equal(t, "caption", native[i].Task)
		require.Equal(t, "m", native[i].Model)
		require.Equal(t, DefaultMaxTokens, *native[i].MaxTokens)
	}
	require.Nil(t, native[0].Temperature, "captions are greedy")
	require.Nil(t, native[1].Temperature, "the cached request is greedy")
	require.Positive(t, *native[2].Temperature, "the sampled request samples")
	require.Equal(t, tgts[1].Body, tgts[5].Body, "the cached request never changes")
	require.Equal(t, tgts[2].Body, tgts[6].Body, "the sampled request never changes")
	require.NotEqual(t, native[0].Image, native[4].Image, "each caption's image is unique")
	require.Regexp(t, `^data:image/png;base64,`, native[0].Image)

	var chat [2]openai.ChatCompletionRequest
	for i, j := range []int{3, 7} {
		require.NoError(t, json.Unmarshal(tgts[j].Body, &chat[i]))
		require.Len(t, chat[i].Messages, 1)
		require.Len(t, chat[i].Messages[0].Content, 2)
		require.Nil(t, chat[i].Temperature)
	}
	require.NotEqual(t, chat[0].Messages[0].Content[0].ImageURL.URL, chat[1].Messages[0].Content[0].ImageURL.URL)

	// Every variant decodes to the same pixels.
	want, err := png.Decode(bytes.NewReader(decodeDataURI(t, native[1].Image)))
	require.NoError(t, err)
	for _, uri := range []string{native[0].Image, native[4].Image, chat[1].Messages[0].Content[0].ImageURL.URL} {
		got, err := png.Decode(bytes.NewReader(decodeDataURI(t, uri)))
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
}

func TestTaggedJPEGKeepsItsPixels(t *testing.T) {
	src := image.NewGray(image.Rect(0, 0, 16, 8))
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, src, nil))
	tgts := nextTargets(t, Config{BaseURL: "http://127.0.0.1:1", Rate: 1, Duration: time.Second, Image: buf.Bytes()}, 2)
	var a, b server.InferenceRequest
	require.NoError(t, json.Unmarshal(tgts[0].Body, &a))
	require.NoError(t, json.Unmarshal(tgts[1].Body, &b))
	require.NotEqual(t, a.Image, b.Image)
	want, err := jpeg.Decode(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	for _, uri := range []string{a.Image, b.Image} {
		raw := decodeDataURI(t, uri)
		require.Equal(t, "image/jpeg", http.DetectContentType(raw))
		got, err := jpeg.Decode(bytes.NewReader(raw))
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
}

func TestTargeterRefusesOtherImages(t *testing.T) {
	for name, img := range map[string][]byte{
		"text":             []byte("not an image"),
		"gif":              []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
		"png without IHDR": []byte(pngSignature + "\x00\x00\x00\x00IEND"),
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := Config{BaseURL: "http://127.0.0.1:1", Rate: 1, Duration: time.Second, Image: img}.withDefaults()
			require.NoError(t, err)
			_, err = newTargeter(cfg)
			require.Error(t, err)
			require.ErrorContains(t, err, "PNG")
		})
	}
}

func TestParseKinds(t *testing.T) {
	got, err := ParseKinds([]string{"caption", " chat", "caption", "cached", "sampled"})
	require.NoError(t, err)
	require.Equal(t, []Kind{Caption, Chat, Caption, Cached, Sampled}, got)
	_, err = ParseKinds([]string{"caption", "ocr"})
	require.ErrorContains(t, err, `unknown target "ocr"`)
	_, err = ParseKinds(nil)
	require.ErrorContains(t, err, "no targets")
}

func TestSamplePNG(t *testing.T) {
	b, err := SamplePNG(8, 4)
	require.NoError(t, err)
	require.Equal(t, "image/png", http.DetectContentType(b))
	_, err = SamplePNG(0, 4)
	require.Error(t, err)
}

func TestSummarize(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	require.Equal(t, Latencies{Count: 100, Mean: 50500 * time.Microsecond, P50: 50 * time.Millisecond,
		P95: 95 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}, summarize(d))
	require.Equal(t, Latencies{Count: 1, Mean: 7, P50: 7, P95: 7, P99: 7, Max: 7}, summarize([]time.Duration{7}))
	require.Equal(t, Latencies{}, summarize(nil))
}

func TestCheck(t *testing.T) {
	ms := time.Millisecond
	base := func() *Report {
		return &Report{Planned: 1000, Sent: 1000, OK: 1000, Throughput: 990, Elapsed: time.Second,
			Status:  map[int]uint64{200: 1000},
			Latency: Latencies{Count: 1000, P50: 5 * ms, P95: 20 * ms, P99: 40 * ms, Max: 90 * ms}, Accepted: Latencies{Count: 1000, P95: 20 * ms}}
	}
	withErrors := func(status int, n uint64, shedMax time.Duration) func(*Report) {
		return func(r *Report) {
			r.OK -= n
			r.Status[200] -= n
			r.Status[status] += n
			if status == http.StatusServiceUnavailable {
				r.Shed = Latencies{Count: int(n), Max: shedMax}
			}
		}
	}
	for _, tc := range []struct {
		name   string
		change func(*Report)
		sla    SLA
		missed []string
	}{
		{"all met", nil, GuideSLA(), nil},
		{"slow p95", func(r *Report) { r.Latency.P95 = 600 * ms }, GuideSLA(), []string{"p95 (all) 600ms <= 500ms"}},
		{"one error in 1000 is 0.1%", withErrors(500, 1, 0), GuideSLA(), nil},
		{"two errors in 1000", withErrors(500, 2, 0), GuideSLA(), []string{"error rate 0.200% <= 0.100% (2 errors)"}},
		{"zero errors wanted", withErrors(500, 1, 0), SLA{MaxErrorRate: 0}, []string{"error rate 0.100% <= 0.000% (1 errors)"}},
		{"error rate unchecked", withErrors(500, 500, 0), SLA{MaxErrorRate: -1}, nil},
		{"503s are errors", withErrors(503, 100, 10*ms), GuideSLA(), []string{"error rate 10.000% <= 0.100% (100 errors)"}},
		{"503s shed in time", withErrors(503, 100, 10*ms), SLA{MaxErrorRate: 0, ShedOK: true}, nil},
		{"503 too slow", withErrors(503, 100, 2*time.Second), SLA{MaxErrorRate: 0, ShedOK: true},
			[]string{"slowest 503 2s <= 1s (100 shed)"}},
		{"shed p95 over 2xx", func(r *Report) { r.Latency.P95 = time.Second }, SLA{MaxP95: 500 * ms, MaxErrorRate: -1, ShedOK: true}, nil},
		{"fell behind", func(r *Report) { r.Sent, r.OK, r.Status[200] = 900, 900, 900 }, GuideSLA(),
			[]string{"sent 900 of 1000 planned requests"}},
		{"throughput", nil, SLA{MaxErrorRate: -1, MinThroughput: 1000}, []string{"throughput 990.0/s >= 1000.0/s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := base()
			if tc.change != nil {
				tc.change(r)
			}
			v, err := r.Check(tc.sla)
			var missed []string
			for _, x := range v {
				if !x.OK {
					missed = append(missed, x.What)
				}
			}
			require.Equal(t, tc.missed, missed)
			if tc.missed == nil {
				require.NoError(t, err)
			} else {
				require.True(t, errors.Is(err, ErrSLA))
			}
		})
	}
}
