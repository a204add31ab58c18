//go:build cgo

package vulkan

/*
#include "glue.h"
*/
import "C"

import (
	"math"

	"github.com/mmbformat/mmb/format"
)

// The cooperative-matrix (tensor-core) path for prefill: coopmm2.comp for
// matmuls of f16 and Q8_0 weights (K % 32 == 0, as every real width is), and
// attncm.comp for causal attention, all on 16×16×16 fp16 matrices summing in
// fp32 (VK_NV_cooperative_matrix; Debian's glslc compiles the NV extension,
// not yet the KHR one). Operands are rounded to f16 (coopmm2 as it stages
// them, tof16.comp before attncm): activations carry 11
// significant bits there instead of 24, which is why small batches (decode,
// short prompts) stay on the fp32 shaders and Options.NoCoopMatrix turns it
// off.

// coopMinRows is the fewest token rows that take the cooperative path: below
// a 64-row tile most of each fragment would be padding.
const coopMinRows = 64

// useCoopMatmul says whether a matmul of rows token rows by wt runs on the
// matrix units (matmulCoop).
func (b *Backend) useCoopMatmul(wt *weight, rows int) bool {
	return b.coopmat && (wt.dt == format.F16 || wt.dt == format.Q8_0) && rows >= coopMinRows && wt.cols%32 == 0 && wt.rows%64 == 0
}

// scratch returns *d grown (by doubling) to at least need bytes; a buffer it
// replaces may still be read by recorded commands and is freed at Close.
func (b *Backend) scratch(d *devBuf, need uint64) (C.VkBuffer, error) {
	if d.bytes < need {
		nb, err := b.newDevBuf(max(need, 2*d.bytes, 1<<20))
		if err != nil {
			return 0, err
		}
		*d = nb
	}
	return d.h, nil
}

// toF16 records tof16: dst holds the first rows rows of width w (even) of
// src in f16, then zero rows up to pad.
func (b *Backend) toF16(dst, src C.VkBuffer, rows, pad, w int) error {
	n := pad * w / 2
	return b.dispatch("tof16", specElem, ceilDiv(n, wgElem), []C.VkBuffer{dst, src}, 1<<0,
		uint32(rows), uint32(pad), uint32(w))
}

func (b *Backend) matmulCoop(d, xb *buffer, wt *weight, rows int) error {
	mb := ceilDiv(rows, 128)
	pre := "coopmm2_"
	if wt.dt == format.Q8_0 {
		pre = "coopmm2_q8_" // quants dequantised to f16 as they are staged
	}
	name, bn := pre+"n128", 128
	// Narrow tiles when wide ones would leave SMs idle (or do not divide N).
	if wt.rows%128 != 0 || uint64(wt.rows/128)*mb < 264 {
		name, bn = pre+"n64", 64
	}
	return b.dispatch3(name, nil, uint32(wt.rows/bn), uint32(mb), []C.VkBuffer{wt.h, xb.h, d.h}, 1<<2,
		uint32(rows), uint32(wt.cols), uint32(wt.rows), wt.so)
}

// useCoopAttention says whether a prefill attention of rows rows runs on attncm
// (head dims of 64 and 128; 128 needs the full 48 KB of shared memory).
func (b *Backend) useCoopAttention(rows, headDim int) bool {
	return b.coopmat && rows >= coopMinRows && (headDim == 64 || headDim == 128 && b.maxShared >= 48<<10)
}

// attentionCoop runs attncm over the first pos0+rows cache positions (the new
// rows are already in the caches). The caches are converted to f16 whole at
// each call (about 10 µs for 4096 positions of 8 kv heads on an H200), so
// that no f16 copy can go stale whatever wrote the caches in between.
func (b *Backend) attentionCoop(o, q, kc, vc *buffer, rows, pos0, heads, kvHeads, hd int, scale float32) error {
	L := pos0 + rows
	kvd := kvHeads * hd
	pad := int(ceilDiv(L, 64)) * 64
	k16, err := b.scratch(&b.k16, uint64(pad*kvd)*2)
	if err != nil {
		return err
	}
	v16, err := b.scratch(&b.v16, uint64(pad*kvd)*2)
	if err != nil {
		return err
	}
	if err := b.toF16(k16, kc.h, L, pad, kvd); err != nil {
		return err
	}
	if err := b.toF16(v16, vc.h, L, pad, kvd); err != nil {
		return err
	}
	name := "attncm"
	if hd == 128 {
		name = "attncm128"
	}
	return b.dispatch3(name, nil, uint32(heads), uint32(ceilDiv(rows, 64)), []C.VkBuffer{o.h, q.h, k16, v16}, 1<<0,
		uint32(rows), uint32(pos0), uint32(heads), uint32(kvHeads), fbits(scale*math.Log2E))
}

// coopPrefillChunk: prefill passes of 2048 rows keep the matrix units busy
// on the small projections (k and v of a 1B model are 512 wide: 4×16
// workgroups at 2048 rows, 4×4 at 512); on an H200 a 4096-token prefill of
// the 1B model ran at 15.7k tok/s in 2048-row passes against 12.4k in 512
// (bench/RESULTS.md). The scratch this needs is ~4 × 2048 × ffn floats.
const coopPrefillChunk = 2048

// PrefillChunk implements runtime.PrefillChunker: longer passes where the
// cooperative-matrix path is on, the runtime's default elsewhere.
func (b *Backend) PrefillChunk() int {
	if b.coopmat {
		return coopPrefillChunk
	}
	return 0
}
