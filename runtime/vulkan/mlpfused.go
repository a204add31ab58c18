//go:build cgo

package vulkan

/*
#include "glue.h"
*/
import "C"

import (
	"encoding/binary"
	"fmt"

	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
)

// The fused decode MLP block (shaders/glsl/mlpfused.comp, runtime.MLPFuser).

const (
	wgMLP = 256
	// mlpRound: 16-byte words per lane of a gate/up row, which the shader
	// loads in one round (so dim ≤ 8·mlpRound·subgroup size).
	mlpRound = 8
	// Counter words (mlpfused.comp): the two queues, the done count, the
	// flag, each on a 128-byte line of its own.
	mlpQ1, mlpDone1, mlpQ2, mlpFlag = 0, 32, 64, 96
	// mlpSpin: polls before phase 2 gives up waiting for phase 1 (a bug,
	// not a slow device: the chunks it waits for are held by running
	// workgroups), about a second on an H200.
	mlpSpin = 1 << 26
)

type mlpState struct {
	off           bool // Options.NoFusedMLP
	cnt           devBuf
	check         *hostBuf // the counters after a flush that ran the shader
	act           devBuf
	q1, done1, q2 uint32 // the counters' values once the recorded dispatches have run
	used          bool
	groups        int // workgroups per dispatch (tests lower it)
	dispatches    int // tests
	spin          uint32
}

// FusedMLP implements runtime.MLPFuser for one f16 row: h += down(silu(gate(x))·up(x)),
// x = RMSNorm(h)·norm, in one dispatch.
func (b *Backend) FusedMLP(h rt.Buffer, norm, gate, up, down rt.Weight, dim, inter int, eps float32) (bool, error) {
	if err := b.begin(); err != nil {
		return false, err
	}
	defer b.mu.Unlock()
	m := &b.mlp
	if m.off || !b.subgroup || b.prof != nil {
		return false, nil
	}
	hb, err := b.buf(h, "FusedMLP h", dim)
	if err != nil {
		return false, err
	}
	var ws [4]*weight
	for i, w := range []rt.Weight{norm, gate, up, down} {
		if ws[i], err = b.wt(w, "FusedMLP weight", 0); err != nil {
			return false, err
		}
	}
	nw, wg, wu, wd := ws[0], ws[1], ws[2], ws[3]
	maxDim := max(dim, inter)
	if nw.dt != format.F32 || nw.rows*nw.cols != dim || wg.dt != format.F16 || wu.dt != format.F16 || wd.dt != format.F16 ||
		wg.rows != inter || wg.cols != dim || wu.rows != inter || wu.cols != dim || wd.rows != dim || wd.cols != inter ||
		dim%8 != 0 || inter%8 != 0 || 4*maxDim+1024 > b.maxShared || b.dev.SubgroupSize < 4 ||
		dim/8 > mlpRound*b.dev.SubgroupSize {
		return false, nil
	}
	if m.cnt.h == 0 {
		if m.cnt, err = b.newDevBuf(4 * (mlpFlag + 1)); err != nil {
			return false, err
		}
		if m.check, err = b.newHostBuf(4*(mlpFlag+1), 2); err != nil {
			return false, err
		}
		b.fill(m.cnt.h, 0, m.cnt.bytes, 0)
	}
	if m.act.bytes < uint64(4*inter) {
		if m.act, err = b.newDevBuf(uint64(4 * inter)); err != nil {
			return false, err
		}
	}
	groups := min((inter+wgMLP/b.dev.SubgroupSize-1)/(wgMLP/b.dev.SubgroupSize), m.groups)
	subgroups := uint32(groups * wgMLP / b.dev.SubgroupSize)
	if err := b.dispatch("mlpfused", []uint32{wgMLP, uint32(maxDim)}, uint64(groups),
		[]C.VkBuffer{wg.h, wu.h, wd.h, nw.h, hb.h, m.act.h, m.cnt.h}, 1<<4|1<<5|1<<6,
		uint32(dim), uint32(inter), fbits(eps), m.q1, m.done1, m.q2, m.spin); err != nil {
		return false, err
	}
	// Each subgroup takes one row past the end of each queue.
	m.q1 += uint32(inter) + subgroups
	m.done1 += uint32(inter)
	m.q2 += uint32(dim) + subgroups
	m.used = true
	m.dispatches++
	return true, nil
}

// mlpFlush records, at the end of a flush that ran the fused MLP, the copy
// of its counters to the host.
func (b *Backend) mlpFlush() {
	if !b.mlp.used {
		return
	}
	b.cmds = append(b.cmds, C.mmb_cmd{kind: C.MMB_CMD_BARRIER})
	b.cmds = append(b.cmds, C.mmb_cmd{kind: C.MMB_CMD_COPY, a: C.uint64_t(b.mlp.cnt.h), b: C.uint64_t(b.mlp.check.h), e: C.uint64_t(b.mlp.cnt.bytes)})
}

// mlpCheck compares the counters with what the recorded dispatches add: a
// mismatch (or a phase-2 wait that gave up) means wrong results.
func (b *Backend) mlpCheck() error {
	m := &b.mlp
	if !m.used {
		return nil
	}
	m.used = false
	c := m.check.bytes()
	word := func(i int) uint32 { return binary.LittleEndian.Uint32(c[4*i:]) }
	got := [4]uint32{word(mlpQ1), word(mlpDone1), word(mlpQ2), word(mlpFlag)}
	if want := [4]uint32{m.q1, m.done1, m.q2, 0}; got != want {
		return fmt.Errorf("vulkan: fused MLP counters (queue 1, done, queue 2, gave up) %v, want %v", got, want)
	}
	return nil
}
