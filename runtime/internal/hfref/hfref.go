// Package hfref holds what the runtime's tests share to check a model
// against the Hugging Face reference outputs saved with the fixtures
// (testdata/fixtures/<name>/ref_*.npy, testdata/models/gocoder-4m/
// reference_logits.npz): loading them, converting the checkpoint in-process,
// the tolerances and the comparison, and greedy decoding. It is imported
// only by tests.
package hfref

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mmbformat/mmb/convert"
	"github.com/mmbformat/mmb/format"
	"github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/npy"
)

// Tolerances against HF. Both sides compute in float32 from the same stored
// weight values (f16/bf16 weights are widened exactly on both sides), so they
// differ only by summation order and libm: a dot product of K terms differs by
// about √K·u relative to its magnitude (K ≤ 768 here, u = 6e-8), i.e. ~2e-6
// per op, and these errors do not grow through a few pre-norm layers (we
// measure ≤ 4e-7 relative). The bound is 1e-5 absolute on values of order
// one, scaled by the largest reference magnitude when that exceeds one:
// tighter than the 1e-4 because the random fixtures are insensitive
// (attention is nearly uniform) and a 0.1% error in one llama3 RoPE
// frequency moves the logits by only 1.6e-5. The GPU sums in other orders
// again (workgroup trees, online softmax), which stays within the same √K·u.
const HFTol = 1e-5

// Between two paths or backends on the same weights (decode vs prefill,
// chunked prefill, Vulkan vs CPU): only the summation order of the chunked
// scan and of row-blocked products differs, so 1e-5 on the same scale.
const SelfTol = 1e-5

// Fixtures lists the HF-made fixtures in testdata/fixtures.
var Fixtures = []string{"llama-tiny-f32", "llama-tiny-bf16-tied-sharded", "mistral-tiny-f16-spm", "mamba2-hybrid-tiny"}

// Ref is one fixture's reference: the prompt ids, HF's greedy continuation
// (prompt included), the logits [T, Vocab] and the hidden states
// [layers+1, T, hidden].
type Ref struct {
	IDs, Greedy []int
	Logits      []float32
	Hidden      []float32
	T, Vocab    int
}

// Load reads the ref_*.npy files of a fixture folder.
func Load(t testing.TB, dir string) *Ref {
	t.Helper()
	r := &Ref{IDs: Ints(t, filepath.Join(dir, "ref_input_ids.npy")), Greedy: Ints(t, filepath.Join(dir, "ref_greedy_ids.npy"))}
	lg := read(t, filepath.Join(dir, "ref_logits.npy"))
	if len(lg.Shape) != 2 {
		t.Fatalf("%s/ref_logits.npy: shape %v, want [T, vocab]", dir, lg.Shape)
	}
	r.T, r.Vocab = lg.Shape[0], lg.Shape[1]
	if len(r.IDs) != r.T {
		t.Fatalf("%s: %d input ids but logits for %d positions", dir, len(r.IDs), r.T)
	}
	var err error
	if r.Logits, err = lg.Float32(); err != nil {
		t.Fatal(err)
	}
	r.Hidden = Float32(t, filepath.Join(dir, "ref_hidden_states.npy"))
	return r
}

func read(t testing.TB, path string) *npy.Array {
	t.Helper()
	a, err := npy.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Ints reads an integer .npy file.
func Ints(t testing.TB, path string) []int {
	t.Helper()
	v, err := read(t, path).Ints()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Float32 reads a float .npy file.
func Float32(t testing.TB, path string) []float32 {
	t.Helper()
	v, err := read(t, path).Float32()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Case is one prompt of gocoder-4m's reference_logits.npz.
type Case struct {
	Name        string
	IDs, Greedy []int // Greedy includes the prompt
	Logits      []float32
}

// Gocoder reads the two prompts of a reference_logits.npz.
func Gocoder(t testing.TB, path string) []Case {
	t.Helper()
	z, err := npy.ReadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	var cs []Case
	for _, k := range []string{"0", "1"} {
		c := Case{Name: k}
		if c.IDs, err = z["ids"+k].Ints(); err != nil {
			t.Fatal(err)
		}
		if c.Logits, err = z["logits"+k].Float32(); err != nil {
			t.Fatal(err)
		}
		if c.Greedy, err = z["greedy"+k].Ints(); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	return cs
}

// Convert converts an HF checkpoint folder in-process to dtype dt (0: as
// stored): Transformers with --keep-attention 1, so that HF's outputs apply,
// hybrids as they are.
func Convert(t testing.TB, dir string, dt format.DType) string {
	t.Helper()
	o := convert.Options{Input: dir, DType: dt}
	if _, err := os.Stat(filepath.Join(dir, "mamba_config.json")); err != nil {
		o.KeepAttention = convert.Keep(1)
	}
	return ConvertWith(t, o)
}

// ConvertWith converts with the given options, into a temporary file when
// o.Output is empty, and returns the output path.
func ConvertWith(t testing.TB, o convert.Options) string {
	t.Helper()
	if o.Output == "" {
		o.Output = filepath.Join(t.TempDir(), "m.mmb")
	}
	if _, err := convert.Convert(context.Background(), o); err != nil {
		t.Fatalf("convert %s: %v", o.Input, err)
	}
	return o.Output
}

// MaxAbsDiff reports the largest |a-b| and where (a NaN difference wins).
func MaxAbsDiff(a, b []float32) (float64, int) {
	worst, at := 0.0, -1
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	return worst, at
}

// MaxAbs is the largest |v|.
func MaxAbs(a []float32) float64 {
	m := 0.0
	for _, v := range a {
		m = max(m, math.Abs(float64(v)))
	}
	return m
}

// CheckClose fails t unless got and want have the same length and differ by
// at most tol·max(1, max|want|) everywhere (NaN fails). With -v it logs the
// difference, except for the many per-position decode checks.
func CheckClose(t testing.TB, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	bound := tol * max(1, MaxAbs(want))
	d, at := MaxAbsDiff(got, want)
	if testing.Verbose() && !strings.HasPrefix(what, "decode position") {
		t.Logf("%s: max |diff| %.3g (bound %.3g)", what, d, bound)
	}
	if d > bound || math.IsNaN(d) {
		t.Errorf("%s: max |diff| %.3g at element %d (got %v, want %v) exceeds %.3g", what, d, at, got[at], want[at], bound)
	}
}

// Greedy runs prompt and then n greedy tokens through the decode path
// (Session.Greedy: on a backend that feeds tokens on the device, the steps
// are queued ahead of the host) and returns prompt+tokens.
func Greedy(t testing.TB, s *runtime.Session, prompt []int, n int) []int {
	t.Helper()
	out := append([]int(nil), prompt...)
	logits, err := s.Prefill(prompt)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, Argmax(logits))
	if err := s.Greedy(out[len(out)-1], n-1, func(id int) bool { out = append(out, id); return true }); err != nil {
		t.Fatal(err)
	}
	if s.Pos() != len(out)-1 {
		t.Errorf("Pos() = %d after Greedy, want %d", s.Pos(), len(out)-1)
	}
	return out
}

// GreedySteps is Greedy one StepArgmax at a time (the host reads each token
// before the next step).
func GreedySteps(t testing.TB, s *runtime.Session, prompt []int, n int) []int {
	t.Helper()
	out := append([]int(nil), prompt...)
	logits, err := s.Prefill(prompt)
	if err != nil {
		t.Fatal(err)
	}
	next := Argmax(logits)
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

// Argmax is the first index of the largest value.
func Argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// CheckModel runs the fixture's prompt through a model converted from it as
// HF stored it (open(runtime.Options{}) gives it on the backend under test)
// and checks against HF: logits and every hidden state, the greedy
// continuation through the decode path; then against the prefill path:
// one-token prefill plus decode steps at every position, and the prompt
// split in two and run in forward chunks of 5 rows (open with PrefillChunk 5).
func CheckModel(t *testing.T, r *Ref, open func(runtime.Options) *runtime.Model) {
	t.Helper()
	m := open(runtime.Options{})
	T, D, V := r.T, m.Config.HiddenSize, m.Config.VocabSize
	if len(r.Hidden) != (m.Config.NumLayers+1)*T*D || len(r.Logits) != T*V {
		t.Fatalf("reference shapes do not match the model")
	}
	s, err := m.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	s.CaptureHidden(true)
	all, err := s.PrefillAll(r.IDs)
	if err != nil {
		t.Fatal(err)
	}
	all = append([]float32(nil), all...) // the session's buffer is reused below
	CheckClose(t, "logits", all, r.Logits, HFTol)
	hid := s.Hidden()
	if len(hid) != m.Config.NumLayers+1 {
		t.Fatalf("%d hidden states, want %d", len(hid), m.Config.NumLayers+1)
	}
	for l := range hid {
		CheckClose(t, fmt.Sprintf("hidden state %d", l), hid[l], r.Hidden[l*T*D:(l+1)*T*D], HFTol)
	}
	s.CaptureHidden(false)

	// Greedy through the decode path equals HF's 16 greedy tokens, step by
	// step and queued.
	for _, greedy := range []func(testing.TB, *runtime.Session, []int, int) []int{GreedySteps, Greedy} {
		if err := s.Reset(); err != nil {
			t.Fatal(err)
		}
		if g := greedy(t, s, r.IDs, len(r.Greedy)-T); !slices.Equal(g, r.Greedy) {
			t.Errorf("greedy ids\n got %v\nwant %v", g[T:], r.Greedy[T:])
		}
	}

	// Decode path: the first token by prefill, then steps, gives every
	// position's logits as the prefill path does.
	dec, err := m.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	lg, err := dec.Prefill(r.IDs[:1])
	if err != nil {
		t.Fatal(err)
	}
	CheckClose(t, "decode position 0", lg, all[:V], SelfTol)
	for p := 1; p < T; p++ {
		if lg, err = dec.Step(r.IDs[p]); err != nil {
			t.Fatal(err)
		}
		CheckClose(t, fmt.Sprintf("decode position %d", p), lg, all[p*V:(p+1)*V], SelfTol)
	}
	if dec.Pos() != T {
		t.Errorf("Pos() = %d after %d tokens", dec.Pos(), T)
	}

	// Prefill(p) then Prefill(rest) in small forward chunks == Prefill(all).
	s2, err := open(runtime.Options{PrefillChunk: 5}).NewSession()
	if err != nil {
		t.Fatal(err)
	}
	half := T / 2
	a1, err := s2.PrefillAll(r.IDs[:half])
	if err != nil {
		t.Fatal(err)
	}
	a1 = append([]float32(nil), a1...)
	a2, err := s2.PrefillAll(r.IDs[half:])
	if err != nil {
		t.Fatal(err)
	}
	CheckClose(t, "split prefill (first part)", a1, all[:half*V], SelfTol)
	CheckClose(t, "split prefill (second part)", a2, all[half*V:], SelfTol)
}

// CheckGocoder checks a model converted from gocoder-4m against HF's logits
// and greedy continuations in its reference_logits.npz.
func CheckGocoder(t *testing.T, m *runtime.Model, npz string) {
	t.Helper()
	for _, c := range Gocoder(t, npz) {
		s, err := m.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.PrefillAll(c.IDs)
		if err != nil {
			t.Fatal(err)
		}
		CheckClose(t, "gocoder logits"+c.Name, got, c.Logits, HFTol)
		if err := s.Reset(); err != nil {
			t.Fatal(err)
		}
		if g := Greedy(t, s, c.IDs, len(c.Greedy)-len(c.IDs)); !slices.Equal(g, c.Greedy) {
			t.Errorf("gocoder greedy%s\n got %v\nwant %v", c.Name, g[len(c.IDs):], c.Greedy[len(c.IDs):])
		}
	}
}
