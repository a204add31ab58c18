//go:build cgo

package vulkan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/backendtest"
	"github.com/mmbformat/mmb/runtime/internal/hfref"
)

// blockBackend is a test backend with the one-dispatch blocks (MLP,
// attention, SSM: float atomic add and subgroup shuffle), closed with the
// test; the test is skipped where the device lacks them.
func blockBackend(t *testing.T, block string) *Backend {
	t.Helper()
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	t.Cleanup(func() { b.Close() })
	if b.mlpF == 0 {
		t.Skipf("%s: no float atomic add or subgroup shuffle: the %s is not used", b.dev.Name, block)
	}
	return b
}

// f32u is the unit roundoff of float32.
const f32u = 1.0 / (1 << 24)

// mlpCase is one MLP block: [norm →] gate, up → SwiGLU → down → residual Add.
type mlpCase struct {
	dt         format.DType
	rows, k, n int  // token rows, hidden, ffn
	norm       bool // x = RMSNorm(h) (the matvecs fold it) rather than a buffer of its own
	swap       bool // up recorded before gate
	// wscale (0: 1) narrows the weights' range, so that long rows keep
	// gate far from where silu underflows float32.
	wscale float64
}

type mlpWeights struct {
	wg, wu, wd, gn rt.Weight
	eg, eu, ed, en []float64 // the exact stored values
	h, x           []float32
}

type mlpOut struct {
	gate, up, act, down, h []float32
	cmds                   []string // recorded before the first Read
}

const mlpEps = 1e-5

func (c mlpCase) String() string {
	return fmt.Sprintf("%s rows %d k %d n %d norm %v swap %v", c.dt, c.rows, c.k, c.n, c.norm, c.swap)
}

func (c mlpCase) weights(t *testing.T, b *Backend, r *rand.Rand) mlpWeights {
	t.Helper()
	vals := func(n int, lo, hi float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(lo + (hi-lo)*r.Float64())
		}
		return v
	}
	up := func(dt format.DType, rows, cols int, v []float32) (rt.Weight, []float64) {
		data, exact := backendtest.EncodeWeight(dt, rows, cols, v)
		w, err := b.Upload("w", dt, rows, cols, data)
		if err != nil {
			t.Fatal(err)
		}
		return w, exact
	}
	var w mlpWeights
	ws := c.wscale
	if ws == 0 {
		ws = 1
	}
	w.wg, w.eg = up(c.dt, c.n, c.k, vals(c.n*c.k, -ws, ws))
	w.wu, w.eu = up(c.dt, c.n, c.k, vals(c.n*c.k, -ws, ws))
	w.wd, w.ed = up(c.dt, c.k, c.n, vals(c.k*c.n, -ws, ws))
	w.gn, w.en = up(format.F32, 1, c.k, vals(c.k, 0.5, 1.5)) // f32: what lets a matvec fold the norm
	w.h, w.x = vals(c.rows*c.k, -2, 2), vals(c.rows*c.k, -1, 1)
	return w
}

// run records the block on b (paired unless noPair) and reads its outputs.
func (c mlpCase) run(t *testing.T, b *Backend, w mlpWeights, noPair bool) mlpOut {
	t.Helper()
	b.noPair = noPair
	defer func() { b.noPair = false }()
	buf := func(v []float32, n int) rt.Buffer {
		x, err := b.Alloc(n)
		if err != nil {
			t.Fatal(err)
		}
		if v == nil { // NaN sentinels: unwritten values and writes past the end show
			v = make([]float32, n)
			for i := range v {
				v[i] = float32(math.NaN())
			}
		}
		if err := b.Write(x, 0, v); err != nil {
			t.Fatal(err)
		}
		return x
	}
	const pad = 3
	rn, rk := c.rows*c.n, c.rows*c.k
	h := buf(w.h, rk)
	gate, upb, act, tmp := buf(nil, rn+pad), buf(nil, rn+pad), buf(nil, rn+pad), buf(nil, rk)
	x := buf(nil, rk)
	if c.norm {
		mustOK(t, b.RMSNorm(x, h, w.gn, c.rows, c.k, mlpEps))
	} else {
		mustOK(t, b.Write(x, 0, w.x))
	}
	if c.swap {
		mustOK(t, b.MatMul(upb, x, w.wu, c.rows))
		mustOK(t, b.MatMul(gate, x, w.wg, c.rows))
	} else {
		mustOK(t, b.MatMul(gate, x, w.wg, c.rows))
		mustOK(t, b.MatMul(upb, x, w.wu, c.rows))
	}
	mustOK(t, b.SwiGLU(act, gate, upb, rn))
	mustOK(t, b.MatMul(tmp, act, w.wd, c.rows))
	mustOK(t, b.Add(h, tmp, rk))
	o := mlpOut{cmds: b.recorded()}
	read := func(x rt.Buffer, n int) []float32 {
		v := make([]float32, n)
		mustOK(t, b.Read(v, x, 0))
		return v
	}
	o.gate, o.up, o.act = read(gate, rn+pad), read(upb, rn+pad), read(act, rn+pad)
	for name, v := range map[string][]float32{"gate": o.gate, "up": o.up, "act": o.act} {
		for i, f := range v[rn:] {
			if !math.IsNaN(float64(f)) {
				t.Errorf("%v: %s written past rows·n at %d", c, name, rn+i)
			}
		}
	}
	o.gate, o.up, o.act = o.gate[:rn], o.up[:rn], o.act[:rn]
	o.down, o.h = read(tmp, rk), read(h, rk)
	return o
}

// uniformVals is n values uniform in [-lim, lim).
func uniformVals(r *rand.Rand, n int, lim float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lim * (2*r.Float64() - 1))
	}
	return v
}

// bufOf is a buffer of b holding v.
func bufOf(t *testing.T, b *Backend, v []float32) rt.Buffer {
	t.Helper()
	x, err := b.Alloc(len(v))
	mustOK(t, err)
	mustOK(t, b.Write(x, 0, v))
	return x
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// bounded is an output's float64 reference and its error bound, per element.
type bounded = backendtest.Bounded

// reference is backendtest.MLPRef on the case's stored values.
func (c mlpCase) reference(w mlpWeights) (gate, up, act, down, h bounded) {
	var en []float64
	if c.norm {
		en = w.en
	}
	return backendtest.MLPRef(w.h, w.x, w.eg, w.eu, w.ed, en, c.rows, c.k, c.n, mlpEps)
}

// checkBounded fails unless |got - want| <= bound everywhere.
func checkBounded(t *testing.T, what string, got []float32, r bounded) {
	t.Helper()
	for i, g := range got {
		if d := math.Abs(float64(g) - r.Want[i]); !(d <= r.Bound[i]) {
			t.Errorf("%s[%d] = %v, want %v ± %.3g", what, i, g, r.Want[i], r.Bound[i])
			return
		}
	}
}

// checkPaths fails unless two paths' outputs differ by at most the sum of
// both bounds (each is within its bound of the exact value).
func checkPaths(t *testing.T, what string, a, b []float32, r bounded) {
	t.Helper()
	same := true
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		same = same && d == 0
		if !(d <= 2*r.Bound[i]) {
			t.Errorf("%s[%d]: %v against %v: differ by %.3g > %.3g", what, i, a[i], b[i], d, 2*r.Bound[i])
			return
		}
	}
	if !same {
		t.Logf("%s: the paths differ (within rounding)", what)
	}
}

func countCmd(cmds []string, name string) int {
	n := 0
	for _, c := range cmds {
		if c == name {
			n++
		}
	}
	return n
}

// countPrefix counts the commands whose name starts with prefix (a shader
// family of any dtype, "attno_").
func countPrefix(cmds []string, prefix string) int {
	n := 0
	for _, c := range cmds {
		n += b2i(strings.HasPrefix(c, prefix))
	}
	return n
}

// TestPairedGLU: gate, up and SwiGLU after the same x become one paired
// matvec (with the norm folded when x is an RMSNorm output); the result
// matches the three-dispatch path and a float64 reference within float32
// rounding, at sizes where N is not a multiple of a workgroup's rows and
// for 1 and 3 token rows, every weight dtype (Q8_0 at widths of whole
// 32-value blocks).
func TestPairedGLU(t *testing.T) {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer b.Close()
	if !b.subgroup {
		t.Skip("no subgroup arithmetic: matvec4 (and so the pairing) is not used")
	}
	r := rand.New(rand.NewPCG(11, 12))
	var cases []mlpCase
	for _, dt := range []format.DType{format.F32, format.F16, format.BF16} {
		for _, rows := range []int{1, 3} {
			// 37: odd, so the last workgroup is partly idle (2 rows per
			// workgroup on 32-wide subgroups, 8 on lavapipe), and down's K
			// is no multiple of a 16-byte word (the word-at-a-time matvec
			// reads act); 72: down is a matvec4 too.
			for _, n := range []int{37, 72} {
				cases = append(cases, mlpCase{dt: dt, rows: rows, k: 64, n: n, norm: true}, mlpCase{dt: dt, rows: rows, k: 64, n: n})
			}
		}
	}
	for _, rows := range []int{1, 3} {
		for _, n := range []int{64, 96} {
			cases = append(cases, mlpCase{dt: format.Q8_0, rows: rows, k: 64, n: n, norm: true}, mlpCase{dt: format.Q8_0, rows: rows, k: 64, n: n})
		}
	}
	cases = append(cases, mlpCase{dt: format.F16, rows: 3, k: 64, n: 37, norm: true, swap: true})
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			w := c.weights(t, b, r)
			paired, plain := c.run(t, b, w, false), c.run(t, b, w, true)
			sfx := dtSuffix[c.dt]
			pair := "matvec4g_" + sfx
			if c.norm {
				pair = "matvec4ng_" + sfx
			}
			{
				if countCmd(paired.cmds, pair) != 1 || countCmd(paired.cmds, "swiglu") != 0 || countCmd(plain.cmds, pair) != 0 || countCmd(plain.cmds, "swiglu") != 1 {
					t.Errorf("paired %v, unpaired %v: want one %s and no swiglu in the first, the reverse in the second", paired.cmds, plain.cmds, pair)
				}
				// Down reads act plainly (its residual Add folded in where
				// it is a matvec4); the pairing costs no stage and saves
				// the SwiGLU stage where down cannot fold it.
				mv4 := c.n%vecAlign[c.dt] == 0
				if mv4 && countCmd(paired.cmds, "matvec4r_"+sfx) != 1 {
					t.Errorf("paired %v: down is not matvec4r_%s", paired.cmds, sfx)
				}
				bp, bu := countCmd(paired.cmds, "|"), countCmd(plain.cmds, "|")
				if want := bu - map[bool]int{true: 0, false: 1}[mv4]; bp != want {
					t.Errorf("%d barriers paired, %d unpaired; want %d: %v vs %v", bp, bu, want, paired.cmds, plain.cmds)
				}
			}
			gate, up, act, down, h := c.reference(w)
			for _, o := range []struct {
				name string
				p, q []float32
				r    bounded
			}{{"gate", paired.gate, plain.gate, gate}, {"up", paired.up, plain.up, up}, {"act", paired.act, plain.act, act},
				{"down", paired.down, plain.down, down}, {"h", paired.h, plain.h, h}} {
				checkBounded(t, "paired "+o.name, o.p, o.r)
				checkBounded(t, "unpaired "+o.name, o.q, o.r)
				checkPaths(t, o.name+", paired against unpaired", o.p, o.q, o.r)
			}
		})
	}
}

// TestPairedGLUCapped: the same with matvec4 launched as smallCap
// workgroups that loop over the row blocks.
func TestPairedGLUCapped(t *testing.T) { capped(t, TestPairedGLU) }

// TestPairedGLUSplit: the same with every matvec4 row shared by 3 subgroups.
func TestPairedGLUSplit(t *testing.T) { split(t, TestPairedGLU) }

// cmdSpy records the commands pending at each Read (a decode step's one
// submission ends with the Read of its logits).
// Early submissions (Submit, every few layers) are collected too.
type cmdSpy struct {
	*Backend
	cmds, early []string
}

func (s *cmdSpy) Submit() error {
	s.early = append(s.early, s.Backend.recorded()...)
	return s.Backend.Submit()
}

func (s *cmdSpy) Read(dst []float32, src rt.Buffer, off int) error {
	s.cmds = append(s.early, s.Backend.recorded()...)
	s.early = nil
	return s.Backend.Read(dst, src, off)
}

// spreadIDs is a prompt of n token ids spread over a vocabulary of v.
func spreadIDs(n, v int) []int {
	ids := make([]int, n)
	for j := range ids {
		ids[j] = (7*j + 3) % v
	}
	return ids
}

// decodeStep loads the model at path on b, prefills 100 tokens and runs one
// decode step: its logits, the commands the step recorded and the model's
// config.
func decodeStep(t *testing.T, path string, b *Backend) ([]float32, []string, *format.Config) {
	t.Helper()
	sp := &cmdSpy{Backend: b}
	m := openOn(t, path, sp, rt.Options{})
	s, err := m.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Prefill(spreadIDs(100, m.Config.VocabSize)); err != nil {
		t.Fatal(err)
	}
	lg, err := s.Step(5)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(lg), sp.cmds, m.Config
}

// decodeStepOnOff runs decodeStep twice, each on a fresh backend that
// set(b, off) has prepared: [0] with the change under test, [1] without.
// It returns both steps' logits and commands, the config and the first
// backend.
func decodeStepOnOff(t *testing.T, path string, set func(b *Backend, off bool)) (logits [2][]float32, cmds [2][]string, cfg *format.Config, on *Backend) {
	t.Helper()
	for i, off := range []bool{false, true} {
		b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
		set(b, off)
		logits[i], cmds[i], cfg = decodeStep(t, path, b)
		if !off {
			on = b
		}
	}
	return logits, cmds, cfg, on
}

// blockStepOnOff is decodeStepOnOff on fixture name for the one-dispatch
// blocks' tests: skipped where the device lacks them (blockBackend).
func blockStepOnOff(t *testing.T, name string, set func(b *Backend, off bool)) (logits [2][]float32, cmds [2][]string, cfg *format.Config, on *Backend) {
	t.Helper()
	path := hfref.Convert(t, filepath.Join(fixtures, name), 0)
	return decodeStepOnOff(t, path, func(b *Backend, off bool) {
		if b.mlpF == 0 {
			t.Skipf("%s: no float atomic add or subgroup shuffle: no one-dispatch blocks", b.dev.Name)
		}
		set(b, off)
	})
}

// checkStageSaved: the step with the change has saved barriers fewer than
// the one without, and its logits agree within hfref.SelfTol.
func checkStageSaved(t *testing.T, what string, logits [2][]float32, cmds [2][]string, saved int) {
	t.Helper()
	if got, want := countCmd(cmds[0], "|"), countCmd(cmds[1], "|")-saved; got != want {
		t.Errorf("%d barriers, want %d (without %s: %d, less %d)", got, want, what, countCmd(cmds[1], "|"), saved)
	}
	hfref.CheckClose(t, "step logits, "+what+" vs without", logits[0], logits[1], hfref.SelfTol)
}

// TestDecodeStepFused runs one decode step of each fixture at context 101
// with the pairing and the one-pass attention, and as before them (gate, up
// and SwiGLU as three dispatches; attention split into 64-position chunks
// and merged). Every MLP block takes the paired matvec, every attention
// layer one attndec and no attncomb, which saves one stage per attention
// layer; the logits agree within hfref.SelfTol (the paths differ only in
// the order of the same float32 operations).
func TestDecodeStepFused(t *testing.T) {
	for _, name := range hfref.Fixtures {
		t.Run(name, func(t *testing.T) {
			path := hfref.Convert(t, filepath.Join(fixtures, name), 0)
			logits, cmds, cfg, _ := decodeStepOnOff(t, path, func(b *Backend, before bool) {
				b.noPair = before
				b.mlpF = 0 // the one-dispatch MLP block replaces the pairing (TestDecodeStepMLPBlock)
				if before {
					b.attnOnePass = 0
					b.noGroupedAttn = true // attndec per head, as one pass replaced
				}
			})
			layers := cfg.NumLayers
			now, old := cmds[0], cmds[1]
			pairs := countPrefix(now, "matvec4g_") + countPrefix(now, "matvec4ng_")
			attn := countCmd(now, "attndec")
			t.Logf("%d layers (%d attention): %d commands, %d barriers; before: %d commands, %d barriers",
				layers, attn, len(now), countCmd(now, "|"), len(old), countCmd(old, "|"))
			if pairs != layers || countCmd(now, "swiglu") != 0 || countCmd(old, "swiglu") != layers {
				t.Errorf("%d paired matvecs and %d swiglu (before: %d swiglu) for %d layers:\n%v", pairs, countCmd(now, "swiglu"), countCmd(old, "swiglu"), layers, now)
			}
			if countCmd(now, "attncomb") != 0 || countCmd(old, "attncomb") != attn || countCmd(old, "attndec") != attn {
				t.Errorf("attention: %d attncomb now, %d before, for %d layers:\n%v", countCmd(now, "attncomb"), countCmd(old, "attncomb"), attn, now)
			}
			if i := strings.Index(strings.Join(now, " "), "| |"); i >= 0 {
				t.Errorf("two barriers with nothing between: %v", now)
			}
			checkStageSaved(t, "the pairing and one-pass attention", logits, cmds, attn)
		})
	}
}

// TestDecodeStepFusedCapped: the same with matvec4 launched as smallCap
// workgroups (rotating, paired and residual variants included).
func TestDecodeStepFusedCapped(t *testing.T) { capped(t, TestDecodeStepFused) }

// TestDecodeStepFusedSplit: the same with every matvec4 row shared by 3
// subgroups (the norm's sum of squares, the rotated pairs and the residual
// variants through the shared-memory sums).
func TestDecodeStepFusedSplit(t *testing.T) { split(t, TestDecodeStepFused) }

// TestCappedMatvecExact: with matvec4 launched as smallCap workgroups, each
// fixture's logits through 5-row prefill chunks and decode steps, paired and
// unpaired, are bit for bit those of one workgroup per row block: a row is
// summed in the same order either way. (The capped tests above compare
// paths that are both capped, or within tolerances.)
func TestCappedMatvecExact(t *testing.T) {
	for _, name := range hfref.Fixtures {
		t.Run(name, func(t *testing.T) {
			path := hfref.Convert(t, filepath.Join(fixtures, name), 0)
			for _, noPair := range []bool{false, true} {
				var logits [2][]float32
				for i, c := range []int{0, smallCap} {
					b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
					// The MLP block's atomic sums vary in order from run to run.
					b.noPair, b.mvCap, b.mlpF = noPair, c, 0
					m := openOn(t, path, b, rt.Options{PrefillChunk: 5})
					s, err := m.NewSession()
					if err != nil {
						t.Fatal(err)
					}
					lg, err := s.PrefillAll(spreadIDs(12, m.Config.VocabSize))
					if err != nil {
						t.Fatal(err)
					}
					logits[i] = slices.Clone(lg)
					for _, id := range []int{5, 9, 2} {
						if lg, err = s.Step(id); err != nil {
							t.Fatal(err)
						}
						logits[i] = append(logits[i], lg...)
					}
				}
				if !slices.Equal(logits[0], logits[1]) {
					t.Errorf("noPair %v: logits capped at %d workgroups differ from uncapped", noPair, smallCap)
				}
			}
		})
	}
}

// TestAttentionOnePass: decode attention up to attnOnePassMax positions runs
// as one attndec (no attncomb) and agrees with the split path and with a
// float64 reference, at the limit, past a 64-position chunk and for head
// dims that take the 16-byte value loads (64, 24) and the scalar ones (6).
func TestAttentionOnePass(t *testing.T) {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer b.Close()
	r := rand.New(rand.NewPCG(13, 14))
	vals := func(n int, lim float64) []float32 { return uniformVals(r, n, lim) }
	buf := func(v []float32) rt.Buffer { return bufOf(t, b, v) }
	const heads, kvHeads = 4, 2
	for _, c := range []struct{ hd, ctx, rows int }{{64, 256, 1}, {64, 144, 3}, {24, 200, 2}, {6, 97, 1}, {64, 1, 1}} {
		t.Run(fmt.Sprintf("hd %d ctx %d rows %d", c.hd, c.ctx, c.rows), func(t *testing.T) {
			kvw, qw, pos0 := kvHeads*c.hd, heads*c.hd, c.ctx-c.rows
			// Cache positions before pos0, and the new rows' q, k, v.
			cacheK, cacheV := vals(c.ctx*kvw, 1.5), vals(c.ctx*kvw, 2)
			q, k, v := vals(c.rows*qw, 1.5), cacheK[pos0*kvw:], cacheV[pos0*kvw:]
			var outs [2][]float32
			var cmds [2][]string
			for i, onePass := range []bool{true, false} {
				if !onePass {
					b.attnOnePass = 0
				}
				kc, vc := buf(append(cacheK[:pos0*kvw:pos0*kvw], make([]float32, c.rows*kvw)...)), buf(append(cacheV[:pos0*kvw:pos0*kvw], make([]float32, c.rows*kvw)...))
				out := buf(make([]float32, c.rows*qw))
				mustOK(t, b.Attention(out, buf(q), buf(k), buf(v), kc, vc, c.rows, pos0, heads, kvHeads, c.hd))
				cmds[i] = b.recorded()
				outs[i] = make([]float32, c.rows*qw)
				mustOK(t, b.Read(outs[i], out, 0))
				b.attnOnePass = attnOnePassMax
			}
			if countCmd(cmds[0], "attndec") != 1 || countCmd(cmds[0], "attncomb") != 0 {
				t.Errorf("one pass recorded %v", cmds[0])
			}
			if split := c.ctx > attnChunkMin; countCmd(cmds[1], "attncomb") != map[bool]int{true: 1, false: 0}[split] {
				t.Errorf("split path recorded %v", cmds[1])
			}
			r := attnRef(q, cacheK, cacheV, c.rows, pos0, heads, kvHeads, c.hd)
			checkBounded(t, "one pass", outs[0], r)
			checkBounded(t, "split", outs[1], r)
			checkPaths(t, "attention, one pass against split", outs[0], outs[1], r)
		})
	}
}

// attnRef is decode attention in float64 for rows query rows from pos0 over
// caches holding every position (new rows included), with backendtest's
// bound: score errors (hd+4)·u·Σ|qk|/√hd move each softmax weight by twice
// that, relative; exp, normalisation and the weighted sum add (n+16)·u; ×2
// for second-order terms.
func attnRef(q, cacheK, cacheV []float32, rows, pos0, heads, kvHeads, hd int) bounded {
	kvw, qw := kvHeads*hd, heads*hd
	want := make([]float64, rows*qw)
	bound := make([]float64, rows*qw)
	for i := 0; i < rows; i++ {
		n := pos0 + i + 1
		for h := 0; h < heads; h++ {
			g := h / (heads / kvHeads)
			qh := q[i*qw+h*hd : i*qw+(h+1)*hd]
			sc := make([]float64, n)
			m, maxErr := math.Inf(-1), 0.0
			for j := range sc {
				kj := cacheK[j*kvw+g*hd : j*kvw+(g+1)*hd]
				var dot, abs float64
				for d := range qh {
					dot += float64(qh[d]) * float64(kj[d])
					abs += math.Abs(float64(qh[d]) * float64(kj[d]))
				}
				sc[j] = dot / math.Sqrt(float64(hd))
				m = math.Max(m, sc[j])
				maxErr = math.Max(maxErr, (float64(hd)+4)*f32u*abs/math.Sqrt(float64(hd)))
			}
			var sum float64
			for j := range sc {
				sc[j] = math.Exp(sc[j] - m)
				sum += sc[j]
			}
			for d := 0; d < hd; d++ {
				var o, absv float64
				for j := range sc {
					vj := float64(cacheV[j*kvw+g*hd+d])
					o += sc[j] / sum * vj
					absv += sc[j] / sum * math.Abs(vj)
				}
				at := i*qw + h*hd + d
				want[at] = o
				bound[at] = 2 * (2*maxErr + float64(n+16)*f32u) * absv
			}
		}
	}
	return bounded{Want: want, Bound: bound}
}

// TestAttentionGrouped: on the split path, attndecg (one workgroup per kv
// head's group of query heads) agrees with attndec per query head and with a
// float64 reference, for 1 (attndec either way), 2, 4 and 8 query heads per
// kv head, head dims on 16-byte key loads (64) and scalar ones (24),
// contexts that fill their chunks and that do not, 1 and 3 rows, and chunks
// longer than a 128-position block (attnChunk 192).
func TestAttentionGrouped(t *testing.T) {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer b.Close()
	b.attnOnePass = 0
	warmed := map[int]bool{} // group sizes whose first (warming) step has run
	r := rand.New(rand.NewPCG(15, 16))
	vals := func(n int, lim float64) []float32 { return uniformVals(r, n, lim) }
	buf := func(v []float32) rt.Buffer { return bufOf(t, b, v) }
	const kvHeads = 2
	type tc struct{ grp, hd, ctx, rows, chunk int }
	var cases []tc
	for _, grp := range []int{1, 2, 4, 8} {
		for _, hd := range []int{64, 24} {
			cases = append(cases, tc{grp, hd, 256, 1, 64}, tc{grp, hd, 197, 3, 64}, tc{grp, hd, 200, 3, 64}, tc{grp, hd, 451, 1, 192})
		}
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("grp %d hd %d ctx %d rows %d chunk %d", c.grp, c.hd, c.ctx, c.rows, c.chunk), func(t *testing.T) {
			b.attnChunk = c.chunk
			defer func() { b.attnChunk = attnChunkMin }()
			heads := kvHeads * c.grp
			kvw, qw, pos0 := kvHeads*c.hd, heads*c.hd, c.ctx-c.rows
			cacheK, cacheV := vals(c.ctx*kvw, 1.5), vals(c.ctx*kvw, 2)
			q, k, v := vals(c.rows*qw, 1.5), cacheK[pos0*kvw:], cacheV[pos0*kvw:]
			var outs [2][]float32
			for i, grouped := range []bool{true, false} {
				b.noGroupedAttn = !grouped
				kc, vc := buf(append(cacheK[:pos0*kvw:pos0*kvw], make([]float32, c.rows*kvw)...)), buf(append(cacheV[:pos0*kvw:pos0*kvw], make([]float32, c.rows*kvw)...))
				out := buf(make([]float32, c.rows*qw))
				mustOK(t, b.Attention(out, buf(q), buf(k), buf(v), kc, vc, c.rows, pos0, heads, kvHeads, c.hd))
				cmds := b.recorded()
				b.noGroupedAttn = false
				dec, want := "attndec", 1
				if grouped && c.grp > 1 {
					dec = "attndecg"
					if !warmed[c.grp] {
						want = 2 // the empty dispatch of a group size's first step
						warmed[c.grp] = true
					}
				}
				if countCmd(cmds, dec) != want || countCmd(cmds, "attncomb") != 1 {
					t.Errorf("grouped %v recorded %v", grouped, cmds)
				}
				outs[i] = make([]float32, c.rows*qw)
				mustOK(t, b.Read(outs[i], out, 0))
				// The new rows' keys and values are in the caches.
				for _, cv := range []struct {
					c    rt.Buffer
					want []float32
				}{{kc, cacheK}, {vc, cacheV}} {
					got := make([]float32, c.ctx*kvw)
					mustOK(t, b.Read(got, cv.c, 0))
					if !slices.Equal(got, cv.want) {
						t.Errorf("grouped %v: cache differs from the positions written", grouped)
					}
				}
			}
			r := attnRef(q, cacheK, cacheV, c.rows, pos0, heads, kvHeads, c.hd)
			checkBounded(t, "grouped", outs[0], r)
			checkBounded(t, "split", outs[1], r)
			checkPaths(t, "attention, grouped against split", outs[0], outs[1], r)
		})
	}
}

// TestSplitLongRows: rows long enough that each subgroup of a split takes
// rounds of its own (1536 values: 3 rounds of loads per row on lavapipe's
// 8-wide subgroups for f16 and Q8_0, 6 for f32), split 1, 2 and 3 ways,
// paired and unpaired, for 1 and 3 token rows: every output stays within
// the float32 bound of the float64 reference. (The suite's other split
// tests use short rows, where only the first part gets words.)
func TestSplitLongRows(t *testing.T) {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer b.Close()
	if !b.subgroup {
		t.Fatal("no subgroup arithmetic: matvec4 is not used (lavapipe has it)")
	}
	r := rand.New(rand.NewPCG(17, 18))
	for _, dt := range []format.DType{format.F32, format.F16, format.BF16, format.Q8_0} {
		for _, rows := range []int{1, 3} {
			c := mlpCase{dt: dt, rows: rows, k: 1536, n: 1536, norm: true, wscale: 0.25}
			w := c.weights(t, b, r)
			gate, up, act, down, h := c.reference(w)
			for _, split := range []int{1, 2, 3} {
				for _, noPair := range []bool{false, true} {
					t.Run(fmt.Sprintf("%v split %d noPair %v", c, split, noPair), func(t *testing.T) {
						b.mvSplit = split
						defer func() { b.mvSplit = 0 }()
						o := c.run(t, b, w, noPair)
						for _, x := range []struct {
							name string
							got  []float32
							r    bounded
						}{{"gate", o.gate, gate}, {"up", o.up, up}, {"act", o.act, act}, {"down", o.down, down}, {"h", o.h, h}} {
							checkBounded(t, x.name, x.got, x.r)
						}
					})
				}
			}
		}
	}
}

// TestDecodeStepConvFold: in a decode step every Mamba-2 layer's conv runs
// in its in_proj matvec (matvec4nc, no conv1d dispatch), one barrier fewer
// per Mamba layer, and the logits agree with the conv as its own dispatch
// within hfref.SelfTol (the same float32 operations; only the norm's
// reduction order may differ between variants).
func TestDecodeStepConvFold(t *testing.T) {
	mambaFixtures := 0
	for _, name := range hfref.Fixtures {
		t.Run(name, func(t *testing.T) {
			path := hfref.Convert(t, filepath.Join(fixtures, name), 0)
			logits, cmds, _, _ := decodeStepOnOff(t, path, func(b *Backend, off bool) { b.noConvFold = off })
			now, old := cmds[0], cmds[1]
			mamba := countCmd(old, "conv1d")
			if mamba > 0 {
				mambaFixtures++
			}
			folded := countPrefix(now, "matvec4nc_")
			t.Logf("%d Mamba layers: %d commands, %d barriers; conv as its own dispatch: %d commands, %d barriers",
				mamba, len(now), countCmd(now, "|"), len(old), countCmd(old, "|"))
			if folded != mamba || countCmd(now, "conv1d") != 0 {
				t.Errorf("%d matvec4nc and %d conv1d dispatches for %d Mamba layers:\n%v", folded, countCmd(now, "conv1d"), mamba, now)
			}
			checkStageSaved(t, "the conv fold", logits, cmds, mamba)
		})
	}
	if mambaFixtures == 0 {
		t.Fatal("no fixture has a Mamba layer")
	}
}
