//go:build cgo

package vulkan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/backendtest"
	"github.com/mmbformat/mmb/runtime/internal/hfref"
)

// runBlock records c as one MLP op on b (mlpF features per workgroup) and
// returns h and the commands recorded. With resid, h is first written by a
// residual matvec (a projection of zeros added to h, as the attention
// output's is), which then also stores the copy the block reads; without,
// h comes from the host and the block copies it.
func (c mlpCase) runBlock(t *testing.T, b *Backend, w mlpWeights, mlpF int, resid bool) ([]float32, []string, bool) {
	t.Helper()
	b.mlpF = mlpF
	h := bufOf(t, b, w.h)
	data, _ := backendtest.EncodeWeight(c.dt, c.k, c.k, uniformVals(rand.New(rand.NewPCG(1, 2)), c.k*c.k, 1))
	wo, err := b.Upload("o", c.dt, c.k, c.k, data)
	mustOK(t, err)
	zeros, tmp := bufOf(t, b, make([]float32, c.rows*c.k)), bufOf(t, b, make([]float32, c.rows*c.k))
	mustOK(t, b.Sync()) // only the block's commands are pending below
	if resid {
		mustOK(t, b.MatMul(tmp, zeros, wo, c.rows))
		mustOK(t, b.Add(h, tmp, c.rows*c.k))
	}
	fused, err := b.MLP(h, w.gn, w.wg, w.wu, w.wd, c.rows, mlpEps)
	mustOK(t, err)
	cmds := b.recorded()
	got := make([]float32, c.rows*c.k)
	mustOK(t, b.Read(got, h, 0))
	return got, cmds, fused
}

// TestMLPBlock: the one-dispatch MLP block matches the float64 reference
// within float32 rounding for every weight dtype, 1 to 8 token rows, ffn
// widths that leave the last workgroup's features partly past the end, and
// 16, 32 and 64 features per workgroup; where the residual matvec wrote h it
// stores the block's copy in the same stage (no barrier, no copy between),
// and otherwise a copy command makes it. Shapes the block cannot serve are
// refused with nothing recorded.
func TestMLPBlock(t *testing.T) {
	b := blockBackend(t, "MLP block")
	r := rand.New(rand.NewPCG(21, 22))
	var cases []mlpCase
	for _, dt := range []format.DType{format.F32, format.F16, format.BF16, format.Q8_0} {
		ns := []int{40, 72}
		if dt == format.Q8_0 {
			ns = []int{64, 96}
		}
		for _, rows := range []int{1, 3, 8} {
			for _, n := range ns {
				cases = append(cases, mlpCase{dt: dt, rows: rows, k: 64, n: n, norm: true})
			}
		}
	}
	for _, c := range cases {
		for _, f := range []int{16, 32, 64} {
			for _, resid := range []bool{true, false} {
				t.Run(fmt.Sprintf("%v F %d resid %v", c, f, resid), func(t *testing.T) {
					w := c.weights(t, b, r)
					got, cmds, fused := c.runBlock(t, b, w, f, resid)
					sfx := dtSuffix[c.dt]
					if f/mlpWordValues[c.dt] > b.dev.SubgroupSize {
						// A down row's words would span subgroups.
						if fused || len(cmds) > 0 && !resid {
							t.Fatalf("F %d on %d-wide subgroups: fused %v, commands %v; want refused", f, b.dev.SubgroupSize, fused, cmds)
						}
						return
					}
					if !fused {
						t.Fatalf("not fused")
					}
					want := []string{"other", "|", "mlp_" + sfx}
					if resid {
						want = []string{"matvec4rc_" + sfx, "|", "mlp_" + sfx}
					}
					if !slices.Equal(cmds, want) {
						t.Errorf("commands %v, want %v", cmds, want)
					}
					_, _, _, _, h := c.reference(w)
					checkBounded(t, "h", got, h)
				})
			}
		}
	}
	// The benchmark's 4 and 8 gate/up words per lane per round, and walks
	// over down's rows rotated per workgroup (ua 0: the default; 37 does not
	// divide the 64 rows, 100 exceeds them).
	for _, v := range []struct{ ua, rot int }{{4, 0}, {8, 0}, {0, 8}, {0, 37}, {0, 100}} {
		for _, dt := range []format.DType{format.F32, format.F16, format.Q8_0} {
			c := mlpCase{dt: dt, rows: 3, k: 64, n: 96, norm: true}
			t.Run(fmt.Sprintf("%v ua %d rot %d", c, v.ua, v.rot), func(t *testing.T) {
				rot := b.mlpRot
				b.mlpUA, b.mlpRot = v.ua, v.rot
				defer func() { b.mlpUA, b.mlpRot = 0, rot }()
				w := c.weights(t, b, r)
				got, _, fused := c.runBlock(t, b, w, mlpFeatures, true)
				if !fused {
					t.Fatal("not fused")
				}
				_, _, _, _, h := c.reference(w)
				checkBounded(t, "h", got, h)
			})
		}
	}
	// Refused: 9 rows (matvec4's limit is 8), a bf16 norm weight (only an
	// f32 one folds), mixed dtypes, rows that do not fit in shared memory.
	c := mlpCase{dt: format.F16, rows: 1, k: 64, n: 72, norm: true}
	w := c.weights(t, b, r)
	b.mlpF = mlpFeatures
	h := bufOf(t, b, make([]float32, 9*64))
	data, _ := backendtest.EncodeWeight(format.BF16, 1, 64, uniformVals(r, 64, 1))
	gbf, err := b.Upload("g", format.BF16, 1, 64, data)
	mustOK(t, err)
	data, _ = backendtest.EncodeWeight(format.F32, c.k, c.n, uniformVals(r, c.k*c.n, 1))
	d32, err := b.Upload("d", format.F32, c.k, c.n, data)
	mustOK(t, err)
	mustOK(t, b.Sync())
	for _, k := range []struct {
		name          string
		rows          int
		norm, gate, d rt.Weight
	}{{"9 rows", 9, w.gn, w.wg, w.wd}, {"bf16 norm", 1, gbf, w.wg, w.wd}, {"f32 down", 1, w.gn, w.wg, d32}} {
		fused, err := b.MLP(h, k.norm, k.gate, w.wu, k.d, k.rows, mlpEps)
		if fused || err != nil || len(b.recorded()) != 0 {
			t.Errorf("%s: fused %v, err %v, commands %v; want refused with nothing recorded", k.name, fused, err, b.recorded())
		}
	}
	// 8 rows of 4096 values: their x·g takes 128 KB of shared memory.
	wide := mlpCase{dt: format.F16, rows: 8, k: 4096, n: 32, norm: true}
	ww := wide.weights(t, b, r)
	hw := bufOf(t, b, ww.h)
	mustOK(t, b.Sync())
	if fused, err := b.MLP(hw, ww.gn, ww.wg, ww.wu, ww.wd, wide.rows, mlpEps); fused || err != nil || len(b.recorded()) != 0 {
		t.Errorf("8 rows of 4096 (shared memory %d bytes): fused %v, err %v, commands %v; want refused", b.maxShared, fused, err, b.recorded())
	}
	if fused, err := b.MLP(hw, ww.gn, ww.wg, ww.wu, ww.wd, 1, mlpEps); !fused || err != nil {
		t.Errorf("1 row of 4096: fused %v, err %v; want fused", fused, err)
	}
	mustOK(t, b.Sync())
	if _, err := b.MLP(h, w.gn, w.wu, w.wd, w.wd, 1, mlpEps); err == nil || !strings.Contains(err.Error(), "do not fit") {
		t.Errorf("mismatched shapes: err %v", err)
	}
}

// TestDecodeStepMLPBlock runs one decode step of each fixture at context
// 101 with the MLP block and without it: every layer's MLP is one mlp
// dispatch fed by a residual matvec that stores its copy (no copy command),
// which saves one barrier per layer; the logits agree within hfref.SelfTol
// (the paths differ in the order of float32 additions).
func TestDecodeStepMLPBlock(t *testing.T) {
	for _, name := range hfref.Fixtures {
		t.Run(name, func(t *testing.T) {
			logits, cmds, cfg, _ := blockStepOnOff(t, name, func(b *Backend, off bool) {
				b.noAttnO, b.noSSMO = true, true // TestDecodeStepAttnBlock, TestDecodeStepSSMBlock
				if off {
					b.mlpF = 0
				}
			})
			layers := cfg.NumLayers
			now, old := cmds[0], cmds[1]
			blocks, snaps := countPrefix(now, "mlp_"), countPrefix(now, "matvec4rc_")
			t.Logf("%d layers: %d commands, %d barriers; without the block: %d commands, %d barriers",
				layers, len(now), countCmd(now, "|"), len(old), countCmd(old, "|"))
			if blocks != layers || snaps != layers || countCmd(now, "other") != countCmd(old, "other") {
				t.Errorf("%d mlp and %d matvec4rc dispatches for %d layers, %d copies (without: %d):\n%v", blocks, snaps, layers, countCmd(now, "other"), countCmd(old, "other"), now)
			}
			checkStageSaved(t, "the MLP block", logits, cmds, layers)
		})
	}
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// TestDecodeStepMLPBlockCapped and TestDecodeStepMLPBlockSplit: the same
// with the residual matvec that stores the copy capped at smallCap
// workgroups, or its rows shared by 3 subgroups.
func TestDecodeStepMLPBlockCapped(t *testing.T) { capped(t, TestDecodeStepMLPBlock) }
func TestDecodeStepMLPBlockSplit(t *testing.T)  { split(t, TestDecodeStepMLPBlock) }
