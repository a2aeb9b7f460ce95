package decoder

import (
	"sync"

	"github.com/mobile-mm-llm/mobile-mm-llm/engine/kernels"
)

// worker is one thread of a pass: the pool its products run on and its
// attention scratch space.
type worker struct {
	pool   *kernels.Pool
	own    bool      // pool was made by startWorkers and is closed by stopWorkers
	scores []float32 // attention weights over the context
}

// startWorkers sets up a pass of n positions on pool p. With one position
// or a one-thread pool there is one worker, on p itself, so that a large
// product may still use all of p's threads (decoding one token). Otherwise
// there is a worker per thread (at most n), each with a one-thread pool of
// p's kernels so that its products stay on its goroutine, and each stage
// shares the positions among the workers: the matrices of a layer are too
// small to split by rows profitably (kernels run products under 1 MiB of
// weights on one thread), so a pass is split by tokens instead.
func (s *State) startWorkers(p *kernels.Pool, n int) {
	parts := max(1, min(p.Threads(), n))
	for len(s.work) < parts {
		s.work = append(s.work, worker{})
	}
	s.work = s.work[:parts]
	need := 0 // the longest context a position of the pass attends to
	for _, sl := range s.act.slots[:s.act.n] {
		need = max(need, sl.pos+1)
	}
	for i := range s.work {
		if len(s.work[i].scores) < need {
			s.work[i].scores = make([]float32, max(need, s.ctxLen))
		}
	}
	if parts == 1 {
		s.work[0].pool = p
		return
	}
	for i := range s.work {
		s.work[i].pool, s.work[i].own = kernels.NewPool(1, p.Impl()), true
	}
}

// stopWorkers closes the pools startWorkers made.
func (s *State) stopWorkers() {
	for i := range s.work {
		if s.work[i].own {
			s.work[i].pool.Close()
		}
		s.work[i].pool, s.work[i].own = nil, false
	}
}

// runStage runs stage st of layer li for every position of the pass, the
// positions shared among the workers: evenly, or for attention, whose cost
// grows with the position, in ranges of about equal cost.
func (s *State) runStage(st stage, li int) error {
	n, parts := s.act.n, len(s.work)
	if parts == 1 {
		return s.stage(st, li, &s.work[0], 0, n)
	}
	cost := func(int) int { return 1 }
	if st == attendStage {
		cost = func(t int) int { return s.act.slots[t].pos + 1 }
	}
	bounds := split(n, parts, cost)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for i := 1; i < parts; i++ {
		wg.Go(func() { errs[i] = s.stage(st, li, &s.work[i], bounds[i], bounds[i+1]) })
	}
	errs[0] = s.stage(st, li, &s.work[0], bounds[0], bounds[1])
	wg.Wait()
	return firstErr(errs...)
}

// split returns the bounds of parts consecutive ranges of [0, n) of about
// equal cost, position t costing cost(t): range i is [b[i], b[i+1]).
func split(n, parts int, cost func(t int) int) []int {
	total := 0
	for t := range n {
		total += cost(t)
	}
	b := make([]int, parts+1)
	acc, t := 0, 0
	for i := 1; i < parts; i++ {
		for t < n && acc*parts < i*total {
			acc += cost(t)
			t++
		}
		b[i] = t
	}
	b[parts] = n
	return b
}
