package convert

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/mmbformat/mmb/convert/safetensors"
	"github.com/mmbformat/mmb/format"
)

func exportT(t *testing.T, o ExportOptions) *safetensors.Checkpoint {
	t.Helper()
	if o.OutDir == "" {
		o.OutDir = t.TempDir()
	}
	if _, err := Export(context.Background(), o); err != nil {
		t.Fatalf("export: %v", err)
	}
	ck, err := safetensors.OpenCheckpoint(o.OutDir)
	if err != nil {
		t.Fatalf("reopen export: %v", err)
	}
	t.Cleanup(func() { ck.Close() })
	return ck
}

// TestExportRoundTrip: hfconvert --keep-attention 1 then export gives every
// source tensor back with the same name, dtype, shape and bytes, and a
// config.json that parses to the same model config.
func TestExportRoundTrip(t *testing.T) {
	for _, fx := range fixtureNames[:3] {
		t.Run(fx, func(t *testing.T) {
			dir := fixture(t, fx)
			mmb := filepath.Join(t.TempDir(), "m.mmb")
			f, _ := convertT(t, Options{Input: dir, Output: mmb, KeepAttention: Keep(1)})
			out := t.TempDir()
			ex := exportT(t, ExportOptions{Input: mmb, OutDir: out, Revision: LatestRevision})
			src, err := safetensors.OpenCheckpoint(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			want := src.Names()
			if f.Latest().Config.TieEmbeddings {
				want = without(want, "lm_head.weight")
			}
			if !reflect.DeepEqual(ex.Names(), want) {
				t.Fatalf("exported names %v, want %v", ex.Names(), want)
			}
			for _, n := range want {
				sf, st, _ := src.Tensor(n)
				ef, et, _ := ex.Tensor(n)
				if st.DType != et.DType || !reflect.DeepEqual(st.Shape, et.Shape) {
					t.Fatalf("%s: %s %v, source %s %v", n, et.DType, et.Shape, st.DType, st.Shape)
				}
				a, _ := sf.Data(st)
				b, _ := ef.Data(et)
				if !bytes.Equal(a, b) {
					t.Fatalf("%s: bytes differ from the source", n)
				}
			}
			cb, _ := os.ReadFile(filepath.Join(out, "config.json"))
			c, err := ParseConfig(cb, "exported config.json")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c, f.Latest().Config) {
				t.Fatalf("exported config parses to\n%+v\nwant\n%+v", c, f.Latest().Config)
			}
			for _, n := range []string{"tokenizer.json", "tokenizer_config.json", "generation_config.json"} {
				a, _ := os.ReadFile(filepath.Join(dir, n))
				b, _ := os.ReadFile(filepath.Join(out, n))
				if !bytes.Equal(a, b) {
					t.Fatalf("%s differs", n)
				}
			}
			if _, err := os.Stat(filepath.Join(out, "mamba_config.json")); err == nil {
				t.Fatal("mamba_config.json written for a Transformer")
			}
		})
	}
}

func without(l []string, x string) []string {
	var r []string
	for _, s := range l {
		if s != x {
			r = append(r, s)
		}
	}
	return r
}

// TestExportHybrid: a 0.5 hybrid exports with exactly the keys and shapes of
// DESIGN.md §4 and, converted again, gives the same tensors and config.
func TestExportHybrid(t *testing.T) {
	for _, fx := range fixtureNames {
		t.Run(fx, func(t *testing.T) {
			mmb := filepath.Join(t.TempDir(), "m.mmb")
			f, _ := convertT(t, Options{Input: fixture(t, fx), Output: mmb, KeepAttention: Keep(0.5)})
			c := f.Latest().Config
			out := t.TempDir()
			// A small shard size exercises sharding with an index.
			ex := exportT(t, ExportOptions{Input: mmb, OutDir: out, Revision: LatestRevision, ShardSize: 100_000})
			if ex.IndexPath == "" || len(ex.Files) < 3 {
				t.Fatalf("not sharded: %d files", len(ex.Files))
			}
			D, H, Hkv, hd := int64(c.HiddenSize), int64(c.NumHeads), int64(c.NumKVHeads), int64(c.HeadDim)
			if m := c.Mamba; m != nil && fx == "mamba2-hybrid-tiny" {
				H, Hkv, hd = int64(m.Heads), int64(m.KVHeads), int64(m.HeadDim)
			}
			di, dxb := H*hd, Hkv*hd
			want := map[string][]int64{"model.embed_tokens.weight": {int64(c.VocabSize), D}, "model.norm.weight": {D}}
			if !c.TieEmbeddings {
				want["lm_head.weight"] = []int64{int64(c.VocabSize), D}
			}
			F := int64(c.IntermediateSize)
			for i, k := range c.LayerKinds {
				p := fmt.Sprintf("model.layers.%d.", i)
				want[p+"input_layernorm.weight"] = []int64{D}
				want[p+"post_attention_layernorm.weight"] = []int64{D}
				want[p+"mlp.gate_proj.weight"] = []int64{F, D}
				want[p+"mlp.up_proj.weight"] = []int64{F, D}
				want[p+"mlp.down_proj.weight"] = []int64{D, F}
				if k == format.Attention {
					want[p+"self_attn.q_proj.weight"] = []int64{int64(c.NumHeads * c.HeadDim), D}
					want[p+"self_attn.k_proj.weight"] = []int64{int64(c.NumKVHeads * c.HeadDim), D}
					want[p+"self_attn.v_proj.weight"] = []int64{int64(c.NumKVHeads * c.HeadDim), D}
					want[p+"self_attn.o_proj.weight"] = []int64{D, int64(c.NumHeads * c.HeadDim)}
					continue
				}
				m := p + "mamba."
				want[m+"in_proj.weight"] = []int64{2*di + 2*dxb + H, D}
				want[m+"conv1d.weight"] = []int64{di + 2*dxb, 1, 4}
				want[m+"conv1d.bias"] = []int64{di + 2*dxb}
				want[m+"dt_bias"] = []int64{H}
				want[m+"A_log"] = []int64{H}
				want[m+"D"] = []int64{H}
				want[m+"norm.weight"] = []int64{di}
				want[m+"out_proj.weight"] = []int64{D, di}
			}
			var names []string
			for n := range want {
				names = append(names, n)
			}
			sort.Strings(names)
			if !reflect.DeepEqual(ex.Names(), names) {
				t.Fatalf("exported keys\n%v\nwant\n%v", ex.Names(), names)
			}
			for _, n := range names {
				_, ti, _ := ex.Tensor(n)
				if !reflect.DeepEqual(ti.Shape, want[n]) {
					t.Fatalf("%s: shape %v, want %v", n, ti.Shape, want[n])
				}
				if keepsF32(n) && ti.DType != "F32" {
					t.Fatalf("%s exported as %s", n, ti.DType)
				}
			}
			mc, err := os.ReadFile(filepath.Join(out, "mamba_config.json"))
			if err != nil {
				t.Fatal(err)
			}
			// Re-import: the same tensors, bit for bit, and the same config.
			g, _ := convertT(t, Options{Input: out})
			if a, b := goldenText(f), goldenText(g); a != b {
				t.Fatalf("re-imported file differs:\n%s\nvs\n%s\nmamba_config.json: %s", a, b, mc)
			}
		})
	}
}

// TestExportQ8: Q8_0 tensors are dequantised exactly (the exported F32
// values are the .mmb's dequantised values).
func TestExportQ8(t *testing.T) {
	mmb := filepath.Join(t.TempDir(), "q.mmb")
	f, _ := convertT(t, Options{Input: fixture(t, "llama-tiny-f32"), Output: mmb, KeepAttention: Keep(1), DType: format.Q8_0})
	ex := exportT(t, ExportOptions{Input: mmb, Revision: LatestRevision})
	n := "model.layers.0.self_attn.q_proj.weight"
	ti, _ := f.Latest().Tensor(n)
	if ti.DType != format.Q8_0 {
		t.Fatalf("stored as %s", ti.DType)
	}
	want, _ := f.Float32(ti)
	ef, et, _ := ex.Tensor(n)
	if et.DType != "F32" {
		t.Fatalf("exported as %s", et.DType)
	}
	b, _ := ef.Data(et)
	got := widen(format.F32, b)
	if !reflect.DeepEqual(got, want) {
		t.Fatal("exported values differ from the dequantised ones")
	}
}

func TestMeasureThroughput(t *testing.T) {
	dir := fixture(t, "llama-tiny-bf16-tied-sharded")
	out := t.TempDir()
	tp, err := MeasureThroughput(context.Background(), Options{Input: dir, Output: filepath.Join(out, "x.mmb")})
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	m, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	for _, p := range m {
		st, _ := os.Stat(p)
		want += st.Size()
	}
	if tp.SourceBytes != want || !(tp.Ratio > 0) || tp.Summary == nil {
		t.Fatalf("%+v, want %d source bytes", tp, want)
	}
	if es, _ := os.ReadDir(out); len(es) != 1 {
		t.Fatalf("%d files left in the output folder, want only x.mmb", len(es))
	}
}
