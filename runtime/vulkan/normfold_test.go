//go:build cgo

package vulkan

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/backendtest"
	"github.com/mmbformat/mmb/runtime/cpu"
	"github.com/mmbformat/mmb/runtime/internal/hfref"
)

// TestMatMulNormed: a projection that folds the RMSNorm of its input
// matches the CPU backend's RMSNorm then MatMul within hfref.SelfTol, for
// every weight dtype and 1 to 8 token rows, and leaves x as it was. Past
// matvecRows rows, onto x itself, with an f16 norm weight or with the fold
// turned off it declines with nothing recorded.
func TestMatMulNormed(t *testing.T) {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer b.Close()
	c := cpu.New(cpu.Options{Threads: 1})
	r := rand.New(rand.NewPCG(51, 52))
	const D, N = 256, 100
	gv := uniformVals(r, D, 1.5)
	gdata, _ := backendtest.EncodeWeight(format.F32, 1, D, gv)
	for _, dt := range []format.DType{format.F32, format.F16, format.BF16, format.Q8_0} {
		data, _ := backendtest.EncodeWeight(dt, N, D, uniformVals(r, N*D, 1))
		for _, rows := range []int{1, 3, 8} {
			t.Run(fmt.Sprintf("%s rows %d", dt, rows), func(t *testing.T) {
				xv := uniformVals(r, rows*D, 3)
				var out [2][]float32
				for i, be := range []rt.Backend{b, c} {
					w, err := be.Upload("w", dt, N, D, data)
					mustOK(t, err)
					g, err := be.Upload("g", format.F32, 1, D, gdata)
					mustOK(t, err)
					x, err := be.Alloc(rows * D)
					mustOK(t, err)
					mustOK(t, be.Write(x, 0, xv))
					y, err := be.Alloc(rows * N)
					mustOK(t, err)
					if be == rt.Backend(b) {
						mustOK(t, b.Sync())
						ok, err := b.MatMulNormed(y, x, g, 1e-5, w, rows)
						mustOK(t, err)
						if !ok {
							t.Fatal("declined")
						}
						if cmds := b.recorded(); len(cmds) != 1 || !strings.HasPrefix(cmds[0], "matvec4n_") {
							t.Errorf("commands %v, want one matvec4n", cmds)
						}
						back := make([]float32, rows*D)
						mustOK(t, b.Read(back, x, 0))
						for j := range back {
							if back[j] != xv[j] {
								t.Fatalf("x[%d] = %v after the projection, was %v", j, back[j], xv[j])
							}
						}
					} else {
						xn, err := c.Alloc(rows * D)
						mustOK(t, err)
						mustOK(t, firstBenchErr(c.RMSNorm(xn, x, g, rows, D, 1e-5), c.MatMul(y, xn, w, rows)))
					}
					out[i] = make([]float32, rows*N)
					mustOK(t, be.Read(out[i], y, 0))
				}
				hfref.CheckClose(t, "folded norm vs cpu", out[0], out[1], hfref.SelfTol)
			})
		}
	}
	data, _ := backendtest.EncodeWeight(format.F16, N, D, uniformVals(r, N*D, 1))
	w, err := b.Upload("w", format.F16, N, D, data)
	mustOK(t, err)
	g, err := b.Upload("g", format.F32, 1, D, gdata)
	mustOK(t, err)
	g16data, _ := backendtest.EncodeWeight(format.F16, 1, D, gv)
	g16, err := b.Upload("g", format.F16, 1, D, g16data)
	mustOK(t, err)
	x, y := bufOf(t, b, make([]float32, 9*D)), bufOf(t, b, make([]float32, 9*N))
	mustOK(t, b.Sync())
	for _, tc := range []struct {
		what    string
		dst     rt.Buffer
		norm    rt.Weight
		rows    int
		offFold bool
	}{{"9 rows", y, g, 9, false}, {"onto x", x, g, 1, false}, {"f16 norm", y, g16, 1, false}, {"fold off", y, g, 1, true}} {
		b.noNormFold = tc.offFold
		ok, err := b.MatMulNormed(tc.dst, x, tc.norm, 1e-5, w, tc.rows)
		b.noNormFold = false
		if ok || err != nil || len(b.recorded()) != 0 {
			t.Errorf("%s: ok %v err %v commands %v; want declined", tc.what, ok, err, b.recorded())
		}
	}
}

// TestDecodeStepNormFold runs one decode step of each fixture at context
// 101 with the layers' input norms folded into their projections and with
// the RMSNorm as a dispatch of its own: no layer records an RMSNorm (the
// final norm before the head remains), every attention layer has an
// attention block where attnBlockFits and every Mamba layer an SSM block,
// each with its copy of h for the MLP block (blockCopy says why a copy
// dispatch), the barriers are the same, and the logits agree within
// hfref.SelfTol.
func TestDecodeStepNormFold(t *testing.T) {
	for _, name := range hfref.Fixtures {
		t.Run(name, func(t *testing.T) {
			logits, cmds, cfg, b := blockStepOnOff(t, name, func(b *Backend, off bool) {
				b.noNormFold = off
			})
			layers := cfg.NumLayers
			now, old := cmds[0], cmds[1]
			// The attention and SSM blocks need the copy.
			attn, ssm := countPrefix(now, "attno_"), countPrefix(now, "ssmo_")
			blocks := attn + ssm
			// q and k of each attention layer fold RoPE; each Mamba layer's
			// xBC projection folds the conv.
			attnLayers, mambaLayers := countPrefix(now, "matvec4np_")/2, countPrefix(now, "matvec4nc_")
			if attnLayers+mambaLayers != layers {
				t.Fatalf("%d attention and %d Mamba layers found for %d layers:\n%v", attnLayers, mambaLayers, layers, now)
			}
			wantAttn := attnLayers
			if !attnBlockFits(b, now, cfg.HeadDim) {
				wantAttn = 0 // e.g. head dim 24 in bf16: 3 words a head, no power of two
			}
			t.Logf("%d layers: %d commands, %d barriers; without: %d commands, %d barriers",
				layers, len(now), countCmd(now, "|"), len(old), countCmd(old, "|"))
			if norms := countCmd(now, "rmsnorm_sg") + countCmd(now, "rmsnorm"); norms != 1 || countCmd(old, "rmsnorm_sg")+countCmd(old, "rmsnorm") != layers+1 {
				t.Errorf("%d RMSNorm dispatches, want 1 (the final norm); without the fold %d, want %d:\n%v",
					norms, countCmd(old, "rmsnorm_sg")+countCmd(old, "rmsnorm"), layers+1, now)
			}
			if attn != wantAttn || ssm != mambaLayers {
				t.Errorf("%d attention and %d SSM blocks, want %d and %d:\n%v", attn, ssm, wantAttn, mambaLayers, now)
			}
			if countCmd(now, "copyf") != blocks || countCmd(old, "copyf") != blocks {
				t.Errorf("%d copies (without the fold: %d) for %d attention and %d SSM blocks:\n%v",
					countCmd(now, "copyf"), countCmd(old, "copyf"), attn, ssm, now)
			}
			checkStageSaved(t, "the folded norms", logits, cmds, 0)
		})
	}
}
