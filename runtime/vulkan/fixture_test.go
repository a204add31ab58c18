//go:build cgo

package vulkan

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmbformat/mmb/convert"
	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/cpu"
	"github.com/mmbformat/mmb/runtime/npy"
)

// End to end on the Vulkan backend (lavapipe in CI), mirroring the CPU
// backend's fixture tests in runtime/model_test.go.

const fixtures = "../../testdata/fixtures"

// Tolerances against HF, as in runtime/model_test.go: both sides compute in
// float32 from the same stored weight values and differ only in summation
// order and libm (a K-term dot product ≈ √K·u relative, K ≤ 768, u = 6e-8:
// ~2e-6), so 1e-5 absolute on values of order one, scaled by the largest
// reference magnitude when above one. The GPU sums in other orders again
// (workgroup trees, online softmax), which stays within the same √K·u.
const hfTol = 1e-5

// Between two paths or backends on the same weights: again only summation
// order differs.
const selfTol = 1e-5

func convertFixture(t *testing.T, dir string, dt format.DType) string {
	t.Helper()
	o := convert.Options{Input: dir, Output: filepath.Join(t.TempDir(), "m.mmb"), DType: dt}
	if _, err := os.Stat(filepath.Join(dir, "mamba_config.json")); err != nil {
		o.KeepAttention = convert.Keep(1)
	}
	if _, err := convert.Convert(context.Background(), o); err != nil {
		t.Fatalf("convert %s: %v", dir, err)
	}
	return o.Output
}

func openOn(t *testing.T, path string, b rt.Backend, o rt.Options) *rt.Model {
	t.Helper()
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(); f.Close() })
	m, err := rt.Load(f, nil, b, o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func openVulkan(t *testing.T, path string, o rt.Options) *rt.Model {
	t.Helper()
	return openOn(t, path, newTest(t, Options{Device: AutoDevice, CacheDir: "-"}), o)
}

func readNPY(t *testing.T, path string) *npy.Array {
	t.Helper()
	a, err := npy.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func checkClose(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	scale := 1.0
	for _, v := range want {
		scale = max(scale, math.Abs(float64(v)))
	}
	worst, at := 0.0, 0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	if worst > tol*scale || math.IsNaN(worst) {
		t.Errorf("%s: max |diff| %.3g at element %d (got %v, want %v) exceeds %.3g", what, worst, at, got[at], want[at], tol*scale)
	} else if testing.Verbose() {
		t.Logf("%s: max |diff| %.3g (bound %.3g)", what, worst, tol*scale)
	}
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

func greedy(t *testing.T, s *rt.Session, prompt []int, n int) []int {
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
		if next, err = s.StepArgmax(next); err != nil { // argmax on the GPU
			t.Fatal(err)
		}
	}
	return out
}

func TestFixtures(t *testing.T) {
	// f32, bf16 and f16 weights as HF stored them, so HF's outputs apply.
	for _, name := range []string{"llama-tiny-f32", "llama-tiny-bf16-tied-sharded", "mistral-tiny-f16-spm", "mamba2-hybrid-tiny"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(fixtures, name)
			ids, err := readNPY(t, filepath.Join(dir, "ref_input_ids.npy")).Ints()
			if err != nil {
				t.Fatal(err)
			}
			wantGreedy, err := readNPY(t, filepath.Join(dir, "ref_greedy_ids.npy")).Ints()
			if err != nil {
				t.Fatal(err)
			}
			wantLogits, err := readNPY(t, filepath.Join(dir, "ref_logits.npy")).Float32()
			if err != nil {
				t.Fatal(err)
			}
			wantHidden, err := readNPY(t, filepath.Join(dir, "ref_hidden_states.npy")).Float32()
			if err != nil {
				t.Fatal(err)
			}
			path := convertFixture(t, dir, 0)
			m := openVulkan(t, path, rt.Options{})
			T, D, V := len(ids), m.Config.HiddenSize, m.Config.VocabSize
			if len(wantLogits) != T*V || len(wantHidden) != (m.Config.NumLayers+1)*T*D {
				t.Fatal("reference shapes do not match the model")
			}
			s, err := m.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			s.CaptureHidden(true)
			all, err := s.PrefillAll(ids)
			if err != nil {
				t.Fatal(err)
			}
			all = append([]float32(nil), all...)
			checkClose(t, "logits", all, wantLogits, hfTol)
			hid := s.Hidden()
			if len(hid) != m.Config.NumLayers+1 {
				t.Fatalf("%d hidden states, want %d", len(hid), m.Config.NumLayers+1)
			}
			for l := range hid {
				checkClose(t, fmt.Sprintf("hidden state %d", l), hid[l], wantHidden[l*T*D:(l+1)*T*D], hfTol)
			}
			s.CaptureHidden(false)

			if err := s.Reset(); err != nil {
				t.Fatal(err)
			}
			if g := greedy(t, s, ids, len(wantGreedy)-T); fmt.Sprint(g) != fmt.Sprint(wantGreedy) {
				t.Errorf("greedy ids\n got %v\nwant %v", g[T:], wantGreedy[T:])
			}

			// Prefill of one token then decode steps equals the prefill.
			dec, err := m.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			lg, err := dec.Prefill(ids[:1])
			if err != nil {
				t.Fatal(err)
			}
			checkClose(t, "decode position 0", lg, all[:V], selfTol)
			for p := 1; p < T; p++ {
				if lg, err = dec.Step(ids[p]); err != nil {
					t.Fatal(err)
				}
				checkClose(t, fmt.Sprintf("decode position %d", p), lg, all[p*V:(p+1)*V], selfTol)
			}

			// A prompt split in two, run in forward chunks of 5 rows.
			m2 := openVulkan(t, path, rt.Options{PrefillChunk: 5})
			s2, err := m2.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			half := T / 2
			a1, err := s2.PrefillAll(ids[:half])
			if err != nil {
				t.Fatal(err)
			}
			a1 = append([]float32(nil), a1...)
			a2, err := s2.PrefillAll(ids[half:])
			if err != nil {
				t.Fatal(err)
			}
			checkClose(t, "split prefill (first part)", a1, all[:half*V], selfTol)
			checkClose(t, "split prefill (second part)", a2, all[half*V:], selfTol)
		})
	}
}

// Weights converted to another dtype than HF's have no HF reference: the
// Vulkan and CPU backends run the same file and must agree.
func TestConvertedDTypes(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		dt      format.DType
	}{
		{"llama-tiny-f32", format.F16},
		{"mamba2-hybrid-tiny", format.F16},
		{"llama-tiny-f32", format.Q8_0},
	} {
		t.Run(tc.fixture+"/"+tc.dt.String(), func(t *testing.T) {
			dir := filepath.Join(fixtures, tc.fixture)
			ids, err := readNPY(t, filepath.Join(dir, "ref_input_ids.npy")).Ints()
			if err != nil {
				t.Fatal(err)
			}
			path := convertFixture(t, dir, tc.dt)
			var out [2][]float32
			for i, b := range []rt.Backend{newTest(t, Options{Device: AutoDevice, CacheDir: "-"}), cpu.New(cpu.Options{Threads: 1})} {
				s, err := openOn(t, path, b, rt.Options{}).NewSession()
				if err != nil {
					t.Fatal(err)
				}
				lg, err := s.PrefillAll(ids)
				if err != nil {
					t.Fatal(err)
				}
				out[i] = append([]float32(nil), lg...)
			}
			checkClose(t, "vulkan vs cpu logits", out[0], out[1], selfTol)
		})
	}
}

// The bundled gocoder-4m (bf16, tied) against HF's reference_logits.npz.
func TestGocoder(t *testing.T) {
	z, err := npy.ReadNPZ("../../testdata/models/gocoder-4m/reference_logits.npz")
	if err != nil {
		t.Fatal(err)
	}
	path := convertFixture(t, "../../testdata/models/gocoder-4m", 0)
	m := openVulkan(t, path, rt.Options{})
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
		if err := s.Reset(); err != nil {
			t.Fatal(err)
		}
		if g := greedy(t, s, ids, len(wantIDs)-len(ids)); fmt.Sprint(g) != fmt.Sprint(wantIDs) {
			t.Errorf("gocoder greedy%s\n got %v\nwant %v", k, g[len(ids):], wantIDs[len(ids):])
		}
	}
}
