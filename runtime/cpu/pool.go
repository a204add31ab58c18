package cpu

import (
	"runtime"
	"sync/atomic"
)

// job is one parallel op; run handles items [lo, hi) on worker w (w indexes
// per-worker scratch). Jobs are fields of the Backend passed by pointer, so
// dispatching allocates nothing.
type job interface{ run(w, lo, hi int) }

// pool is a fixed set of goroutines; worker 0 is the caller's goroutine.
//
// Items are handed out in chunks from a shared counter rather than split
// statically: on a machine shared with other processes a descheduled worker
// then delays only its current chunk, not a whole share of every op.
//
// A decode step is ~100 short ops in a row. Waking a parked goroutine costs
// microseconds of futex and scheduler work per op, so idle workers spin on
// the dispatch generation for a while (spinIters) before they park.
type pool struct {
	n      int
	spin   int             // spin iterations before parking
	wake   []chan struct{} // per worker, buffered 1
	parked []atomic.Bool
	gen    atomic.Uint64 // dispatch generation
	closed atomic.Bool
	active atomic.Int32 // workers still in the current dispatch

	// The current dispatch, written before gen is incremented.
	j       job
	items   int
	size    int
	workers int
	next    atomic.Int64
}

const spinIters = 1 << 14

func newPool(n int) *pool {
	p := &pool{n: n, wake: make([]chan struct{}, n), parked: make([]atomic.Bool, n), spin: spinIters}
	if n > runtime.GOMAXPROCS(0) {
		p.spin = 0 // more workers than processors: spinning would only steal time
	}
	for i := 1; i < n; i++ {
		p.wake[i] = make(chan struct{}, 1)
		go p.worker(i)
	}
	return p
}

func (p *pool) worker(w int) {
	seen := uint64(0)
	for {
		// Wait for a new generation: spin, then park.
		for spins := 0; p.gen.Load() == seen; spins++ {
			if spins < p.spin {
				if spins&255 == 255 {
					runtime.Gosched()
				}
				continue
			}
			p.parked[w].Store(true)
			if p.gen.Load() != seen && p.parked[w].CompareAndSwap(true, false) {
				break // a dispatch came in before we slept; nobody will wake us
			}
			<-p.wake[w] // the dispatcher cleared parked and sent
			spins = 0
		}
		if p.closed.Load() {
			return
		}
		seen = p.gen.Load()
		if w < p.workers {
			p.drain(w)
		}
		p.active.Add(-1)
	}
}

func (p *pool) close() {
	p.closed.Store(true)
	p.gen.Add(1)
	for i := 1; i < p.n; i++ {
		if p.parked[i].CompareAndSwap(true, false) {
			p.wake[i] <- struct{}{}
		}
	}
}

func (p *pool) drain(w int) {
	for {
		lo := int(p.next.Add(int64(p.size))) - p.size
		if lo >= p.items {
			return
		}
		p.j.run(w, lo, min(lo+p.size, p.items))
	}
}

// chunksPerWorker balances load against the cost of handing out chunks.
const chunksPerWorker = 4

// parallel runs j over [0, n) in chunks of at least grain items (rounded up
// to a multiple of 16 where that is at least the grain, so that blocked
// kernels see whole blocks) and waits for all of them.
func (p *pool) parallel(n, grain int, j job) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	chunks := min(p.n*chunksPerWorker, n/grain)
	if p.n == 1 || chunks <= 1 {
		j.run(0, 0, n)
		return
	}
	size := (n + chunks - 1) / chunks
	if size >= 16 {
		size = (size + 15) &^ 15
	}
	p.j, p.items, p.size = j, n, size
	p.workers = min(p.n, (n+size-1)/size)
	p.next.Store(0)
	// Every worker acknowledges every generation (those past p.workers do no
	// work), so that none can see a stale dispatch later.
	p.active.Store(int32(p.n - 1))
	p.gen.Add(1)
	for i := 1; i < p.n; i++ {
		if p.parked[i].CompareAndSwap(true, false) {
			p.wake[i] <- struct{}{}
		}
	}
	p.drain(0)
	for spins := 0; p.active.Load() != 0; spins++ {
		if spins&255 == 255 {
			runtime.Gosched()
		}
	}
	p.j = nil
}
