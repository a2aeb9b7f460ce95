package sched

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		ok   bool
	}{
		{"minimal", Options{Slots: 1}, true},
		{"full", Options{Slots: 4, QueueSize: 8, MaxQueueWait: time.Second, Deadline: time.Minute}, true},
		{"no slots", Options{}, false},
		{"negative queue", Options{Slots: 1, QueueSize: -1}, false},
		{"negative wait", Options{Slots: 1, MaxQueueWait: -1}, false},
		{"negative deadline", Options{Slots: 1, Deadline: -1}, false},
		{"negative service time", Options{Slots: 1, ServiceTime: -1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opts)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}

// occupy fills every slot of s with work that runs until the returned
// release is called.
func occupy(t *testing.T, s *Scheduler) (release func()) {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range s.Options().Slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Do(context.Background(), func(context.Context) error { <-stop; return nil })
			assert.NoError(t, err)
		}()
	}
	require.Eventually(t, func() bool { return s.Running() == s.Options().Slots }, 2*time.Second, time.Millisecond)
	var once sync.Once
	release = func() { once.Do(func() { close(stop); wg.Wait() }) }
	t.Cleanup(release)
	return release
}

// doAsync runs s.Do in a goroutine and delivers its error.
func doAsync(ctx context.Context, s *Scheduler, fn func(context.Context) error) <-chan error {
	out := make(chan error, 1)
	go func() {
		_, err := s.Do(ctx, fn)
		out <- err
	}()
	return out
}

func nop(context.Context) error { return nil }

func TestDoRunsAtOnceWhenASlotIsFree(t *testing.T) {
	s, err := New(Options{Slots: 1})
	require.NoError(t, err)
	want := errors.New("engine failed")
	waited, err := s.Do(context.Background(), func(context.Context) error { return want })
	require.ErrorIs(t, err, want)
	require.Less(t, waited, 50*time.Millisecond)
	require.Zero(t, s.Running())
}

func TestQueueFullIsRefusedWithoutWaiting(t *testing.T) {
	s, err := New(Options{Slots: 2, QueueSize: 1})
	require.NoError(t, err)
	release := occupy(t, s)
	queued := doAsync(context.Background(), s, nop)
	require.Eventually(t, func() bool { return s.Queued() == 1 }, 2*time.Second, time.Millisecond)

	start := time.Now()
	_, err = s.Do(context.Background(), func(context.Context) error {
		t.Error("work admitted past a full queue")
		return nil
	})
	require.ErrorIs(t, err, ErrQueueFull)
	require.Less(t, time.Since(start), 100*time.Millisecond)

	release()
	require.NoError(t, <-queued)
	require.Zero(t, s.Queued())
}

func TestZeroQueueRefusesWhenBusy(t *testing.T) {
	s, err := New(Options{Slots: 1})
	require.NoError(t, err)
	occupy(t, s)
	_, err = s.Do(context.Background(), nop)
	require.ErrorIs(t, err, ErrQueueFull)
}

func TestQueueTimeout(t *testing.T) {
	s, err := New(Options{Slots: 1, QueueSize: 4, MaxQueueWait: 30 * time.Millisecond, ServiceTime: time.Millisecond})
	require.NoError(t, err)
	occupy(t, s)
	waited, err := s.Do(context.Background(), nop)
	require.ErrorIs(t, err, ErrQueueTimeout)
	require.GreaterOrEqual(t, waited, 30*time.Millisecond)
	require.Zero(t, s.Queued())
}

func TestCancelledRequestLeavesTheQueue(t *testing.T) {
	s, err := New(Options{Slots: 1, QueueSize: 1})
	require.NoError(t, err)
	release := occupy(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Bool
	done := doAsync(ctx, s, func(context.Context) error { ran.Store(true); return nil })
	require.Eventually(t, func() bool { return s.Queued() == 1 }, 2*time.Second, time.Millisecond)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	require.Zero(t, s.Queued())

	// The freed queue place takes a new request.
	next := doAsync(context.Background(), s, nop)
	require.Eventually(t, func() bool { return s.Queued() == 1 }, 2*time.Second, time.Millisecond)
	release()
	require.NoError(t, <-next)
	require.False(t, ran.Load(), "cancelled work must never run")
}

func TestCancelStopsRunningWork(t *testing.T) {
	s, err := New(Options{Slots: 1})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := doAsync(ctx, s, func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	<-started
	cancel()
	err = <-done
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, ErrDeadline)
	require.Zero(t, s.Running())
}

func TestDeadline(t *testing.T) {
	t.Run("running", func(t *testing.T) {
		s, err := New(Options{Slots: 1, Deadline: 30 * time.Millisecond})
		require.NoError(t, err)
		_, err = s.Do(context.Background(), func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		})
		require.ErrorIs(t, err, ErrDeadline)
	})
	t.Run("queued", func(t *testing.T) {
		s, err := New(Options{Slots: 1, QueueSize: 1, Deadline: 30 * time.Millisecond, ServiceTime: time.Millisecond})
		require.NoError(t, err)
		occupy(t, s)
		_, err = s.Do(context.Background(), nop)
		require.ErrorIs(t, err, ErrDeadline)
		require.NotErrorIs(t, err, ErrQueueTimeout)
		require.Zero(t, s.Queued())
	})
	t.Run("work that ignores the deadline and succeeds", func(t *testing.T) {
		s, err := New(Options{Slots: 1, Deadline: time.Millisecond})
		require.NoError(t, err)
		_, err = s.Do(context.Background(), func(context.Context) error { time.Sleep(5 * time.Millisecond); return nil })
		require.NoError(t, err)
	})
}

func TestQueuedWorkRunsWhenASlotFrees(t *testing.T) {
	s, err := New(Options{Slots: 1, QueueSize: 1})
	require.NoError(t, err)
	release := occupy(t, s)
	waitedC := make(chan time.Duration, 1)
	go func() {
		waited, err := s.Do(context.Background(), nop)
		assert.NoError(t, err)
		waitedC <- waited
	}()
	require.Eventually(t, func() bool { return s.Queued() == 1 }, 2*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	release()
	require.GreaterOrEqual(t, <-waitedC, 20*time.Millisecond)
}

func TestConcurrencyNeverExceedsSlots(t *testing.T) {
	const slots, workers = 3, 40
	s, err := New(Options{Slots: slots, QueueSize: workers})
	require.NoError(t, err)
	var cur, peak atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Do(context.Background(), func(context.Context) error {
				n := cur.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(time.Millisecond)
				cur.Add(-1)
				return nil
			})
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	require.LessOrEqual(t, peak.Load(), int64(slots))
	require.Equal(t, int64(slots), peak.Load(), "the slots should all have been used")
	require.Zero(t, s.Queued())
	require.Zero(t, s.Running())
}
