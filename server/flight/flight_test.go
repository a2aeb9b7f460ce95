package flight

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// waiting returns how many callers wait for key's work (0: none in flight).
func (g *Group[K, V]) waiting(key K) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.calls[key]; ok {
		return c.waiters
	}
	return 0
}

// work is a fake piece of work that counts its calls and runs until
// released or cancelled.
type work struct {
	calls     atomic.Int64
	release   chan struct{}
	cancelled chan error // the cause, when the work's context ends first
}

func newWork() *work {
	return &work{release: make(chan struct{}), cancelled: make(chan error, 8)}
}

func (w *work) fn(key string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		n := w.calls.Add(1)
		select {
		case <-w.release:
			return fmt.Sprintf("%s#%d", key, n), nil
		case <-ctx.Done():
			w.cancelled <- context.Cause(ctx)
			return "", ctx.Err()
		}
	}
}

type result struct {
	v      string
	joined bool
	err    error
}

func doAsync(ctx context.Context, g *Group[string, string], key string, fn func(context.Context) (string, error)) <-chan result {
	out := make(chan result, 1)
	go func() {
		v, joined, err := g.Do(ctx, key, fn)
		out <- result{v, joined, err}
	}()
	return out
}

func wait(t *testing.T, c <-chan result) result {
	t.Helper()
	select {
	case r := <-c:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("Do never returned")
		return result{}
	}
}

func TestConcurrentCallsShareOneRun(t *testing.T) {
	const n = 16
	var g Group[string, string]
	w := newWork()
	var outs []<-chan result
	for range n {
		outs = append(outs, doAsync(context.Background(), &g, "k", w.fn("k")))
	}
	require.Eventually(t, func() bool { return g.waiting("k") == n }, 5*time.Second, time.Millisecond)
	require.Equal(t, n, g.Waiting())
	close(w.release)

	joined := 0
	for _, o := range outs {
		r := wait(t, o)
		require.NoError(t, r.err)
		require.Equal(t, "k#1", r.v, "every caller gets the one run's result")
		if r.joined {
			joined++
		}
	}
	require.EqualValues(t, 1, w.calls.Load())
	require.Equal(t, n-1, joined, "all but the first joined")
	require.Zero(t, g.InFlight())

	// Done work is forgotten: the next call runs again.
	v, joined2, err := g.Do(context.Background(), "k", w.fn("k"))
	require.NoError(t, err)
	require.False(t, joined2)
	require.Equal(t, "k#2", v)
}

func TestDifferentKeysRunSeparately(t *testing.T) {
	var g Group[string, string]
	w := newWork()
	a := doAsync(context.Background(), &g, "a", w.fn("a"))
	b := doAsync(context.Background(), &g, "b", w.fn("b"))
	require.Eventually(t, func() bool { return g.InFlight() == 2 }, 5*time.Second, time.Millisecond)
	require.Equal(t, 2, g.Waiting())
	close(w.release)
	ra, rb := wait(t, a), wait(t, b)
	require.NoError(t, ra.err)
	require.NoError(t, rb.err)
	require.NotEqual(t, ra.v[:1], rb.v[:1])
	require.EqualValues(t, 2, w.calls.Load())
}

func TestACallerLeavingDoesNotCancelTheOthers(t *testing.T) {
	for _, leaver := range []string{"first (the one that started the work)", "a joiner"} {
		t.Run(leaver, func(t *testing.T) {
			var g Group[string, string]
			w := newWork()
			ctxFirst, cancelFirst := context.WithCancel(context.Background())
			defer cancelFirst()
			ctxJoiner, cancelJoiner := context.WithCancel(context.Background())
			defer cancelJoiner()
			first := doAsync(ctxFirst, &g, "k", w.fn("k"))
			require.Eventually(t, func() bool { return w.calls.Load() == 1 }, 5*time.Second, time.Millisecond)
			joiner := doAsync(ctxJoiner, &g, "k", w.fn("k"))
			other := doAsync(context.Background(), &g, "k", w.fn("k"))
			require.Eventually(t, func() bool { return g.waiting("k") == 3 }, 5*time.Second, time.Millisecond)

			leaving, staying := first, joiner
			if leaver == "a joiner" {
				cancelJoiner()
				leaving, staying = joiner, first
			} else {
				cancelFirst()
			}
			r := wait(t, leaving)
			require.ErrorIs(t, r.err, context.Canceled, "the caller that left returns at once")
			require.Equal(t, 2, g.waiting("k"))
			select {
			case cause := <-w.cancelled:
				t.Fatalf("the work was cancelled (%v) with callers still waiting", cause)
			default:
			}

			close(w.release)
			for _, o := range []<-chan result{staying, other} {
				r := wait(t, o)
				require.NoError(t, r.err)
				require.Equal(t, "k#1", r.v)
			}
			require.EqualValues(t, 1, w.calls.Load())
		})
	}
}

func TestWorkIsCancelledWhenEveryCallerLeaves(t *testing.T) {
	var g Group[string, string]
	w := newWork()
	ctx, cancel := context.WithCancel(context.Background())
	a := doAsync(ctx, &g, "k", w.fn("k"))
	b := doAsync(ctx, &g, "k", w.fn("k"))
	require.Eventually(t, func() bool { return g.waiting("k") == 2 }, 5*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, wait(t, a).err, context.Canceled)
	require.ErrorIs(t, wait(t, b).err, context.Canceled)
	select {
	case cause := <-w.cancelled:
		require.ErrorIs(t, cause, ErrAbandoned)
	case <-time.After(5 * time.Second):
		t.Fatal("abandoned work was not cancelled")
	}

	// A caller arriving now starts afresh instead of joining the
	// cancelled work.
	close(w.release)
	v, joined, err := g.Do(context.Background(), "k", w.fn("k"))
	require.NoError(t, err)
	require.False(t, joined)
	require.Equal(t, "k#2", v)
}

func TestAnEndedContextStartsNothing(t *testing.T) {
	var g Group[string, string]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := g.Do(ctx, "k", func(context.Context) (string, error) {
		t.Error("work started for a caller that had already left")
		return "", nil
	})
	require.ErrorIs(t, err, context.Canceled)
}

func TestErrorsAndPanicsReachEveryCaller(t *testing.T) {
	boom := errors.New("engine failed")
	for _, tc := range []struct {
		name string
		fail func() (string, error)
		want string
	}{
		{"error", func() (string, error) { return "", boom }, "engine failed"},
		{"panic", func() (string, error) { panic("the work panicked") }, "panic: the work panicked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g Group[string, string]
			release := make(chan struct{})
			var calls atomic.Int64
			fn := func(context.Context) (string, error) {
				calls.Add(1)
				<-release
				return tc.fail()
			}
			var wg sync.WaitGroup
			errs := make(chan error, 3)
			for range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, _, err := g.Do(context.Background(), "k", fn)
					errs <- err
				}()
			}
			require.Eventually(t, func() bool { return g.waiting("k") == 3 }, 5*time.Second, time.Millisecond)
			close(release)
			wg.Wait()
			close(errs)
			for err := range errs {
				require.ErrorContains(t, err, tc.want)
			}
			require.EqualValues(t, 1, calls.Load())
			require.Zero(t, g.InFlight())
		})
	}
}

type ctxKey struct{}

func TestWorkKeepsTheFirstCallersValues(t *testing.T) {
	var g Group[string, string]
	ctx := context.WithValue(context.Background(), ctxKey{}, "request-1")
	v, _, err := g.Do(ctx, "k", func(ctx context.Context) (string, error) {
		s, _ := ctx.Value(ctxKey{}).(string)
		return s, nil
	})
	require.NoError(t, err)
	require.Equal(t, "request-1", v)
}
