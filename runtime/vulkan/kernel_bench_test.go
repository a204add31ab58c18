//go:build cgo

package vulkan

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
)

// Kernel benchmarks for the device the tests run on (on the H200:
// `bin/vulkan.test -test.run '^$' -test.bench Kernel -test.benchtime 3x`).
// Each reports the bytes it must read per call over the time per call, and
// that as a fraction of the device-to-device copy bandwidth measured in the
// same process (the baseline; CopyBandwidth counts read+write bytes).

var benchOnce struct {
	sync.Once
	b   *Backend
	bw  float64
	err error
}

func benchBackend(tb testing.TB) (*Backend, float64) {
	benchOnce.Do(func() {
		benchOnce.b, benchOnce.err = New(Options{Device: AutoDevice, CacheDir: "-"})
		if benchOnce.err != nil {
			return
		}
		var bw rt.Bandwidth
		bw, benchOnce.err = benchOnce.b.CopyBandwidth(1 << 30)
		benchOnce.bw = bw.BytesPerSec
	})
	if benchOnce.err != nil {
		tb.Fatal(benchOnce.err)
	}
	return benchOnce.b, benchOnce.bw
}

// randomWeight makes rows×cols values of dt that are never zero: f16/bf16
// magnitudes in [2^-3, 1), Q8_0 quants of any byte with scales near 2^-7.
func randomWeight(dt format.DType, rows, cols int, seed uint64) []byte {
	n, _ := dt.NBytes([]int64{int64(rows), int64(cols)})
	out := make([]byte, n)
	s := seed*0x9e3779b97f4a7c15 | 1
	next := func() uint64 { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s }
	switch dt {
	case format.F16:
		for i := 0; i+8 <= len(out); i += 8 {
			v := next()&0x8fff8fff8fff8fff | 0x3000300030003000
			binary.LittleEndian.PutUint64(out[i:], v)
		}
	case format.BF16:
		for i := 0; i+8 <= len(out); i += 8 {
			v := next()&0x807f807f807f807f | 0x3e003e003e003e00
			binary.LittleEndian.PutUint64(out[i:], v)
		}
	case format.Q8_0:
		for blk := 0; blk+format.Q8BlockBytes <= len(out); blk += format.Q8BlockBytes {
			binary.LittleEndian.PutUint16(out[blk:], 0x2000|uint16(next()&0x3ff))
			for i := 2; i < format.Q8BlockBytes; i += 8 {
				var w [8]byte
				binary.LittleEndian.PutUint64(w[:], next())
				copy(out[blk+i:blk+format.Q8BlockBytes], w[:])
			}
		}
	default:
		panic("randomWeight: dtype")
	}
	return out
}

// BenchmarkKernelMatvec times one-token matvecs of the 1B model's shapes,
// each followed by a barrier (the next writes the same output), as in a
// decode step. Weights rotate over copies of at least 256 MB together, so
// that the 50 MB L2 does not serve them.
func BenchmarkKernelMatvec(b *testing.B) {
	be, bw := benchBackend(b)
	shapes := []struct {
		name       string
		rows, cols int
	}{{"qo_2048x2048", 2048, 2048}, {"kv_512x2048", 512, 2048}, {"up_8192x2048", 8192, 2048}, {"down_2048x8192", 2048, 8192}, {"head_128256x2048", 128256, 2048}}
	for _, dt := range []format.DType{format.F16, format.Q8_0, format.BF16} {
		for _, sh := range shapes {
			b.Run(fmt.Sprintf("%s/%s/matvec4", dt, sh.name), func(b *testing.B) {
				benchMatvec(b, be, bw, dt, sh.rows, sh.cols, false, 0, 0)
			})
			if dt == format.F16 {
				for _, c := range mvCaps {
					b.Run(fmt.Sprintf("%s/%s/matvec4-cap%d", dt, sh.name, c), func(b *testing.B) {
						benchMatvec(b, be, bw, dt, sh.rows, sh.cols, false, c, 0)
					})
				}
			}
			if dt == format.F16 {
				for _, rpw := range []int{1, 4, 8} {
					b.Run(fmt.Sprintf("%s/%s/matvec4-rpw%d", dt, sh.name, rpw), func(b *testing.B) {
						be.mvRPW = rpw
						defer func() { be.mvRPW = 0 }()
						benchMatvec(b, be, bw, dt, sh.rows, sh.cols, false, 0, 0)
					})
				}
			}
			if dt != format.BF16 {
				for _, sp := range mvSplits {
					b.Run(fmt.Sprintf("%s/%s/matvec4-split%d", dt, sh.name, sp), func(b *testing.B) {
						benchMatvec(b, be, bw, dt, sh.rows, sh.cols, false, 0, sp)
					})
				}
			}
			for _, rp := range []int{-1, 1} { // one or two rows per subgroup
				b.Run(fmt.Sprintf("%s/%s/matvec4-row%d", dt, sh.name, (rp+3)/2), func(b *testing.B) {
					be.mvRowPairs = rp
					defer func() { be.mvRowPairs = 0 }()
					benchMatvec(b, be, bw, dt, sh.rows, sh.cols, false, 0, 0)
				})
			}
			b.Run(fmt.Sprintf("%s/%s/word", dt, sh.name), func(b *testing.B) {
				benchMatvec(b, be, bw, dt, sh.rows, sh.cols, true, 0, 0)
			})
		}
	}
}

// mvCaps are the matvec4 workgroup caps benchmarked beside the uncapped
// launch: 8, 16 and 32 workgroups per SM of a 132-SM H200, to tell whether
// launching one 64-wide workgroup per 2 rows (4096 for 8192 rows) costs a
// ramp that fewer, looping workgroups avoid. A cap at or above a shape's
// block count (2 rows a block on the H200: qo, kv and down have 1024 or
// fewer, up 4096) launches as the uncapped case does, a check on the noise.
var mvCaps = []int{1056, 2112, 4224}

// mvSplits are the subgroups-per-row forced beside the default choice
// (Backend.split): 1 is the unsplit matvec4.
var mvSplits = []int{1, 2, 4}

// benchMatvec times MatMul of one token row; mvCap > 0 caps the matvec4
// launch at that many workgroups (Backend.mvCap), split > 0 forces the
// subgroups per row (Backend.mvSplit).
func benchMatvec(b *testing.B, be *Backend, bw float64, dt format.DType, rows, cols int, scalar bool, mvCap, split int) {
	wb, _ := dt.NBytes([]int64{int64(rows), int64(cols)})
	copies := int(max(1, (256<<20+wb-1)/wb))
	ws := make([]rt.Weight, copies)
	for i := range ws {
		w, err := be.Upload("w", dt, rows, cols, randomWeight(dt, rows, cols, uint64(i+1)))
		if err != nil {
			b.Fatal(err)
		}
		ws[i] = w
	}
	x := filled(b, be, cols, func(i int) float32 { return float32(i%17)/8 - 1 })
	y := filled(b, be, rows, zero)
	be.scalarMV, be.mvCap, be.mvSplit = scalar, mvCap, split
	defer func() { be.scalarMV, be.mvCap, be.mvSplit = false, 0, 0 }()
	// About 20 ms of reads per submission at the copy bandwidth, so that
	// the submit round trip (~45 µs) stays under a few percent.
	reps := max(copies, int(0.02*bw/float64(wb)))
	per := perCall(b, be, reps, func(j int) {
		if err := be.MatMul(y, x, ws[j%copies], 1); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(per*1e6, "µs/call")
	b.ReportMetric(float64(wb)/per/1e9, "GB/s")
	b.ReportMetric(float64(wb)/per/bw, "of-copy-bw")
}

// BenchmarkKernelMLP times the MLP block of one decode token at the 1B
// model's f16 shapes (hidden 2048, ffn 8192) as runtime/session.go records
// it: RMSNorm, gate, up, SwiGLU, down, residual Add. paired: gate and up in
// one matvec4ng that also writes silu(gate)·up, down plain (matvec4r);
// unpaired: two matvec4n beside the norm, then swiglu beside a down that
// recomputes SwiGLU for each of its 2048 rows (matvec4sr); -capN: the same
// with every matvec4 launched as at most N workgroups. Each block reads
// the h the previous one wrote, so blocks are separated by barriers as in a
// decode step; weights rotate over at least 256 MB.
func BenchmarkKernelMLP(b *testing.B) {
	be, bw := benchBackend(b)
	vs := []mlpVariant{{name: "paired"}, {name: "unpaired", noPair: true}, {name: "paired-split1", split: 1}, {name: "paired-split4", split: 4},
		{name: "paired-rpw1", rpw: 1}, {name: "paired-rpw4", rpw: 4}, {name: "paired-rpw8", rpw: 8}}
	for _, c := range mvCaps {
		vs = append(vs, mlpVariant{name: fmt.Sprintf("paired-cap%d", c), mvCap: c}, mlpVariant{name: fmt.Sprintf("unpaired-cap%d", c), noPair: true, mvCap: c})
	}
	benchMLP(b, be, bw, format.F16, vs)
	// Q8_0: folded and paired as f16, against the path before Q8_0 folded
	// (norm, then gate and up, then SwiGLU beside down).
	benchMLP(b, be, bw, format.Q8_0, []mlpVariant{{name: "paired"}, {name: "unfolded", noQ8Fold: true}, {name: "paired-split1", split: 1}})
}

type mlpVariant struct {
	name              string
	noPair, noQ8Fold  bool
	mvCap, split, rpw int
}

func benchMLP(b *testing.B, be *Backend, bw float64, dt format.DType, vs []mlpVariant) {
	const hidden, ffn = 2048, 8192
	wb, _ := dt.NBytes([]int64{ffn, hidden}) // one matrix
	copies := int(max(1, (256<<20+3*wb-1)/(3*wb)))
	type mlp struct{ gate, up, down rt.Weight }
	ws := make([]mlp, copies)
	upload := func(rows, cols int, seed uint64) rt.Weight { return uploadRandom(b, be, dt, rows, cols, seed) }
	for i := range ws {
		s := uint64(3 * i)
		ws[i] = mlp{upload(ffn, hidden, s+1), upload(ffn, hidden, s+2), upload(hidden, ffn, s+3)}
	}
	gn := onesNorm(b, be, hidden)
	h := filled(b, be, hidden, func(i int) float32 { return float32(i%19)/9 - 1 })
	xn, tmp := filled(b, be, hidden, zero), filled(b, be, hidden, zero)
	gate, up, act := filled(b, be, ffn, zero), filled(b, be, ffn, zero), filled(b, be, ffn, zero)
	for _, v := range vs {
		b.Run(strings.ToLower(dt.String())+"_2048x8192/"+v.name, func(b *testing.B) {
			be.noPair, be.noQ8Fold, be.mvCap, be.mvSplit, be.mvRPW = v.noPair, v.noQ8Fold, v.mvCap, v.split, v.rpw
			defer func() { be.noPair, be.noQ8Fold, be.mvCap, be.mvSplit, be.mvRPW = false, false, 0, 0, 0 }()
			reps := max(copies, int(0.02*bw/float64(3*wb)))
			per := perCall(b, be, reps, func(j int) {
				w := ws[j%copies]
				if err := mlpStages(be, h, xn, gate, up, act, tmp, gn, w.gate, w.up, w.down); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(per*1e6, "µs/block")
			b.ReportMetric(float64(3*wb)/per/1e9, "GB/s")
		})
	}
}

// BenchmarkKernelMLPBlock times the tail of a decode layer at the 1B
// model's f16 and Q8_0 shapes: the attention output projection (2048 ×
// 2048) with its residual Add, then the MLP block, as runtime/session.go
// records them: "stages" is the paired gate/up matvec, a barrier, and down
// with its residual (the backend without the MLP block); "blockN" the
// one-dispatch MLP block with N features per workgroup, fed by the
// projection's copy of h (-uN: N down words per lane per round, not the
// dtype's default; -uaN: N gate/up words per lane per round, more
// registers than the default 2; -gateup-only, -down-only: the block
// without down, or without the gate/up loads, timing only; -rotN: each
// workgroup's walk over down's rows rotated by N rows from the one before,
// block32 itself walking in step). The knobs that kern20.sh, kern24.sh and
// kern26.sh measured without gain (workgroup widths, late first down round,
// plain stores for atomics, a tiled down) are gone. Weights rotate over at
// least 256 MB.
func BenchmarkKernelMLPBlock(b *testing.B) {
	be, bw := benchBackend(b)
	if be.mlpF == 0 {
		b.Skip("no MLP block on this device")
	}
	defer func(f int) { be.mlpF = f }(be.mlpF)
	for _, dt := range []format.DType{format.F16, format.Q8_0} {
		const hidden, ffn = 2048, 8192
		wb, _ := dt.NBytes([]int64{ffn, hidden})
		ob, _ := dt.NBytes([]int64{hidden, hidden})
		per := 3*wb + ob
		copies := int(max(1, (256<<20+per-1)/per))
		type layer struct{ o, gate, up, down rt.Weight }
		ws := make([]layer, copies)
		upload := func(rows, cols int, seed uint64) rt.Weight { return uploadRandom(b, be, dt, rows, cols, seed) }
		for i := range ws {
			s := uint64(4 * i)
			ws[i] = layer{upload(hidden, hidden, s+1), upload(ffn, hidden, s+2), upload(ffn, hidden, s+3), upload(hidden, ffn, s+4)}
		}
		gn := onesNorm(b, be, hidden)
		h := filled(b, be, hidden, func(i int) float32 { return float32(i%19)/9 - 1 })
		att := filled(b, be, hidden, func(i int) float32 { return float32(i%7)/700 - 0.005 })
		xn, tmp := filled(b, be, hidden, zero), filled(b, be, hidden, zero)
		gate, up, act := filled(b, be, ffn, zero), filled(b, be, ffn, zero), filled(b, be, ffn, zero)
		for _, v := range []struct {
			name               string
			f, u2, ua, ph, rot int
		}{{"stages", 0, 0, 0, 0, 0}, {"block16", 16, 0, 0, 0, 0}, {"block32", 32, 0, 0, 0, 0}, {"block32-u4", 32, 4, 0, 0, 0},
			{"block32-u8", 32, 8, 0, 0, 0}, {"block64", 64, 0, 0, 0, 0}, {"block32-ua4", 32, 0, 4, 0, 0}, {"block32-ua8", 32, 0, 8, 0, 0},
			{"block32-gateup-only", 32, 0, 0, 1, 0}, {"block32-down-only", 32, 0, 0, 2, 0},
			{"block32-rot8", 32, 0, 0, 0, 8}, {"block32-rot8-down-only", 32, 0, 0, 2, 8}, {"block32-rot64", 32, 0, 0, 0, 64},
			{"block32-rot64-down-only", 32, 0, 0, 2, 64}, {"block32-rot512", 32, 0, 0, 0, 512}, {"block32-rot1", 32, 0, 0, 0, 1}} {
			b.Run(strings.ToLower(dt.String())+"/"+v.name, func(b *testing.B) {
				rot := be.mlpRot
				be.mlpF, be.mlpU2, be.mlpUA, be.mlpPhase, be.mlpRot = v.f, v.u2, v.ua, v.ph, v.rot
				defer func() { be.mlpU2, be.mlpUA, be.mlpPhase, be.mlpRot = 0, 0, 0, rot }()
				reps := max(copies, int(0.02*bw/float64(per)))
				t := perCall(b, be, reps, func(j int) {
					w := ws[j%copies]
					if err := firstBenchErr(be.MatMul(tmp, att, w.o, 1), be.Add(h, tmp, hidden)); err != nil {
						b.Fatal(err)
					}
					fused, err := be.MLP(h, gn, w.gate, w.up, w.down, 1, 1e-5)
					if err != nil {
						b.Fatal(err)
					}
					if fused != (v.f > 0) {
						b.Fatalf("fused %v with %d features", fused, v.f)
					}
					if !fused {
						if err := mlpStages(be, h, xn, gate, up, act, tmp, gn, w.gate, w.up, w.down); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.ReportMetric(t*1e6, "µs/tail")
				b.ReportMetric(float64(per)/t/1e9, "GB/s")
			})
		}
	}
}

// mlpStages records the MLP block of one decode row as runtime/session.go
// does where the backend has no one-dispatch block: RMSNorm, gate, up,
// SwiGLU, down, residual Add (the backend pairs and folds them).
func mlpStages(be *Backend, h, xn, gate, up, act, tmp rt.Buffer, gn, wg, wu, wd rt.Weight) error {
	hidden, ffn := wg.Cols(), wg.Rows()
	return firstBenchErr(
		be.RMSNorm(xn, h, gn, 1, hidden, 1e-5),
		be.MatMul(gate, xn, wg, 1),
		be.MatMul(up, xn, wu, 1),
		be.SwiGLU(act, gate, up, ffn),
		be.MatMul(tmp, act, wd, 1),
		be.Add(h, tmp, hidden),
	)
}

// uploadRandom uploads a rows×cols randomWeight of dt.
func uploadRandom(b *testing.B, be *Backend, dt format.DType, rows, cols int, seed uint64) rt.Weight {
	w, err := be.Upload("w", dt, rows, cols, randomWeight(dt, rows, cols, seed))
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// onesNorm uploads an f32 norm weight of ones, as the converter stores norms.
func onesNorm(b *testing.B, be *Backend, n int) rt.Weight {
	ones := make([]byte, 4*n)
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint32(ones[4*i:], 0x3f800000)
	}
	gn, err := be.Upload("norm", format.F32, 1, n, ones)
	if err != nil {
		b.Fatal(err)
	}
	return gn
}

// perCall times op (given the repetition index) reps times per submission:
// once untimed (pipelines, descriptor sets), then b.N times; it returns the
// seconds per op.
func perCall(b *testing.B, be *Backend, reps int, op func(j int)) float64 {
	run := func() time.Duration {
		t0 := time.Now()
		for j := 0; j < reps; j++ {
			op(j)
		}
		if err := be.Sync(); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	run()
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		total += run()
	}
	return total.Seconds() / float64(b.N*reps)
}

func zero(int) float32 { return 0 }

// pattern23 is the inputs of the attention benchmarks.
func pattern23(i int) float32 { return float32(i%23)/16 - 0.7 }

// filled allocates n floats set to f(i).
func filled(b *testing.B, be *Backend, n int, f func(i int) float32) rt.Buffer {
	x, err := be.Alloc(n)
	if err != nil {
		b.Fatal(err)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = f(i)
	}
	if err := be.Write(x, 0, v); err != nil {
		b.Fatal(err)
	}
	return x
}

func firstBenchErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkKernelMatmul times prefill matmuls of 512 token rows (the
// session's prefill chunk) by the 1B model's f16 shapes, matmul2 against
// matmul, in TFLOP/s (2·M·N·K per call).
func BenchmarkKernelMatmul(b *testing.B) {
	be, _ := benchBackend(b)
	const m = 512
	for _, sh := range []struct {
		name       string
		rows, cols int
	}{{"qo_2048x2048", 2048, 2048}, {"up_8192x2048", 8192, 2048}, {"down_2048x8192", 2048, 8192}} {
		for _, dt := range []format.DType{format.F16, format.Q8_0} {
			w, err := be.Upload("w", dt, sh.rows, sh.cols, randomWeight(dt, sh.rows, sh.cols, 7))
			if err != nil {
				b.Fatal(err)
			}
			x := filled(b, be, m*sh.cols, func(i int) float32 { return float32(i%29)/16 - 0.9 })
			y := filled(b, be, m*sh.rows, zero)
			for _, kern := range []string{"coopmm2", "matmul2", "matmul"} {
				coop := kern == "coopmm2"
				if coop && !be.dev.CoopMatrix || dt == format.Q8_0 && kern == "matmul2" {
					continue
				}
				b.Run(sh.name+"/"+strings.ToLower(dt.String())+"/"+kern, func(b *testing.B) {
					be.oldMatmul, be.coopmat = kern == "matmul", coop
					defer func() { be.oldMatmul, be.coopmat = false, be.dev.CoopMatrix }()
					const reps = 20
					per := perCall(b, be, reps, func(j int) {
						if err := be.MatMul(y, x, w, m); err != nil {
							b.Fatal(err)
						}
					})
					b.ReportMetric(per*1e6, "µs/call")
					b.ReportMetric(2*m*float64(sh.rows)*float64(sh.cols)/per/1e12, "TFLOP/s")
				})
			}
		}
	}
}

// BenchmarkKernelAttentionDecode times one decode row of attention (32
// heads, 8 kv heads, head dim 64: the 1B model) at growing context, with a
// barrier between calls. The KV bytes read per call are 2·ctx·512·4. Up to
// attnOnePassMax positions it runs in one pass (onepass) and, for
// comparison, split into 64-position chunks and merged (split: attndec per
// query head); from 1024 positions also split with attndecg serving the 4
// query heads of each kv head (grouped), which reads the cache once.
func BenchmarkKernelAttentionDecode(b *testing.B) {
	be, bw := benchBackend(b)
	const heads, kv, hd = 32, 8, 64
	for _, ctx := range []int{128, 144, 1024, 8192, 32768} {
		for _, kern := range []string{"onepass", "split", "grouped"} {
			if kern == "onepass" && ctx > attnOnePassMax || kern == "grouped" && ctx < 1024 {
				continue
			}
			b.Run(fmt.Sprintf("ctx_%d/%s", ctx, kern), func(b *testing.B) {
				if kern != "onepass" {
					be.attnOnePass = 0
					be.noGroupedAttn = kern == "split"
					defer func() { be.attnOnePass, be.noGroupedAttn = attnOnePassMax, false }()
				}
				benchAttentionDecode(b, be, bw, heads, kv, hd, ctx)
			})
		}
	}
}

func benchAttentionDecode(b *testing.B, be *Backend, bw float64, heads, kv, hd, ctx int) {
	alloc := func(n int) rt.Buffer { return filled(b, be, n, pattern23) }
	q, k, v := alloc(heads*hd), alloc(kv*hd), alloc(kv*hd)
	kc, vc := alloc((ctx+1)*kv*hd), alloc((ctx+1)*kv*hd)
	out := alloc(heads * hd)
	const reps = 200
	per := perCall(b, be, reps, func(j int) {
		if err := be.Attention(out, q, k, v, kc, vc, 1, ctx-1, heads, kv, hd); err != nil {
			b.Fatal(err)
		}
	})
	bytes := float64(2 * ctx * kv * hd * 4)
	b.ReportMetric(per*1e6, "µs/call")
	b.ReportMetric(bytes/per/bw, "of-copy-bw")
}

// BenchmarkKernelAttentionPrefill times attention for a 512-row prefill chunk
// (32 heads, 8 kv heads, head dim 64) starting at position pos0: on the
// matrix units (attncm, where the device has them), tiled (attnprefill) and
// one row per workgroup (attention.comp), in TFLOP/s
// of the causal products (4·hd per query-key pair seen).
func BenchmarkKernelAttentionPrefill(b *testing.B) {
	be, _ := benchBackend(b)
	const heads, kv, hd, rows = 32, 8, 64, 512
	for _, pos0 := range []int{0, 3584} {
		for _, kern := range []string{"coop", "tiled", "untiled"} {
			if kern == "coop" && !be.dev.CoopMatrix {
				continue
			}
			b.Run(fmt.Sprintf("pos0_%d/%s", pos0, kern), func(b *testing.B) {
				alloc := func(n int) rt.Buffer { return filled(b, be, n, pattern23) }
				q, k, v := alloc(rows*heads*hd), alloc(rows*kv*hd), alloc(rows*kv*hd)
				kc, vc := alloc((pos0+rows)*kv*hd), alloc((pos0+rows)*kv*hd)
				out := alloc(rows * heads * hd)
				be.untiledAttn, be.coopmat = kern == "untiled", kern == "coop"
				defer func() { be.untiledAttn, be.coopmat = false, be.dev.CoopMatrix }()
				const reps = 5
				per := perCall(b, be, reps, func(j int) {
					if err := be.Attention(out, q, k, v, kc, vc, rows, pos0, heads, kv, hd); err != nil {
						b.Fatal(err)
					}
				})
				pairs := float64(rows)*float64(pos0) + float64(rows*(rows+1)/2)
				b.ReportMetric(per*1e6, "µs/call")
				b.ReportMetric(4*hd*heads*pairs/per/1e12, "TFLOP/s")
			})
		}
	}
}

// BenchmarkKernelDispatch is the floor every op pays in a decode step: an
// Add of 2048 values followed by a barrier (the next Add writes the same
// buffer), per call ("dependent"); "independent" writes one of 64 buffers in
// turn, so that only every 64th call needs a barrier: the launch cost
// alone, without the drain that a dependency adds.
func BenchmarkKernelDispatch(b *testing.B) {
	be, _ := benchBackend(b)
	x := filled(b, be, 2048, zero)
	ys := make([]rt.Buffer, 64)
	for i := range ys {
		ys[i] = filled(b, be, 2048, zero)
	}
	const reps = 1000
	for _, c := range []struct {
		name string
		bufs int
	}{{"dependent", 1}, {"independent", len(ys)}} {
		b.Run(c.name, func(b *testing.B) {
			per := perCall(b, be, reps, func(j int) {
				if err := be.Add(ys[j%c.bufs], x, 2048); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(per*1e6, "µs/call")
		})
	}
}

// BenchmarkKernelMatvecStream times the f16 matvecs of BenchmarkKernelMatvec
// without the barrier after each: each call writes one of 16 outputs in
// turn, so consecutive matvecs overlap (a barrier every 16th call). Against
// BenchmarkKernelMatvec it splits a decode stage's cost into the streaming of
// its weights and the drain-and-launch floor that a dependency adds.
func BenchmarkKernelMatvecStream(b *testing.B) {
	be, bw := benchBackend(b)
	for _, sh := range []struct {
		name       string
		rows, cols int
	}{{"qo_2048x2048", 2048, 2048}, {"up_8192x2048", 8192, 2048}, {"down_2048x8192", 2048, 8192}} {
		b.Run(sh.name, func(b *testing.B) {
			dt := format.F16
			wb, _ := dt.NBytes([]int64{int64(sh.rows), int64(sh.cols)})
			copies := int(max(1, (256<<20+wb-1)/wb))
			ws := make([]rt.Weight, copies)
			for i := range ws {
				w, err := be.Upload("w", dt, sh.rows, sh.cols, randomWeight(dt, sh.rows, sh.cols, uint64(i+1)))
				if err != nil {
					b.Fatal(err)
				}
				ws[i] = w
			}
			x := filled(b, be, sh.cols, func(i int) float32 { return float32(i%17)/8 - 1 })
			ys := make([]rt.Buffer, 16)
			for i := range ys {
				ys[i] = filled(b, be, sh.rows, zero)
			}
			reps := max(copies, int(0.02*bw/float64(wb)))
			per := perCall(b, be, reps, func(j int) {
				if err := be.MatMul(ys[j%len(ys)], x, ws[j%copies], 1); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(per*1e6, "µs/call")
			b.ReportMetric(float64(wb)/per/1e9, "GB/s")
		})
	}
}

// BenchmarkKernelSSMScan times the Mamba-2 scan of a 512-row prefill chunk at
// the 1B model's shape (32 heads, 8 kv heads, head dim 64): the chunked form
// (ssmchunk_*) against the sequential scan.
func BenchmarkKernelSSMScan(b *testing.B) {
	be, _ := benchBackend(b)
	const heads, kv, hd = 32, 8, 64
	width := 2*kv*hd + heads*hd
	for _, rows := range []int{512, 2048} {
		for _, kern := range []string{"chunked", "sequential"} {
			b.Run(fmt.Sprintf("rows_%d/%s", rows, kern), func(b *testing.B) {
				buf := func(n int, f func(i int) float32) rt.Buffer { return filled(b, be, n, f) }
				wt := func(v float32) rt.Weight {
					raw := make([]byte, 4*heads)
					for i := 0; i < heads; i++ {
						binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
					}
					w, err := be.Upload("ssm", format.F32, 1, heads, raw)
					if err != nil {
						b.Fatal(err)
					}
					return w
				}
				xbc := buf(rows*width, func(i int) float32 { return float32(i%29)/16 - 0.9 })
				dt := buf(rows*heads, func(i int) float32 { return float32(i%7)/4 - 1 })
				state := buf(heads*hd*hd, zero)
				y := buf(rows*heads*hd, zero)
				a, dtb, d := wt(-0.5), wt(0.1), wt(1)
				if kern == "sequential" {
					be.ssm.mode = ssmSequential
				} else {
					be.ssm.mode = ssmChunked
				}
				defer func() { be.ssm.mode = ssmAuto }()
				const reps = 5
				per := perCall(b, be, reps, func(j int) {
					if err := be.SSMScan(y, xbc, dt, state, a, dtb, d, rows, heads, kv, hd); err != nil {
						b.Fatal(err)
					}
				})
				b.ReportMetric(per*1e6, "µs/call")
			})
		}
	}
}

// BenchmarkKernelLayerHead times the head of a decode layer at the 1B
// model's f16 shape, from the input RMSNorm to h holding the mixer's
// output, as runtime/session.go records it: for attention the norm, the q,
// k and v projections (RoPE folded) and the attention block at context 144;
// for Mamba-2 the norm, the z, xBC and dt projections (conv folded) and the
// SSM block (-stages: the scan, gated norm and out_proj as three stages).
// The projections fold the norm (MatMulNormed); -norm: the RMSNorm as a
// dispatch of its own in the same stage (as before session 6).
func BenchmarkKernelLayerHead(b *testing.B) {
	be, bw := benchBackend(b)
	if be.mlpF == 0 {
		b.Skip("no attention or SSM block on this device")
	}
	const D, heads, kv, hd, ctx = 2048, 32, 8, 64, 144
	dt := format.F16
	wbytes := func(rows, cols int) int64 { n, _ := dt.NBytes([]int64{int64(rows), int64(cols)}); return n }
	up := func(rows, cols int, seed uint64) rt.Weight { return uploadRandom(b, be, dt, rows, cols, seed) }
	f32w := func(rows, cols int, f func(i int) float32) rt.Weight {
		data := make([]byte, 4*rows*cols)
		for i := 0; i < rows*cols; i++ {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(f(i)))
		}
		w, err := be.Upload("v", format.F32, rows, cols, data)
		if err != nil {
			b.Fatal(err)
		}
		return w
	}
	gn := onesNorm(b, be, D)
	h := filled(b, be, D, func(i int) float32 { return float32(i%19)/9 - 1 })
	alloc := func(n int) rt.Buffer { return filled(b, be, n, pattern23) }
	xn := alloc(D)
	invFreq := alloc(hd / 2)
	// proj records dst[i] = RMSNorm(h)·w[i]ᵀ as runtime/session.go does.
	proj := func(dst [3]rt.Buffer, w [3]rt.Weight) error {
		if be.noNormFold {
			if err := be.RMSNorm(xn, h, gn, 1, D, 1e-5); err != nil {
				return err
			}
		}
		for i := range dst {
			if be.noNormFold {
				if err := be.MatMul(dst[i], xn, w[i], 1); err != nil {
					return err
				}
			} else if ok, err := be.MatMulNormed(dst[i], h, gn, 1e-5, w[i], 1); err != nil || !ok {
				return cmp.Or(err, fmt.Errorf("norm not folded"))
			}
		}
		return nil
	}
	for _, kind := range []string{"attention", "mamba"} {
		var per int64
		var copies int
		var run func(j int) error
		if kind == "attention" {
			per = wbytes(D, D)*2 + wbytes(kv*hd, D)*2
			copies = int(max(1, (256<<20+per-1)/per))
			type layer struct{ q, k, v, o rt.Weight }
			ws := make([]layer, copies)
			for i := range ws {
				s := uint64(4 * i)
				ws[i] = layer{up(D, D, s+1), up(kv*hd, D, s+2), up(kv*hd, D, s+3), up(D, D, s+4)}
			}
			q, k, v := alloc(D), alloc(kv*hd), alloc(kv*hd)
			kc, vc := alloc((ctx+1)*kv*hd), alloc((ctx+1)*kv*hd)
			run = func(j int) error {
				w := ws[j%copies]
				if err := firstBenchErr(proj([3]rt.Buffer{q, k, v}, [3]rt.Weight{w.q, w.k, w.v}),
					be.RoPE(q, 1, heads, hd, ctx-1, invFreq), be.RoPE(k, 1, kv, hd, ctx-1, invFreq)); err != nil {
					return err
				}
				ok, err := be.AttentionOut(h, q, k, v, kc, vc, w.o, 1, ctx-1, heads, kv, hd)
				if err == nil && !ok {
					err = fmt.Errorf("attention block declined")
				}
				return err
			}
		} else {
			n := heads * hd
			xw := 2*kv*hd + n
			per = wbytes(n, D) + wbytes(xw, D) + wbytes(heads, D) + wbytes(D, n)
			copies = int(max(1, (256<<20+per-1)/per))
			type layer struct{ z, xbc, dt, out rt.Weight }
			ws := make([]layer, copies)
			for i := range ws {
				s := uint64(4 * i)
				ws[i] = layer{up(n, D, s+1), up(xw, D, s+2), up(heads, D, s+3), up(D, n, s+4)}
			}
			cw := f32w(xw, 4, func(i int) float32 { return float32(i%5)/10 - 0.2 })
			cb := f32w(1, xw, func(i int) float32 { return 0.01 })
			aNeg, dtBias, dSkip := f32w(1, heads, func(i int) float32 { return -1 - float32(i%7) }), f32w(1, heads, func(int) float32 { return -3 }), f32w(1, heads, func(int) float32 { return 1 })
			gnorm := onesNorm(b, be, n)
			z, xbc, xbcC, dtv, y, g, tmp := alloc(n), alloc(xw), alloc(xw), alloc(heads), alloc(n), alloc(n), alloc(D)
			conv, state := alloc(3*xw), filled(b, be, n*hd, zero)
			run = func(j int) error {
				w := ws[j%copies]
				if err := firstBenchErr(proj([3]rt.Buffer{z, xbc, dtv}, [3]rt.Weight{w.z, w.xbc, w.dt}),
					be.Conv1D(xbcC, xbc, conv, cw, cb, 1, xw)); err != nil {
					return err
				}
				ok, err := be.SSMOut(h, xbcC, dtv, z, state, aNeg, dtBias, dSkip, gnorm, w.out, 1, heads, kv, hd, 1e-5)
				if err != nil || ok {
					return err
				}
				return firstBenchErr(be.SSMScan(y, xbcC, dtv, state, aNeg, dtBias, dSkip, 1, heads, kv, hd), be.GatedRMSNorm(g, y, z, gnorm, 1, heads, hd, 1e-5),
					be.MatMul(tmp, g, w.out, 1), be.Add(h, tmp, D))
			}
		}
		variants := []string{"", "-norm"}
		if kind == "mamba" {
			variants = append(variants, "-stages")
		}
		for _, v := range variants {
			b.Run(kind+v, func(b *testing.B) {
				be.noNormFold = v == "-norm"
				be.noSSMO = v == "-stages"
				defer func() { be.noNormFold, be.noSSMO = false, false }()
				reps := max(copies, int(0.02*bw/float64(per)))
				t := perCall(b, be, reps, func(j int) {
					if err := run(j); err != nil {
						b.Fatal(err)
					}
				})
				b.ReportMetric(t*1e6, "µs/head")
				b.ReportMetric(float64(per)/t/1e9, "GB/s")
			})
		}
	}
}

// BenchmarkDecodeKnobs measures decode tokens/s of the model file at
// $MMB_DECODE_MODEL (skipped without it) with the decode fusions as they
// are and with each one off, the variants interleaved over rounds in one
// process on one loaded model: mmbbench runs a configuration per process,
// and the machine drifts by a few per cent between processes, as much as
// these differences. Each variant reports its median tokens/s over the
// rounds (96 greedy tokens after a 16-token prompt each, fed to the next
// step on the device, as mmbbench does; host-feed reads each back first).
func BenchmarkDecodeKnobs(b *testing.B) {
	path := os.Getenv("MMB_DECODE_MODEL")
	if path == "" {
		b.Skip("MMB_DECODE_MODEL names no model file")
	}
	be, _ := benchBackend(b)
	f, err := format.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	session := func(o rt.Options) (*rt.Model, *rt.Session) {
		m, err := rt.Load(f, nil, be, o)
		if err != nil {
			b.Fatal(err)
		}
		s, err := m.NewSession()
		if err != nil {
			b.Fatal(err)
		}
		return m, s
	}
	m, main := session(rt.Options{})
	// The host-fed steps' first early submission after 4 layers (then
	// every 4; the default before session 7): a second copy of the model,
	// loaded with that schedule.
	_, first4 := session(rt.Options{SubmitFirst: 4})
	variants := []struct {
		name string
		set  func(off bool)
		host bool
		s    *rt.Session // nil: main
	}{
		{"as-is", func(bool) {}, false, nil},
		{"host-feed", func(bool) {}, true, nil},
		{"host-feed-first4", func(bool) {}, true, first4},
		{"no-ssm-block", func(off bool) { be.noSSMO = off }, false, nil},
		{"no-norm-fold", func(off bool) { be.noNormFold = off }, false, nil},
		{"no-attn-block", func(off bool) { be.noAttnO = off }, false, nil},
		{"oproj-u1", func(off bool) { be.oprojU = b2i(off) }, false, nil},
		{"attn-ku1", func(off bool) { be.attnKU = b2i(off) }, false, nil},
	}
	const rounds, tokens = 7, 96
	prompt := spreadIDs(16, m.Config.VocabSize)
	tps := make([][]float64, len(variants))
	for range b.N {
		for r := 0; r < rounds; r++ {
			for i, v := range variants {
				v.set(true)
				s := cmp.Or(v.s, main)
				if err := s.Reset(); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Prefill(prompt); err != nil {
					b.Fatal(err)
				}
				id := 1
				t0 := time.Now()
				if v.host {
					for range tokens {
						if id, err = s.StepArgmax(id); err != nil {
							b.Fatal(err)
						}
					}
				} else if err := s.Greedy(id, tokens, func(int) bool { return true }); err != nil {
					b.Fatal(err)
				}
				tps[i] = append(tps[i], tokens/time.Since(t0).Seconds())
				v.set(false)
			}
		}
	}
	for i, v := range variants {
		slices.Sort(tps[i])
		b.ReportMetric(tps[i][len(tps[i])/2], v.name+"-tok/s")
	}
}
