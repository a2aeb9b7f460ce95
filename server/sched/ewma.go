package sched

import (
	"sync"
	"time"
)

// serviceWeight is the weight of each new measurement in the service-time
// average: the estimate follows a change within about ten requests without
// jumping on a single slow or fast one.
const serviceWeight = 0.2

// ewma is an exponentially weighted moving average of durations whose seed
// is replaced outright by the first measurement. It is safe for concurrent
// use.
type ewma struct {
	mu       sync.Mutex
	avg      float64 // nanoseconds
	measured bool
}

// reset sets the estimate to seed, as if nothing had been measured.
func (e *ewma) reset(seed time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.avg, e.measured = float64(seed), false
}

// observe folds one measurement in.
func (e *ewma) observe(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.measured {
		e.avg, e.measured = float64(d), true
		return
	}
	e.avg += serviceWeight * (float64(d) - e.avg)
}

// value returns the current estimate.
func (e *ewma) value() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return time.Duration(e.avg)
}
