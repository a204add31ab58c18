//go:build cgo

package vulkan

/*
#include "glue.h"
*/
import "C"

import (
	"cmp"
	"fmt"
	"math"

	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
)

// attnORows is the number of output-projection rows per workgroup of the
// attention block (attno): 8 workgroups per head at hidden 2048.
const attnORows = 256

// attnONames are the attention block's shader names per weight dtype.
var attnONames = func() (n [8]string) {
	for dt, sfx := range dtSuffix {
		n[dt] = "attno_" + sfx
	}
	return
}()

// AttentionOut implements runtime.AttentionBlock for one decode row over a
// context short enough for the one-pass attention (attnOnePass): attndec's
// pass and the output projection with its residual add in one dispatch
// (attndec.comp OPROJ), one workgroup per (head, chunk of attnORows rows of
// o), each adding its rows' sums into h and into the MLP block's copy of h
// with float atomics. The copy is taken from h in the stage before (beside
// the q, k and v projections, which read h too), so that the MLP block that
// follows reads it without a copy of its own. Longer contexts, several rows
// or a device without float atomics: false, and the caller runs the ops.
func (b *Backend) AttentionOut(h, q, k, v, kCache, vCache rt.Buffer, o rt.Weight, rows, pos0, heads, kvHeads, headDim int) (bool, error) {
	if err := b.begin(); err != nil {
		return false, err
	}
	defer b.mu.Unlock()
	L := pos0 + rows
	if b.mlpF == 0 || b.noAttnO || rows != 1 || pos0 < 0 || L > b.attnOnePass || heads <= 0 || kvHeads <= 0 || heads%kvHeads != 0 ||
		headDim <= 0 || headDim > wgAttnOne || headDim%4 != 0 {
		return false, nil
	}
	w, ok, err := b.blockProj(o, "AttentionOut", "AttentionOut o", heads, headDim)
	if !ok || err != nil {
		return false, err
	}
	D, K := w.rows, w.cols
	if err := checkDims("AttentionOut", D, K, L); err != nil {
		return false, err
	}
	kvd := kvHeads * headDim
	hb, err := b.buf(h, "AttentionOut h", D)
	if err != nil {
		return false, err
	}
	qb, err := b.buf(q, "AttentionOut q", K)
	if err != nil {
		return false, err
	}
	kb, err := b.buf(k, "AttentionOut k", kvd)
	if err != nil {
		return false, err
	}
	vb, err := b.buf(v, "AttentionOut v", kvd)
	if err != nil {
		return false, err
	}
	kc, err := b.buf(kCache, "AttentionOut kCache", L*kvd)
	if err != nil {
		return false, err
	}
	vc, err := b.buf(vCache, "AttentionOut vCache", L*kvd)
	if err != nil {
		return false, err
	}
	snap, err := b.blockCopy(hb.h, D)
	if err != nil {
		return false, err
	}
	chunks := b.oprojChunks(D)
	scale := float32(1 / math.Sqrt(float64(headDim)))
	spec := b.oprojSpec(wgAttnOne, true, w.dt)
	err = b.dispatch(attnONames[w.dt], spec[:], uint64(heads*chunks), []C.VkBuffer{hb.h, qb.h, kc.h, vc.h, kb.h, vb.h, snap, w.h},
		1<<0|1<<2|1<<3|1<<6, 1, uint32(pos0), uint32(heads), uint32(kvHeads), uint32(headDim), fbits(scale), uint32(L), 1,
		uint32(D), uint32(chunks), w.so)
	if err != nil {
		return false, err
	}
	b.lastBlock = blockCall{idx: len(b.cmds), h: hb.h, n: D}
	return true, nil
}

// blockCall records the attention or SSM block dispatched last (idx:
// len(cmds) just after it): h and the MLP block's copy then hold the same n
// values, up to the order in which their atomic sums arrived.
type blockCall struct {
	idx int
	h   C.VkBuffer
	n   int
}

// blockProj returns an attention or SSM block's output projection, which
// must be [D, heads·headDim], and whether its dtype and head dim suit the
// block (attnOFits); op and what name the caller and the weight in errors
// (two constants: a concatenation would allocate on every call).
func (b *Backend) blockProj(out rt.Weight, op, what string, heads, headDim int) (*weight, bool, error) {
	w, err := b.wt(out, what, 0)
	if err != nil {
		return nil, false, err
	}
	if w.cols != heads*headDim {
		return nil, false, fmt.Errorf("vulkan: %s: out is [%d %d], want %d columns (%d heads of %d)", op, w.rows, w.cols, heads*headDim, heads, headDim)
	}
	return w, b.attnOFits(w.dt, headDim), nil
}

// blockCopy returns the MLP block's copy of h (D values) for an attention
// or SSM block to add into beside h, taken in the stage being recorded
// (beside the projections that read h too) by a compute copy (not a
// transfer: that would turn the stage's barriers into compute-and-transfer
// ones). Not folded into one of those projections: on the H200 that made
// decode slower, for Mamba layers in any projection (100 % Mamba 698
// against 711 tok/s in dt, 718 against 734 in z; session 6) and for the
// attention block's v projection in the 50 % Mamba model (868.6 against
// 882.4, 870.5 against 885.5; pure attention 951.9 against 949.2; session
// 7): bench/RESULTS.md.
func (b *Backend) blockCopy(h C.VkBuffer, D int) (C.VkBuffer, error) {
	snap, err := b.snapBuf(uint64(D) * 4)
	if err != nil {
		return 0, err
	}
	return snap, b.dispatch("copyf", specElem, ceilDiv(D, wgElem), []C.VkBuffer{snap, h}, 1<<0, uint32(D))
}

// oprojChunks is the number of row chunks of a block's output projection
// with D rows: workgroups per head.
func (b *Backend) oprojChunks(D int) int {
	return (D + b.attnORowsPer() - 1) / b.attnORowsPer()
}

// attnOFits reports whether a head's headDim columns of an output
// projection of dtype dt are whole 16-byte words, a power of two of them no
// more than a subgroup (the lanes that share a row), Q8_0 blocks whole.
func (b *Backend) attnOFits(dt format.DType, headDim int) bool {
	vw := mlpWordValues[dt]
	cw := headDim / vw
	return headDim%vw == 0 && cw&(cw-1) == 0 && cw <= b.dev.SubgroupSize && (dt != format.Q8_0 || headDim%format.Q8Block == 0)
}

func (b *Backend) attnORowsPer() int {
	if b.attnORows > 0 {
		return b.attnORows
	}
	return attnORows
}

// snapBuf returns the MLP block's copy of h, at least size bytes.
func (b *Backend) snapBuf(size uint64) (C.VkBuffer, error) {
	if b.mlpSnap.bytes < size {
		// The old buffer may still be bound by recorded commands; it is
		// freed at Close with the others.
		nb, err := b.newDevBuf(max(size, 64<<10))
		if err != nil {
			return 0, err
		}
		b.mlpSnap = nb
	}
	return b.mlpSnap.h, nil
}

// oprojRound: output-projection words per lane in flight in the attention
// and SSM blocks (oproj.glsl's OU), 8 (one round for a 256-row chunk of f16
// at head dim 64) and 4 for Q8_0 (one round there: 16 values a word). On
// the H200 (BenchmarkDecodeKnobs in bench/gpu/eval9/eval9.txt), in decode
// tokens/s against one word at a time: f16 pure attention 765 against 751,
// 100 % Mamba 698 against 670; Q8_0 823 at 4 words, 793 at 8, 817 at 1.
const (
	oprojRound   = 8
	oprojRoundQ8 = 4
	// attnKeyRound: a position's key words (16 bytes) that attndec loads
	// before it uses any: 8, half of a 64-wide head.
	attnKeyRound = 8
)

// oprojSpec is the specialisation constants of a dispatch that ends in
// oproj.glsl with weights of dtype dt: the workgroup size, attndec's
// VALUES4, the words per lane in flight, attndec's key words in flight
// (ssmo.comp ignores the second and the fourth).
func (b *Backend) oprojSpec(wg uint32, values4 bool, dt format.DType) [4]uint32 {
	var v uint32
	if values4 {
		v = 1
	}
	u := oprojRound
	if dt == format.Q8_0 {
		u = oprojRoundQ8
	}
	return [4]uint32{wg, v, uint32(cmp.Or(b.oprojU, u)), b.attnKeyWords()}
}

// attnKeyWords is attndec's KU: a position's key words in flight.
func (b *Backend) attnKeyWords() uint32 { return uint32(cmp.Or(b.attnKU, attnKeyRound)) }
