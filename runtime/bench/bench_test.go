package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmbformat/mmb/convert"
	"github.com/mmbformat/mmb/format"
	"github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/cpu"
)

// tiny is a generated model small enough that a whole mmbbench run takes
// well under a second on the CPU backend (and a few on lavapipe).
func tiny(mamba string, untied bool) GenOptions {
	return GenOptions{Hidden: 64, Intermediate: 128, Layers: 4, Heads: 4, KVHeads: 2, HeadDim: 16,
		Vocab: 256, MaxPositions: 256, DType: "f16", MambaLayers: mamba, Untied: untied, Seed: 3}
}

func genFile(t *testing.T, o GenOptions) (*format.File, *format.Revision) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.mmb")
	if _, err := Generate(path, o); err != nil {
		t.Fatal(err)
	}
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, f.Latest()
}

// small are options every run test uses: lengths that fit 256 positions,
// one repetition, a bandwidth probe of 2 MiB.
func small() Options {
	return Options{PromptTokens: 4, DecodeTokens: 8, Prefill: []int{16, 48}, Contexts: []int{32, 1000},
		ContextTokens: 4, Reps: 1, BandwidthMiB: 2, Profile: true, ProfileTokens: 2}
}

func cpuOpen() (runtime.Backend, error) { return cpu.New(cpu.Options{Threads: 1}), nil }

// checkResult asserts that the JSON form of r has every field, every number
// positive, and plausible fractions. It knows the fields independently of the
// structs, so that a renamed or dropped field fails.
func checkResult(t *testing.T, r *Result, wantCtx []int) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	pos := func(where string, obj map[string]any, keys ...string) {
		for _, k := range keys {
			v, ok := obj[k].(float64)
			if !ok || !(v > 0) || math.IsInf(v, 0) {
				t.Errorf("%s.%s = %v, want a positive number", where, k, obj[k])
			}
		}
	}
	str := func(where string, obj map[string]any, keys ...string) {
		for _, k := range keys {
			if v, ok := obj[k].(string); !ok || v == "" {
				t.Errorf("%s.%s = %v, want a string", where, k, obj[k])
			}
		}
	}
	frac := func(where string, v any) {
		if f, ok := v.(float64); !ok || !(f > 0 && f < 2) {
			t.Errorf("%s = %v, want a fraction in (0, 2)", where, v)
		}
	}
	obj := func(v any, where string) map[string]any {
		o, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s missing or not an object: %v", where, v)
		}
		return o
	}
	list := func(v any, where string, n int) []any {
		l, ok := v.([]any)
		if !ok || len(l) != n {
			t.Fatalf("%s = %v, want a list of %d", where, v, n)
		}
		return l
	}
	str("result", m, "backend", "device")
	pos("result", m, "max_context")
	s := obj(m["shape"], "shape")
	pos("shape", s, "hidden", "intermediate", "layers", "vocab", "params")
	str("shape", s, "dtype")
	if _, ok := s["attention_layers"].(float64); !ok {
		t.Error("shape.attention_layers missing")
	}
	if _, ok := s["mamba_layers"].(float64); !ok {
		t.Error("shape.mamba_layers missing")
	}
	w := obj(m["weights"], "weights")
	pos("weights", w, "bytes_per_token")
	str("weights", w, "counted")
	bw := obj(m["bandwidth"], "bandwidth")
	pos("bandwidth", bw, "bytes_per_sec", "probe_bytes")
	str("bandwidth", bw, "method")
	d := obj(m["decode"], "decode")
	pos("decode", d, "prompt_tokens", "tokens", "tokens_per_sec", "ms_per_token", "limit_tokens_per_sec")
	frac("decode.bandwidth_fraction", d["bandwidth_fraction"])
	for i, p := range list(m["prefill"], "prefill", 2) {
		pos(fmt.Sprint("prefill[", i, "]"), obj(p, "prefill"), "tokens", "tokens_per_sec", "best_tokens_per_sec", "seconds")
	}
	for i, c := range list(m["context"], "context", len(wantCtx)) {
		c := obj(c, "context")
		where := fmt.Sprint("context[", i, "]")
		pos(where, c, "context", "tokens", "tokens_per_sec", "state_bytes_per_token", "relative_to_first")
		frac(where+".bandwidth_fraction", c["bandwidth_fraction"])
		if got := int(c["context"].(float64)); got != wantCtx[i] {
			t.Errorf("%s.context = %d, want %d", where, got, wantCtx[i])
		}
	}
	for i, p := range list(m["profile"], "profile", 2) {
		p := obj(p, "profile")
		where := fmt.Sprint("profile[", i, "]")
		str(where, p, "phase", "method")
		pos(where, p, "tokens", "wall_seconds", "op_seconds")
		share := 0.0
		for j, op := range p["ops"].([]any) {
			op := obj(op, "op")
			str(fmt.Sprint(where, ".ops[", j, "]"), op, "op")
			pos(fmt.Sprint(where, ".ops[", j, "]"), op, "count")
			share += op["share"].(float64)
		}
		if math.Abs(share-1) > 1e-9 {
			t.Errorf("%s: shares sum to %v, want 1", where, share)
		}
	}
}

func TestMeasureCPU(t *testing.T) {
	f, rev := genFile(t, tiny("half", false))
	var log bytes.Buffer
	r, err := Measure(f, rev, cpuOpen, small(), &log)
	if err != nil {
		t.Fatal(err)
	}
	// 1000 is past the 256 positions less the 4 decoded: capped, and said so.
	checkResult(t, r, []int{32, 252})
	if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "context 1000 capped to 252") {
		t.Errorf("notes %q, want the cap of context 1000", r.Notes)
	}
	if r.MaxContext != 256 {
		t.Errorf("max context %d, want 256", r.MaxContext)
	}
	if r.Shape.AttentionLayers != 2 || r.Shape.MambaLayers != 2 || r.Shape.DType != "F16" {
		t.Errorf("shape %+v", r.Shape)
	}
	if !strings.Contains(log.String(), "decode at context 252") {
		t.Errorf("progress log lacks the context runs:\n%s", log.String())
	}
}

// A converted HF fixture (untied, hybrid as HF made it) runs too.
func TestMeasureFixture(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.mmb")
	if _, err := convert.Convert(context.Background(), convert.Options{Input: "../../testdata/fixtures/mamba2-hybrid-tiny", Output: path}); err != nil {
		t.Fatal(err)
	}
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o := small()
	o.Contexts = []int{32, 128}
	r, err := Measure(f, f.Latest(), cpuOpen, o, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r, []int{32, 128})
	if r.Shape.MambaLayers == 0 {
		t.Errorf("fixture converted without Mamba layers: %+v", r.Shape)
	}
}

// weightBytes against the byte count worked out from the shapes by hand.
func TestWeightBytes(t *testing.T) {
	for _, untied := range []bool{false, true} {
		for _, mamba := range []string{"none", "all"} {
			o := tiny(mamba, untied)
			f, rev := genFile(t, o)
			_ = f
			D, I, V, H, KV, hd := 64, 128, 256, 4, 2, 16
			const h, s = 2, 4 // f16 matrices, f32 vectors
			layer := 2*D*s + 3*I*D*h
			if mamba == "none" {
				layer += (H*hd*D + 2*KV*hd*D + D*H*hd) * h
			} else {
				di, dxb := H*hd, KV*hd
				cd := di + 2*dxb
				layer += (2*di+2*dxb+H)*D*h + cd*4*s + cd*s + 3*H*s + di*s + D*di*h
			}
			want := 4*layer + D*s + V*D*h // embed read whole as the tied head
			if untied {
				want += D * h // the embedding row; the head is the V·D above
			}
			got, how := weightBytes(rev.Config, rev)
			if got != int64(want) {
				t.Errorf("mamba %s untied %v: weight bytes %d, want %d (%s)", mamba, untied, got, want, how)
			}
		}
	}
}

// A decode profile sees each op the model runs per token, the right number
// of times, under the right labels; both with a device profiler (here a
// fake that stamps the wall clock at each mark) and with wall-clock timing.
func TestProfileCounts(t *testing.T) {
	f, rev := genFile(t, tiny("half", false))
	for _, dev := range []bool{false, true} {
		open := cpuOpen
		if dev {
			open = func() (runtime.Backend, error) { return &fakeProf{Backend: cpu.New(cpu.Options{Threads: 1})}, nil }
		}
		r := profile3(t, f, rev, open)
		if len(r.Profile) != 2 {
			t.Fatalf("device %v: %d profiles, want decode and prefill", dev, len(r.Profile))
		}
		wantMethod := "wall clock"
		if dev {
			wantMethod = "device timestamps"
		}
		counts := map[string]int{}
		for _, op := range r.Profile[0].Ops {
			counts[op.Op] = op.Count
		}
		if !strings.HasPrefix(r.Profile[0].Method, wantMethod) || r.Profile[0].Phase != "decode" || r.Profile[1].Phase != "prefill 16" {
			t.Errorf("device %v: profiles %q/%q by %q", dev, r.Profile[0].Phase, r.Profile[1].Phase, r.Profile[0].Method)
		}
		// 3 tokens; 4 layers, 2 of each kind. A decode step's head reads
		// the normed row in place: no Copy.
		for op, n := range map[string]int{
			"Embed": 3, "MatMul lm_head (tied embed_tokens)": 3, "Argmax": 3, "Copy": 0,
			"RMSNorm": 3 * 9, "Add": 3 * 8, "SwiGLU": 3 * 4, "MatMul mlp.gate_proj": 3 * 4,
			"Attention": 3 * 2, "RoPE": 3 * 4, "MatMul self_attn.q_proj": 3 * 2,
			"SSMScan": 3 * 2, "Conv1D": 3 * 2, "GatedRMSNorm": 3 * 2, "MatMul mamba.in_proj[xBC]": 3 * 2,
		} {
			if counts[op] != n {
				t.Errorf("device %v: %s counted %d times, want %d", dev, op, counts[op], n)
			}
		}
	}
}

// profile3 measures with a profile of 3 decode tokens and a 16-token
// prefill, nothing else.
func profile3(t *testing.T, f *format.File, rev *format.Revision, open func() (runtime.Backend, error)) *Result {
	t.Helper()
	o := small()
	o.ProfileTokens = 3
	o.Prefill, o.Contexts = []int{16}, []int{}
	r, err := Measure(f, rev, open, o, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fakeProf is a CPU backend that claims device timestamps: each mark stamps
// the wall clock, which on the CPU is when the op ran.
type fakeProf struct {
	*cpu.Backend
	on    bool
	last  time.Time
	times map[string]*runtime.OpTime
}

func (p *fakeProf) ProfileStart() error {
	p.on, p.times = true, map[string]*runtime.OpTime{}
	return nil
}

func (p *fakeProf) ProfileMark(label string) error {
	if !p.on {
		return fmt.Errorf("mark %q outside a profile", label)
	}
	now := time.Now()
	if label != "" {
		t := p.times[label]
		if t == nil {
			t = &runtime.OpTime{Op: label}
			p.times[label] = t
		}
		t.Count++
		t.Seconds += max(now.Sub(p.last).Seconds(), 1e-9)
	}
	p.last = now
	return nil
}

func (p *fakeProf) ProfileStop() ([]runtime.OpTime, error) {
	p.on = false
	var out []runtime.OpTime
	for _, t := range p.times {
		out = append(out, *t)
	}
	return out, nil
}

func TestRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.mmb")
	if _, err := Generate(path, tiny("all", true)); err != nil {
		t.Fatal(err)
	}
	o := small()
	o.Model, o.Backend, o.Threads, o.Rev = path, "cpu", 1, -1
	o.JSONOut = filepath.Join(t.TempDir(), "r.json")
	var out, log bytes.Buffer
	if err := Run(o, &out, &log); err != nil {
		t.Fatal(err)
	}
	js, err := os.ReadFile(o.JSONOut)
	if err != nil {
		t.Fatal(err)
	}
	var side Result
	if err := json.Unmarshal(js, &side); err != nil {
		t.Fatalf("--json-out file: %v", err)
	}
	checkResult(t, &side, []int{32, 252})
	for _, want := range []string{"model      " + path, "4 layers (0 attention, 4 Mamba-2)", "bandwidth  ", "\ndecode: batch 1, greedy, 8 tokens after a 4-token prompt, each fed to the next step by the host\n",
		"prefill from an empty context", "decode at long context", "profile: decode (2 tokens;", "profile: prefill 48 (48 tokens;", "  MatMul lm_head\n", "  SSMScan\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	o.JSON = true
	out.Reset()
	if err := Run(o, &out, &log); err != nil {
		t.Fatal(err)
	}
	var r Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out.String())
	}
	if r.Model != path || r.Shape.MambaLayers != 4 {
		t.Errorf("JSON result %+v", r)
	}
	checkResult(t, &r, []int{32, 252})

	o.Model = filepath.Join(t.TempDir(), "missing.mmb")
	if err := Run(o, &out, &log); err == nil || !strings.Contains(err.Error(), "open model") {
		t.Errorf("missing file: %v", err)
	}
}

func TestGenConfig(t *testing.T) {
	for _, c := range []struct {
		layers int
		mamba  string
		want   string // M for Mamba-2, A for attention, by layer
	}{
		{4, "none", "AAAA"}, {4, "all", "MMMM"}, {4, "half", "AMAM"}, {8, "3", "AAMAAMAM"}, {5, "half", "AAMAM"},
	} {
		o := tiny(c.mamba, false)
		o.Layers = c.layers
		cfg, err := GenConfig(o)
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		for _, k := range cfg.LayerKinds {
			got = append(got, map[format.LayerKind]byte{format.Attention: 'A', format.Mamba2: 'M'}[k])
		}
		if string(got) != c.want {
			t.Errorf("%d layers, mamba %s: %s, want %s", c.layers, c.mamba, got, c.want)
		}
		if (cfg.Mamba != nil) != strings.Contains(c.want, "M") {
			t.Errorf("%d layers, mamba %s: mamba params %v", c.layers, c.mamba, cfg.Mamba)
		}
	}
	for _, bad := range []string{"most", "-1", "5"} {
		if _, err := GenConfig(tiny(bad, false)); err == nil {
			t.Errorf("mamba layers %q accepted", bad)
		}
	}
	o := tiny("none", false)
	o.Heads = 3
	if _, err := GenConfig(o); err == nil {
		t.Error("3 heads over 2 kv heads accepted")
	}
	if _, err := Generate(filepath.Join(t.TempDir(), "x.mmb"), GenOptions{Hidden: 48, Heads: 4, KVHeads: 2, HeadDim: 12, Layers: 1, Vocab: 8, Intermediate: 40, DType: "q8_0"}); err == nil {
		t.Error("q8_0 with rows of 48 accepted")
	}
}

// The generated weights are what Generate promises, in every dtype.
func TestGenerateValues(t *testing.T) {
	for _, dt := range []string{"f32", "f16", "bf16", "q8_0"} {
		o := tiny("half", false)
		o.DType = dt
		f, rev := genFile(t, o)
		if err := f.Verify(rev); err != nil {
			t.Fatal(err)
		}
		ti, ok := rev.Tensor("model.layers.1.mamba.in_proj.weight")
		if !ok {
			t.Fatal("layer 1 is not a Mamba layer")
		}
		if ti.DType.String() != strings.ToUpper(dt) {
			t.Errorf("%s: in_proj stored as %s", dt, ti.DType)
		}
		v, err := f.Float32(ti)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := slices.Min(v), slices.Max(v)
		// Uniform in ±0.02: over 16k values the extremes come within 1% of
		// the bounds; f16/bf16/q8_0 rounding can move a value past 0.02 by
		// at most half a step (bf16: 2⁻⁸ relative).
		if lo > -0.0198 || hi < 0.0198 || lo < -0.0201 || hi > 0.0201 {
			t.Errorf("%s: values in [%g, %g], want uniform in ±0.02", dt, lo, hi)
		}
		n, _ := rev.Tensor("model.layers.0.input_layernorm.weight")
		if nv, _ := f.Float32(n); nv[0] != 1 || n.DType != format.F32 {
			t.Errorf("%s: norm weight %v in %s, want 1 in F32", dt, nv[0], n.DType)
		}
	}
}

func TestLengths(t *testing.T) {
	for in, want := range map[string][]int{"512,4096": {512, 4096}, "1k, 8K,32k": {1024, 8192, 32768}, "none": {}, "": {}} {
		var l Lengths
		if err := l.Set(in); err != nil {
			t.Errorf("%q: %v", in, err)
		} else if !slices.Equal(l, want) {
			t.Errorf("%q = %v, want %v", in, l, want)
		}
	}
	for _, bad := range []string{"0", "-5", "x", "4,,5", "99999999k"} {
		var l Lengths
		if err := l.Set(bad); err == nil {
			t.Errorf("%q accepted as %v", bad, l)
		}
	}
}

// The same options give the same file whatever the number of cores (the
// embedding here spans four generator blocks).
func TestGenerateDeterministic(t *testing.T) {
	o := tiny("half", false)
	o.Vocab = 4096
	var files [][]byte
	for _, procs := range []int{1, 3} {
		old := goruntime.GOMAXPROCS(procs)
		path := filepath.Join(t.TempDir(), "m.mmb")
		_, err := Generate(path, o)
		goruntime.GOMAXPROCS(old)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("the file depends on GOMAXPROCS")
	}
	o.Seed++
	path := filepath.Join(t.TempDir(), "m.mmb")
	if _, err := Generate(path, o); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); bytes.Equal(b, files[0]) {
		t.Error("the seed changes nothing")
	}
}

// The profile forwards runtime.MLPBlock: with a backend that fuses single
// rows (a CPU backend running the block's ops inside MLP), the decode
// profile counts one "MLP block" per layer and token and no separate gate
// projection or SwiGLU, while the prefill (16 rows, declined) counts the
// ops and no block; with device marks and with the wall clock.
func TestProfileMLPBlock(t *testing.T) {
	f, rev := genFile(t, tiny("half", false))
	for _, dev := range []bool{false, true} {
		open := func() (runtime.Backend, error) {
			c := cpu.New(cpu.Options{Threads: 1})
			if dev {
				return &mlpFakeProf{fakeProf{Backend: c}, cpuMLPBlock{c}}, nil
			}
			return &mlpFake{c, cpuMLPBlock{c}}, nil
		}
		r := profile3(t, f, rev, open)
		for i, want := range []map[string]int{
			{"MLP block": 3 * 4, "MatMul mlp.gate_proj": 0, "SwiGLU": 0, "Add": 3 * 4},
			{"MLP block": 0, "MatMul mlp.gate_proj": 4, "SwiGLU": 4, "Add": 8},
		} {
			counts := map[string]int{}
			for _, op := range r.Profile[i].Ops {
				counts[op.Op] = op.Count
			}
			for op, n := range want {
				if counts[op] != n {
					t.Errorf("device %v, %s: %s counted %d times, want %d", dev, r.Profile[i].Phase, op, counts[op], n)
				}
			}
		}
	}
}

// mlpFake is a CPU backend that takes runtime.MLPBlock for single rows,
// running the block's ops itself (on the inner backend, so the profile
// sees one op); mlpFakeProf the same with device marks.
type mlpFake struct {
	*cpu.Backend
	cpuMLPBlock
}

type mlpFakeProf struct {
	fakeProf
	cpuMLPBlock
}

// cpuMLPBlock runs runtime.MLPBlock for single rows as the block's ops.
type cpuMLPBlock struct{ b *cpu.Backend }

func (c cpuMLPBlock) MLP(h runtime.Buffer, norm, gate, up, down runtime.Weight, rows int, eps float32) (bool, error) {
	b := c.b
	if rows != 1 {
		return false, nil
	}
	D, I := gate.Cols(), gate.Rows()
	var bufs [5]runtime.Buffer
	for i, n := range []int{D, I, I, I, D} {
		var err error
		if bufs[i], err = b.Alloc(n); err != nil {
			return false, err
		}
	}
	xn, g, u, a, d := bufs[0], bufs[1], bufs[2], bufs[3], bufs[4]
	return true, firstErr(b.RMSNorm(xn, h, norm, 1, D, eps), b.MatMul(g, xn, gate, 1), b.MatMul(u, xn, up, 1),
		b.SwiGLU(a, g, u, I), b.MatMul(d, a, down, 1), b.Add(h, d, D))
}

// The profile forwards the runtime's other fused decode forms too: with a
// backend that takes them for single rows (blockFake), the decode profile
// counts one "Attention block" per attention layer and token, one "SSM
// block" per Mamba layer and token and the layers' input projections
// under their MatMul labels, and no Attention, SSMScan, GatedRMSNorm or Add
// op and one RMSNorm per token (the final norm); the prefill (16 rows,
// declined) counts the ops and no block.
func TestProfileBlocks(t *testing.T) {
	f, rev := genFile(t, tiny("half", false))
	for _, dev := range []bool{false, true} {
		open := func() (runtime.Backend, error) {
			c := cpu.New(cpu.Options{Threads: 1})
			if dev {
				return &blockFakeProf{fakeProf{Backend: c}, cpuBlocks{cpuMLPBlock{c}}}, nil
			}
			return &blockFake{c, cpuBlocks{cpuMLPBlock{c}}}, nil
		}
		r := profile3(t, f, rev, open)
		for i, want := range []map[string]int{
			{"Attention block": 3 * 2, "SSM block": 3 * 2, "MLP block": 3 * 4, "MatMul self_attn.q_proj": 3 * 2, "MatMul mamba.in_proj[z]": 3 * 2,
				"Attention": 0, "SSMScan": 0, "GatedRMSNorm": 0, "Add": 0, "RMSNorm": 3},
			{"Attention block": 0, "SSM block": 0, "MLP block": 0, "Attention": 2, "SSMScan": 2, "GatedRMSNorm": 2},
		} {
			counts := map[string]int{}
			for _, op := range r.Profile[i].Ops {
				counts[op.Op] = op.Count
			}
			for op, n := range want {
				if counts[op] != n {
					t.Errorf("device %v, %s: %s counted %d times, want %d (all: %v)", dev, r.Profile[i].Phase, op, counts[op], n, counts)
				}
			}
		}
	}
}

// blockFake is mlpFake that also takes the attention and SSM blocks and
// the normed projections for single rows, running their ops itself;
// blockFakeProf the same with device marks.
type blockFake struct {
	*cpu.Backend
	cpuBlocks
}

type blockFakeProf struct {
	fakeProf
	cpuBlocks
}

type cpuBlocks struct{ cpuMLPBlock }

func (c cpuBlocks) AttentionOut(h, q, k, v, kCache, vCache runtime.Buffer, o runtime.Weight, rows, pos0, heads, kvHeads, headDim int) (bool, error) {
	b := c.b
	if rows != 1 {
		return false, nil
	}
	att, err := b.Alloc(heads * headDim)
	if err != nil {
		return false, err
	}
	tmp, err := b.Alloc(o.Rows())
	if err != nil {
		return false, err
	}
	return true, firstErr(b.Attention(att, q, k, v, kCache, vCache, 1, pos0, heads, kvHeads, headDim), b.MatMul(tmp, att, o, 1), b.Add(h, tmp, o.Rows()))
}

func (c cpuBlocks) SSMOut(h, xbc, dt, z, state runtime.Buffer, aNeg, dtBias, dSkip, gnorm, out runtime.Weight, rows, heads, kvHeads, headDim int, eps float32) (bool, error) {
	b := c.b
	if rows != 1 {
		return false, nil
	}
	var bufs [3]runtime.Buffer
	for i, n := range []int{heads * headDim, heads * headDim, out.Rows()} {
		var err error
		if bufs[i], err = b.Alloc(n); err != nil {
			return false, err
		}
	}
	y, g, tmp := bufs[0], bufs[1], bufs[2]
	return true, firstErr(b.SSMScan(y, xbc, dt, state, aNeg, dtBias, dSkip, 1, heads, kvHeads, headDim),
		b.GatedRMSNorm(g, y, z, gnorm, 1, heads, headDim, eps), b.MatMul(tmp, g, out, 1), b.Add(h, tmp, out.Rows()))
}

func (c cpuBlocks) MatMulNormed(dst, x runtime.Buffer, norm runtime.Weight, eps float32, w runtime.Weight, rows int) (bool, error) {
	b := c.b
	if rows != 1 {
		return false, nil
	}
	xn, err := b.Alloc(w.Cols())
	if err != nil {
		return false, err
	}
	return true, firstErr(b.RMSNorm(xn, x, norm, 1, w.Cols(), eps), b.MatMul(dst, xn, w, 1))
}
