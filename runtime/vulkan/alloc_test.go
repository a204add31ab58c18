//go:build cgo

package vulkan

import (
	"path/filepath"
	"testing"

	rt "github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/internal/hfref"
)

// A decode step records its commands without Go allocations once the
// pipelines and descriptor sets exist (issue 6: nothing allocated per token),
// read back by the host (StepArgmax) or queued with its token fed on the
// device (Greedy), or ranked for a top-k sampler (StepTopK); nor does it
// create pipelines or descriptor sets.
func TestDecodeAllocs(t *testing.T) {
	// Every fixture: the Mamba-2 layers (conv fold) and the attention block
	// take paths of their own.
	for _, name := range hfref.Fixtures {
		t.Run(name, func(t *testing.T) {
			b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
			m := openOn(t, hfref.Convert(t, filepath.Join(fixtures, name), 0), b, rt.Options{})
			s, err := m.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Prefill([]int{1, 2, 3}); err != nil {
				t.Fatal(err)
			}
			id := 4
			step := func() {
				next, err := s.StepArgmax(id)
				if err != nil {
					t.Fatal(err)
				}
				id = next
			}
			step() // first use of every decode pipeline and descriptor set
			if allocs := testing.AllocsPerRun(20, step); allocs != 0 {
				t.Errorf("StepArgmax allocates %.1f times per token", allocs)
			}
			emit := func(tok int) bool { id = tok; return true }
			greedy := func() {
				if err := s.Greedy(id, 8, emit); err != nil {
					t.Fatal(err)
				}
			}
			greedy() // first use of embedf and the feed's readback
			pipes, sets := len(b.pipes), len(b.sets)
			if allocs := testing.AllocsPerRun(4, greedy); allocs != 0 {
				t.Errorf("Greedy of 8 tokens allocates %.1f times", allocs)
			}
			topk := func() {
				if _, ids, err := s.StepTopK(id, 41); err != nil {
					t.Fatal(err)
				} else {
					id = ids[1]
				}
			}
			topk() // first use of topk.comp
			pipes, sets = len(b.pipes), len(b.sets)
			if allocs := testing.AllocsPerRun(10, topk); allocs != 0 {
				t.Errorf("StepTopK allocates %.1f times per token", allocs)
			}
			step()
			if len(b.pipes) != pipes || len(b.sets) != sets {
				t.Errorf("decode steps made %d pipelines and %d descriptor sets after the first", len(b.pipes)-pipes, len(b.sets)-sets)
			}
		})
	}
}
