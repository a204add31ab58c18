package runtime_test

import (
	"fmt"
	"math"
	"path/filepath"
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
// differ only by summation order and libm: each op contributes about K·u
// relative to the magnitudes it sums (K ≤ 256 here, u = 6e-8), a few 1e-6 over
// these few layers. The figure, 1e-4 absolute for values of order
// one, scaled by the largest reference magnitude when that exceeds one, keeps
// a margin for other platforms (no FMA, other exp) while catching any real
// mistake (a wrong RoPE angle or scan step moves logits by 1e-2 and more).
const hfTol = 1e-4

// Decode vs prefill on the same backend: only the summation order of the
// chunked scan and of row-blocked products differs, so 1e-5 on the same scale.
const selfTol = 1e-5

func checkClose(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	bound := tol * max(1, maxAbs(want))
	if d, at := maxAbsDiff(got, want); d > bound || math.IsNaN(d) {
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
