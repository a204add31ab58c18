package runtime_test

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmbformat/mmb/format"
	"github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/cpu"
	"github.com/mmbformat/mmb/runtime/npy"
)

const fixtures = "../testdata/fixtures"

type ref struct {
	ids, greedy []int
	logits      []float32 // [T, vocab]
	hidden      []float32 // [layers+1, T, hidden]
	T, vocab    int
}

func loadRef(t *testing.T, dir string) *ref {
	t.Helper()
	r := &ref{}
	read := func(name string) *npy.Array {
		a, err := npy.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	var err error
	if r.ids, err = read("ref_input_ids.npy").Ints(); err != nil {
		t.Fatal(err)
	}
	if r.greedy, err = read("ref_greedy_ids.npy").Ints(); err != nil {
		t.Fatal(err)
	}
	lg := read("ref_logits.npy")
	r.T, r.vocab = lg.Shape[0], lg.Shape[1]
	if r.logits, err = lg.Float32(); err != nil {
		t.Fatal(err)
	}
	if r.hidden, err = read("ref_hidden_states.npy").Float32(); err != nil {
		t.Fatal(err)
	}
	return r
}

func openModel(t *testing.T, path string, threads int) (*runtime.Model, *format.File) {
	t.Helper()
	return openModelOpts(t, path, threads, runtime.Options{})
}

func openModelOpts(t *testing.T, path string, threads int, o runtime.Options) (*runtime.Model, *format.File) {
	t.Helper()
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	b := cpu.New(cpu.Options{Threads: threads})
	t.Cleanup(func() { b.Close(); f.Close() })
	m, err := runtime.Load(f, nil, b, o)
	if err != nil {
		t.Fatal(err)
	}
	return m, f
}

// maxAbsDiff reports the largest |a-b| and where.
func maxAbsDiff(a, b []float32) (float64, int) {
	worst, at := 0.0, -1
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	return worst, at
}

func maxAbs(a []float32) float64 {
	m := 0.0
	for _, v := range a {
		m = max(m, math.Abs(float64(v)))
	}
	return m
}

// Tolerances against HF. Both sides compute in float32 from the same stored
// weight values (f16/bf16 weights are widened exactly on both sides), so they
// differ only by summation order and libm: a dot product of K terms differs by
// about √K·u relative to its magnitude (K ≤ 768 here, u = 6e-8), i.e. ~2e-6
// per op, and these errors do not grow through a few pre-norm layers (we
// measure ≤ 4e-7 relative). The bound is 1e-5 absolute on values of order
// one, scaled by the largest reference magnitude when that exceeds one:
// tighter than the 1e-4 because the random fixtures are insensitive
// (attention is nearly uniform) and a 0.1% error in one llama3 RoPE
// frequency moves the logits by only 1.6e-5.
const hfTol = 1e-5

// Decode vs prefill on the same backend: only the summation order of the
// chunked scan and of row-blocked products differs, so 1e-5 on the same scale.
const selfTol = 1e-5

func checkClose(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	bound := tol * max(1, maxAbs(want))
	d, at := maxAbsDiff(got, want)
	if testing.Verbose() && !strings.HasPrefix(what, "decode position") {
		t.Logf("%s: max |diff| %.3g (bound %.3g)", what, d, bound)
	}
	if d > bound || math.IsNaN(d) {
		t.Errorf("%s: max |diff| %.3g at element %d (got %v, want %v) exceeds %.3g", what, d, at, got[at], want[at], bound)
	}
}

func greedy(t *testing.T, s *runtime.Session, prompt []int, n int) []int {
	t.Helper()
	out := append([]int(nil), prompt...)
	logits, err := s.Prefill(prompt)
	if err != nil {
		t.Fatal(err)
	}
	next := argmax(logits)
	for i := 0; i < n; i++ {
		out = append(out, next)
		if i == n-1 {
			break
		}
		if next, err = s.StepArgmax(next); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

var fixtureNames = []string{"llama-tiny-f32", "llama-tiny-bf16-tied-sharded", "mistral-tiny-f16-spm", "mamba2-hybrid-tiny"}

func TestFixtures(t *testing.T) {
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(fixtures, name)
			r := loadRef(t, dir)
			path := convertFixture(t, dir)
			m, _ := openModel(t, path, 2)
			D := m.Config.HiddenSize
			if len(r.hidden) != (m.Config.NumLayers+1)*r.T*D || len(r.logits) != r.T*m.Config.VocabSize {
				t.Fatalf("reference shapes do not match the model")
			}
			s, err := m.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			s.CaptureHidden(true)
			all, err := s.PrefillAll(r.ids)
			if err != nil {
				t.Fatal(err)
			}
			checkClose(t, "logits", all, r.logits, hfTol)
			hid := s.Hidden()
			if len(hid) != m.Config.NumLayers+1 {
				t.Fatalf("%d hidden states, want %d", len(hid), m.Config.NumLayers+1)
			}
			for l := range hid {
				checkClose(t, fmt.Sprintf("hidden state %d", l), hid[l], r.hidden[l*r.T*D:(l+1)*r.T*D], hfTol)
			}
			s.CaptureHidden(false)

			// Greedy through the decode path equals HF's 16 greedy tokens.
			if err := s.Reset(); err != nil {
				t.Fatal(err)
			}
			if g := greedy(t, s, r.ids, len(r.greedy)-len(r.ids)); !equalInts(g, r.greedy) {
				t.Errorf("greedy ids\n got %v\nwant %v", g[len(r.ids):], r.greedy[len(r.ids):])
			}

			// Decode path: the first token by prefill, then steps, gives every
			// position's logits as the prefill path does.
			V := m.Config.VocabSize
			dec, err := m.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			lg, err := dec.Prefill(r.ids[:1])
			if err != nil {
				t.Fatal(err)
			}
			checkClose(t, "decode position 0", lg, all[:V], selfTol)
			for p := 1; p < r.T; p++ {
				if lg, err = dec.Step(r.ids[p]); err != nil {
					t.Fatal(err)
				}
				checkClose(t, fmt.Sprintf("decode position %d", p), lg, all[p*V:(p+1)*V], selfTol)
			}
			if dec.Pos() != r.T {
				t.Errorf("Pos() = %d after %d tokens", dec.Pos(), r.T)
			}

			// Prefill(p) then Prefill(rest) in small forward chunks == Prefill(all).
			m2, _ := openModelOpts(t, path, 1, runtime.Options{PrefillChunk: 5})
			s2, err := m2.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			half := r.T / 2
			a1, err := s2.PrefillAll(r.ids[:half])
			if err != nil {
				t.Fatal(err)
			}
			a1 = append([]float32(nil), a1...)
			a2, err := s2.PrefillAll(r.ids[half:])
			if err != nil {
				t.Fatal(err)
			}
			checkClose(t, "split prefill (first part)", a1, all[:half*V], selfTol)
			checkClose(t, "split prefill (second part)", a2, all[half*V:], selfTol)
		})
	}
}

// The bundled gocoder-4m (bf16, tied) against HF's reference_logits.npz.
func TestGocoder(t *testing.T) {
	z, err := npy.ReadNPZ("../testdata/models/gocoder-4m/reference_logits.npz")
	if err != nil {
		t.Fatal(err)
	}
	path := convertFixture(t, "../testdata/models/gocoder-4m")
	m, _ := openModel(t, path, 2)
	for _, k := range []string{"0", "1"} {
		ids, err := z["ids"+k].Ints()
		if err != nil {
			t.Fatal(err)
		}
		want, err := z["logits"+k].Float32()
		if err != nil {
			t.Fatal(err)
		}
		wantIDs, err := z["greedy"+k].Ints()
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.PrefillAll(ids)
		if err != nil {
			t.Fatal(err)
		}
		checkClose(t, "gocoder logits"+k, got, want, hfTol)
		s.Reset()
		if g := greedy(t, s, ids, len(wantIDs)-len(ids)); !equalInts(g, wantIDs) {
			t.Errorf("gocoder greedy%s\n got %v\nwant %v", k, g[len(ids):], wantIDs[len(ids):])
		}
	}
}

// RopeInvFreq follows HF's formulas (checked here in float64 against the
// definitions; the fixtures check the float32 evaluation).
func TestRopeInvFreq(t *testing.T) {
	const hd = 128
	base := make([]float64, hd/2)
	for i := range base {
		base[i] = 1 / math.Pow(500000, float64(2*i)/hd)
	}
	r := format.Rope{Theta: 500000, Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 8192}
	got, err := runtime.RopeInvFreq(r, hd)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for i, f := range base {
		wl := 2 * math.Pi / f
		var want float64
		switch {
		case wl < 8192/4.0: // high frequency: unchanged
			want, kinds["high"] = f, kinds["high"]+1
		case wl > 8192/1.0: // low frequency: divided by the factor
			want, kinds["low"] = f/8, kinds["low"]+1
		default: // smooth interpolation between the two
			s := (8192/wl - 1) / (4 - 1)
			want, kinds["mid"] = (1-s)*f/8+s*f, kinds["mid"]+1
		}
		if math.Abs(float64(got[i])-want) > 1e-6*want {
			t.Errorf("llama3 inv_freq[%d] = %g, want %g", i, got[i], want)
		}
	}
	if kinds["high"] == 0 || kinds["low"] == 0 || kinds["mid"] == 0 {
		t.Fatalf("test does not cover all three bands: %v", kinds)
	}
	lin, err := runtime.RopeInvFreq(format.Rope{Theta: 10000, Type: "linear", Factor: 4}, 16)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range lin {
		want := 1 / math.Pow(10000, float64(2*i)/16) / 4
		if math.Abs(float64(f)-want) > 1e-6*want {
			t.Errorf("linear inv_freq[%d] = %g, want %g", i, f, want)
		}
	}
	for _, bad := range []format.Rope{{Theta: 10000, Type: "dynamic"}, {Theta: 0, Type: "default"}, {Theta: 1e4, Type: "llama3"}} {
		if _, err := runtime.RopeInvFreq(bad, 16); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}
