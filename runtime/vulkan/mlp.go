//go:build cgo

package vulkan

/*
#include "glue.h"
*/
import "C"

import (
	"fmt"
	"math/bits"

	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
)

const (
	// mlpFeatures is the default number of ffn features per workgroup of
	// the one-dispatch MLP block: 256 workgroups at the 1B model's 8192.
	mlpFeatures = 32
	wgMLP       = 256
	// mlpRound: down words (16 bytes) per lane per round of the MLP block,
	// 32 KB per workgroup, with the next round's loads in flight; Q8_0
	// takes 4 (its scales need registers too: on the H200 the layer tail
	// took 59.3 µs at 4 against 66.7 at 8, bench/RESULTS.md).
	mlpRound   = 8
	mlpRoundQ8 = 4
	// mlpRotate: rows of down by which each workgroup's walk over them is
	// rotated from the one before, one 32-byte sector of h: walking in
	// lockstep, all workgroups added into the same rows of h at once.
	mlpRotate = 8
)

// mlpWordValues is the number of values in one 16-byte word of a weight,
// the unit in which the MLP block reads its down columns.
var mlpWordValues = map[format.DType]int{format.F32: 4, format.F16: 8, format.BF16: 8, format.Q8_0: 16}

// mlpNames and snapNames are the MLP block's and the copying residual
// matvec's shader names per dtype (built once: a decode step allocates nothing).
var mlpNames, snapNames = func() (m, s [8]string) {
	for dt, sfx := range dtSuffix {
		m[dt], s[dt] = "mlp_"+sfx, "matvec4rc_"+sfx
	}
	return
}()

// MLP implements runtime.MLPBlock: h += down · (silu(gate·n)·(up·n)) with
// n = RMSNorm(h) for up to matvecRows rows, as one dispatch (the MLP form of
// matvec4.comp) where the unfused block is two stages with a barrier
// between. Each workgroup reads x·g once into shared memory, takes mlpF
// features and adds its share of down's output into h with float atomics, so the sums' order (and the last bits of
// h) can differ from run to run. The dispatch reads h from a copy taken
// when h was last written: the residual matvec that wrote it (the Add after
// the attention or Mamba output projection) stores the copy too, or a copy
// command makes one.
func (b *Backend) MLP(h rt.Buffer, norm, gate, up, down rt.Weight, rows int, eps float32) (bool, error) {
	if err := b.begin(); err != nil {
		return false, err
	}
	defer b.mu.Unlock()
	if b.mlpF == 0 || rows < 1 || rows > matvecRows {
		return false, nil
	}
	g, err := b.wt(gate, "MLP gate", 0)
	if err != nil {
		return false, err
	}
	u, err := b.wt(up, "MLP up", 0)
	if err != nil {
		return false, err
	}
	d, err := b.wt(down, "MLP down", 0)
	if err != nil {
		return false, err
	}
	nm, err := b.wt(norm, "MLP norm", 0)
	if err != nil {
		return false, err
	}
	D, I := g.cols, g.rows
	if u.rows != I || u.cols != D || d.rows != D || d.cols != I || nm.rows != 1 || nm.cols != D {
		return false, fmt.Errorf("vulkan: MLP: gate [%d %d], up [%d %d], down [%d %d] and norm [%d %d] do not fit together",
			g.rows, g.cols, u.rows, u.cols, d.rows, d.cols, nm.rows, nm.cols)
	}
	vw := mlpWordValues[g.dt]
	if g.dt != u.dt || g.dt != d.dt || g.so != u.so || nm.dt != format.F32 || D == 0 || I == 0 ||
		D%vecAlign[g.dt] != 0 || D%4 != 0 || I%vw != 0 || b.mlpF%vw != 0 || b.mlpF/vw > b.dev.SubgroupSize {
		return false, nil // the unfused ops serve these shapes
	}
	if err := checkDims("MLP", rows, D, I); err != nil {
		return false, err
	}
	spec := b.mlpSpec(rows, g.dt, D)
	maxr := int(spec[2])
	// Shared memory: x·g of every row, the activations, the partial sums
	// of squares and matvec4's reduction slots.
	if 4*maxr*(D+b.mlpF+64+3) > b.maxShared {
		return false, nil
	}
	hb, err := b.buf(h, "MLP h", rows*D)
	if err != nil {
		return false, err
	}
	need := uint64(rows*D) * 4
	snap, err := b.snapBuf(need)
	if err != nil {
		return false, err
	}
	if a := b.lastBlock; a.idx > 0 && a.idx == len(b.cmds) && a.h == hb.h && a.n == rows*D {
		// The attention or SSM block just added into h and the copy alike.
	} else if r := b.lastResid; r.idx > 0 && r.idx == len(b.cmds) && r.kind == mvResid && r.bufs[4] == hb.h && r.rows == rows && r.n == D &&
		!b.read[snap] && !b.written[snap] {
		// h was written by the command just recorded, a residual matvec:
		// it stores the copy as well, in the same stage.
		bufs := [6]C.VkBuffer{r.bufs[0], r.bufs[1], r.bufs[2], r.bufs[3], r.bufs[4], snap}
		if err := b.recast(&r, snapNames[r.dt], bufs[:], r.pc[:r.npc], nil, bufs[5:]); err != nil {
			return false, err
		}
	} else {
		b.copyBuf(hb.h, snap, 0, 0, need)
	}
	b.lastResid, b.lastBlock = mvCall{}, blockCall{}
	err = b.dispatch(mlpNames[g.dt], spec[:], ceilDiv(I, b.mlpF), []C.VkBuffer{g.h, snap, hb.h, nm.h, u.h, d.h}, 1<<2,
		uint32(rows), uint32(D), uint32(I), g.so, 0, fbits(eps), d.so)
	return err == nil, err
}

// mlpSpec is the MLP dispatch's specialisation constants for rows token
// rows of hidden size hidden: matvec4's (one row per workgroup block, no
// split), the features per workgroup, down words per lane per round, the
// hidden size (the shared x rows) and the gate/up words per lane per round
// (0: the dtype's default).
func (b *Backend) mlpSpec(rows int, dt format.DType, hidden int) [10]uint32 {
	u2 := mlpRound
	if dt == format.Q8_0 {
		u2 = mlpRoundQ8
	}
	if b.mlpU2 > 0 {
		u2 = b.mlpU2
	}
	return [10]uint32{wgMLP, 1, 1 << bits.Len(uint(rows-1)), 1, uint32(b.mlpF), uint32(u2), uint32(hidden), uint32(b.mlpUA), uint32(b.mlpPhase), uint32(b.mlpRot)}
}
