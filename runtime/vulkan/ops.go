//go:build cgo

package vulkan

/*
#include "glue.h"
*/
import "C"

import (
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
)

// Workgroup sizes (specialisation constant 0). Powers of two ≤ 256, as the
// shared-memory reductions need.
const (
	wgMatvec = 128
	// matvec4: 2 rows per workgroup with 32-wide subgroups, so that even
	// 512-row projections spread over 256 workgroups (132 SMs on an H200).
	wgMatvec4 = 64
	// mvSplitCols: rows at least this long are shared by 2 subgroups
	// in a matvec4 (Backend.split).
	mvSplitCols = 8192
	// maxFoldRows is the largest output width for which a matvec computes
	// its input's RMSNorm or SwiGLU itself (see MatMul).
	maxFoldRows = 16384
	wgRow       = 128 // one workgroup per row: RMSNorm, Argmax
	wgElem      = 256 // elementwise
	wgHead      = 64  // one workgroup per head: attention, scan, gated norm
	// Decode attention: one workgroup per (row, head, chunk of context
	// positions); a chunk of attnChunkMin positions is half a workgroup's
	// softmax block, so the value sums run on two groups of head-dim lanes.
	wgAttnDec = 128
	// attnprefill.comp keeps 32-row tiles of queries and keys of up to this
	// head dim in shared memory: 37 KB, so it needs devices with ≥ 40 KB
	// (NVIDIA and AMD offer 48-64 KB; the Vulkan minimum is 16 KB).
	attnPrefillMaxHD = 128
	attnChunkMin     = 64
	// attnGroupMax: the most query heads per kv head that attndecg.comp
	// serves in one workgroup (it keeps that many softmaxes and value sums
	// per invocation in registers).
	attnGroupMax = 8
	// attnOnePassMax: a decode context of at most this many positions runs
	// as one attndec pass of a 256-wide workgroup per (row, head) (specAttnOne),
	// with no attncomb. It is then a single softmax block: the scores are
	// still one position per invocation, all in parallel, and the value sums
	// (16-byte loads, hd/4 lanes per position) take 2 serial rounds of loads
	// at hd 64 where a split 64-position chunk takes 4, so the pass costs about
	// one chunk of the split path and saves the dependent attncomb stage
	// (≥ 4.6 µs on the H200, bench/RESULTS.md, plus its own loads). Longer, a
	// workgroup would walk blocks serially, each a full round of key loads,
	// two reductions and value loads (about a stage's worth), while the
	// split's chunks run side by side.
	attnOnePassMax = 256
	wgAttnOne      = 256
)

// vecAlign is the multiple of K that matvec4 needs per dtype: a row must be
// whole 16-byte words (Q8_0 rows are whole blocks already).
var vecAlign = map[format.DType]int{format.F32: 4, format.F16: 8, format.BF16: 8, format.Q8_0: 32}

var (
	specRow    = []uint32{wgRow}
	specElem   = []uint32{wgElem}
	specHead   = []uint32{wgHead}
	specNorm   = []uint32{256} // rmsnorm_sg: a 2048-wide row in registers, 8 values each
	specMatmul = []uint32{}
	// attndec in one pass: one 256-wide workgroup, value sums on 16-byte loads.
	specAttnOne = []uint32{wgAttnOne, 1}
)

func (b *Backend) MatMul(dst, x rt.Buffer, w rt.Weight, rows int) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	wt, err := b.wt(w, "MatMul weight", 0)
	if err != nil {
		return err
	}
	if err := checkDims("MatMul", rows, max(wt.rows, wt.cols)); err != nil {
		return err
	}
	xb, err := b.buf(x, "MatMul x", rows*wt.cols)
	if err != nil {
		return err
	}
	d, err := b.buf(dst, "MatMul dst", rows*wt.rows)
	if err != nil {
		return err
	}
	if rows == 0 || wt.rows == 0 {
		return nil
	}
	sfx := dtSuffix[wt.dt]
	bufs := []C.VkBuffer{wt.h, xb.h, d.h}
	if b.matvec4Fits(wt, rows) {
		var nm *normOf
		if n, ok := b.norms[xb.h]; ok && b.foldable(wt) && n.dim == wt.cols && rows <= n.rows && n.off%4 == 0 {
			nm = &n
		}
		return b.matvec4(d, xb, wt, rows, nm)
	}
	if rows <= matvecRows {
		spec := b.specMV[bits.Len(uint(rows-1))] // 1, 2, 4 or 8 rows
		if b.subgroup {
			return b.dispatch("matvec_"+sfx+"_sg", spec, ceilDiv(wt.rows, int(b.rpw)), bufs, 1<<2,
				uint32(rows), uint32(wt.cols), uint32(wt.rows), wt.so)
		}
		return b.dispatch("matvec_"+sfx, spec, uint64(wt.rows), bufs, 1<<2,
			uint32(rows), uint32(wt.cols), uint32(wt.rows), wt.so)
	}
	if b.useCoopMatmul(wt, rows) {
		return b.matmulCoop(d, xb, wt, rows)
	}
	if (wt.dt == format.F16 || wt.dt == format.BF16) && wt.cols%8 == 0 && !b.oldMatmul {
		gx, gy := ceilDiv(wt.rows, 128), ceilDiv(rows, 64)
		if gx <= uint64(b.maxGroup) && gy <= 65535 {
			return b.dispatch3("matmul2_"+sfx, nil, uint32(gx), uint32(gy), bufs, 1<<2,
				uint32(rows), uint32(wt.cols), uint32(wt.rows), wt.so)
		}
	}
	gx, gy := ceilDiv(wt.rows, 64), ceilDiv(rows, 64)
	if gx > uint64(b.maxGroup) || gy > 65535 {
		return fmt.Errorf("vulkan: MatMul of %d×%d by %d rows needs too many workgroups", wt.rows, wt.cols, rows)
	}
	return b.dispatch3("matmul_"+sfx, specMatmul, uint32(gx), uint32(gy), bufs, 1<<2,
		uint32(rows), uint32(wt.cols), uint32(wt.rows), wt.so)
}

// matvec4Fits reports whether rows token rows by w take matvec4: 16-byte
// weight loads, one subgroup (or split of them) per output row.
func (b *Backend) matvec4Fits(w *weight, rows int) bool {
	return rows <= matvecRows && b.subgroup && !b.scalarMV && w.cols%vecAlign[w.dt] == 0
}

// foldable reports whether a matvec4 of w may fold a norm or SwiGLU into
// its reads of x. Folding re-reads x (and g) per output row and adds ALU
// work. On the H200 (bench/RESULTS.md) that cost more than the stage it
// saves for the 128k-row lm_head (f16 177 against 128 µs; Q8_0 563 against
// 302 µs with the old 8-word Q8_0 rounds). Q8_0 folds since its matvec
// takes 4 words per lane (noQ8Fold: the unfolded, unpaired path, for
// comparison).
func (b *Backend) foldable(w *weight) bool {
	return w.rows <= maxFoldRows && (w.dt != format.Q8_0 || !b.noQ8Fold)
}

// matvec4 records d = x · wᵀ for rows token rows (matvec4Fits), reading x as
// RMSNorm(nm.src)·g where nm is not nil.
func (b *Backend) matvec4(d, xb *buffer, wt *weight, rows int, nm *normOf) error {
	spec := b.mvSpec(rows, b.split(wt.cols))
	mv := mvCall{kind: mvPlain, dt: wt.dt, rpw: int(spec[1]), y: d.h, rows: rows, n: wt.rows, nb: 3, npc: 4,
		spec:   spec,
		groups: b.mvGroups(ceilDiv(wt.rows, int(spec[1]))),
		bufs:   [5]C.VkBuffer{wt.h, xb.h, d.h},
		pc:     [8]uint32{uint32(rows), uint32(wt.cols), uint32(wt.rows), wt.so}}
	if nm != nil {
		mv.kind, mv.nb, mv.npc = mvNorm, 4, 6
		mv.bufs[1], mv.bufs[3] = nm.src, nm.g
		mv.pc[4], mv.pc[5] = uint32(nm.off/4), fbits(nm.eps)
	} else if g, ok := b.glus[xb.h]; ok && b.foldable(wt) && rows*wt.cols <= g.n && wt.cols%4 == 0 {
		mv.kind, mv.nb = mvGlu, 4
		mv.bufs[1], mv.bufs[3] = g.gate, g.up
	}
	if mv.kind == mvPlain && b.rowPairs(wt.dt, wt.rows) {
		// Two rows per subgroup; nothing folds into this form.
		mv.kind = mvRow2
		mv.groups = b.mvGroups(ceilDiv((wt.rows+1)/2, int(spec[1])))
		return b.dispatch(mv.name(), mv.spec[:], mv.groups, mv.bufs[:mv.nb], 1<<2, mv.pc[:mv.npc]...)
	}
	if err := b.dispatch(mv.name(), mv.spec[:], mv.groups, mv.bufs[:mv.nb], 1<<2, mv.pc[:mv.npc]...); err != nil {
		return err
	}
	mv.idx = len(b.cmds)
	b.fresh = append(b.fresh, mv)
	if mv.kind != mvNorm {
		b.lastMV = mv
	}
	return nil
}

func (b *Backend) RMSNorm(dst, x rt.Buffer, w rt.Weight, rows, dim int, eps float32) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	if err := checkDims("RMSNorm", rows, dim); err != nil {
		return err
	}
	wt, err := b.wt(w, "RMSNorm weight", dim)
	if err != nil {
		return err
	}
	xb, err := b.buf(x, "RMSNorm x", rows*dim)
	if err != nil {
		return err
	}
	d, err := b.buf(dst, "RMSNorm dst", rows*dim)
	if err != nil {
		return err
	}
	if dim == 0 {
		return nil
	}
	name, spec := "rmsnorm", specRow
	if b.subgroup {
		name, spec = "rmsnorm_sg", specNorm
	}
	if err := b.dispatch(name, spec, uint64(rows), []C.VkBuffer{wt.h, xb.h, d.h}, 1<<2,
		uint32(rows), uint32(dim), uint32(wt.dt), wt.so, fbits(eps)); err != nil {
		return err
	}
	if wt.dt == format.F32 && dim%4 == 0 && d.h != xb.h {
		// A matvec of dst can read x and normalise on the fly (matvec4n),
		// in the same stage as this dispatch instead of after a barrier.
		b.norms[d.h] = normOf{src: xb.h, g: wt.h, dim: dim, rows: rows, eps: eps}
	}
	return nil
}

// MatMulNormed implements runtime.NormedMatMul: a decode matvec that reads
// its x as RMSNorm(x)·norm (matvec4n), so that a layer's input norm needs
// no dispatch of its own when every reader folds it. Rows past matvecRows,
// a norm other than f32 or weights that do not fold: false.
func (b *Backend) MatMulNormed(dst, x rt.Buffer, norm rt.Weight, eps float32, w rt.Weight, rows int) (bool, error) {
	if err := b.begin(); err != nil {
		return false, err
	}
	defer b.mu.Unlock()
	wt, err := b.wt(w, "MatMulNormed weight", 0)
	if err != nil {
		return false, err
	}
	g, err := b.wt(norm, "MatMulNormed norm", wt.cols)
	if err != nil {
		return false, err
	}
	if b.noNormFold || !b.matvec4Fits(wt, rows) || !b.foldable(wt) || g.dt != format.F32 || g.rows*g.cols != wt.cols || wt.cols%4 != 0 || rows < 1 || wt.rows == 0 {
		return false, nil
	}
	if err := checkDims("MatMulNormed", rows, max(wt.rows, wt.cols)); err != nil {
		return false, err
	}
	xb, err := b.buf(x, "MatMulNormed x", rows*wt.cols)
	if err != nil {
		return false, err
	}
	d, err := b.buf(dst, "MatMulNormed dst", rows*wt.rows)
	if err != nil {
		return false, err
	}
	if d.h == xb.h {
		return false, nil
	}
	return true, b.matvec4(d, xb, wt, rows, &normOf{src: xb.h, g: g.h, dim: wt.cols, rows: rows, eps: eps})
}

// inStage reports whether the recorded matvec mv is in the stage being
// recorded (after the last barrier) and still in the command list.
func (b *Backend) inStage(mv *mvCall) bool {
	return mv.idx-1 > b.barrierAt && mv.idx <= len(b.cmds)
}

// recast turns the recorded matvec mv into shader variant name with the
// given bindings and push constants, in place (the same groups and
// specialisation), and marks what it newly reads and writes; the callers
// check that this needs no barrier (inStage, untouched buffers).
func (b *Backend) recast(mv *mvCall, name string, bufs []C.VkBuffer, pc []uint32, reads, writes []C.VkBuffer) error {
	gx, gy := b.groups(mv.groups)
	c, err := b.command(name, mv.spec[:], gx, gy, bufs, pc)
	if err != nil {
		return err
	}
	b.cmds[mv.idx-1] = c
	b.hazard(reads, writes)
	return nil
}

// normOf says that a buffer holds RMSNorm(src[off:], g) for rows rows of
// width dim, as long as neither it nor src has been written since.
type normOf struct {
	src, g    C.VkBuffer
	off       int // floats
	dim, rows int
	eps       float32
}

func (b *Backend) Add(dst, src rt.Buffer, n int) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	if err := checkDims("Add", n); err != nil {
		return err
	}
	d, err := b.buf(dst, "Add dst", n)
	if err != nil {
		return err
	}
	s, err := b.buf(src, "Add src", n)
	if err != nil {
		return err
	}
	if mv := b.lastMV; mv.idx > 0 && mv.idx == len(b.cmds) && mv.y == s.h && mv.rows*mv.n == n && !b.read[d.h] && !b.written[d.h] && !slices.Contains(mv.bufs[:mv.nb], d.h) {
		// src was just written by a matvec: it adds y to dst as well, so the
		// residual update needs no stage of its own. That matvec was the
		// last command and nothing else read or wrote y since the last
		// barrier (or a barrier would stand before it), so its marks on y
		// can go (the read mark too: left, it put a second barrier here).
		b.lastMV = mvCall{}
		b.cmds = b.cmds[:len(b.cmds)-1]
		delete(b.written, mv.y)
		delete(b.read, mv.y)
		if mv.nb == 3 {
			mv.bufs[3] = b.dummy.h
		}
		mv.bufs[4], mv.nb = d.h, 5
		mv.kind++ // mvPlain → mvResid, mvGlu → mvGluResid
		if err := b.dispatch(mv.name(), mv.spec[:], mv.groups, mv.bufs[:5], 1<<2|1<<4, mv.pc[:mv.npc]...); err != nil {
			return err
		}
		mv.idx = len(b.cmds)
		b.lastResid = mv
		return nil
	}
	return b.dispatch("add", specElem, ceilDiv(n, wgElem), []C.VkBuffer{d.h, s.h}, 1<<0, uint32(n))
}

func (b *Backend) SwiGLU(dst, gate, up rt.Buffer, n int) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	if err := checkDims("SwiGLU", n); err != nil {
		return err
	}
	d, err := b.buf(dst, "SwiGLU dst", n)
	if err != nil {
		return err
	}
	g, err := b.buf(gate, "SwiGLU gate", n)
	if err != nil {
		return err
	}
	u, err := b.buf(up, "SwiGLU up", n)
	if err != nil {
		return err
	}
	if ok, err := b.pairGLU(d.h, g.h, u.h, n); ok || err != nil {
		return err
	}
	if err := b.dispatch("swiglu", specElem, ceilDiv(n, wgElem), []C.VkBuffer{d.h, g.h, u.h}, 1<<0, uint32(n)); err != nil {
		return err
	}
	if n > 0 && d.h != g.h && d.h != u.h {
		// A matvec of dst can compute it from gate and up (matvec4s), beside
		// this dispatch rather than after a barrier.
		b.glus[d.h] = gluOf{gate: g.h, up: u.h, n: n}
	}
	return nil
}

// pairGLU records dst = silu(gate)·up, with gate and up themselves, as one
// paired matvec (matvec4g, matvec4ng) in place of the two matvecs just
// recorded that compute gate and up, when they are the last two commands
// (so nothing came between, and no barrier), read the same x (or normalise
// the same source), have the same shape and dtype, and neither output has
// been read since. It reports whether it did.
func (b *Backend) pairGLU(dst, gate, up C.VkBuffer, n int) (bool, error) {
	if b.noPair || gate == up {
		return false, nil
	}
	var mg, mu mvCall
	for _, f := range b.fresh {
		switch f.y {
		case gate:
			mg = f
		case up:
			mu = f
		}
	}
	last := len(b.cmds)
	if mg.idx == 0 || mu.idx == 0 || max(mg.idx, mu.idx) != last || min(mg.idx, mu.idx) != last-1 {
		return false, nil
	}
	if mg.kind != mu.kind || (mg.kind != mvPlain && mg.kind != mvNorm) || mg.dt != mu.dt || (mg.dt == format.Q8_0 && b.noQ8Fold) ||
		mg.rows*mg.n != n || mg.pc != mu.pc || mg.bufs[1] != mu.bufs[1] || mg.bufs[3] != mu.bufs[3] {
		return false, nil
	}
	if dst == gate || dst == up || dst == mg.bufs[1] || dst == mg.bufs[3] {
		return false, nil
	}
	// Only these two commands wrote or read gate and up since the last
	// barrier (any earlier access would have put a barrier before them), so
	// their marks go with them and the paired dispatch joins the same stage.
	b.cmds = b.cmds[:last-2]
	delete(b.written, gate)
	delete(b.written, up)
	delete(b.read, gate)
	delete(b.read, up)
	b.lastMV = mvCall{}
	kind, g := mvPair, b.dummy.h
	if mg.kind == mvNorm {
		kind, g = mvNormPair, mg.bufs[3]
	}
	// gate and up are written too: the caller may still read them.
	bufs := [7]C.VkBuffer{mg.bufs[0], mg.bufs[1], gate, g, mu.bufs[0], up, dst}
	return true, b.dispatch(mvNames[kind][mg.dt], mg.spec[:], mg.groups, bufs[:], 1<<2|1<<5|1<<6, mg.pc[:mg.npc]...)
}

// gluOf says that a buffer holds silu(gate)·up for n values, as long as none
// of the three has been written since.
type gluOf struct {
	gate, up C.VkBuffer
	n        int
}

// mvCall is a recorded matvec4 dispatch (idx is len(cmds) just after it; 0:
// none), kept so that a following RoPE or residual Add can turn it into its
// rotating or residual variant. Fixed arrays, so that keeping it allocates
// nothing per token.
type mvCall struct {
	idx, kind int
	dt        format.DType
	spec      [4]uint32
	rpw       int
	groups    uint64
	bufs      [5]C.VkBuffer
	nb        int
	pc        [8]uint32
	npc       int
	y         C.VkBuffer
	rows, n   int
}

// matvec4 variants (shaders/internal/build); mvPlain+1 and mvGlu+1 are their
// residual forms; mvPair and mvNormPair (gate and up paired, SwiGLU) exist
// for f32, f16 and bf16 only.
const (
	mvPlain = iota
	mvResid
	mvGlu
	mvGluResid
	mvNorm
	mvNormRope
	mvPair
	mvNormPair
	mvRow2     // two rows per subgroup (plain only)
	mvNormConv // norm-fed, with the Mamba-2 conv and SiLU of its rows
	mvKinds
)

var mvNames = func() (t [mvKinds][8]string) {
	prefix := [mvKinds]string{"matvec4", "matvec4r", "matvec4s", "matvec4sr", "matvec4n", "matvec4np", "matvec4g", "matvec4ng", "matvec4w", "matvec4nc"}
	for k, p := range prefix {
		for dt, sfx := range dtSuffix {
			t[k][dt] = p + "_" + sfx
		}
	}
	return t
}()

func (mv *mvCall) name() string { return mvNames[mv.kind][mv.dt] }

// mvSpec is matvec4's specialisation constants for rows token rows with
// split subgroups per output row: the workgroup size, rows per workgroup,
// the token-row capacity and split.
func (b *Backend) mvSpec(rows, split int) [4]uint32 {
	rpw := uint32(max(1, wgMatvec4/b.dev.SubgroupSize))
	if b.mvRPW > 0 {
		rpw = uint32(b.mvRPW)
	}
	return [4]uint32{rpw * uint32(split*b.dev.SubgroupSize), rpw, 1 << bits.Len(uint(rows-1)), uint32(split)}
}

// split is the number of subgroups that share a matvec4 row of cols values:
// 2 for rows of at least mvSplitCols values, 1 for shorter ones. On the
// H200 (bench/RESULTS.md, `bench/gpu/kern10.sh`, `kern11.sh`) the
// 2048×8192 down projection took 16.0 µs split 2 ways against 20.6 unsplit
// (f16; Q8_0 16.2 against 17.1), 4 ways 17.0–21.5; splitting the 2048-wide
// rows of the other projections and the lm_head made the decode step
// slower. Not on a CPU device (lavapipe), which has no memory latency to
// hide that way and whose workgroup barriers are costly.
func (b *Backend) split(cols int) int {
	if b.mvSplit > 0 {
		return b.mvSplit
	}
	if b.dev.Type == "CPU" || cols < mvSplitCols {
		return 1
	}
	return 2
}

// rowPairs reports whether a plain matvec4 of rows output rows of dtype dt
// takes two rows per subgroup (matvec4.comp ROW2): Q8_0 past maxFoldRows
// (the lm_head), where twice the bytes in flight per lane and half the x
// loads per weight byte pay: on the H200 the 128256-row Q8_0 lm_head took
// 107.7 µs against 154.0 on one row, while f16's and bf16's took longer
// (150.2 and 171.6 against 126.5 and 126.9; bench/RESULTS.md, kern18).
// b.mvRowPairs overrides (1 always, -1 never).
func (b *Backend) rowPairs(dt format.DType, rows int) bool {
	if b.mvRowPairs != 0 {
		return b.mvRowPairs > 0
	}
	return dt == format.Q8_0 && rows > maxFoldRows
}

// mvGroups is the number of workgroups a matvec4 of blocks row blocks
// launches: the shader strides over the blocks, so any count up to blocks
// is correct.
func (b *Backend) mvGroups(blocks uint64) uint64 {
	if b.mvCap > 0 {
		return min(blocks, uint64(b.mvCap))
	}
	return blocks
}

func (b *Backend) RoPE(x rt.Buffer, rows, heads, headDim, pos0 int, invFreq rt.Buffer) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	if err := checkDims("RoPE", rows, heads, headDim); err != nil {
		return err
	}
	if headDim%2 != 0 || pos0 < 0 || pos0+rows > 1<<24 {
		return fmt.Errorf("vulkan: RoPE: head dim %d must be even and positions %d..%d within 2^24", headDim, pos0, pos0+rows)
	}
	xb, err := b.buf(x, "RoPE x", rows*heads*headDim)
	if err != nil {
		return err
	}
	f, err := b.buf(invFreq, "RoPE invFreq", headDim/2)
	if err != nil {
		return err
	}
	var rp mvCall
	for _, r := range b.fresh {
		if r.y == xb.h {
			rp = r
		}
	}
	if rp.idx > 0 && rp.kind == mvNorm && rp.rows == rows && rp.n == heads*headDim && headDim%2 == 0 {
		// x was written by a norm-fed matvec that nothing has read or
		// written since: make it store x rotated (pairs of rows per
		// subgroup) instead of recording a RoPE stage.
		b.stale(xb.h)
		rp.kind = mvNormRope
		rp.bufs[4], rp.nb = f.h, 5
		rp.pc[6], rp.pc[7], rp.npc = uint32(pos0), uint32(headDim), 8
		gx, gy := b.groups(b.mvGroups(ceilDiv(rp.n/2, rp.rpw)))
		c, err := b.command(rp.name(), rp.spec[:], gx, gy, rp.bufs[:5], rp.pc[:8])
		if err != nil {
			return err
		}
		b.cmds[rp.idx-1] = c
		b.hazard(rp.bufs[4:5], nil)
		return nil
	}
	n := rows * heads * headDim / 2
	return b.dispatch("rope", specElem, ceilDiv(n, wgElem), []C.VkBuffer{xb.h, f.h}, 1<<0,
		uint32(rows), uint32(heads), uint32(headDim), uint32(pos0))
}

func (b *Backend) Attention(out, q, k, v, kCache, vCache rt.Buffer, rows, pos0, heads, kvHeads, headDim int) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	if err := checkDims("Attention", pos0+rows, heads, headDim); err != nil {
		return err
	}
	if heads <= 0 || kvHeads <= 0 || heads%kvHeads != 0 || headDim <= 0 || headDim > maxHeadDim || pos0 < 0 {
		return fmt.Errorf("vulkan: Attention: %d heads, %d kv heads, head dim %d (at most %d), pos0 %d", heads, kvHeads, headDim, maxHeadDim, pos0)
	}
	kvd := kvHeads * headDim
	o, err := b.buf(out, "Attention out", rows*heads*headDim)
	if err != nil {
		return err
	}
	qb, err := b.buf(q, "Attention q", rows*heads*headDim)
	if err != nil {
		return err
	}
	kb, err := b.buf(k, "Attention k", rows*kvd)
	if err != nil {
		return err
	}
	vb, err := b.buf(v, "Attention v", rows*kvd)
	if err != nil {
		return err
	}
	kc, err := b.buf(kCache, "Attention kCache", (pos0+rows)*kvd)
	if err != nil {
		return err
	}
	vc, err := b.buf(vCache, "Attention vCache", (pos0+rows)*kvd)
	if err != nil {
		return err
	}
	if rows == 0 {
		return nil
	}
	scale := float32(1 / math.Sqrt(float64(headDim)))
	if rows <= matvecRows {
		return b.attentionDecode(o, qb, kb, vb, kc, vc, rows, pos0, heads, kvHeads, headDim, scale)
	}
	// The new rows are contiguous in both k and the cache: one copy each.
	size := uint64(rows*kvd) * 4
	b.copyBuf(kb.h, kc.h, 0, uint64(pos0*kvd)*4, size)
	b.copyBuf(vb.h, vc.h, 0, uint64(pos0*kvd)*4, size)
	if b.useCoopAttention(rows, headDim) && heads <= int(b.maxGroup) {
		return b.attentionCoop(o, qb, kc, vc, rows, pos0, heads, kvHeads, headDim, scale)
	}
	if headDim <= attnPrefillMaxHD && !b.untiledAttn && heads <= int(b.maxGroup) {
		return b.dispatch3("attnprefill", nil, uint32(heads), uint32(ceilDiv(rows, 32)), []C.VkBuffer{o.h, qb.h, kc.h, vc.h}, 1<<0,
			uint32(rows), uint32(pos0), uint32(heads), uint32(kvHeads), uint32(headDim), fbits(scale))
	}
	return b.dispatch("attention", specHead, uint64(rows*heads), []C.VkBuffer{o.h, qb.h, kc.h, vc.h}, 1<<0,
		uint32(rows), uint32(pos0), uint32(heads), uint32(kvHeads), uint32(headDim), fbits(scale))
}

func (b *Backend) Conv1D(dst, x, state rt.Buffer, w, bias rt.Weight, rows, ch int) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	if err := checkDims("Conv1D", rows, ch, 4); err != nil {
		return err
	}
	wt, err := b.wt(w, "Conv1D weight", 4*ch)
	if err != nil {
		return err
	}
	if wt.cols != 4 {
		return fmt.Errorf("vulkan: Conv1D: weight is [%d %d], want [%d 4]", wt.rows, wt.cols, ch)
	}
	bt, err := b.wt(bias, "Conv1D bias", ch)
	if err != nil {
		return err
	}
	d, err := b.buf(dst, "Conv1D dst", rows*ch)
	if err != nil {
		return err
	}
	xb, err := b.buf(x, "Conv1D x", rows*ch)
	if err != nil {
		return err
	}
	st, err := b.buf(state, "Conv1D state", 3*ch)
	if err != nil {
		return err
	}
	if rows == 0 {
		return nil
	}
	if ok, err := b.convFold(d.h, xb.h, st.h, wt, bt, rows, ch); ok || err != nil {
		return err
	}
	return b.dispatch("conv1d", specHead, ceilDiv(ch, wgHead), []C.VkBuffer{d.h, xb.h, st.h, wt.h, bt.h}, 1<<0|1<<2,
		uint32(rows), uint32(ch), uint32(wt.dt), wt.so, uint32(bt.dt), bt.so)
}

func (b *Backend) SSMScan(y, xbc, dt, state rt.Buffer, aNeg, dtBias, dSkip rt.Weight, rows, heads, kvHeads, headDim int) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	if heads <= 0 || kvHeads <= 0 || heads%kvHeads != 0 || headDim <= 0 || headDim > 4*wgHead {
		return fmt.Errorf("vulkan: SSMScan: %d heads, %d kv heads, head dim %d (at most %d)", heads, kvHeads, headDim, 4*wgHead)
	}
	width := 2*kvHeads*headDim + heads*headDim
	if err := checkDims("SSMScan", rows, width); err != nil {
		return err
	}
	if err := checkDims("SSMScan", heads, headDim, headDim); err != nil {
		return err
	}
	yb, err := b.buf(y, "SSMScan y", rows*heads*headDim)
	if err != nil {
		return err
	}
	xb, err := b.buf(xbc, "SSMScan xbc", rows*width)
	if err != nil {
		return err
	}
	db, err := b.buf(dt, "SSMScan dt", rows*heads)
	if err != nil {
		return err
	}
	sb, err := b.buf(state, "SSMScan state", heads*headDim*headDim)
	if err != nil {
		return err
	}
	a, err := b.wt(aNeg, "SSMScan A", heads)
	if err != nil {
		return err
	}
	dtb, err := b.wt(dtBias, "SSMScan dtBias", heads)
	if err != nil {
		return err
	}
	ds, err := b.wt(dSkip, "SSMScan D", heads)
	if err != nil {
		return err
	}
	if rows == 0 {
		return nil
	}
	if b.ssmUseChunked(rows) {
		return b.ssmScanChunked(yb, xb, db, sb, a, dtb, ds, rows, heads, kvHeads, headDim)
	}
	return b.dispatch("ssmscan", specHead, uint64(heads*headDim), []C.VkBuffer{yb.h, xb.h, db.h, sb.h, a.h, dtb.h, ds.h}, 1<<0|1<<3,
		uint32(rows), uint32(heads), uint32(kvHeads), uint32(headDim),
		uint32(a.dt), a.so, uint32(dtb.dt), dtb.so, uint32(ds.dt), ds.so)
}

func (b *Backend) GatedRMSNorm(dst, y, z rt.Buffer, w rt.Weight, rows, heads, headDim int, eps float32) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	if err := checkDims("GatedRMSNorm", rows, heads, headDim); err != nil {
		return err
	}
	n := rows * heads * headDim
	wt, err := b.wt(w, "GatedRMSNorm weight", heads*headDim)
	if err != nil {
		return err
	}
	d, err := b.buf(dst, "GatedRMSNorm dst", n)
	if err != nil {
		return err
	}
	yb, err := b.buf(y, "GatedRMSNorm y", n)
	if err != nil {
		return err
	}
	zb, err := b.buf(z, "GatedRMSNorm z", n)
	if err != nil {
		return err
	}
	if headDim == 0 {
		return nil
	}
	return b.dispatch("gatednorm", specHead, uint64(rows*heads), []C.VkBuffer{d.h, yb.h, zb.h, wt.h}, 1<<0,
		uint32(rows), uint32(heads), uint32(headDim), uint32(wt.dt), wt.so, fbits(eps))
}

func (b *Backend) Argmax(dst, x rt.Buffer, rows, n int) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	if err := checkDims("Argmax", rows, n); err != nil {
		return err
	}
	if n > 1<<24 {
		return fmt.Errorf("vulkan: Argmax over %d values: indices past 2^24 are not exact in float32", n)
	}
	d, err := b.buf(dst, "Argmax dst", rows)
	if err != nil {
		return err
	}
	xb, err := b.buf(x, "Argmax x", rows*n)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("vulkan: Argmax over 0 values")
	}
	if n < b.argmaxSplit {
		return b.dispatch("argmax", specRow, uint64(rows), []C.VkBuffer{d.h, xb.h}, 1<<0, uint32(rows), uint32(n))
	}
	// Wide rows: parts of about 1024 values in parallel, then one merge.
	parts := min((n+1023)/1024, 1024)
	slice := (n + parts - 1) / parts
	if err := checkDims("Argmax", rows, parts, 2); err != nil {
		return err
	}
	need := uint64(rows*parts*2) * 4
	if b.argPart.bytes < need {
		nb, err := b.newDevBuf(max(need, 2*b.argPart.bytes, 1<<16))
		if err != nil {
			return err
		}
		b.argPart = nb
	}
	if err := b.dispatch("argmaxpart", specRow, uint64(rows*parts), []C.VkBuffer{b.argPart.h, xb.h}, 1<<0,
		uint32(rows), uint32(n), uint32(parts), uint32(slice)); err != nil {
		return err
	}
	return b.dispatch("argmaxmerge", specRow, uint64(rows), []C.VkBuffer{d.h, b.argPart.h}, 1<<0, uint32(rows), uint32(parts))
}

func (b *Backend) Copy(dst rt.Buffer, dstOff int, src rt.Buffer, srcOff, n int) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	if dstOff < 0 || srcOff < 0 || n < 0 {
		return fmt.Errorf("vulkan: Copy: offsets %d, %d and count %d", dstOff, srcOff, n)
	}
	d, err := b.buf(dst, "Copy dst", dstOff+n)
	if err != nil {
		return err
	}
	s, err := b.buf(src, "Copy src", srcOff+n)
	if err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	b.copyBuf(s.h, d.h, uint64(srcOff)*4, uint64(dstOff)*4, uint64(n)*4)
	if nm, ok := b.norms[s.h]; ok && dstOff == 0 && n == nm.dim && srcOff%nm.dim == 0 && srcOff/nm.dim < nm.rows && d.h != nm.src {
		// One normalised row copied out (the last prefill row for lm_head):
		// dst is the norm of that row of src.
		b.norms[d.h] = normOf{src: nm.src, g: nm.g, off: nm.off + srcOff, dim: nm.dim, rows: 1, eps: nm.eps}
	}
	return nil
}

// groupedAttnFits reports whether attndecg.comp serves grp query heads per
// kv head of head dim hd: its queries, per-block weights and value partials
// take 4·grp·(128+128+128+32) bytes of shared memory (13 KB at grp 8, below
// Vulkan's 16 KB minimum), and its value lanes span one head dim within a
// 128-wide workgroup.
func (b *Backend) groupedAttnFits(grp, hd int) bool {
	return !b.noGroupedAttn && grp <= attnGroupMax && hd <= wgAttnDec && 4*grp*(3*wgAttnDec+32)+64 <= b.maxShared
}

// attentionDecode runs attention for a few query rows split over the
// context: attndec per chunk of b.attnChunk positions (which also stores the
// new keys and values in the caches), then attncomb to merge the chunks when
// there are several; up to b.attnOnePass positions, attndec alone in one
// pass. With several chunks and grouped-query heads, attndecg takes
// attndec's place (one workgroup per kv head's group).
func (b *Backend) attentionDecode(o, q, k, v, kc, vc *buffer, rows, pos0, heads, kvHeads, hd int, scale float32) error {
	// Chunks of attnChunk positions (one softmax block), widened in steps
	// of attnChunk so that there are at most 256 per head for attncomb; a
	// short context in one chunk, on the wider workgroup (attnOnePassMax).
	if grp := heads / kvHeads; grp > 1 && grp <= attnGroupMax && !b.groupedWarm[grp] && b.groupedAttnFits(grp, hd) {
		// Create attndecg's pipeline for this group size now, at the first
		// (short-context) step, not when the context first needs several
		// chunks, where its compile would stall a step mid-generation.
		// One empty dispatch too (rows 0: every workgroup returns at once,
		// dummy bindings), so that work a driver defers to a pipeline's first
		// use also happens here.
		d := b.dummy.h
		if err := b.dispatch("attndecg", []uint32{wgAttnDec, uint32(grp)}, 1, []C.VkBuffer{d, d, d, d, d, d, d}, 0,
			0, 0, uint32(heads), uint32(kvHeads), uint32(hd), 0, 1, 1); err != nil {
			return err
		}
		b.groupedWarm[grp] = true
	}
	L := pos0 + rows
	chunk := b.attnChunk * ((L + b.attnChunk*256 - 1) / (b.attnChunk * 256))
	spec := []uint32{wgAttnDec}
	if L <= b.attnOnePass {
		chunk, spec = L, specAttnOne
	}
	nsplit := (L + chunk - 1) / chunk
	if err := checkDims("Attention", rows*heads*nsplit, hd+2); err != nil {
		return err
	}
	part := b.dummy.h
	wmask := uint(1<<0 | 1<<2 | 1<<3)
	if nsplit > 1 {
		need := uint64(rows*heads*nsplit*(hd+2)) * 4
		if b.attnPart.bytes < need {
			// Grown by doubling, so a growing context allocates O(log n)
			// times; the old buffer may still be used by recorded commands
			// and is freed at Close with the others.
			nb, err := b.newDevBuf(max(need, 2*b.attnPart.bytes, 4<<20))
			if err != nil {
				return err
			}
			b.attnPart = nb
		}
		part = b.attnPart.h
		wmask |= 1 << 6
	}
	name, groups := "attndec", rows*heads*nsplit
	if grp := heads / kvHeads; nsplit > 1 && grp > 1 && b.groupedAttnFits(grp, hd) {
		// One workgroup per (row, kv head, chunk) for its grp query heads,
		// so the chunk's keys and values are read once, not grp times.
		name, groups, spec = "attndecg", rows*kvHeads*nsplit, []uint32{wgAttnDec, uint32(grp)}
		wmask &^= 1 << 0 // only attncomb writes o
		b.groupedAttns++
	}
	err := b.dispatch(name, spec, uint64(groups), []C.VkBuffer{o.h, q.h, kc.h, vc.h, k.h, v.h, part}, wmask,
		uint32(rows), uint32(pos0), uint32(heads), uint32(kvHeads), uint32(hd), fbits(scale), uint32(chunk), uint32(nsplit))
	if err != nil || nsplit == 1 {
		return err
	}
	return b.dispatch("attncomb", specHead, uint64(rows*heads), []C.VkBuffer{o.h, part}, 1<<0,
		uint32(rows), uint32(pos0), uint32(heads), uint32(hd), uint32(chunk), uint32(nsplit))
}

// convFold records the conv in the norm-fed matvec that wrote x (the
// Mamba-2 in_proj's xBC rows; matvec4nc) when that matvec is in the stage
// being recorded, nothing has read x since, and nothing in this stage has
// touched dst or the conv state: its subgroups then run each channel's
// conv as they finish the channel's row, and the conv needs no stage of
// its own. It reports whether it did.
func (b *Backend) convFold(dst, x, state C.VkBuffer, w, bias *weight, rows, ch int) (bool, error) {
	var mv mvCall
	for _, f := range b.fresh {
		if f.y == x {
			mv = f
		}
	}
	if b.noConvFold || mv.idx == 0 || !b.inStage(&mv) || mv.kind != mvNorm || mv.rows != rows || mv.n != ch ||
		dst == x || dst == state || state == x {
		return false, nil
	}
	for _, buf := range []C.VkBuffer{dst, state} {
		if b.read[buf] || b.written[buf] || slices.Contains(mv.bufs[:mv.nb], buf) {
			return false, nil
		}
	}
	pc := [10]uint32{}
	copy(pc[:], mv.pc[:mv.npc])
	pc[6], pc[7], pc[8], pc[9] = uint32(w.dt), w.so, uint32(bias.dt), bias.so
	bufs := [8]C.VkBuffer{mv.bufs[0], mv.bufs[1], mv.bufs[2], mv.bufs[3], state, w.h, bias.h, dst}
	b.stale(x)
	if err := b.recast(&mv, mvNames[mvNormConv][mv.dt], bufs[:], pc[:], bufs[4:7], []C.VkBuffer{state, dst}); err != nil {
		return false, err
	}
	return true, nil
}
