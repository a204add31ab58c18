package cpu

import "sync"

// job is one parallel op; run handles items [lo, hi) on worker w. Jobs are
// fields of the Backend passed by pointer, so dispatching allocates nothing.
type job interface{ run(w, lo, hi int) }

type task struct {
	j         job
	w, lo, hi int
}

// pool is a fixed set of goroutines; worker 0 is the caller's goroutine.
type pool struct {
	n    int
	work []chan task
	wg   sync.WaitGroup
}

func newPool(n int) *pool {
	p := &pool{n: n, work: make([]chan task, n)}
	for i := 1; i < n; i++ {
		c := make(chan task, 1)
		p.work[i] = c
		go func() {
			for t := range c {
				t.j.run(t.w, t.lo, t.hi)
				p.wg.Done()
			}
		}()
	}
	return p
}

func (p *pool) close() {
	for i := 1; i < p.n; i++ {
		close(p.work[i])
	}
}

// parallel splits [0, n) into contiguous ranges of at least grain items, one
// per worker, and waits for all of them.
func (p *pool) parallel(n, grain int, j job) {
	if n <= 0 {
		return
	}
	parts := min(p.n, max(1, n/max(grain, 1)))
	if parts == 1 {
		j.run(0, 0, n)
		return
	}
	p.wg.Add(parts - 1)
	for i := 1; i < parts; i++ {
		p.work[i] <- task{j, i, i * n / parts, (i + 1) * n / parts}
	}
	j.run(0, 0, n/parts)
	p.wg.Wait()
}
