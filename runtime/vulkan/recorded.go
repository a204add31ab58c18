//go:build cgo

package vulkan

/*
#include "glue.h"
*/
import "C"

// recorded names the commands recorded since the last flush, in order: a
// dispatch by its shader variant, a barrier as "|", anything else as
// "other". Tests use it to see which fusions a sequence of ops took.
func (b *Backend) recorded() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	names := map[C.VkPipeline]string{}
	for k, p := range b.pipes {
		names[p] = k.name
	}
	out := make([]string, 0, len(b.cmds))
	for _, c := range b.cmds {
		switch c.kind {
		case C.MMB_CMD_DISPATCH:
			out = append(out, names[C.VkPipeline(c.pipeline)])
		case C.MMB_CMD_BARRIER:
			out = append(out, "|")
		default:
			out = append(out, "other")
		}
	}
	return out
}
