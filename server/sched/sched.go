// Package sched is the server's admission control: a fixed number of engine
// slots, a bounded queue in front of them, a maximum time in that queue and
// a deadline per request.
//
// Admission never blocks when the queue is full: Do returns ErrQueueFull at
// once, so an overloaded server answers quickly instead of piling up work.
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
}

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
}

// New returns a scheduler with opts.
func New(opts Options) (*Scheduler, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Scheduler{opts: opts, slots: make(chan struct{}, opts.Slots)}, nil
}

// Options returns the options the scheduler was built with.
func (s *Scheduler) Options() Options { return s.opts }

// Queued returns the number of requests waiting for a slot.
func (s *Scheduler) Queued() int { return int(s.queued.Load()) }

// Running returns the number of busy slots.
func (s *Scheduler) Running() int { return int(s.running.Load()) }

// Do runs fn in a slot, waiting in the queue if all slots are busy, and
// returns how long it waited and fn's error.
//
// It returns ErrQueueFull without waiting when the queue is full,
// ErrQueueTimeout after MaxQueueWait without a slot, an error wrapping
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
		if !s.enqueue() {
			return 0, ErrQueueFull
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
	err := fn(ctx)
	if err != nil && ctx.Err() != nil {
		// The context ended the work: report why (deadline or caller).
		return waited, fmt.Errorf("sched: work stopped: %w (%w)", context.Cause(ctx), err)
	}
	return waited, err
}

// enqueue takes a place in the queue if one is free.
func (s *Scheduler) enqueue() bool {
	for {
		n := s.queued.Load()
		if n >= int64(s.opts.QueueSize) {
			return false
		}
		if s.queued.CompareAndSwap(n, n+1) {
			return true
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
