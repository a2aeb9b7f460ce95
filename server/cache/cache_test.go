package cache

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/api"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/cache/cachetest"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/internal/redistest"
	"github.com/stretchr/testify/require"
)

func baseRequest() api.GenerateRequest {
	return api.GenerateRequest{
		Model:    "m",
		Task:     api.TaskVQA,
		Prompt:   "what is this?",
		Images:   []*api.Image{{Format: "png", Data: []byte{1, 2, 3}}},
		Sampling: api.Sampling{MaxTokens: 64},
	}
}

func TestKeyForSeparatesEverythingThatChangesTheAnswer(t *testing.T) {
	base := KeyFor(baseRequest(), "r1")
	require.Equal(t, base, KeyFor(baseRequest(), "r1"), "the key must be deterministic")
	for _, tc := range []struct {
		name   string
		rev    string
		change func(*api.GenerateRequest)
	}{
		{"model", "r1", func(r *api.GenerateRequest) { r.Model = "m2" }},
		{"revision", "r2", func(*api.GenerateRequest) {}},
		{"task", "r1", func(r *api.GenerateRequest) { r.Task = api.TaskCaption }},
		{"prompt", "r1", func(r *api.GenerateRequest) { r.Prompt = "what is that?" }},
		{"image bytes", "r1", func(r *api.GenerateRequest) { r.Images[0].Data = []byte{1, 2, 4} }},
		{"second image", "r1", func(r *api.GenerateRequest) { r.Images = append(r.Images, &api.Image{Data: []byte{9}}) }},
		{"max tokens", "r1", func(r *api.GenerateRequest) { r.Sampling.MaxTokens = 65 }},
		{"stop", "r1", func(r *api.GenerateRequest) { r.Sampling.Stop = []string{"."} }},
		{"temperature", "r1", func(r *api.GenerateRequest) { r.Sampling.Temperature = 0.5 }},
		{"messages", "r1", func(r *api.GenerateRequest) {
			r.Messages = []api.Message{{Role: "user", Parts: []api.Part{{Kind: api.PartText, Text: "hi"}}}}
		}},
		// Moving bytes between neighbouring fields must change the key.
		{"field boundary", "1", func(r *api.GenerateRequest) { r.Model = "mr" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := baseRequest()
			tc.change(&req)
			require.NotEqual(t, base, KeyFor(req, tc.rev))
		})
	}
}

func TestKeyForChatMessages(t *testing.T) {
	msg := func(role, text string, kind api.PartKind, img int) api.GenerateRequest {
		r := baseRequest()
		r.Task = api.TaskChat
		r.Messages = []api.Message{{Role: role, Parts: []api.Part{{Kind: kind, Text: text, Image: img}}}}
		return r
	}
	base := KeyFor(msg("user", "hi", api.PartText, 0), "")
	require.NotEqual(t, base, KeyFor(msg("system", "hi", api.PartText, 0), ""))
	require.NotEqual(t, base, KeyFor(msg("user", "ho", api.PartText, 0), ""))
	require.NotEqual(t, base, KeyFor(msg("user", "hi", api.PartImage, 0), ""))
	require.NotEqual(t, KeyFor(msg("user", "", api.PartImage, 0), ""), KeyFor(msg("user", "", api.PartImage, 1), ""))
}

func TestKeyForIgnoresSamplingKnobsOnlyWhenGreedy(t *testing.T) {
	knobs := func(r *api.GenerateRequest) { r.Sampling.Seed, r.Sampling.TopK, r.Sampling.TopP = 7, 40, 0.9 }
	greedy := baseRequest()
	withKnobs := baseRequest()
	knobs(&withKnobs)
	require.Equal(t, KeyFor(greedy, ""), KeyFor(withKnobs, ""), "seed, top-k and top-p cannot change a greedy answer")
	require.True(t, Cacheable(greedy))

	sampled := baseRequest()
	sampled.Sampling.Temperature = 0.7
	sampledKnobs := sampled
	knobs(&sampledKnobs)
	require.NotEqual(t, KeyFor(sampled, ""), KeyFor(sampledKnobs, ""))
	require.False(t, Cacheable(sampled))
}

func newCache(t *testing.T, addr string, opts Options) *Cache {
	t.Helper()
	rdb, err := NewClient(addr, "", 200*time.Millisecond)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rdb.Close() })
	c, err := New(rdb, opts)
	require.NoError(t, err)
	return c
}

var result = api.GenerateResult{Text: "a cat", PromptTokens: 12, CompletionTokens: 3, FinishReason: "stop",
	Timings: api.Timings{Decode: time.Second}}

func TestSetGetRoundTrip(t *testing.T) {
	mr := miniredis.RunT(t)
	c := newCache(t, mr.Addr(), Options{TTL: time.Minute})
	ctx := context.Background()
	key := KeyFor(baseRequest(), "")

	_, found, err := c.Get(ctx, key)
	require.NoError(t, err)
	require.False(t, found)

	require.NoError(t, c.Set(ctx, key, result))
	got, found, err := c.Get(ctx, key)
	require.NoError(t, err)
	require.True(t, found)
	want := result
	want.Timings = api.Timings{} // a hit took no engine time
	require.Equal(t, want, got)

	require.Equal(t, time.Minute, mr.TTL(DefaultPrefix+key.String()))
	mr.FastForward(2 * time.Minute)
	_, found, err = c.Get(ctx, key)
	require.NoError(t, err)
	require.False(t, found, "the entry must expire after its TTL")
}

func TestCorruptEntryIsAnErrorNotAHit(t *testing.T) {
	mr := miniredis.RunT(t)
	c := newCache(t, mr.Addr(), Options{})
	key := KeyFor(baseRequest(), "")
	require.NoError(t, mr.Set(DefaultPrefix+key.String(), "not json"))
	_, found, err := c.Get(context.Background(), key)
	require.Error(t, err)
	require.False(t, found)
}

func TestRedisDownCoolsDownThenRecovers(t *testing.T) {
	mr := miniredis.RunT(t)
	c := newCache(t, mr.Addr(), Options{Cooldown: 50 * time.Millisecond})
	ctx := context.Background()
	key := KeyFor(baseRequest(), "")
	require.NoError(t, c.Set(ctx, key, result))

	mr.Close()
	_, _, err := c.Get(ctx, key)
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrUnavailable)
	_, _, err = c.Get(ctx, key)
	require.ErrorIs(t, err, ErrUnavailable, "the cache must skip Redis during the cool-down")
	require.ErrorIs(t, c.Set(ctx, key, result), ErrUnavailable)

	require.NoError(t, mr.Restart())
	time.Sleep(60 * time.Millisecond)
	_, found, err := c.Get(ctx, key)
	require.NoError(t, err)
	require.True(t, found)
}

// silentServer accepts connections and never answers: a Redis that hangs.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

func TestSlowRedisTimesOut(t *testing.T) {
	c := newCache(t, silentServer(t), Options{Timeout: 30 * time.Millisecond})
	start := time.Now()
	_, found, err := c.Get(context.Background(), KeyFor(baseRequest(), ""))
	require.Error(t, err)
	require.False(t, found)
	require.Less(t, time.Since(start), time.Second, "a hung Redis must cost about one timeout")
}

func TestNewValidates(t *testing.T) {
	_, err := New(nil, Options{})
	require.Error(t, err)
	_, err = NewClient("127.0.0.1:1", "", 0)
	require.Error(t, err)
	_, err = NewClient("redis://[bad", "", time.Second)
	require.Error(t, err)
	rdb, err := NewClient("redis://127.0.0.1:6390/2", "", time.Second)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:6390", rdb.Options().Addr)
	require.Equal(t, 2, rdb.Options().DB)
	require.NoError(t, rdb.Close())
}

func TestRealRedisServer(t *testing.T) {
	srv := redistest.Start(t)
	c := newCache(t, srv.Addr, Options{})
	ctx := context.Background()
	key := KeyFor(baseRequest(), "")
	require.NoError(t, c.Set(ctx, key, result))
	got, found, err := c.Get(ctx, key)
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, result.Text, got.Text)

	srv.Stop()
	start := time.Now()
	_, found, err = c.Get(ctx, key)
	require.Error(t, err)
	require.False(t, found)
	require.Less(t, time.Since(start), time.Second)
}

// A time-out while Redis answered recently is a busy Redis: the cache stays
// on. A time-out with no recent answer starts the cool-down.
func TestTimeoutCoolsDownOnlyWithoutRecentAnswers(t *testing.T) {
	c := newCache(t, silentServer(t), Options{Timeout: 20 * time.Millisecond, Cooldown: time.Minute})
	key := KeyFor(baseRequest(), "")
	c.answered()
	_, _, err := c.Get(context.Background(), key)
	require.Error(t, err)
	require.NoError(t, c.available(), "a busy Redis is not skipped")

	c.lastOK.Store(time.Now().Add(-2 * time.Minute).UnixNano())
	_, _, err = c.Get(context.Background(), key)
	require.Error(t, err)
	require.ErrorIs(t, c.available(), ErrUnavailable)
}

func TestPasswordIsSent(t *testing.T) {
	mr := miniredis.RunT(t)
	mr.RequireAuth("s3cret")
	key := KeyFor(baseRequest(), "")
	for pw, ok := range map[string]bool{"s3cret": true, "": false, "wrong": false} {
		rdb, err := NewClient(mr.Addr(), pw, 200*time.Millisecond)
		require.NoError(t, err)
		c, err := New(rdb, Options{Cooldown: -1})
		require.NoError(t, err)
		err = c.Set(context.Background(), key, api.GenerateResult{Text: "x"})
		if ok {
			require.NoError(t, err, "password %q", pw)
		} else {
			require.Error(t, err, "password %q", pw)
		}
		_ = rdb.Close()
	}
}

// The managed Redis services speak only TLS: the client connects with the
// server's CA (Memorystore's case) and AUTH, to the real redis-server's
// --tls-port where it is installed and to miniredis's TLS listener.
func TestTLS(t *testing.T) {
	for _, kind := range cachetest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			srv := cachetest.StartTLS(t, kind, "tls-s3cret-password")
			key := KeyFor(baseRequest(), "")
			ctx := context.Background()
			roots, err := LoadRootCAs(srv.CAFile)
			require.NoError(t, err)
			for _, tc := range []struct {
				name     string
				password string
				opts     []ClientOption
				want     string // error text; "" for success
			}{
				{"tls with the server's CA", srv.Password, []ClientOption{WithTLS(roots)}, ""},
				{"plain text to a TLS port", srv.Password, nil, "cache: redis set"},
				{"system roots do not know the test CA", srv.Password, []ClientOption{WithTLS(nil)}, "certificate"},
				{"wrong password over tls", "wrong-password", []ClientOption{WithTLS(roots)}, "cache: redis set"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					rdb, err := NewClient(srv.Addr, tc.password, time.Second, tc.opts...)
					require.NoError(t, err)
					defer rdb.Close()
					c, err := New(rdb, Options{Timeout: time.Second, Cooldown: -1})
					require.NoError(t, err)
					err = c.Set(ctx, key, result)
					if tc.want != "" {
						require.ErrorContains(t, err, tc.want)
						return
					}
					require.NoError(t, err)
					require.NotNil(t, rdb.Options().TLSConfig)
					got, found, err := c.Get(ctx, key)
					require.NoError(t, err)
					require.True(t, found)
					require.Equal(t, result.Text, got.Text)
				})
			}
		})
	}
}

func TestTLSOptions(t *testing.T) {
	rdb, err := NewClient("redis.example.internal:6380", "", time.Second, WithTLS(nil))
	require.NoError(t, err)
	cfg := rdb.Options().TLSConfig
	require.NoError(t, rdb.Close())
	require.Equal(t, "redis.example.internal", cfg.ServerName, "the certificate is checked for the host dialled")
	require.Equal(t, uint16(tls.VersionTLS12), cfg.MinVersion)
	require.False(t, cfg.InsecureSkipVerify)

	rdb, err = NewClient("rediss://cache.example.internal:6379", "", time.Second)
	require.NoError(t, err)
	require.NotNil(t, rdb.Options().TLSConfig, "rediss:// turns TLS on")
	require.NoError(t, rdb.Close())

	_, err = NewClient("no-port", "", time.Second, WithTLS(nil))
	require.ErrorContains(t, err, `redis address "no-port" for TLS`)

	dir := t.TempDir()
	_, err = LoadRootCAs(filepath.Join(dir, "missing.crt"))
	require.ErrorContains(t, err, "missing.crt")
	notPEM := filepath.Join(dir, "ca.crt")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	_, err = LoadRootCAs(notPEM)
	require.ErrorContains(t, err, "holds no PEM certificate")
}
