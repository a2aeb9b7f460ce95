// Package sched is the server's admission control: a fixed number of engine
// slots, a bounded queue in front of them, a maximum time in that queue and
// a deadline per request.
//
// Admission never blocks when the queue is full: Do returns ErrQueueFull at
// once, so an overloaded server answers quickly instead of piling up work.
// The scheduler also keeps a moving estimate of the time a request holds a
// slot, predicts from it and the queue how long a newcomer would wait
// (PredictWait), and refuses at once, also with ErrQueueFull, a request
// whose predicted wait is past the maximum queue wait: it would most likely
// time out in the queue, later and after holding a place there.
// A request whose context is cancelled (the client went away) leaves the
// queue, or has its running work cancelled through the context fn receives.
package sched

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// The reasons Do refuses or stops work.
var (
	// ErrQueueFull: every slot is busy and the queue holds QueueSize requests.
	ErrQueueFull = errors.New("sched: queue full")
	// ErrQueueTimeout: the request waited MaxQueueWait without a slot.
	ErrQueueTimeout = errors.New("sched: timed out waiting in the queue")
	// ErrDeadline: the request ran past its Deadline (queue time included).
	ErrDeadline = errors.New("sched: request deadline exceeded")
)

// Options size the scheduler.
type Options struct {
	// Slots is how many requests run on the engine at once (> 0).
	Slots int
	// QueueSize is how many requests may wait for a slot (>= 0; 0 refuses
	// every request that finds all slots busy).
	QueueSize int
	// MaxQueueWait bounds the time in the queue (0: until the deadline).
	MaxQueueWait time.Duration
	// Deadline bounds a request from admission to its end, queue included
	// (0: none beyond the caller's context).
	Deadline time.Duration
	// ServiceTime seeds the estimate of how long a request holds a slot,
	// used until the first request completes (0: DefaultServiceTime).
	ServiceTime time.Duration
}

// DefaultServiceTime is the service-time estimate before any request has
// completed: short, so that a cold server queues rather than refuses; the
// first measurement replaces it.
const DefaultServiceTime = 100 * time.Millisecond

// Validate reports options outside their ranges.
func (o Options) Validate() error {
	switch {
	case o.Slots <= 0:
		return fmt.Errorf("sched: slots %d must be positive", o.Slots)
	case o.QueueSize < 0:
		return fmt.Errorf("sched: queue size %d is negative", o.QueueSize)
	case o.MaxQueueWait < 0:
		return fmt.Errorf("sched: max queue wait %v is negative", o.MaxQueueWait)
	case o.Deadline < 0:
		return fmt.Errorf("sched: deadline %v is negative", o.Deadline)
	case o.ServiceTime < 0:
		return fmt.Errorf("sched: service time %v is negative", o.ServiceTime)
	}
	return nil
}

// Scheduler admits work into a fixed number of slots. It is safe for
// concurrent use.
type Scheduler struct {
	opts    Options
	slots   chan struct{} // one element per busy slot
	queued  atomic.Int64
	running atomic.Int64
	service ewma
	now     func() time.Time // time.Now; tests replace it
}

// New returns a scheduler with opts.
func New(opts Options) (*Scheduler, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	seed := opts.ServiceTime
	if seed == 0 {
		seed = DefaultServiceTime
	}
	s := &Scheduler{opts: opts, slots: make(chan struct{}, opts.Slots), now: time.Now}
	s.service.reset(seed)
	return s, nil
}

// Options returns the options the scheduler was built with.
func (s *Scheduler) Options() Options { return s.opts }

// Queued returns the number of requests waiting for a slot.
func (s *Scheduler) Queued() int { return int(s.queued.Load()) }

// Running returns the number of busy slots.
func (s *Scheduler) Running() int { return int(s.running.Load()) }

// ServiceTime returns the current estimate of how long a request holds a
// slot: a moving average of the requests that completed without error, or
// Options.ServiceTime before the first.
func (s *Scheduler) ServiceTime() time.Duration { return s.service.value() }

// PredictWait estimates how long a request arriving now would wait for a
// slot: nothing when a slot is free and nobody queues, else the time for
// the requests queued ahead of it and itself to get a slot, (queued + 1) ×
// ServiceTime / Slots. It is what a refused client should wait before
// retrying (the server's Retry-After).
func (s *Scheduler) PredictWait() time.Duration {
	queued := s.queued.Load()
	if queued == 0 && s.running.Load() < int64(s.opts.Slots) {
		return 0
	}
	return s.predict(queued)
}

// predict is the wait of a request with ahead requests queued before it
// and every slot busy.
func (s *Scheduler) predict(ahead int64) time.Duration {
	return time.Duration(float64(ahead+1) * float64(s.service.value()) / float64(s.opts.Slots))
}

// maxWait is the longest a request may queue: MaxQueueWait, else the
// deadline, else unbounded (0).
func (s *Scheduler) maxWait() time.Duration {
	if s.opts.MaxQueueWait > 0 {
		return s.opts.MaxQueueWait
	}
	return s.opts.Deadline
}

// Do runs fn in a slot, waiting in the queue if all slots are busy, and
// returns how long it waited and fn's error.
//
// It returns ErrQueueFull without waiting when the queue is full or the
// predicted wait (see PredictWait) is past MaxQueueWait (or, without one,
// the deadline), ErrQueueTimeout after MaxQueueWait without a slot, an error wrapping
// ErrDeadline when the deadline passes (waiting or running), and an error
// wrapping the context's cause when ctx ends first. fn's context ends at the
// deadline or with ctx; fn must return promptly when it does.
func (s *Scheduler) Do(ctx context.Context, fn func(ctx context.Context) error) (time.Duration, error) {
	start := time.Now()
	if s.opts.Deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, s.opts.Deadline, ErrDeadline)
		defer cancel()
	}
	if ctx.Err() != nil {
		return 0, fmt.Errorf("sched: not admitted: %w", context.Cause(ctx))
	}
	select {
	case s.slots <- struct{}{}:
	default:
		if err := s.enqueue(); err != nil {
			return 0, err
		}
		err := s.wait(ctx)
		s.queued.Add(-1)
		if err != nil {
			return time.Since(start), err
		}
	}
	waited := time.Since(start)
	s.running.Add(1)
	defer func() {
		s.running.Add(-1)
		<-s.slots
	}()
	began := s.now()
	err := fn(ctx)
	if err == nil {
		s.service.observe(s.now().Sub(began))
	}
	if err != nil && ctx.Err() != nil {
		// The context ended the work: report why (deadline or caller).
		return waited, fmt.Errorf("sched: work stopped: %w (%w)", context.Cause(ctx), err)
	}
	return waited, err
}

// enqueue takes a place in the queue if one is free and the wait it
// predicts is within bounds, else returns an error wrapping ErrQueueFull.
func (s *Scheduler) enqueue() error {
	limit := s.maxWait()
	for {
		n := s.queued.Load()
		if n >= int64(s.opts.QueueSize) {
			return ErrQueueFull
		}
		if limit > 0 {
			if wait := s.predict(n); wait > limit {
				return fmt.Errorf("%w: predicted wait %v behind %d queued is past %v", ErrQueueFull, wait.Round(time.Millisecond), n, limit)
			}
		}
		if s.queued.CompareAndSwap(n, n+1) {
			return nil
		}
	}
}

// wait blocks until a slot is taken, the queue wait runs out or ctx ends.
func (s *Scheduler) wait(ctx context.Context) error {
	var timeout <-chan time.Time
	if s.opts.MaxQueueWait > 0 {
		t := time.NewTimer(s.opts.MaxQueueWait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case s.slots <- struct{}{}:
		return nil
	case <-timeout:
		return ErrQueueTimeout
	case <-ctx.Done():
		return fmt.Errorf("sched: left the queue: %w", context.Cause(ctx))
	}
}
