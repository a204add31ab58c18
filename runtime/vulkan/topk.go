//go:build cgo

package vulkan

/*
#include "glue.h"
*/
import "C"

import (
	"fmt"

	rt "github.com/mmbformat/mmb/runtime"
)

// topKSpec is topk.comp's workgroup size and sort size S for k kept: S the
// largest power of two up to 2048 whose candidates fit in shared memory (at
// least 2k), and as many invocations as the device allows, up to one per
// compare of a sorting stage (the last pass is one workgroup's sort).
func (b *Backend) topKSpec(k int) ([2]uint32, error) {
	S := 2048
	for S > 2*k && 8*S > b.maxShared {
		S /= 2
	}
	if S < 2*k || 8*S > b.maxShared {
		return [2]uint32{}, fmt.Errorf("vulkan: TopK: k %d needs %d bytes of shared memory, the device has %d", k, 16*k, b.maxShared)
	}
	return [2]uint32{uint32(min(b.maxWG, S/2)), uint32(S)}, nil
}

// topKMax bounds TopK's k: each pass must keep at most half of a sort.
const topKMax = 256

var _ rt.TopKer = (*Backend)(nil)

// TopK implements runtime.TopKer with topk.comp: groups of up to S
// candidates sorted in shared memory (S the largest power of two up to 2048
// that fits), each keeping its best k, pass after pass until one group is
// left (a 128k vocabulary: 63 groups, then one).
func (b *Backend) TopK(dst, x rt.Buffer, n, k int) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	if n < 1 || n > 1<<24 || k < 1 || k > min(n, topKMax) {
		return fmt.Errorf("vulkan: TopK of %d values, k %d: want 1 ≤ k ≤ min(n, %d), n ≤ 2^24", n, k, topKMax)
	}
	d, err := b.buf(dst, "TopK dst", 2*k)
	if err != nil {
		return err
	}
	xb, err := b.buf(x, "TopK x", n)
	if err != nil {
		return err
	}
	spec, err := b.topKSpec(k)
	if err != nil {
		return err
	}
	S := int(spec[1])
	groups := (n + S - 1) / S
	if need := uint64(4 * 2 * 2 * groups * k); b.topPart.bytes < need { // two ping-pong halves of groups·k pairs
		nb, err := b.newDevBuf(max(need, 1<<16))
		if err != nil {
			return err
		}
		b.topPart = nb
	}
	half := uint32(2 * groups * k) // floats per ping-pong half
	src, srcOff, cand, pairs := xb.h, uint32(0), n, uint32(0)
	for pass := 0; ; pass++ {
		g := (cand + S - 1) / S
		if g == 1 {
			return b.dispatch("topk", spec[:], 1, []C.VkBuffer{d.h, src}, 1<<0,
				uint32(cand), uint32(S), uint32(k), pairs, 1, srcOff, 0)
		}
		out := uint32(pass%2) * half
		if err := b.dispatch("topk", spec[:], uint64(g), []C.VkBuffer{b.topPart.h, src}, 1<<0,
			uint32(cand), uint32(S), uint32(k), pairs, 0, srcOff, out); err != nil {
			return err
		}
		src, srcOff, cand, pairs = b.topPart.h, out, g*k, 1
	}
}
