package format

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func testConfig() *Config {
	return &Config{Architecture: "llama", HiddenSize: 8, IntermediateSize: 16, NumLayers: 2, NumHeads: 2,
		NumKVHeads: 1, HeadDim: 4, VocabSize: 10, MaxPositions: 32, RMSNormEps: 1e-5,
		Rope: Rope{Theta: 10000, Type: "default"}, LayerKinds: []LayerKind{Attention, Mamba2},
		Mamba: &Mamba{DState: 4, DConv: 4, DInner: 8, DXB: 4, Heads: 2, KVHeads: 1, HeadDim: 4, NormEps: 1e-5}}
}

func f32bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		le.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// writeTwoRevisions makes a file with a convert revision (two tensors) and a
// distill revision that replaces one tensor and adds another.
func writeTwoRevisions(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.mmb")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddTensorBytes("a", F32, []int64{2, 2}, f32bytes(1, 2, 3, 4)); err != nil {
		t.Fatal(err)
	}
	if err := w.AddTensor("b", F32, []int64{3}, bytes.NewReader(f32bytes(5, 6, 7))); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Commit(Meta{Stage: "convert", Time: time.Unix(100, 0), Config: testConfig(), Metadata: map[string]string{"k": "v"}}); err != nil || n != 0 {
		t.Fatalf("commit: %d %v", n, err)
	}
	w, err = Append(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddTensorBytes("b", F32, []int64{3}, f32bytes(8, 9, 10)); err != nil {
		t.Fatal(err)
	}
	if err := w.AddTensorBytes("c", F16, []int64{2}, []byte{0x00, 0x3c, 0x00, 0xc0}); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Commit(Meta{Stage: "distill", Time: time.Unix(200, 0), Metrics: map[string]float64{"loss": 1.5}}); err != nil || n != 1 {
		t.Fatalf("commit: %d %v", n, err)
	}
	return path
}

func TestRoundTripAndRevisions(t *testing.T) {
	path := writeTwoRevisions(t)
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := len(f.Revisions()); got != 2 {
		t.Fatalf("%d revisions, want 2", got)
	}
	r0, _ := f.Revision(0)
	r1 := f.Latest()
	if r1.Number != 1 || r1.Parent != 0 || r1.Stage != "distill" || r1.Metrics["loss"] != 1.5 {
		t.Fatalf("latest = %+v", r1)
	}
	if r1.Metadata["k"] != "v" || r1.Config == nil || r1.Config.LayerKinds[1] != Mamba2 {
		t.Fatalf("metadata/config not inherited: %v %+v", r1.Metadata, r1.Config)
	}
	if !r0.Time.Equal(time.Unix(100, 0)) {
		t.Fatalf("time %v", r0.Time)
	}
	check := func(r *Revision, name string, want []float32, rev int) {
		t.Helper()
		ti, ok := r.Tensor(name)
		if !ok {
			t.Fatalf("rev %d: no tensor %s", r.Number, name)
		}
		if ti.Offset%Alignment != 0 || ti.Revision != rev {
			t.Fatalf("rev %d %s: offset %d revision %d", r.Number, name, ti.Offset, ti.Revision)
		}
		got, err := f.Float32(ti)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %v want %v", name, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("rev %d %s: %v want %v", r.Number, name, got, want)
			}
		}
	}
	check(r0, "a", []float32{1, 2, 3, 4}, 0)
	check(r0, "b", []float32{5, 6, 7}, 0)
	check(r1, "a", []float32{1, 2, 3, 4}, 0) // referenced, not copied
	check(r1, "b", []float32{8, 9, 10}, 1)
	check(r1, "c", []float32{1, -2}, 1)
	if _, ok := r0.Tensor("c"); ok {
		t.Fatal("revision 0 sees a tensor of revision 1")
	}
	for _, r := range f.Revisions() {
		if err := f.Verify(r); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := os.Stat(path)
	if st.Size()%Alignment != 0 {
		t.Fatalf("file size %d not aligned", st.Size())
	}
}

// TestTornAppend cuts the file at many positions inside the second revision's
// append; every cut must open at revision 0 and say it skipped bytes.
func TestTornAppend(t *testing.T) {
	path := writeTwoRevisions(t)
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r0end := f.Revisions()[0].End()
	f.Close()
	cuts := 0
	for cut := r0end; cut < int64(len(full)); cut += 61 {
		cuts++
		g, err := NewFile(bytes.NewReader(full[:cut]), cut)
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if n := len(g.Revisions()); n != 1 || g.Latest().Number != 0 {
			t.Fatalf("cut at %d: %d revisions", cut, n)
		}
		if g.SkippedBytes() != cut-r0end {
			t.Fatalf("cut at %d: skipped %d, want %d", cut, g.SkippedBytes(), cut-r0end)
		}
		if err := g.Verify(g.Latest()); err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
	}
	// and the last byte
	g, err := NewFile(bytes.NewReader(full[:len(full)-1]), int64(len(full)-1))
	if err != nil || g.Latest().Number != 0 {
		t.Fatalf("cut before last byte: %v", err)
	}
	if cuts < 100 {
		t.Fatalf("only %d cut positions tested", cuts)
	}
	// Append after a torn tail cuts it off and continues from revision 0.
	if err := os.WriteFile(path, full[:r0end+5000], 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := Append(path)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := w.Commit(Meta{Stage: "edit", Metadata: map[string]string{"x": "y"}}); err != nil || n != 1 {
		t.Fatalf("commit after torn: %d %v", n, err)
	}
	h, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.SkippedBytes() != 0 || h.Latest().Metadata["x"] != "y" || len(h.Latest().Tensors) != 2 {
		t.Fatalf("after repair: skipped %d, meta %v", h.SkippedBytes(), h.Latest().Metadata)
	}
}

func TestVerifyFindsCorruption(t *testing.T) {
	path := writeTwoRevisions(t)
	f, _ := Open(path)
	ti, _ := f.Latest().Tensor("b")
	off := ti.Offset
	f.Close()
	b, _ := os.ReadFile(path)
	b[off+1] ^= 0x40
	g, err := NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	err = g.Verify(g.Latest())
	if !errors.Is(err, ErrChecksum) {
		t.Fatalf("Verify = %v, want checksum error", err)
	}
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Offset != off || fe.Field != "tensors[b].crc32c" {
		t.Fatalf("error %v does not name tensor b at %d", err, off)
	}
}

func TestDTypeConversions(t *testing.T) {
	cases := []struct {
		f float32
		h uint16
	}{{1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65520, 0x7c00}, {float32(math.Inf(-1)), 0xfc00},
		{5.960464477539063e-08, 0x0001}, {2.9802322387695312e-08, 0x0000}, {8.940696716308594e-08, 0x0002},
		{1.0009765625, 0x3c01}, {1.00048828125, 0x3c00}, {1.00146484375, 0x3c02}}
	for _, c := range cases {
		if got := F32ToF16(c.f); got != c.h {
			t.Errorf("F32ToF16(%g) = %#04x want %#04x", c.f, got, c.h)
		}
	}
	if h := F32ToF16(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("NaN -> %#04x", h)
	}
	for h := 0; h < 1<<16; h++ {
		f := F16ToF32(uint16(h))
		if f != f {
			continue
		}
		if back := F32ToF16(f); back != uint16(h) {
			t.Fatalf("f16 %#04x -> %g -> %#04x", h, f, back)
		}
	}
	if F32ToBF16(1.00390625) != 0x3f80 || F32ToBF16(1.01171875) != 0x3f82 || F32ToBF16(1.0078125) != 0x3f81 {
		t.Errorf("bf16 rounding: %#x %#x %#x", F32ToBF16(1.00390625), F32ToBF16(1.01171875), F32ToBF16(1.0078125))
	}
	if h := F32ToBF16(float32(math.NaN())); h&0x7f80 != 0x7f80 || h&0x7f == 0 {
		t.Errorf("bf16 NaN -> %#x", h)
	}
}
