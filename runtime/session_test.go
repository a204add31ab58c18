package runtime_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmbformat/mmb/convert"
	"github.com/mmbformat/mmb/format"
	"github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/cpu"
	"github.com/mmbformat/mmb/runtime/internal/hfref"
	"github.com/mmbformat/mmb/runtime/internal/testmodel"
)

// decodeMatchesPrefill checks, for a model without HF reference (converted
// hybrids, Q8_0), that stepping gives the prefill path's logits everywhere.
func decodeMatchesPrefill(t *testing.T, m *runtime.Model, ids []int) {
	t.Helper()
	V := m.Config.VocabSize
	s, err := m.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.PrefillAll(ids)
	if err != nil {
		t.Fatal(err)
	}
	all = append([]float32(nil), all...)
	d, err := m.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	lg, err := d.Prefill(ids[:3])
	if err != nil {
		t.Fatal(err)
	}
	hfref.CheckClose(t, "decode position 2", lg, all[2*V:3*V], hfref.SelfTol)
	for p := 3; p < len(ids); p++ {
		if lg, err = d.Step(ids[p]); err != nil {
			t.Fatal(err)
		}
		hfref.CheckClose(t, fmt.Sprintf("decode position %d", p), lg, all[p*V:(p+1)*V], hfref.SelfTol)
	}
}

func TestConvertedHybridAndQ8(t *testing.T) {
	dir := filepath.Join(fixtures, "llama-tiny-f32")
	r := hfref.Load(t, dir)
	for _, c := range []struct {
		name string
		o    convert.Options
	}{
		{"keep-0.5", convert.Options{Input: dir, KeepAttention: convert.Keep(0.5)}},
		{"keep-0", convert.Options{Input: dir, KeepAttention: convert.Keep(0)}},
		{"q8_0", convert.Options{Input: dir, KeepAttention: convert.Keep(0.5), DType: format.Q8_0}},
		{"f16", convert.Options{Input: dir, KeepAttention: convert.Keep(1), DType: format.F16}},
		{"bf16", convert.Options{Input: dir, KeepAttention: convert.Keep(1), DType: format.BF16}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, _ := openModel(t, hfref.ConvertWith(t, c.o), 2)
			decodeMatchesPrefill(t, m, r.IDs)
		})
	}
}

func tinyModel(t *testing.T, kinds []format.LayerKind, dt format.DType) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.mmb")
	if err := testmodel.Write(path, testmodel.Config(64, 96, 4, 2, 16, 100, kinds), dt, 1); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestContextAndTokenErrors(t *testing.T) {
	path := tinyModel(t, []format.LayerKind{format.Mamba2, format.Attention}, format.F32)
	m, _ := openModelOpts(t, path, 1, runtime.Options{MaxContext: 8})
	s, err := m.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if s.MaxPositions() != 8 {
		t.Fatalf("MaxPositions %d, want 8", s.MaxPositions())
	}
	if _, err := s.Prefill(make([]int, 9)); !errors.Is(err, runtime.ErrContext) {
		t.Errorf("9 tokens in a context of 8: %v, want ErrContext", err)
	}
	if s.Pos() != 0 {
		t.Errorf("a refused prefill moved the position to %d", s.Pos())
	}
	if _, err := s.Prefill(make([]int, 8)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Step(1); !errors.Is(err, runtime.ErrContext) || !strings.Contains(err.Error(), "context of 8") {
		t.Errorf("step past the context: %v", err)
	}
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int{-1, 100} {
		if _, err := s.Step(id); err == nil || !strings.Contains(err.Error(), "vocabulary") {
			t.Errorf("token %d: %v, want a vocabulary error", id, err)
		}
	}
	if _, err := s.Prefill(nil); err == nil {
		t.Error("empty prefill: no error")
	}
	// A context larger than the model's is refused.
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := cpu.New(cpu.Options{Threads: 1})
	defer b.Close()
	if _, err := runtime.Load(f, nil, b, runtime.Options{MaxContext: 5000}); err == nil {
		t.Error("MaxContext past max_position_embeddings: no error")
	}
}

func TestResetRepeats(t *testing.T) {
	path := tinyModel(t, []format.LayerKind{format.Mamba2, format.Attention, format.Mamba2}, format.BF16)
	m, _ := openModel(t, path, 2)
	s, err := m.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	ids := []int{5, 17, 3, 99, 0, 42}
	a, err := s.PrefillAll(ids)
	if err != nil {
		t.Fatal(err)
	}
	a = append([]float32(nil), a...)
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	b, err := s.PrefillAll(ids)
	if err != nil {
		t.Fatal(err)
	}
	// Same inputs, same state after Reset: bit-identical.
	hfref.CheckClose(t, "after Reset", b, a, 0)
}

func TestMamba1Unsupported(t *testing.T) {
	path := tinyModel(t, []format.LayerKind{format.Attention, format.Mamba1}, format.F32)
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := cpu.New(cpu.Options{Threads: 1})
	defer b.Close()
	_, err = runtime.Load(f, nil, b, runtime.Options{})
	if err == nil || !strings.Contains(err.Error(), "Mamba-1") || !strings.Contains(err.Error(), "not support") {
		t.Fatalf("Mamba-1 layer: %v, want a clear not-supported error", err)
	}
}

func TestMissingTensor(t *testing.T) {
	path := tinyModel(t, []format.LayerKind{format.Attention}, format.F32)
	w, err := format.Append(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Remove("model.layers.0.mlp.up_proj.weight"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(format.Meta{Stage: "edit"}); err != nil {
		t.Fatal(err)
	}
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := cpu.New(cpu.Options{Threads: 1})
	defer b.Close()
	if _, err := runtime.Load(f, nil, b, runtime.Options{}); err == nil || !strings.Contains(err.Error(), "up_proj") {
		t.Errorf("missing tensor: %v", err)
	}
	// The first revision still loads.
	if _, err := runtime.Load(f, f.Revisions()[0], b, runtime.Options{}); err != nil {
		t.Errorf("revision 1: %v", err)
	}
}

// Decode allocates nothing per token in steady state.
func TestStepAllocs(t *testing.T) {
	path := tinyModel(t, []format.LayerKind{format.Mamba2, format.Attention}, format.Q8_0)
	m, _ := openModel(t, path, 2)
	s, err := m.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Prefill([]int{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	id := 4
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := s.Step(id); err != nil {
			t.Fatal(err)
		}
		id = (id + 7) % 100
	})
	if allocs != 0 {
		t.Errorf("Step allocates %.1f times per token", allocs)
	}
	allocs = testing.AllocsPerRun(50, func() {
		if _, err := s.StepArgmax(id); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("StepArgmax allocates %.1f times per token", allocs)
	}
}

// submitCounter is a CPU backend that counts its early submissions.
type submitCounter struct {
	*cpu.Backend
	n int
}

func (s *submitCounter) Submit() error { s.n++; return nil }

// The early submissions of a decode step come after layer SubmitFirst and
// then every SubmitLayers layers, none after the last layer (the step's
// Read submits that): 8 layers.
func TestSubmitSchedule(t *testing.T) {
	kinds := make([]format.LayerKind, 8)
	for i := range kinds {
		kinds[i] = format.Attention
	}
	path := tinyModel(t, kinds, format.F32)
	for _, c := range []struct{ every, first, want int }{
		{0, 0, 2}, // first after 1, then every 4: after 1, 5
		{4, 4, 1}, // after 4
		{2, 2, 3}, // after 2, 4, 6
		{2, 0, 4}, // after 1, 3, 5, 7
		{3, 2, 2}, // after 2, 5
		{-1, 0, 0},
		{-1, 1, 0},
		{8, 8, 0}, // after 8: the last layer
		{8, 0, 1}, // after 1
	} {
		f, err := format.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		b := &submitCounter{Backend: cpu.New(cpu.Options{Threads: 1})}
		m, err := runtime.Load(f, nil, b, runtime.Options{SubmitLayers: c.every, SubmitFirst: c.first})
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Prefill([]int{1, 2}); err != nil {
			t.Fatal(err)
		}
		b.n = 0
		if _, err := s.Step(3); err != nil {
			t.Fatal(err)
		}
		if b.n != c.want {
			t.Errorf("SubmitLayers %d, SubmitFirst %d: %d submissions in a step of 8 layers, want %d", c.every, c.first, b.n, c.want)
		}
		f.Close()
	}
}
