//go:build cgo

package vulkan

/*
#include "glue.h"
*/
import "C"

// The chunked Mamba-2 scan for prefill (DESIGN.md §4 "Prefill"). The
// sequential ssmscan.comp walks the tokens one after another, with only
// heads·headDim workgroups in flight; the chunked form splits the tokens into
// chunks of Q, does the work inside each chunk in parallel as small matrix
// products, and leaves only a short walk over chunks:
//
//	ssmchunk_local  (chunk, head):  intra-chunk outputs y, the chunk's state from
//	                                zero (SL) and exp(Λ_t) per token (decay)
//	ssmchunk_pass   state element:  S_c = exp(Λ_end,c)·S_{c−1} + SL_c over the
//	                                chunks; SL_c is replaced by S_{c−1}
//	ssmchunk_out    (chunk, head):  y_t += exp(Λ_t)·(S_{c−1}·C_t)

const (
	// ssmChunkLen is Q: one 64-row tile of the shaders (their QMAX; shorter
	// chunks are allowed, for tests). The intra-chunk work per token grows
	// with Q while the sequential walk shrinks with it; 64 is the usual
	// choice of Mamba-2 kernels for head dims of 64 to 128.
	ssmChunkLen = 64
	// ssmChunkMinRows: SSMScan takes the chunked path from two chunks on.
	// The sequential scan costs about one workgroup reduction (a barrier
	// per level) per token, in series; the chunked one three dispatches and
	// two barriers, then about twice the arithmetic per token (Q·N for C·Bᵀ,
	// Q·P for W·X, 2·P·N for the states, against 2·P·N) done in parallel, on
	// only heads workgroups per chunk. A rough GPU estimate (0.3-0.6 µs per
	// sequential step, ~5 µs per dispatch) puts the break-even near one chunk;
	// two chunks leave margin for the estimate and give the chunk-parallel
	// steps ≥ 2·heads workgroups. Not measured on a GPU (lavapipe, where
	// barriers are dear, has the chunked form ahead from 16 tokens on), so
	// a candidate for tuning. Decode (rows 1) and short prompts stay
	// sequential.
	ssmChunkMinRows = 2 * ssmChunkLen
	// ssmChunkShared is the shared memory ssmchunk_local declares: its
	// 64×65 weight tile, two 16×65 staging tiles and three 64-float vectors
	// (QMAX, KT, LD in ssmchunk.glsl). Devices with less (the Vulkan minimum
	// is 16 KB) keep the sequential scan.
	ssmChunkShared = (64*65 + 2*16*65 + 3*64) * 4
)

// ssmChunk is the chunked scan's per-backend state (Backend.ssm).
type ssmChunk struct {
	// mode: tests force either form; ssmAuto picks by rows.
	mode int
	// q overrides ssmChunkLen when > 0 (tests: short chunks, many of them).
	q int
	// probed says fits is known: whether the device has the shared memory.
	probed, fits bool
	// runs counts chunked scans recorded, so tests can see the path taken.
	runs int
	// states holds SL (then S_{c−1}) per (chunk, head), heads·P·N each;
	// decay holds exp(Λ_t) per (token, head). Both grow by doubling and are
	// reused: the backend's hazard tracking orders successive scans'
	// accesses, and a replaced buffer that recorded commands still use is
	// freed at Close with the others.
	states, decay devBuf
}

const (
	ssmAuto = iota
	ssmSequential
	ssmChunked
)

// ssmUseChunked says whether a scan of rows tokens takes the chunked path.
func (b *Backend) ssmUseChunked(rows int) bool {
	s := &b.ssm
	if s.mode == ssmSequential || (s.mode == ssmAuto && rows < ssmChunkMinRows) {
		return false
	}
	if !s.probed {
		s.probed = true
		if _, ci, err := deviceInfo(b.dev.Index); err == nil {
			s.fits = ci.max_shared >= ssmChunkShared
		}
	}
	return s.fits
}

// ssmScratch returns a device buffer of at least n floats, grown by doubling.
func (b *Backend) ssmScratch(d *devBuf, n int) (C.VkBuffer, error) {
	need := uint64(n) * 4
	if d.bytes < need {
		nb, err := b.newDevBuf(max(need, 2*d.bytes, 1<<16))
		if err != nil {
			return 0, err
		}
		*d = nb
	}
	return d.h, nil
}

// ssmScanChunked records the three dispatches; the arguments are checked by
// SSMScan.
func (b *Backend) ssmScanChunked(y, xbc, dt, state *buffer, a, dtb, ds *weight, rows, heads, kvHeads, hd int) error {
	q := ssmChunkLen
	if b.ssm.q > 0 {
		q = min(b.ssm.q, ssmChunkLen)
	}
	nc := (rows + q - 1) / q
	if err := checkDims("SSMScan", nc, heads, hd, hd); err != nil {
		return err
	}
	if err := checkDims("SSMScan", rows, heads); err != nil {
		return err
	}
	states, err := b.ssmScratch(&b.ssm.states, nc*heads*hd*hd)
	if err != nil {
		return err
	}
	decay, err := b.ssmScratch(&b.ssm.decay, rows*heads)
	if err != nil {
		return err
	}
	b.ssm.runs++
	groups := uint64(nc * heads)
	if err := b.dispatch("ssmchunk_local", nil, groups, []C.VkBuffer{y.h, xbc.h, dt.h, states, decay, a.h, dtb.h, ds.h}, 1<<0|1<<3|1<<4,
		uint32(rows), uint32(heads), uint32(kvHeads), uint32(hd), uint32(q),
		uint32(a.dt), a.so, uint32(dtb.dt), dtb.so, uint32(ds.dt), ds.so); err != nil {
		return err
	}
	if err := b.dispatch("ssmchunk_pass", specElem, ceilDiv(heads*hd*hd, wgElem), []C.VkBuffer{state.h, states, decay}, 1<<0|1<<1,
		uint32(rows), uint32(heads), uint32(hd), uint32(q)); err != nil {
		return err
	}
	return b.dispatch("ssmchunk_out", nil, groups, []C.VkBuffer{y.h, xbc.h, states, decay}, 1<<0,
		uint32(rows), uint32(heads), uint32(kvHeads), uint32(hd), uint32(q))
}
