//go:build cgo

package vulkan

/*
#include "glue.h"
*/
import "C"

import (
	"fmt"

	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
)

// Weight prefetch (runtime.Prefetcher). A decode step alternates stages
// that stream weights (the matvecs) with stages that barely touch memory
// (decode attention over a short context, the Mamba conv and scan), each
// several µs. A prefetch dispatch recorded beside such an op reads the first
// bytes of the weights the next stages use, so that they come from the L2
// cache when those stages run.

const (
	// defaultPrefetchMiB is the prefetch budget per stage on discrete GPUs:
	// what the next stages read must still be in L2 when they run (50 MB on
	// an H100/H200, partitioned in two halves).
	defaultPrefetchMiB = 24
	// maxPrefetchPerStage bounds the prefetch dispatches of one stage; each
	// has a sink buffer of its own, so that no two in a stage write the same
	// buffer.
	maxPrefetchPerStage = 8
)

// prefetchState is the backend's prefetch bookkeeping.
type prefetchState struct {
	budget uint64   // bytes per stage; 0: prefetch off
	stage  uint64   // the stage (Backend.stages) that used and count refer to
	used   uint64   // bytes prefetched in that stage
	count  int      // prefetch dispatches in that stage
	sinks  []devBuf // one per dispatch slot of a stage
	total  uint64   // bytes prefetched since New (tests)
}

// Prefetch implements runtime.Prefetcher: the first bytes of each weight in
// ws, in order, are read by a dispatch recorded in the current stage (it
// reads only weights and writes only its sink, so it adds no barrier). The
// stage's budget is shared evenly among the weights, a weight smaller than
// its share leaving the rest to those after it.
func (b *Backend) Prefetch(ws []rt.Weight) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	pf := &b.pf
	if pf.budget == 0 || b.prof != nil {
		return nil
	}
	if pf.stage != b.stages {
		pf.stage, pf.used, pf.count = b.stages, 0, 0
	}
	for i, w := range ws {
		wt, err := b.wt(w, "Prefetch weight", 0)
		if err != nil {
			return err
		}
		if pf.count >= maxPrefetchPerStage || pf.used >= pf.budget {
			return nil
		}
		share := (pf.budget - pf.used) / uint64(len(ws)-i)
		n := min(wt.bytes, share)
		if n < 16 {
			continue
		}
		var off1, n1, off2, n2 uint64 // 16-byte words
		if wt.dt == format.Q8_0 {
			// The same fraction of the quants and of the scales.
			q := uint64(wt.so) * 4
			n1 = n * q / wt.bytes / 16
			off2, n2 = q/16, min((n*(wt.bytes-q)/wt.bytes+15)/16, (wt.bytes-q)/16)
		} else {
			n1 = n / 16
		}
		if pf.count == len(pf.sinks) {
			s, err := b.newDevBuf(16)
			if err != nil {
				return fmt.Errorf("prefetch sink: %w", err)
			}
			pf.sinks = append(pf.sinks, s)
		}
		sink := pf.sinks[pf.count]
		// ~264 workgroups: two per SM of an H200 keep 8 MB of loads in flight.
		groups := min(uint32(ceilDiv(int(n1+n2), 256*4)), 264)
		c, err := b.command("prefetch", specPrefetch, groups, 1, []C.VkBuffer{wt.h, sink.h},
			[]uint32{uint32(off1), uint32(n1), uint32(off2), uint32(n2), 0x9e3779b9})
		if err != nil {
			return err
		}
		b.cmds = append(b.cmds, c)
		pf.count++
		pf.used += 16 * (n1 + n2)
		pf.total += 16 * (n1 + n2)
	}
	return nil
}
