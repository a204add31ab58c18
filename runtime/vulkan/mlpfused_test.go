//go:build cgo

package vulkan

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/mmbformat/mmb/format"
)

// TestFusedMLP: the one-dispatch MLP block leaves h within the float32
// bound of the float64 reference (mlpCase.reference: the same bound the
// separate matvecs meet), at widths where the queues' last chunk is partly
// idle, with 1, 3 and many workgroups (one workgroup takes every chunk of
// both phases; several take them in turn), several blocks recorded back to
// back (the counters' bases carried from one to the next) — and the flush's
// check of the counters against what the dispatches must add passes.
func TestFusedMLP(t *testing.T) {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer b.Close()
	if !b.subgroup {
		t.Fatal("no subgroup arithmetic: the fused MLP needs it (lavapipe has it)")
	}
	r := rand.New(rand.NewPCG(21, 22))
	for _, groups := range []int{1, 3, 1024} {
		for _, kn := range [][2]int{{64, 40}, {96, 256}, {256, 136}} {
			c := mlpCase{dt: format.F16, rows: 1, k: kn[0], n: kn[1], norm: true}
			t.Run(fmt.Sprintf("%v groups %d", c, groups), func(t *testing.T) {
				b.mlp.groups = groups
				before := b.mlp.dispatches
				w := c.weights(t, b, r)
				_, _, _, _, want := c.reference(w)
				h := bufOf(t, b, w.h)
				for rep := 0; rep < 2; rep++ { // the same block twice: bases carried over
					ok, err := b.FusedMLP(h, w.gn, w.wg, w.wu, w.wd, c.k, c.n, mlpEps)
					mustOK(t, err)
					if !ok {
						t.Fatal("FusedMLP declined an f16 block")
					}
					got := make([]float32, c.k)
					mustOK(t, b.Read(got, h, 0))
					checkBounded(t, "h", got, want)
					mustOK(t, b.Write(h, 0, w.h))
				}
				if b.mlp.dispatches != before+2 {
					t.Errorf("%d fused dispatches, want 2", b.mlp.dispatches-before)
				}
			})
		}
	}
	// Shapes and dtypes it does not take: declined, nothing recorded.
	for _, c := range []mlpCase{{dt: format.F16, rows: 1, k: 64, n: 36, norm: true}, {dt: format.BF16, rows: 1, k: 64, n: 64, norm: true}} {
		w := c.weights(t, b, r)
		h := bufOf(t, b, w.h)
		mustOK(t, b.Sync())
		ok, err := b.FusedMLP(h, w.gn, w.wg, w.wu, w.wd, c.k, c.n, mlpEps)
		if ok || err != nil || len(b.cmds) != 0 {
			t.Errorf("%v: FusedMLP = %v, %v with %d commands recorded; want false, nil, none", c, ok, err, len(b.cmds))
		}
	}
}
