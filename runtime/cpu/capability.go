package cpu

import (
	"fmt"
	"time"

	mrt "github.com/mmbformat/mmb/runtime"
)

var _ mrt.BandwidthProber = (*Backend)(nil)

// sumJob streams its share of buf with SumUint64 on each worker.
type sumJob struct {
	buf  []uint64
	sums []uint64
}

func (j *sumJob) run(w, lo, hi int) { j.sums[w] += SumUint64(j.buf[lo:hi]) }

// CopyBandwidth measures streaming reads over a buffer of bytes bytes split
// over the backend's workers, as the matrix products split a weight: what a
// bandwidth-bound decode step can reach. Decode only reads weights, so read
// bytes are what counts. The buffer should be several times the last-level
// cache; the best of five passes is returned (others share the machine).
func (b *Backend) CopyBandwidth(bytes int) (mrt.Bandwidth, error) {
	if bytes < 1<<20 {
		return mrt.Bandwidth{}, fmt.Errorf("cpu: bandwidth probe of %d bytes is too small to mean anything", bytes)
	}
	j := &sumJob{buf: make([]uint64, bytes/8), sums: make([]uint64, b.pool.n)}
	for i := range j.buf {
		j.buf[i] = uint64(i) // touch every page before timing
	}
	best := 0.0
	for rep := 0; rep < 5; rep++ {
		t0 := time.Now()
		b.pool.parallel(len(j.buf), 1<<16, j)
		best = max(best, float64(8*len(j.buf))/time.Since(t0).Seconds())
	}
	return mrt.Bandwidth{BytesPerSec: best, Bytes: int64(8 * len(j.buf)),
		Method: fmt.Sprintf("host streaming read (SumUint64) on %d threads, read bytes, best of 5", b.pool.n)}, nil
}
