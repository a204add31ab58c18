package cpu

import (
	"sync/atomic"
	"testing"
)

type countJob struct{ n atomic.Int64 }

func (j *countJob) run(w, lo, hi int) { j.n.Add(int64(hi - lo)) }

// Every item is handed out exactly once, whatever the split.
func TestPoolCoversItems(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 8} {
		p := newPool(threads)
		for _, n := range []int{1, 2, 15, 16, 17, 100, 1000, 4099} {
			for _, grain := range []int{0, 1, 7, 64} {
				var j countJob
				p.parallel(n, grain, &j)
				if got := j.n.Load(); got != int64(n) {
					t.Errorf("threads %d n %d grain %d: %d items run", threads, n, grain, got)
				}
			}
		}
		p.close()
	}
}

// The cost of one dispatch to all workers (decode makes ~100 per token).
func BenchmarkDispatch(b *testing.B) {
	p := newPool(2)
	defer p.close()
	var j countJob
	for i := 0; i < b.N; i++ {
		p.parallel(1024, 1, &j)
	}
}
