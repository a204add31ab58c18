//go:build cgo

package vulkan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/backendtest"
	"github.com/mmbformat/mmb/runtime/cpu"
)

// scanInput is one SSMScan call's inputs.
type scanInput struct {
	rows, heads, kv, hd int
	xbc, dt, state      []float32
	aNeg, dtBias, dSkip []float32
}

// newScanInput draws inputs in the model's ranges (DESIGN.md §4: A in
// [-16, -1], dt_bias the inverse softplus of [1e-3, 0.1], D near 1). Even
// heads get dt in [-2, 5] (d up to ~5, fast decay); odd heads dt in [-9, -4]
// (d ~1e-4), so that the incoming state and every earlier chunk still count
// at the last token and the pass over chunks is really tested.
func newScanInput(r *rand.Rand, rows, heads, kv, hd int) *scanInput {
	in := &scanInput{rows: rows, heads: heads, kv: kv, hd: hd}
	uni := func(n int, lo, hi float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(lo + (hi-lo)*r.Float64())
		}
		return v
	}
	in.xbc = uni(rows*(2*kv*hd+heads*hd), -1, 1)
	in.dt = make([]float32, rows*heads)
	for i := range in.dt {
		if i%heads%2 == 0 {
			in.dt[i] = float32(-2 + 7*r.Float64())
		} else {
			in.dt[i] = float32(-9 + 5*r.Float64())
		}
	}
	in.state = uni(heads*hd*hd, -1, 1)
	in.aNeg, in.dtBias, in.dSkip = make([]float32, heads), make([]float32, heads), make([]float32, heads)
	for h := range heads {
		in.aNeg[h] = float32(-(1 + 15*r.Float64()))
		dt0 := math.Exp(math.Log(1e-3) + r.Float64()*(math.Log(0.1)-math.Log(1e-3)))
		in.dtBias[h] = float32(dt0 + math.Log(-math.Expm1(-dt0)))
		in.dSkip[h] = float32(1 + 0.1*r.NormFloat64())
	}
	return in
}

// runScan runs one SSMScan on b and returns y and the final state.
func runScan(t *testing.T, b rt.Backend, in *scanInput) (y, state []float32) {
	t.Helper()
	up := func(v []float32) rt.Weight {
		data, _ := backendtest.EncodeWeight(format.F32, 1, len(v), v)
		w, err := b.Upload("v", format.F32, 1, len(v), data)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	buf := func(v []float32) rt.Buffer {
		x, err := b.Alloc(len(v))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Write(x, 0, v); err != nil {
			t.Fatal(err)
		}
		return x
	}
	yb, sb := buf(make([]float32, in.rows*in.heads*in.hd)), buf(in.state)
	if err := b.SSMScan(yb, buf(in.xbc), buf(in.dt), sb, up(in.aNeg), up(in.dtBias), up(in.dSkip), in.rows, in.heads, in.kv, in.hd); err != nil {
		t.Fatal(err)
	}
	y, state = make([]float32, in.rows*in.heads*in.hd), make([]float32, len(in.state))
	if err := b.Read(y, yb, 0); err != nil {
		t.Fatal(err)
	}
	if err := b.Read(state, sb, 0); err != nil {
		t.Fatal(err)
	}
	return y, state
}

// reference runs the recurrence in float64: y and state, and the same on
// absolute values, yabs and sabs, what y and the state would be if no term
// cancelled: the scale of any rounding error in them (|D·x| included).
func (in *scanInput) reference() (y, state, yabs, sabs []float64) {
	H, p := in.heads, in.hd
	dxb := in.kv * p
	width := 2*dxb + H*p
	yabs, sabs = make([]float64, in.rows*H*p), make([]float64, H*p*p)
	y, state = make([]float64, in.rows*H*p), make([]float64, H*p*p)
	for k, v := range in.state {
		state[k], sabs[k] = float64(v), math.Abs(float64(v))
	}
	for r := 0; r < in.rows; r++ {
		row := in.xbc[r*width:]
		for h := 0; h < H; h++ {
			g := h / (H / in.kv)
			x := float64(in.dt[r*H+h]) + float64(in.dtBias[h])
			d := x
			if x <= 20 {
				d = math.Log1p(math.Exp(x))
			}
			a := math.Exp(d * float64(in.aNeg[h]))
			for i := 0; i < p; i++ {
				xv := float64(row[g*p+i])
				var yv, ya float64
				for j := 0; j < p; j++ {
					k := (h*p+i)*p + j
					B, C := float64(row[dxb+g*p+j]), float64(row[2*dxb+h*p+j])
					state[k] = a*state[k] + d*xv*B
					sabs[k] = a*sabs[k] + math.Abs(d*xv*B)
					yv += state[k] * C
					ya += sabs[k] * math.Abs(C)
				}
				y[(r*H+h)*p+i] = yv + float64(in.dSkip[h])*xv
				yabs[(r*H+h)*p+i] = ya + math.Abs(float64(in.dSkip[h])*xv)
			}
		}
	}
	return y, state, yabs, sabs
}

const u32 = 1.0 / (1 << 24) // float32 unit roundoff

// Error bounds, in units of u times the magnitudes yabs and sabs.
//
// chunkTol bounds the chunked scan against the float64 recurrence. Its sums
// run over at most N (C·B, S·C) and Q (the chunk) terms, whose worst-case
// bound (N + Q + …)·u is far above what rounding errors of either sign add
// up to; measured over these and similar cases with several seeds the worst
// is 5.8u for y and 10.7u for the state, so 32u leaves a 3× margin. It is
// tight enough to catch Λ_t−Λ_s taken as a difference of running sums (that
// variant measures 40u to 220u here) and far below a missed or misplaced
// term (≥ 1e4 u).
const chunkTol = 32.0

// seqTol is the conformance suite's bound for the sequential scan after
// step steps (runtime/backendtest: every step multiplies the earlier terms
// by one more rounded factor, 8u a step, and y's C dot adds p·u); the
// sequential forms measure up to 38u (y) and 75u (state) at 300 steps.
func seqTol(p, step int) float64 { return float64(p + 16 + 8*step) }

// within checks |got − want| ≤ tol(i)·u·mag[i] element by element.
func within[T float32 | float64](t *testing.T, what string, got []float32, want []T, mag []float64, tol func(i int) float64) {
	t.Helper()
	worst, wi := 0.0, 0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d == 0 {
			continue
		}
		r := d / (tol(i) * u32 * mag[i])
		if math.IsNaN(d) {
			r = math.Inf(1)
		}
		if r > worst {
			worst, wi = r, i
		}
	}
	if worst > 1 {
		t.Errorf("%s: element %d = %v, want %v ± %.3g (%.3g of the bound)", what, wi, got[wi], want[wi], tol(wi)*u32*mag[wi], worst)
	}
}

// The chunked scan equals the sequential one on the Vulkan backend, from a
// non-zero state, for token counts around multiples of Q, GQA 2:1 and 4:1,
// and head dims of one 16-channel slab, one and a partial 64-channel block,
// and below a slab; y and the final state are compared with each other and
// with the float64 recurrence.
func TestSSMChunkedEqualsSequential(t *testing.T) {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer b.Close()
	r := rand.New(rand.NewPCG(7, 8))
	const Q = ssmChunkLen
	for _, c := range []struct{ rows, heads, kv, hd, q int }{
		{1, 4, 2, 16, 0}, {Q - 1, 4, 2, 16, 0}, {Q, 4, 1, 16, 0}, {Q + 1, 4, 2, 64, 0},
		{3*Q + 5, 4, 1, 64, 0}, {300, 4, 2, 16, 0}, {130, 2, 1, 80, 0},
		{50, 3, 1, 6, 13}, // chunks not a multiple of the 16-token slabs
	} {
		in := newScanInput(r, c.rows, c.heads, c.kv, c.hd)
		name := fmt.Sprintf("rows %d heads %d kv %d hd %d q %d", c.rows, c.heads, c.kv, c.hd, c.q)
		b.ssm.mode, b.ssm.q = ssmSequential, 0
		runs := b.ssm.runs
		ys, ss := runScan(t, b, in)
		if b.ssm.runs != runs {
			t.Fatalf("%s: sequential scan took the chunked path", name)
		}
		b.ssm.mode, b.ssm.q = ssmChunked, c.q
		yc, sc := runScan(t, b, in)
		if b.ssm.runs != runs+1 {
			t.Fatalf("%s: forced chunked scan did not take the chunked path", name)
		}
		yr, sr, yabs, sabs := in.reference()
		row := func(i int) int { return i/(c.heads*c.hd) + 1 }
		within(t, name+": chunked y vs float64", yc, yr, yabs, func(int) float64 { return chunkTol })
		within(t, name+": chunked state vs float64", sc, sr, sabs, func(int) float64 { return chunkTol })
		within(t, name+": chunked vs sequential y", yc, ys, yabs, func(i int) float64 { return chunkTol + seqTol(c.hd, row(i)) })
		within(t, name+": chunked vs sequential state", sc, ss, sabs, func(int) float64 { return chunkTol + seqTol(0, c.rows) })
	}
}

// The chunked scan on Vulkan against the CPU backend's scan, sequential and
// chunked: within the sum of the two forms' bounds against float64.
func TestSSMChunkedMatchesCPU(t *testing.T) {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer b.Close()
	b.ssm.mode = ssmChunked
	r := rand.New(rand.NewPCG(9, 10))
	for _, c := range []struct{ rows, heads, kv, hd int }{{300, 4, 1, 64}, {3*ssmChunkLen + 5, 4, 2, 16}} {
		in := newScanInput(r, c.rows, c.heads, c.kv, c.hd)
		yv, sv := runScan(t, b, in)
		_, _, yabs, sabs := in.reference()
		for _, o := range []cpu.Options{{Threads: 2, ChunkRows: -1}, {Threads: 2, ChunkRows: 1, Chunk: 64}} {
			cb := cpu.New(o)
			yc, sc := runScan(t, cb, in)
			cb.Close()
			name := fmt.Sprintf("rows %d heads %d kv %d hd %d: cpu %+v", c.rows, c.heads, c.kv, c.hd, o)
			yt := func(i int) float64 { return chunkTol + seqTol(c.hd, i/(c.heads*c.hd)+1) }
			st := func(int) float64 { return chunkTol + seqTol(0, c.rows) }
			if o.ChunkRows > 0 { // CPU chunked vs float64 measures ≤ 8.3u; chunkTol holds for it too
				yt = func(int) float64 { return 2 * chunkTol }
				st = yt
			}
			within(t, name+" y", yv, yc, yabs, yt)
			within(t, name+" state", sv, sc, sabs, st)
		}
	}
}

// SSMScan picks the chunked path from ssmChunkMinRows tokens on (decode and
// short prompts stay sequential), and reuses its scratch buffers.
func TestSSMChunkedThreshold(t *testing.T) {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer b.Close()
	if !b.ssmUseChunked(ssmChunkMinRows) {
		t.Fatalf("%s: too little shared memory for the chunked scan", b.Device().Name)
	}
	r := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct {
		rows, mode int
		chunked    bool
	}{
		{1, ssmAuto, false}, {ssmChunkMinRows - 1, ssmAuto, false}, {ssmChunkMinRows, ssmAuto, true}, {300, ssmAuto, true},
		{300, ssmSequential, false}, {1, ssmChunked, true},
	} {
		b.ssm.mode = c.mode
		runs := b.ssm.runs
		runScan(t, b, newScanInput(r, c.rows, 2, 1, 8))
		if got := b.ssm.runs > runs; got != c.chunked {
			t.Errorf("rows %d mode %d: chunked %v, want %v", c.rows, c.mode, got, c.chunked)
		}
	}
	states, decay := b.ssm.states.h, b.ssm.decay.h
	b.ssm.mode = ssmAuto
	runScan(t, b, newScanInput(r, 300, 2, 1, 8))
	if b.ssm.states.h != states || b.ssm.decay.h != decay {
		t.Error("a scan no larger than an earlier one allocated new scratch")
	}
}

// The conformance suite (several calls carrying the state, head dims 4 to
// 64, against float64) with every scan chunked, in chunks of 8 tokens so
// that each call spans several.
func TestConformanceChunkedScan(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) rt.Backend {
		b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
		b.ssm.mode, b.ssm.q = ssmChunked, 8
		return b
	})
}
