//go:build cgo

package vulkan

import (
	"fmt"
	"slices"
	"time"

	rt "github.com/mmbformat/mmb/runtime"
)

var _ rt.BandwidthProber = (*Backend)(nil)

// CopyBandwidth times device-local buffer-to-buffer copies (vkCmdCopyBuffer)
// of about bytes bytes, capped by maxStorageBufferRange and a quarter of the
// device memory and halved until the two buffers can be allocated. A copy
// reads and writes every byte, so 2·size bytes count as moved per copy, the
// convention of CUDA's bandwidthTest; on a GPU that is close to what a
// read-only stream reaches. Several copies go into one submission so that
// the ~40 µs submit round trip does not count; the best of five submissions
// is returned. Wall clock around submit and wait, not timestamps: with ≥ 20 ms
// of copies per submission the round trip is within 0.5%.
func (b *Backend) CopyBandwidth(bytes int) (rt.Bandwidth, error) {
	if err := b.begin(); err != nil {
		return rt.Bandwidth{}, err
	}
	defer b.mu.Unlock()
	if err := b.flush(); err != nil {
		return rt.Bandwidth{}, err
	}
	size := uint64(max(bytes, 1<<20))
	size = min(size, b.maxRange&^0xffff, b.dev.MemoryBytes/4)
	var src, dst devBuf
	var err error
	for {
		if src, err = b.newDevBuf(size); err == nil {
			if dst, err = b.newDevBuf(size); err == nil {
				break
			}
			b.release(src)
		}
		if size <= 1<<20 {
			return rt.Bandwidth{}, fmt.Errorf("vulkan: bandwidth probe: %w", err)
		}
		size /= 2
	}
	defer b.release(src)
	defer b.release(dst)
	b.fill(src.h, 0, size, 0x3c003c00)
	run := func(k int) (float64, error) {
		for i := 0; i < k; i++ {
			if i%2 == 0 {
				b.copyBuf(src.h, dst.h, 0, 0, size)
			} else {
				b.copyBuf(dst.h, src.h, 0, 0, size)
			}
		}
		t0 := time.Now()
		err := b.flush()
		return time.Since(t0).Seconds(), err
	}
	if _, err := run(1); err != nil { // first touch of the pages, and the fill
		return rt.Bandwidth{}, err
	}
	t1, err := run(1)
	if err != nil {
		return rt.Bandwidth{}, err
	}
	k := int(min(64, max(1, 0.02/max(t1, 1e-9))))
	best := 0.0
	for rep := 0; rep < 5; rep++ {
		t, err := run(k)
		if err != nil {
			return rt.Bandwidth{}, err
		}
		best = max(best, 2*float64(size)*float64(k)/t)
	}
	return rt.Bandwidth{BytesPerSec: best, Bytes: int64(size),
		Method: fmt.Sprintf("device-local vkCmdCopyBuffer of %d MiB, %d per submission; read+write bytes, best of 5", size>>20, k)}, nil
}

// release destroys a buffer made by newDevBuf before Close.
func (b *Backend) release(d devBuf) {
	if i := slices.IndexFunc(b.owned, func(o devBuf) bool { return o.h == d.h }); i >= 0 {
		b.owned = slices.Delete(b.owned, i, i+1)
	}
	b.destroy(d)
}
