package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Pool runs kernels on a fixed set of worker goroutines started once by
// NewPool. A call splits its rows into chunks that the workers and the
// calling goroutine claim in turn; it starts no goroutine. A Pool is safe
// for concurrent use; Close stops the workers.
type Pool struct {
	impl    *Impl
	threads int
	jobs    chan *job
	once    sync.Once
}

// job is one parallel loop: chunks of [0, n) handed out through next.
type job struct {
	fn    func(lo, hi int)
	n     int
	chunk int
	next  atomic.Int64
	wg    sync.WaitGroup
}

func (j *job) run() {
	for {
		lo := int(j.next.Add(int64(j.chunk))) - j.chunk
		if lo >= j.n {
			return
		}
		j.fn(lo, min(lo+j.chunk, j.n))
	}
}

// NewPool starts a pool of threads workers (the caller counts as one, so
// threads-1 goroutines are started) using the given Impl. threads <= 0
// means runtime.GOMAXPROCS(0); a nil impl means Default's choice, falling
// back to Best if MMLLM_KERNELS names an unusable Impl.
func NewPool(threads int, impl *Impl) *Pool {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	if impl == nil {
		var err error
		if impl, err = Default(); err != nil {
			impl = Best()
		}
	}
	p := &Pool{impl: impl, threads: threads, jobs: make(chan *job, threads)}
	for i := 1; i < threads; i++ {
		go func() {
			for j := range p.jobs {
				j.run()
				j.wg.Done()
			}
		}()
	}
	return p
}

// Impl returns the kernels the pool runs.
func (p *Pool) Impl() *Impl { return p.impl }

// Threads returns the number of threads a call may use, the caller included.
func (p *Pool) Threads() int { return p.threads }

// Close stops the workers. The pool must not be used afterwards.
func (p *Pool) Close() { p.once.Do(func() { close(p.jobs) }) }

// parallelFor calls fn on consecutive ranges of [0, n), each at most chunk
// long (the last may be shorter), spread over the pool's threads.
func (p *Pool) parallelFor(n, chunk int, fn func(lo, hi int)) {
	chunks := (n + chunk - 1) / chunk
	helpers := min(p.threads, chunks) - 1
	if helpers <= 0 {
		fn(0, n)
		return
	}
	j := &job{fn: fn, n: n, chunk: chunk}
	j.wg.Add(helpers)
	for range helpers {
		p.jobs <- j
	}
	j.run()
	j.wg.Wait()
}
