package runtime_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/mmbformat/mmb/format"
	"github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/cpu"
	"github.com/mmbformat/mmb/runtime/internal/hfref"
)

const fixtures = "../testdata/fixtures"

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

func TestFixtures(t *testing.T) {
	for _, name := range hfref.Fixtures {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(fixtures, name)
			r := hfref.Load(t, dir)
			path := hfref.Convert(t, dir, 0)
			hfref.CheckModel(t, r, func(o runtime.Options) *runtime.Model {
				threads := 2
				if o.PrefillChunk != 0 {
					threads = 1 // the chunked model also covers the single-thread path
				}
				m, _ := openModelOpts(t, path, threads, o)
				return m
			})
		})
	}
}

// The bundled gocoder-4m (bf16, tied) against HF's reference_logits.npz.
func TestGocoder(t *testing.T) {
	path := hfref.Convert(t, "../testdata/models/gocoder-4m", 0)
	m, _ := openModel(t, path, 2)
	hfref.CheckGocoder(t, m, "../testdata/models/gocoder-4m/reference_logits.npz")
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

// chunky is the CPU backend asking for a prefill chunk, as a GPU backend
// with matrix units does.
type chunky struct{ *cpu.Backend }

func (chunky) PrefillChunk() int { return 24 }

// A backend's PrefillChunker sets the chunk unless Options.PrefillChunk does;
// the chunked prefill still matches the whole-prompt logits.
func TestPrefillChunker(t *testing.T) {
	path := hfref.Convert(t, filepath.Join(fixtures, "llama-tiny-f32"), 0)
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids := hfref.Ints(t, filepath.Join(fixtures, "llama-tiny-f32", "ref_input_ids.npy"))
	var logits [2][]float32
	for i, o := range []runtime.Options{{}, {PrefillChunk: 1000}} {
		m, err := runtime.Load(f, nil, chunky{cpu.New(cpu.Options{Threads: 1})}, o)
		if err != nil {
			t.Fatal(err)
		}
		want := []int{24, 1000}[i]
		if m.PrefillChunk() != want {
			t.Fatalf("options %+v: chunk %d, want %d", o, m.PrefillChunk(), want)
		}
		s, err := m.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		lg, err := s.PrefillAll(ids)
		if err != nil {
			t.Fatal(err)
		}
		logits[i] = append([]float32(nil), lg...)
	}
	hfref.CheckClose(t, "24-row passes vs one pass", logits[0], logits[1], hfref.SelfTol)
}
