//go:build cgo

package vulkan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/backendtest"
	"github.com/mmbformat/mmb/runtime/cpu"
	"github.com/mmbformat/mmb/runtime/internal/hfref"
)

// TestSSMOut: the SSM block (scan step, gated norm, output projection and
// residual add in one dispatch) over three consecutive decode steps, each
// with new inputs and the state carried: the state matches the float64
// recurrence within the sequential scan's bound, and h and the MLP block's
// copy of h match the CPU backend running the four ops, for every weight
// dtype of out, head dims 16 to 128 (a quarter to 16 state words per
// invocation), GQA 2:1, and row chunks that leave the last one short, so
// that several workgroups share a head and only the last to read its state
// may write it. Several rows, a head dim past ssmoMaxHeadDim, or
// one whose f16 words per row and head are no power of two: declined with
// nothing recorded.
func TestSSMOut(t *testing.T) {
	b := blockBackend(t, "SSM block")
	c := cpu.New(cpu.Options{Threads: 1})
	r := rand.New(rand.NewPCG(41, 42))
	const heads, kv, steps = 4, 2, 3
	for _, dt := range []format.DType{format.F32, format.F16, format.BF16, format.Q8_0} {
		for _, tc := range []struct{ hd, D, rows int }{{32, 64, 0}, {64, 300, 100}, {128, 96, 40}, {16, 50, 16}} {
			if !b.attnOFits(dt, tc.hd) {
				continue // covered by the decline below
			}
			t.Run(fmt.Sprintf("%s hd %d D %d rows/wg %d", dt, tc.hd, tc.D, tc.rows), func(t *testing.T) {
				b.attnORows = tc.rows
				defer func() { b.attnORows = 0 }()
				n := heads * tc.hd
				in := newScanInput(r, 1, heads, kv, tc.hd)
				outData, _ := backendtest.EncodeWeight(dt, tc.D, n, uniformVals(r, tc.D*n, 1))
				gnorm := uniformVals(r, n, 1.5)
				hv := uniformVals(r, tc.D, 2)
				type side struct {
					be                          rt.Backend
					h, xbc, dtb, z, st, y, g, p rt.Buffer
					a, dtBias, dSkip, gn, out   rt.Weight
				}
				mk := func(be rt.Backend) *side {
					s := &side{be: be}
					up := func(dt format.DType, rows, cols int, data []byte) rt.Weight {
						w, err := be.Upload("w", dt, rows, cols, data)
						mustOK(t, err)
						return w
					}
					f32 := func(v []float32) rt.Weight {
						data, _ := backendtest.EncodeWeight(format.F32, 1, len(v), v)
						return up(format.F32, 1, len(v), data)
					}
					buf := func(v []float32) rt.Buffer {
						x, err := be.Alloc(len(v))
						mustOK(t, err)
						mustOK(t, be.Write(x, 0, v))
						return x
					}
					s.a, s.dtBias, s.dSkip, s.gn, s.out = f32(in.aNeg), f32(in.dtBias), f32(in.dSkip), f32(gnorm), up(dt, tc.D, n, outData)
					s.h, s.st = buf(hv), buf(in.state)
					s.xbc, s.dtb, s.z = buf(in.xbc), buf(in.dt), buf(make([]float32, n))
					s.y, s.g, s.p = buf(make([]float32, n)), buf(make([]float32, n)), buf(make([]float32, tc.D))
					return s
				}
				gpu, ref := mk(b), mk(c)
				read := func(be rt.Backend, x rt.Buffer, n int) []float32 {
					v := make([]float32, n)
					mustOK(t, be.Read(v, x, 0))
					return v
				}
				for step := 1; step <= steps; step++ {
					if step > 1 {
						next := newScanInput(r, 1, heads, kv, tc.hd)
						in.xbc, in.dt = next.xbc, next.dt
					}
					z := uniformVals(r, n, 3)
					for _, s := range []*side{gpu, ref} {
						mustOK(t, s.be.Write(s.xbc, 0, in.xbc))
						mustOK(t, s.be.Write(s.dtb, 0, in.dt))
						mustOK(t, s.be.Write(s.z, 0, z))
					}
					mustOK(t, b.Sync())
					ok, err := b.SSMOut(gpu.h, gpu.xbc, gpu.dtb, gpu.z, gpu.st, gpu.a, gpu.dtBias, gpu.dSkip, gpu.gn, gpu.out, 1, heads, kv, tc.hd, 1e-5)
					mustOK(t, err)
					if !ok {
						t.Fatal("declined")
					}
					if cmds, want := b.recorded(), []string{"copyf", "|", ssmoNames[dt]}; step > 1 && !slices.Equal(cmds, want) {
						t.Errorf("commands %v, want %v", cmds, want)
					}
					mustOK(t, firstBenchErr(
						c.SSMScan(ref.y, ref.xbc, ref.dtb, ref.st, ref.a, ref.dtBias, ref.dSkip, 1, heads, kv, tc.hd),
						c.GatedRMSNorm(ref.g, ref.y, ref.z, ref.gn, 1, heads, tc.hd, 1e-5),
						c.MatMul(ref.p, ref.g, ref.out, 1),
						c.Add(ref.h, ref.p, tc.D)))
					_, sr, _, sabs := in.reference()
					in.state = read(b, gpu.st, len(in.state))
					within(t, fmt.Sprintf("step %d: state vs float64", step), in.state, sr, sabs, func(int) float64 { return seqTol(0, 1) })
					want := read(c, ref.h, tc.D)
					hfref.CheckClose(t, fmt.Sprintf("step %d: h vs cpu", step), read(b, gpu.h, tc.D), want, hfref.SelfTol)
					// The copy gets the same sums in another order (atomics).
					hfref.CheckClose(t, fmt.Sprintf("step %d: the MLP block's copy of h vs cpu", step),
						read(b, &buffer{b: b, devBuf: b.mlpSnap, n: tc.D}, tc.D), want, hfref.SelfTol)
					// The next step starts from the CPU's state (the float64
					// reference restarts from in.state, the GPU's).
					mustOK(t, c.Write(ref.st, 0, in.state))
				}
				counts := read(b, &buffer{b: b, devBuf: b.ssmCount, n: heads}, heads)
				if slices.ContainsFunc(counts, func(v float32) bool { return v != 0 }) {
					t.Errorf("head counters %v after the steps, want zeros", counts)
				}
			})
		}
	}
	// Declined: 2 rows; head dim 256 (past ssmoMaxHeadDim); head dim 48
	// (6 words of f16 per row and head, no power of two).
	for _, tc := range []struct{ rows, hd int }{{2, 32}, {1, 256}, {1, 48}} {
		n := 4 * tc.hd
		data, _ := backendtest.EncodeWeight(format.F16, 64, n, uniformVals(r, 64*n, 1))
		o, err := b.Upload("o", format.F16, 64, n, data)
		mustOK(t, err)
		x := bufOf(t, b, make([]float32, n*tc.hd))
		one, err := b.Upload("v", format.F32, 1, n, make([]byte, 4*n))
		mustOK(t, err)
		mustOK(t, b.Sync())
		ok, err := b.SSMOut(x, x, x, x, x, one, one, one, one, o, tc.rows, 4, 2, tc.hd, 1e-5)
		if ok || err != nil || len(b.recorded()) != 0 {
			t.Errorf("rows %d hd %d: ok %v err %v commands %v; want declined", tc.rows, tc.hd, ok, err, b.recorded())
		}
	}
}

// TestDecodeStepSSMBlock runs one decode step of each fixture with Mamba
// layers at context 101 with the SSM block and without it: every Mamba
// layer is one ssmo dispatch in place of ssmscan, gatednorm and the
// residual out_proj (two barriers fewer per Mamba layer), and the logits
// agree within hfref.SelfTol.
func TestDecodeStepSSMBlock(t *testing.T) {
	ran := false
	for _, name := range hfref.Fixtures {
		t.Run(name, func(t *testing.T) {
			logits, cmds, cfg, _ := blockStepOnOff(t, name, func(b *Backend, off bool) {
				b.noSSMO = off
			})
			if cfg.Mamba == nil {
				if !slices.Equal(cmds[0], cmds[1]) {
					t.Errorf("no Mamba layers, yet the commands differ:\n%v\n%v", cmds[0], cmds[1])
				}
				return
			}
			ran = true
			now, old := cmds[0], cmds[1]
			mamba, blocks := countCmd(old, "ssmscan"), countPrefix(now, "ssmo_")
			t.Logf("%d Mamba layers: %d commands, %d barriers; without the block: %d commands, %d barriers",
				mamba, len(now), countCmd(now, "|"), len(old), countCmd(old, "|"))
			if mamba == 0 || blocks != mamba || countCmd(now, "ssmscan")+countCmd(now, "gatednorm") != 0 {
				t.Errorf("%d ssmo, %d ssmscan and %d gatednorm dispatches for %d Mamba layers:\n%v",
					blocks, countCmd(now, "ssmscan"), countCmd(now, "gatednorm"), mamba, now)
			}
			checkStageSaved(t, "the SSM block", logits, cmds, 2*mamba)
		})
	}
	if !ran {
		t.Error("no fixture has Mamba layers")
	}
}
