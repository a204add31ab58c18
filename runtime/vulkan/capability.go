//go:build cgo

package vulkan

/*
#include "glue.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
	"unsafe"

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
	cp, err := b.copyBandwidth(bytes)
	if err != nil {
		return cp, err
	}
	// On the H200 vkCmdCopyBuffer on the compute queue reached only ~840 GB/s
	// while our own shaders read at 4,100 GB/s, so a streaming compute kernel
	// is measured too and the faster of the two is the reference.
	st, err := b.streamBandwidth(bytes)
	if err != nil {
		return cp, nil
	}
	best := cp
	if st.BytesPerSec > cp.BytesPerSec {
		best = st
	}
	best.Method = fmt.Sprintf("best of: %s (%.0f GB/s); %s (%.0f GB/s)", cp.Method, cp.BytesPerSec/1e9, st.Method, st.BytesPerSec/1e9)
	return best, nil
}

// streamBandwidth times the add shader (dst += src) over two large
// device-local buffers: 2 reads and 1 write of 4 bytes per element.
func (b *Backend) streamBandwidth(bytes int) (rt.Bandwidth, error) {
	n := max(bytes, 1<<20) / 4
	n = int(min(uint64(n), b.maxRange/4, b.dev.MemoryBytes/16, math.MaxUint32/2))
	// The two buffers are kept for later probes and destroyed at Close:
	// descriptor sets cached for a destroyed buffer must never be reused.
	if b.stream[0] == nil || b.stream[0].Len() != n {
		for i := range b.stream {
			x, err := b.Alloc(n)
			if err != nil {
				return rt.Bandwidth{}, err
			}
			b.stream[i] = x
		}
	}
	dst, src := b.stream[0], b.stream[1]
	run := func(k int) (float64, error) {
		for i := 0; i < k; i++ {
			if err := b.Add(dst, src, n); err != nil {
				return 0, err
			}
		}
		t0 := time.Now()
		err := b.Sync()
		return time.Since(t0).Seconds(), err
	}
	if _, err := run(1); err != nil {
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
		best = max(best, 12*float64(n)*float64(k)/t)
	}
	return rt.Bandwidth{BytesPerSec: best, Bytes: int64(n) * 4,
		Method: fmt.Sprintf("streaming add shader over 2×%d MiB, %d per submission; 2 reads + 1 write counted", n>>18, k)}, nil
}

func (b *Backend) copyBandwidth(bytes int) (rt.Bandwidth, error) {
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

var _ rt.Profiler = (*Backend)(nil)

// profState is a profile in progress: a timestamp query pool, the label of
// each query written so far, and the times gathered from earlier batches.
type profState struct {
	pool   C.VkQueryPool
	size   uint32
	labels []string // of queries 0..len-1 since the last reset
	period float64  // ns per tick
	mask   uint64   // valid bits of a timestamp
	times  map[string]*rt.OpTime
	order  []string
}

// profQueries is the size of the query pool (a variable for tests).
var profQueries uint32 = 1 << 14

// ProfileStart begins a profile: later ProfileMark calls record device
// timestamps. It fails on a device whose compute queue has no timestamps.
func (b *Backend) ProfileStart() error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	if err := b.flush(); err != nil {
		return err
	}
	var ci C.mmb_devinfo
	if err := check("device info", C.mmb_device_info(C.int(b.dev.Index), &ci)); err != nil {
		return err
	}
	if ci.timestamp_valid_bits == 0 || ci.timestamp_period <= 0 {
		return fmt.Errorf("vulkan: %s: the compute queue has no timestamps", b.dev.Name)
	}
	b.profRelease()
	p := &profState{size: profQueries, period: float64(ci.timestamp_period), times: map[string]*rt.OpTime{}}
	p.mask = ^uint64(0)
	if bits := uint(ci.timestamp_valid_bits); bits < 64 {
		p.mask = 1<<bits - 1
	}
	if err := check("create query pool", C.mmb_query_pool_create(b.ctx, C.uint32_t(p.size), &p.pool)); err != nil {
		return err
	}
	b.prof = p
	b.cmds = append(b.cmds, C.mmb_cmd{kind: C.MMB_CMD_RESET_QUERIES, a: C.uint64_t(p.pool), d: C.uint64_t(p.size)})
	return nil
}

// ProfileMark records a timestamp after the commands enqueued so far. The
// time from a "" mark to the next labelled one is charged to that label.
func (b *Backend) ProfileMark(label string) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	p := b.prof
	if p == nil {
		return errors.New("vulkan: ProfileMark outside a profile")
	}
	if label == "" && len(p.labels)+2 > int(p.size) {
		// The pool is full: gather what it holds (between two ops, so no
		// pair is split) and start it over.
		if err := b.flush(); err != nil {
			return err
		}
		if err := b.profGather(); err != nil {
			return err
		}
		b.cmds = append(b.cmds, C.mmb_cmd{kind: C.MMB_CMD_RESET_QUERIES, a: C.uint64_t(p.pool), d: C.uint64_t(p.size)})
	}
	if len(p.labels) >= int(p.size) {
		return errors.New("vulkan: profile marks must alternate between \"\" and a label")
	}
	b.cmds = append(b.cmds, C.mmb_cmd{kind: C.MMB_CMD_TIMESTAMP, a: C.uint64_t(p.pool), c: C.uint64_t(len(p.labels))})
	p.labels = append(p.labels, label)
	return nil
}

// ProfileStop waits for the pending work and returns the device time per
// label, in the order labels first appeared.
func (b *Backend) ProfileStop() ([]rt.OpTime, error) {
	if err := b.begin(); err != nil {
		return nil, err
	}
	defer b.mu.Unlock()
	p := b.prof
	if p == nil {
		return nil, errors.New("vulkan: ProfileStop without ProfileStart")
	}
	err := b.flush()
	if err == nil {
		err = b.profGather()
	}
	b.profRelease()
	if err != nil {
		return nil, err
	}
	out := make([]rt.OpTime, 0, len(p.order))
	for _, l := range p.order {
		out = append(out, *p.times[l])
	}
	return out, nil
}

// profGather reads the timestamps written since the last reset (their
// commands have run: the caller flushed) into the per-label times.
func (b *Backend) profGather() error {
	p := b.prof
	n := len(p.labels)
	if n == 0 {
		return nil
	}
	ts := make([]uint64, n)
	if err := check("read timestamps", C.mmb_query_results(b.ctx, p.pool, 0, C.uint32_t(n), (*C.uint64_t)(unsafe.Pointer(&ts[0])))); err != nil {
		return err
	}
	for i := 1; i < n; i++ {
		l := p.labels[i]
		if l == "" || p.labels[i-1] != "" {
			continue
		}
		t := p.times[l]
		if t == nil {
			t = &rt.OpTime{Op: l}
			p.times[l] = t
			p.order = append(p.order, l)
		}
		t.Count++
		t.Seconds += float64((ts[i]-ts[i-1])&p.mask) * p.period * 1e-9
	}
	p.labels = p.labels[:0]
	return nil
}

// profRelease destroys the query pool of a profile, if any.
func (b *Backend) profRelease() {
	if b.prof != nil {
		C.mmb_query_pool_destroy(b.ctx, b.prof.pool)
		b.prof = nil
	}
}
