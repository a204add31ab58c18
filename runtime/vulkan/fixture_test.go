//go:build cgo

package vulkan

import (
	"path/filepath"
	"testing"

	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/cpu"
	"github.com/mmbformat/mmb/runtime/internal/hfref"
)

// End to end on the Vulkan backend (lavapipe in CI), mirroring the CPU
// backend's fixture tests in runtime/model_test.go.

const fixtures = "../../testdata/fixtures"

// Tolerances: hfref.HFTol against HF and hfref.SelfTol between paths or
// backends (their justification, GPU summation orders included, is with the
// constants).

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

func TestFixtures(t *testing.T) {
	// f32, bf16 and f16 weights as HF stored them, so HF's outputs apply.
	for _, name := range hfref.Fixtures {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(fixtures, name)
			r := hfref.Load(t, dir)
			path := hfref.Convert(t, dir, 0)
			hfref.CheckModel(t, r, func(o rt.Options) *rt.Model { return openVulkan(t, path, o) })
		})
	}
}

// TestFixturesCapped: the HF comparisons with matvec4 launched as smallCap
// workgroups that loop over the row blocks (decode steps and the 5-row
// prefill chunks take matvec4).
func TestFixturesCapped(t *testing.T) { capped(t, TestFixtures) }

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
			ids := hfref.Ints(t, filepath.Join(dir, "ref_input_ids.npy"))
			path := hfref.Convert(t, dir, tc.dt)
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
			hfref.CheckClose(t, "vulkan vs cpu logits", out[0], out[1], hfref.SelfTol)
		})
	}
}

// The bundled gocoder-4m (bf16, tied) against HF's reference_logits.npz.
func TestGocoder(t *testing.T) {
	path := hfref.Convert(t, "../../testdata/models/gocoder-4m", 0)
	m := openVulkan(t, path, rt.Options{})
	hfref.CheckGocoder(t, m, "../../testdata/models/gocoder-4m/reference_logits.npz")
}
