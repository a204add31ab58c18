//go:build cgo

package vulkan

/*
#include "glue.h"
*/
import "C"

import (
	"fmt"
	"unsafe"

	rt "github.com/mmbformat/mmb/runtime"
)

// feedSlots is how many SubmitRead values are kept: a ticket stays valid
// until feedSlots later SubmitReads (the runtime's Greedy needs two).
const feedSlots = 2 * C.MMB_RING

// feedState is the TokenFeeder's bookkeeping: ticket t's value lands in
// back's word t % feedSlots, copied at the end of its submission (slots
// says which ring slot that went into, to wait for it) or by a flush while
// profiling.
type feedState struct {
	back  *hostBuf
	next  rt.Ticket // the next ticket
	slots [feedSlots]feedSlot
}

type feedSlot struct {
	t    rt.Ticket
	ring int    // the ring slot of its submission; -1: flushed
	gen  uint64 // slotGen[ring] after that submission
}

var _ rt.TokenFeeder = (*Backend)(nil)

// EmbedFed implements runtime.TokenFeeder: the id is read on the device
// (embedf clamps one outside the table, which Argmax never writes).
func (b *Backend) EmbedFed(dst rt.Buffer, table rt.Weight, ids rt.Buffer, off int) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	w, err := b.wt(table, "embedding table", 0)
	if err != nil {
		return err
	}
	if err := checkDims("EmbedFed", w.cols); err != nil {
		return err
	}
	if w.rows == 0 {
		return fmt.Errorf("vulkan: EmbedFed: empty table")
	}
	d, err := b.buf(dst, "EmbedFed dst", w.cols)
	if err != nil {
		return err
	}
	if off < 0 {
		return fmt.Errorf("vulkan: EmbedFed: id at offset %d", off)
	}
	src, err := b.buf(ids, "EmbedFed ids", off+1)
	if err != nil {
		return err
	}
	return b.dispatch("embedf", specElem, ceilDiv(w.cols, wgElem), []C.VkBuffer{w.h, src.h, d.h}, 1<<2,
		uint32(w.cols), uint32(w.cols), uint32(w.dt), w.so, uint32(off), uint32(w.rows))
}

// SubmitRead implements runtime.TokenFeeder. While profiling (whose marks
// share one submission) it runs the queued work and waits instead.
func (b *Backend) SubmitRead(src rt.Buffer, off int) (rt.Ticket, error) {
	if err := b.begin(); err != nil {
		return 0, err
	}
	defer b.mu.Unlock()
	if off < 0 {
		return 0, fmt.Errorf("vulkan: SubmitRead at offset %d", off)
	}
	s, err := b.buf(src, "SubmitRead src", off+1)
	if err != nil {
		return 0, err
	}
	f := &b.feed
	if f.back == nil {
		if f.back, err = b.newHostBuf(4*feedSlots, 2); err != nil {
			return 0, err
		}
	}
	t := f.next
	i := int(t % feedSlots)
	b.copyBuf(s.h, f.back.h, uint64(off)*4, uint64(i)*4, 4)
	rec := feedSlot{t: t, ring: -1}
	if b.prof != nil {
		if err := b.flush(); err != nil {
			return 0, err
		}
	} else {
		if rec.ring, err = b.submitSlot(true); err != nil {
			return 0, err
		}
		rec.gen = b.slotGen[rec.ring]
	}
	f.slots[i] = rec
	f.next++
	return t, nil
}

// Await implements runtime.TokenFeeder.
func (b *Backend) Await(t rt.Ticket) (float32, error) {
	if err := b.begin(); err != nil {
		return 0, err
	}
	defer b.mu.Unlock()
	f := &b.feed
	i := int(t % feedSlots)
	rec := f.slots[i]
	if t >= f.next || rec.t != t || f.back == nil {
		return 0, fmt.Errorf("vulkan: Await: ticket %d is not one of the last %d SubmitReads (next %d)", t, feedSlots, f.next)
	}
	// A ring slot used again since was waited for before its reuse.
	if rec.ring >= 0 && b.slotGen[rec.ring] == rec.gen {
		if err := check("wait for submission", C.mmb_wait_slot(b.ctx, C.uint32_t(rec.ring))); err != nil {
			b.err = err
			return 0, err
		}
	}
	return *(*float32)(unsafe.Add(f.back.ptr, 4*i)), nil
}
