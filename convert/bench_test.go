package convert

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mmbformat/mmb/convert/safetensors"
	"github.com/mmbformat/mmb/format"
)

var benchHidden = flag.Int("convert.hidden", 512, "hidden size of the synthetic benchmark checkpoint (ffn 3×, vocab 16×, 4 layers: 512 ≈ 44 MB in f16, 2048 ≈ 700 MB)")

// synthCheckpoint writes a Llama-shaped checkpoint with random values in dt
// (a few shards, so the sharded path is what is measured) and returns its
// folder and the bytes of its tensors.
func synthCheckpoint(tb testing.TB, dir string, hidden int, dt format.DType) int64 {
	tb.Helper()
	D, F, V, L := int64(hidden), int64(3*hidden), int64(16*hidden), 4
	hd := int64(64)
	H, Hkv := D/hd, max(D/hd/4, 1)
	type tdef struct {
		name  string
		shape []int64
	}
	var ts []tdef
	ts = append(ts, tdef{"model.embed_tokens.weight", []int64{V, D}})
	for i := 0; i < L; i++ {
		p := fmt.Sprintf("model.layers.%d.", i)
		ts = append(ts, tdef{p + "input_layernorm.weight", []int64{D}}, tdef{p + "post_attention_layernorm.weight", []int64{D}},
			tdef{p + "self_attn.q_proj.weight", []int64{H * hd, D}}, tdef{p + "self_attn.k_proj.weight", []int64{Hkv * hd, D}},
			tdef{p + "self_attn.v_proj.weight", []int64{Hkv * hd, D}}, tdef{p + "self_attn.o_proj.weight", []int64{D, H * hd}},
			tdef{p + "mlp.gate_proj.weight", []int64{F, D}}, tdef{p + "mlp.up_proj.weight", []int64{F, D}}, tdef{p + "mlp.down_proj.weight", []int64{D, F}})
	}
	ts = append(ts, tdef{"model.norm.weight", []int64{D}}, tdef{"lm_head.weight", []int64{V, D}})
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(sh []int64) func(io.Writer) error {
		return func(w io.Writer) error {
			n, _ := format.ElemCount(sh)
			v := make([]float32, 1<<14)
			b := make([]byte, 4<<14)
			for done := int64(0); done < n; done += int64(len(v)) {
				k := min(int64(len(v)), n-done)
				for i := range v[:k] {
					v[i] = float32(rng.NormFloat64() * 0.02)
				}
				m := encode(b, dt, v[:k])
				if _, err := w.Write(b[:m]); err != nil {
					return err
				}
			}
			return nil
		}
	}
	// Shards: embeddings, layers 0-1, layers 2-3 + head.
	groups := [][]tdef{ts[:1], ts[1 : 1+18], ts[1+18:]}
	wm := map[string]string{}
	var total int64
	for gi, g := range groups {
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", gi+1, len(groups))
		var wts []safetensors.WriteTensor
		for _, t := range g {
			wts = append(wts, safetensors.WriteTensor{Name: t.name, DType: dt.String(), Shape: t.shape, Write: gen(t.shape)})
			wm[t.name] = name
			n, _ := dt.NBytes(t.shape)
			total += n
		}
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			tb.Fatal(err)
		}
		if err := safetensors.Write(f, wts, map[string]string{"format": "pt"}); err != nil {
			tb.Fatal(err)
		}
		f.Close()
	}
	ix, _ := json.Marshal(map[string]any{"metadata": map[string]any{"total_size": total}, "weight_map": wm})
	os.WriteFile(filepath.Join(dir, safetensors.IndexName), ix, 0o644)
	torch := map[format.DType]string{format.F16: "float16", format.BF16: "bfloat16", format.F32: "float32"}[dt]
	cfg, _ := json.Marshal(map[string]any{"architectures": []string{"LlamaForCausalLM"}, "model_type": "llama", "hidden_size": D,
		"intermediate_size": F, "num_hidden_layers": L, "num_attention_heads": H, "num_key_value_heads": Hkv, "head_dim": hd,
		"vocab_size": V, "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "torch_dtype": torch,
		"bos_token_id": 1, "eos_token_id": 2})
	os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644)
	return total
}

// BenchmarkConvert reports conversion throughput (source GB/s) next to a
// plain copy of the same bytes in the same run, and their ratio.
func BenchmarkConvert(b *testing.B) {
	for _, c := range []struct {
		name     string
		src, dst format.DType
		keep     float64
	}{
		{"f16-f16", format.F16, 0, 1},
		{"bf16-f16", format.BF16, format.F16, 1},
		{"f16-q8_0", format.F16, format.Q8_0, 1},
		{"f32-f16", format.F32, format.F16, 1},
		{"bf16-bf16-keep0.5", format.BF16, 0, 0.5},
	} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			total := synthCheckpoint(b, dir, *benchHidden, c.src)
			out := b.TempDir()
			shards, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
			var conv, cp time.Duration
			var peak int64
			b.SetBytes(total)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if _, err := CopyBaseline(shards, out); err != nil {
					b.Fatal(err)
				}
				resetPeakRSS()
				t1 := time.Now()
				if _, err := Convert(context.Background(), Options{Input: dir, Output: filepath.Join(out, "x.mmb"), KeepAttention: Keep(c.keep), DType: c.dst}); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				peak = max(peak, peakRSS())
				cp += t1.Sub(t0)
				conv += t2.Sub(t1)
			}
			gb := float64(total) * float64(b.N) / 1e9
			b.ReportMetric(gb/conv.Seconds(), "convGB/s")
			b.ReportMetric(gb/cp.Seconds(), "copyGB/s")
			b.ReportMetric(cp.Seconds()/conv.Seconds(), "ratio")
			if peak > 0 {
				// Peak resident set during Convert against the largest
				// tensor (the embedding, 16·hidden² elements).
				largest, _ := c.src.NBytes([]int64{int64(16 * *benchHidden), int64(*benchHidden)})
				b.ReportMetric(float64(peak)/1e6, "peakRSS-MB")
				b.ReportMetric(float64(largest)/1e6, "largest-MB")
			}
		})
	}
}
