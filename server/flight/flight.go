// Package flight merges identical concurrent work: the first caller for a
// key starts it, and callers that arrive with the same key while it runs
// wait for its result instead of repeating it (a "single flight").
//
// Unlike golang.org/x/sync/singleflight, the work belongs to no single
// caller. It runs in a goroutine of its own, under a context that keeps the
// first caller's values but not its cancellation, and is cancelled only when
// every caller waiting for it has left. So a caller whose context ends
// (a client that went away) returns at once without cancelling the work for
// the others, whichever caller started it.
package flight

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
)

// ErrAbandoned is the cause the work's context is cancelled with when every
// caller has left.
var ErrAbandoned = errors.New("flight: every caller left")

// Group merges calls by key. The zero value is ready to use; a Group must
// not be copied after first use. It is safe for concurrent use.
type Group[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*call[V]
}

// call is one piece of work in flight and the callers waiting for it.
type call[V any] struct {
	done    chan struct{} // closed once val and err are set
	val     V
	err     error
	waiters int // callers still waiting; guarded by the Group's mu
	cancel  context.CancelCauseFunc
}

// Do returns the result of fn for key. When work for key is already in
// flight, Do waits for it instead of calling fn (joined is true); else it
// starts fn in a new goroutine and waits for it. fn receives a context
// with ctx's values that ends, with cause ErrAbandoned, only when every
// caller waiting for this key has left.
//
// When ctx ends first, Do returns an error wrapping context.Cause(ctx) at
// once; the work goes on for the callers still waiting. A panic in fn is
// recovered and returned to every caller as an error carrying its stack.
// Once the work ends, the next call for key starts it afresh: results are
// shared only between calls that overlap.
func (g *Group[K, V]) Do(ctx context.Context, key K, fn func(ctx context.Context) (V, error)) (v V, joined bool, err error) {
	if err := ctx.Err(); err != nil {
		return v, false, fmt.Errorf("flight: not started: %w", context.Cause(ctx))
	}
	g.mu.Lock()
	if g.calls == nil {
		g.calls = make(map[K]*call[V])
	}
	c, joined := g.calls[key]
	if joined {
		c.waiters++
	} else {
		workCtx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
		c = &call[V]{done: make(chan struct{}), waiters: 1, cancel: cancel}
		g.calls[key] = c
		go g.run(workCtx, key, c, fn)
	}
	g.mu.Unlock()

	select {
	case <-c.done:
		return c.val, joined, c.err
	case <-ctx.Done():
		g.leave(key, c)
		return v, joined, fmt.Errorf("flight: left the call: %w", context.Cause(ctx))
	}
}

// run does the work and hands its result to the waiting callers.
func (g *Group[K, V]) run(ctx context.Context, key K, c *call[V], fn func(context.Context) (V, error)) {
	defer func() {
		if r := recover(); r != nil {
			c.err = fmt.Errorf("flight: panic: %v\n%s", r, debug.Stack())
		}
		g.mu.Lock()
		if g.calls[key] == c {
			delete(g.calls, key)
		}
		g.mu.Unlock()
		c.cancel(nil)
		close(c.done)
	}()
	c.val, c.err = fn(ctx)
}

// leave drops a caller whose context ended; the last one to leave cancels
// the work and forgets the call, so that a later caller starts afresh
// rather than joining cancelled work.
func (g *Group[K, V]) leave(key K, c *call[V]) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c.waiters--
	if c.waiters > 0 {
		return
	}
	if g.calls[key] == c {
		delete(g.calls, key)
	}
	c.cancel(ErrAbandoned)
}

// Waiting returns the number of callers waiting, over every key.
func (g *Group[K, V]) Waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, c := range g.calls {
		n += c.waiters
	}
	return n
}

// InFlight returns the number of keys whose work is running.
func (g *Group[K, V]) InFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}
