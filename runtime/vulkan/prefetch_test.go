//go:build cgo

package vulkan

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/backendtest"
	"github.com/mmbformat/mmb/runtime/internal/hfref"
)

// TestPrefetchDecodeStep: with prefetch on, every layer of a decode step
// records prefetches of the weights of the ops after its attention or conv
// in that op's stage (no barrier added), and the logits are bit for bit
// those without (a prefetch only reads). lavapipe has no cache to warm:
// this checks the recording and, under scripts/vkvalidate.sh, that the
// prefetches race with nothing.
func TestPrefetchDecodeStep(t *testing.T) {
	for _, name := range hfref.Fixtures {
		t.Run(name, func(t *testing.T) {
			path := hfref.Convert(t, filepath.Join(fixtures, name), 0)
			var logits [2][]float32
			var cmds [2][]string
			var total [2]uint64
			layers := 0
			for i, budget := range []uint64{1 << 20, 0} {
				b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
				b.pf.budget = budget
				sp := &cmdSpy{Backend: b}
				m := openOn(t, path, sp, rt.Options{})
				layers = m.Config.NumLayers
				s, err := m.NewSession()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.Prefill([]int{3, 1, 4, 1, 5, 9, 2, 6}); err != nil {
					t.Fatal(err)
				}
				pre := b.pf.total
				lg, err := s.Step(5)
				if err != nil {
					t.Fatal(err)
				}
				logits[i], cmds[i], total[i] = slices.Clone(lg), sp.cmds, b.pf.total-pre
			}
			on, off := cmds[0], cmds[1]
			if got := countCmd(on, "prefetch"); got != 3*layers {
				t.Errorf("%d prefetches for %d layers, want 3 each:\n%v", got, layers, on)
			}
			if countCmd(off, "prefetch") != 0 || total[1] != 0 {
				t.Errorf("budget 0: %d prefetches, %d bytes", countCmd(off, "prefetch"), total[1])
			}
			if total[0] == 0 {
				t.Error("no bytes prefetched")
			}
			if got, want := countCmd(on, "|"), countCmd(off, "|"); got != want {
				t.Errorf("%d barriers with prefetch, %d without", got, want)
			}
			for i, c := range on {
				if c != "prefetch" {
					continue
				}
				j := i - 1
				for j >= 0 && on[j] == "prefetch" {
					j--
				}
				if j < 0 || (on[j] != "attndec" && on[j] != "attndecg" && on[j] != "conv1d") {
					t.Fatalf("prefetch at %d follows %q, not the attention or conv of its stage:\n%v", i, on[max(j, 0)], on)
				}
			}
			if !slices.Equal(logits[0], logits[1]) {
				t.Error("logits with prefetch differ from those without")
			}
		})
	}
}

// TestPrefetchRanges: the budget is shared evenly in order, a weight smaller
// than its share leaving the rest to the next, and every range stays inside
// its weight (for Q8_0, the same fraction of quants and of scales).
func TestPrefetchRanges(t *testing.T) {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer b.Close()
	up := func(dt format.DType, rows, cols int) rt.Weight {
		v := make([]float32, rows*cols)
		for i := range v {
			v[i] = float32(i%7) - 3
		}
		data, _ := backendtest.EncodeWeight(dt, rows, cols, v)
		w, err := b.Upload("w", dt, rows, cols, data)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	small := up(format.F16, 8, 64)  // 1 KiB
	big := up(format.F16, 256, 256) // 128 KiB
	q8 := up(format.Q8_0, 256, 256) // 64 KiB quants, 4 KiB scales
	b.pf.budget = 64 << 10
	b.mu.Lock()
	b.stages++ // a stage of its own
	b.mu.Unlock()
	if err := b.Prefetch([]rt.Weight{small, big, q8}); err != nil {
		t.Fatal(err)
	}
	var got [][4]uint32
	for i, name := range b.recorded() {
		if c := b.cmds[i]; name == "prefetch" {
			got = append(got, [4]uint32{uint32(c.pc[0]), uint32(c.pc[1]), uint32(c.pc[2]), uint32(c.pc[3])})
		}
	}
	// small: all 64 words; the rest (63 KiB) halves: big 31.5 KiB = 2016
	// words; q8 the other 2016 words' worth: 2016·64/68 quant words (1897)
	// and the same fraction of the 256 scale words (118.6, rounded up).
	want := [][4]uint32{{0, 64, 0, 0}, {0, 2016, 0, 0}, {0, 1897, 4096, 119}}
	if !slices.Equal(got, want) {
		t.Errorf("ranges (off1, n1, off2, n2 in 16-byte words) %v, want %v", got, want)
	}
	if b.pf.used > b.pf.budget {
		t.Errorf("%d bytes prefetched over a budget of %d", b.pf.used, b.pf.budget)
	}
	// The stage's budget is spent: a second call in it records nothing.
	n := len(b.cmds)
	if err := b.Prefetch([]rt.Weight{big}); err != nil {
		t.Fatal(err)
	}
	if len(b.cmds) != n {
		t.Errorf("a spent stage recorded %d more commands", len(b.cmds)-n)
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
}
