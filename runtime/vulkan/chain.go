//go:build cgo

package vulkan

/*
#include "glue.h"
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"strings"
)

// Chained stages (shaders/glsl/chain.glsl): between two stages made only of
// chain-capable dispatches (the matvec4 variants, the subgroup RMSNorm and
// decode attention: a decode step's attention and MLP stages), the backend
// records no
// pipeline barrier; the later stage's dispatches wait on a counter that
// the earlier stage's workgroups increment. Each stage has a counter word
// (chainSlots of them, reused in turn); targets are cumulative, so a word
// never needs resetting. The counts and targets are filled in when the
// commands are submitted (patchChain), after the folds that rewrite or drop
// recorded dispatches.

const (
	chainSlots = 64
	chainWords = 32 // one counter per 128-byte line
	// Push constant words of a chained dispatch (chain.glsl): 8 of its own
	// (padded), then the wait's word and target, whether to wait, the word
	// to count at and the poll limit.
	chainPC = 8
	// chainSpin: polls before a wait gives up, about a second on an H200.
	chainSpin = 1 << 26
)

// Fields of mmb_cmd that a dispatch leaves unused carry the chain marks.
// cmd.d: 1 for a chained dispatch; cmd.e: its stage number; cmd.c: 1 when
// its stage was opened by a chained (soft) barrier, so it waits on stage
// e−1.

// ErrChainTimeout: a chained stage waited longer than its spin limit for the
// stage before (the device did not start workgroups in order).
var ErrChainTimeout = errors.New("vulkan: chained stage timed out waiting for the stage before")

type chainState struct {
	on    bool // chaining enabled
	buf   devBuf
	flag  *hostBuf          // word 0 of buf after each flush
	names map[string]string // chain-capable shader → its chained variant
	cum   [chainSlots]uint32
	used  bool // chained dispatches since the last flush
	// keepBarriers (tests): chained barriers are recorded as real ones
	// too, so that devices without in-order workgroup launch (lavapipe
	// starts a dispatch's workgroups while the one before still runs, and
	// a spinning workgroup can hold the thread that the waited-for one
	// needs) run the chained shaders, counts and waits in order.
	keepBarriers bool
	spin         uint32 // the poll limit (tests lower it)

	stage   uint64 // the current stage's number
	soft    bool   // the current stage was opened by a chained barrier
	softs   int    // chained barriers recorded (tests)
	allOpen bool   // every command of the current stage is chained
}

func (b *Backend) initChain() error {
	ch := &b.chain
	ch.names = map[string]string{}
	for k := range mvKinds {
		for _, n := range mvNames[k] {
			if n != "" {
				ch.names[n] = n + "_c"
			}
		}
	}
	ch.names["rmsnorm_sg"] = "rmsnorm_sg_c"
	ch.names["attndec"] = "attndec_c"
	var err error
	if ch.buf, err = b.newDevBuf((chainSlots + 1) * chainWords * 4); err != nil {
		return err
	}
	if ch.flag, err = b.newHostBuf(16, 2); err != nil {
		return err
	}
	b.fill(ch.buf.h, 0, ch.buf.bytes, 0)
	ch.allOpen, ch.spin = true, chainSpin
	return b.flush()
}

// chained maps a shader to its chained variant when chaining is on and it
// has one; the command then binds the counters at binding 7.
func (b *Backend) chained(name string) (string, bool) {
	if !b.chain.on || b.prof != nil {
		return name, false
	}
	n, ok := b.chain.names[name]
	if !ok {
		return name, false
	}
	return n, true
}

// chainBarrier is hazard's choice for a command that needs ordering after
// the current stage: true when a chained barrier serves (the command and
// the whole current stage are chained).
func (b *Backend) chainBarrier(chain bool) bool {
	return chain && b.chain.on && b.chain.allOpen && b.prof == nil
}

// newStage notes that a barrier (soft: chained) opened a stage.
func (b *Backend) newStage(soft bool) {
	b.chain.stage++
	b.chain.soft = soft
	if soft {
		b.chain.softs++
	}
	b.chain.allOpen = true
}

// markChain stamps a chained dispatch with its stage.
func (b *Backend) markChain(c *C.mmb_cmd) {
	c.d, c.e, c.c = 1, C.uint64_t(b.chain.stage), 0
	if b.chain.soft {
		c.c = 1
	}
	b.chain.used = true
}

// patchChain fills in the chained dispatches' counter words and targets,
// in command order, before cmds are submitted.
func (b *Backend) patchChain() {
	ch := &b.chain
	if !ch.used {
		return
	}
	for i := range b.cmds {
		c := &b.cmds[i]
		if c.kind != C.MMB_CMD_DISPATCH || c.d != 1 {
			continue
		}
		st := uint64(c.e)
		slot := int(st % chainSlots)
		if c.c == 1 {
			prev := int((st - 1) % chainSlots)
			c.pc[chainPC] = C.uint32_t((prev + 1) * chainWords)
			c.pc[chainPC+1] = C.uint32_t(ch.cum[prev])
			c.pc[chainPC+2] = 1
		} else {
			c.pc[chainPC+2] = 0
		}
		c.pc[chainPC+3] = C.uint32_t((slot + 1) * chainWords)
		c.pc[chainPC+4] = C.uint32_t(ch.spin)
		ch.cum[slot] += uint32(c.gx) * uint32(c.gy) * uint32(c.gz)
	}
}

// chainFlush records, at the end of a flush that ran chained dispatches,
// the copy of the timeout flag to the host.
func (b *Backend) chainFlush() {
	if !b.chain.used {
		return
	}
	b.cmds = append(b.cmds, C.mmb_cmd{kind: C.MMB_CMD_BARRIER})
	b.cmds = append(b.cmds, C.mmb_cmd{kind: C.MMB_CMD_COPY, a: C.uint64_t(b.chain.buf.h), b: C.uint64_t(b.chain.flag.h), e: 4})
}

// chainCheck reports a timed-out wait after a flush.
func (b *Backend) chainCheck() error {
	if !b.chain.used {
		return nil
	}
	b.chain.used = false
	if v := binary.LittleEndian.Uint32(b.chain.flag.bytes()); v != 0 {
		return ErrChainTimeout
	}
	return nil
}

// chainOrdered says whether a device starts a dispatch's workgroups only
// after all of those of the dispatches before it have started, which
// chained stages rely on: NVIDIA's discrete GPUs.
func chainOrdered(d DeviceInfo) bool { return d.VendorID == 0x10de && d.Type == "discrete GPU" }

// chainName reports whether a pipeline name is a chained variant (tests).
func chainName(name string) bool { return strings.HasSuffix(name, "_c") }
