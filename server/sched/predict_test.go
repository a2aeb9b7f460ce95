package sched

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// queueUp puts n requests in s's queue (its slots must be busy) and waits
// until they are there; they run nop once the slots free.
func queueUp(t *testing.T, s *Scheduler, n int) {
	t.Helper()
	before := s.Queued()
	for range n {
		done := doAsync(context.Background(), s, nop)
		t.Cleanup(func() { <-done })
	}
	require.Eventually(t, func() bool { return s.Queued() == before+n }, 2*time.Second, time.Millisecond)
}

func TestPredictWaitFollowsTheQueue(t *testing.T) {
	for _, tc := range []struct {
		slots   int
		service time.Duration
	}{
		{1, time.Second},
		{2, time.Second},
		{4, 300 * time.Millisecond},
	} {
		s, err := New(Options{Slots: tc.slots, QueueSize: 8, ServiceTime: tc.service})
		require.NoError(t, err)
		require.Zero(t, s.PredictWait(), "a free slot: no wait")

		release := occupy(t, s)
		prev := time.Duration(0)
		for queued := range 4 {
			if queued > 0 {
				queueUp(t, s, 1)
			}
			got := s.PredictWait()
			// A newcomer waits for the queued requests and itself to get a
			// slot, the slots freeing one service time apart each.
			want := time.Duration(queued+1) * tc.service / time.Duration(tc.slots)
			require.InDelta(t, want, got, float64(time.Microsecond), "slots %d, %d queued", tc.slots, queued)
			require.Greater(t, got, prev, "the prediction grows with the queue")
			prev = got
		}
		release()
		require.Eventually(t, func() bool { return s.Queued() == 0 && s.Running() == 0 }, 2*time.Second, time.Millisecond)
		require.Zero(t, s.PredictWait(), "drained: no wait")
	}
}

// fakeClock is a settable clock for Scheduler.now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestServiceTimeIsAMovingAverageOfCompletedWork(t *testing.T) {
	s, err := New(Options{Slots: 1, ServiceTime: 5 * time.Second})
	require.NoError(t, err)
	clock := &fakeClock{t: time.Unix(1000, 0)}
	s.now = clock.now
	require.Equal(t, 5*time.Second, s.ServiceTime(), "the seed before any measurement")

	run := func(d time.Duration, err error) {
		_, got := s.Do(context.Background(), func(context.Context) error { clock.advance(d); return err })
		require.ErrorIs(t, got, err)
	}
	run(2*time.Second, nil)
	require.Equal(t, 2*time.Second, s.ServiceTime(), "the first measurement replaces the seed")
	run(time.Second, nil)
	want := 2*time.Second + time.Duration(serviceWeight*float64(time.Second-2*time.Second))
	require.InDelta(t, want, s.ServiceTime(), float64(time.Microsecond))
	run(time.Hour, errors.New("engine failed"))
	require.InDelta(t, want, s.ServiceTime(), float64(time.Microsecond), "failed work is not a service time")

	// The prediction moves with the estimate: a slower engine, a longer wait.
	release := occupy(t, s)
	before := s.PredictWait()
	s.service.observe(10 * time.Second)
	require.Greater(t, s.PredictWait(), before)
	release()
}

func TestPredictedWaitPastTheLimitIsRefusedAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"max queue wait", Options{Slots: 1, QueueSize: 10, MaxQueueWait: 2500 * time.Millisecond, ServiceTime: time.Second}},
		{"deadline without a max queue wait", Options{Slots: 1, QueueSize: 10, Deadline: 2500 * time.Millisecond, ServiceTime: time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.opts)
			require.NoError(t, err)
			release := occupy(t, s)
			// 1 s and 2 s predicted: within the 2.5 s bound, they queue.
			queueUp(t, s, 2)
			start := time.Now()
			_, err = s.Do(context.Background(), func(context.Context) error {
				t.Error("work admitted past its predicted wait")
				return nil
			})
			require.ErrorIs(t, err, ErrQueueFull)
			require.ErrorContains(t, err, "predicted wait 3s")
			require.Less(t, time.Since(start), 500*time.Millisecond, "refused without waiting")
			require.Equal(t, 2, s.Queued(), "the refused request never queued")
			release()
		})
	}
}
