//go:build cgo

package vulkan

import (
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/backendtest"
	"github.com/mmbformat/mmb/runtime/internal/hfref"
)

// Chained stages are on only for NVIDIA GPUs; these tests force them on.
// lavapipe does not launch workgroups in order (chainState.keepBarriers), so
// there the chained barriers are also recorded as real ones: the tests then
// check the chained shaders' results and the counts and targets (a target
// beyond what the stage before adds times out and fails the flush), and
// which barriers a step would drop. On a device that launches in order
// (chainOrdered: NVIDIA) the waits are real. They are left out of
// scripts/vkvalidate.sh: the validation layer cannot see a counter
// dependency and reports each as a hazard.

func newChained(t *testing.T) *Backend {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	b.chain.on = true
	b.chain.keepBarriers = !chainOrdered(b.dev)
	return b
}

// TestChainedConformance: the conformance suite with chained stages.
func TestChainedConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) rt.Backend { return newChained(t) })
}

// TestChainedConformanceSplit: the same with rows split over 3 subgroups,
// launched as 3 workgroups (the split's shared-memory sums and the grid
// stride loop in the chained variants).
func TestChainedConformanceSplit(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) rt.Backend {
		b := newChained(t)
		b.mvSplit, b.mvCap = 3, smallCap
		return b
	})
}

// TestChainedDecodeStep: a decode step of each fixture with chained stages
// gives bit for bit the logits of the step without (the chained shaders
// compute the same sums), every matvec runs in its chained form, and the
// step records fewer barriers: none between two matvec stages.
func TestChainedDecodeStep(t *testing.T) {
	for _, name := range hfref.Fixtures {
		t.Run(name, func(t *testing.T) {
			path := hfref.Convert(t, filepath.Join(fixtures, name), 0)
			var logits [2][]float32
			var cmds [2][]string
			soft, kept := 0, false
			for i, on := range []bool{true, false} {
				b := newChained(t)
				b.chain.on = on
				sp := &cmdSpy{Backend: b}
				m := openOn(t, path, sp, rt.Options{})
				s, err := m.NewSession()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.Prefill([]int{3, 1, 4, 1, 5, 9, 2, 6}); err != nil {
					t.Fatal(err)
				}
				b.chain.softs = 0
				lg, err := s.Step(5)
				if err != nil {
					t.Fatal(err)
				}
				logits[i], cmds[i] = slices.Clone(lg), sp.cmds
				if on {
					soft, kept = b.chain.softs, b.chain.keepBarriers
				}
			}
			on, off := cmds[0], cmds[1]
			mv, plainMV := 0, 0
			for _, c := range on {
				if strings.HasPrefix(c, "matvec4") {
					if chainName(c) {
						mv++
					} else {
						plainMV++
					}
				}
			}
			if mv == 0 || plainMV != 0 {
				t.Errorf("%d chained and %d plain matvec4 dispatches: want all chained:\n%v", mv, plainMV, on)
			}
			bOn, bOff := countCmd(on, "|"), countCmd(off, "|")
			want := bOff - soft
			if kept {
				want = bOff
			}
			if soft == 0 || bOn != want {
				t.Errorf("%d barriers chained, %d without, %d chained barriers (real ones kept: %v)", bOn, bOff, soft, kept)
			}
			t.Logf("barriers: %d chained (%d of them counters), %d without; %d chained matvecs", bOn, soft, bOff, mv)
			if !slices.Equal(logits[0], logits[1]) {
				worst, at := 0.0, 0
				for i := range logits[0] {
					if d := math.Abs(float64(logits[0][i] - logits[1][i])); d > worst || math.IsNaN(d) {
						worst, at = d, i
					}
				}
				t.Errorf("chained logits differ from those without: largest difference %g at %d (%g vs %g)", worst, at, logits[0][at], logits[1][at])
			}
		})
	}
}

// TestChainedTimeout: a wait that its stage before can never satisfy gives
// up after its poll limit and the flush reports ErrChainTimeout.
func TestChainedTimeout(t *testing.T) {
	b := newChained(t)
	defer b.Close()
	b.chain.spin = 1000
	up := func(rows, cols int) rt.Weight {
		v := make([]float32, rows*cols)
		data, _ := backendtest.EncodeWeight(format.F16, rows, cols, v)
		w, err := b.Upload("w", format.F16, rows, cols, data)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	w1, w2 := up(64, 64), up(64, 64)
	x, _ := b.Alloc(64)
	y, _ := b.Alloc(64)
	z, _ := b.Alloc(64)
	if err := b.Sync(); err != nil { // the allocations' fills: a stage of copies
		t.Fatal(err)
	}
	if err := b.MatMul(y, x, w1, 1); err != nil {
		t.Fatal(err)
	}
	// The stage of the next matvec waits for this one's count, which is
	// made to look a million workgroups short.
	b.chain.cum[b.chain.stage%chainSlots] += 1 << 20
	if err := b.MatMul(z, y, w2, 1); err != nil {
		t.Fatal(err)
	}
	if got := countCmd(b.recorded(), "|"); got != 0 && !b.chain.keepBarriers {
		t.Fatalf("%d barriers between the chained matvecs", got)
	}
	if err := b.Sync(); !errors.Is(err, ErrChainTimeout) {
		t.Fatalf("Sync = %v, want ErrChainTimeout", err)
	}
}
