//go:build cgo

package vulkan

/*
#include "glue.h"
*/
import "C"

import rt "github.com/mmbformat/mmb/runtime"

const (
	wgSSMO = 256 // ssmo.comp's workgroup size
	// ssmoMaxHeadDim is ssmo.comp's MAXHD: a head's state words' partial
	// sums in shared memory (16 KB).
	ssmoMaxHeadDim = 128
)

// ssmoNames are the SSM block's shader names per out_proj dtype.
var ssmoNames = func() (n [8]string) {
	for dt, sfx := range dtSuffix {
		n[dt] = "ssmo_" + sfx
	}
	return
}()

// SSMOut implements runtime.SSMBlock for one decode row: the scan step, the
// gated norm and the output projection with its residual add in one
// dispatch (ssmo.comp), one workgroup per (head, chunk of attnORows rows of
// out), each adding its rows' sums into h and into the MLP block's copy of
// h with float atomics, as the attention block does. The copy is taken
// beside the in_proj matvecs, in the stage before. Several rows (the
// chunked scan serves them), a head dim past ssmoMaxHeadDim or not a
// multiple of 4, or a device without float atomics: false, and the caller
// runs the ops.
func (b *Backend) SSMOut(h, xbc, dt, z, state rt.Buffer, aNeg, dtBias, dSkip, gnorm, out rt.Weight, rows, heads, kvHeads, headDim int, eps float32) (bool, error) {
	if err := b.begin(); err != nil {
		return false, err
	}
	defer b.mu.Unlock()
	if b.mlpF == 0 || b.noSSMO || rows != 1 || heads <= 0 || kvHeads <= 0 || heads%kvHeads != 0 ||
		headDim <= 0 || headDim > ssmoMaxHeadDim || headDim%4 != 0 {
		return false, nil
	}
	w, ok, err := b.blockProj(out, "SSMOut", "SSMOut out", heads, headDim)
	if !ok || err != nil {
		return false, err
	}
	n, D := heads*headDim, w.rows
	if err := checkDims("SSMOut", D, n, headDim); err != nil {
		return false, err
	}
	// Bindings: h, its copy, out, xbc, dt, state, z, the counters, A,
	// dtBias, D and the norm weight.
	var bufs [12]C.VkBuffer
	for _, a := range [...]struct {
		i    int
		buf  rt.Buffer
		what string
		n    int
	}{{0, h, "SSMOut h", D}, {3, xbc, "SSMOut xbc", 2*kvHeads*headDim + n}, {4, dt, "SSMOut dt", heads},
		{5, state, "SSMOut state", n * headDim}, {6, z, "SSMOut z", n}} {
		bb, err := b.buf(a.buf, a.what, a.n)
		if err != nil {
			return false, err
		}
		bufs[a.i] = bb.h
	}
	var ws [4]*weight
	for i, a := range [...]struct {
		w    rt.Weight
		what string
		n    int
	}{{aNeg, "SSMOut A", heads}, {dtBias, "SSMOut dtBias", heads}, {dSkip, "SSMOut D", heads}, {gnorm, "SSMOut norm", n}} {
		if ws[i], err = b.wt(a.w, a.what, a.n); err != nil {
			return false, err
		}
		bufs[8+i] = ws[i].h
	}
	if b.ssmCount.bytes < uint64(heads)*4 {
		// Zeros from the start; each dispatch leaves them so.
		if b.ssmCount, err = b.newDevBuf(uint64(max(heads, 256)) * 4); err != nil {
			return false, err
		}
		b.fill(b.ssmCount.h, 0, b.ssmCount.bytes, 0)
	}
	snap, err := b.blockCopy(bufs[0], D)
	if err != nil {
		return false, err
	}
	bufs[1], bufs[2], bufs[7] = snap, w.h, b.ssmCount.h
	chunks := b.oprojChunks(D)
	a, dtb, ds, nw := ws[0], ws[1], ws[2], ws[3]
	spec := b.oprojSpec(wgSSMO, false, w.dt)
	err = b.dispatch(ssmoNames[w.dt], spec[:], uint64(heads*chunks), bufs[:], 1<<0|1<<1|1<<5|1<<7,
		uint32(D), uint32(heads), uint32(kvHeads), uint32(headDim), uint32(chunks), w.so, fbits(eps),
		uint32(a.dt), a.so, uint32(dtb.dt), dtb.so, uint32(ds.dt), ds.so, uint32(nw.dt), nw.so)
	if err != nil {
		return false, err
	}
	b.lastBlock = blockCall{idx: len(b.cmds), h: bufs[0], n: D}
	return true, nil
}
