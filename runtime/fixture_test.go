package runtime_test

// TEMPORARY: a minimal safetensors → .mmb writer for the fixtures, used only
// until convert.Convert lands; the committed tests switch to convert then.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mmbformat/mmb/format"
)

type stEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int64  `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

func readST(t *testing.T, path string) map[string][]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	var h map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for k, v := range h {
		if k == "__metadata__" {
			continue
		}
		var e stEntry
		json.Unmarshal(v, &e)
		out[k+"|"+e.DType+"|"+fmt.Sprint(e.Shape)] = b[8+n+uint64(e.Offsets[0]) : 8+n+uint64(e.Offsets[1])]
	}
	return out
}

func convertFixture(t *testing.T, dir string) string {
	var hc struct {
		ModelType  string  `json:"model_type"`
		Hidden     int     `json:"hidden_size"`
		Inter      int     `json:"intermediate_size"`
		Layers     int     `json:"num_hidden_layers"`
		Heads      int     `json:"num_attention_heads"`
		KV         int     `json:"num_key_value_heads"`
		HeadDim    int     `json:"head_dim"`
		Vocab      int     `json:"vocab_size"`
		MaxPos     int     `json:"max_position_embeddings"`
		Eps        float64 `json:"rms_norm_eps"`
		Tie        bool    `json:"tie_word_embeddings"`
		RopeParams struct {
			Theta  float64 `json:"rope_theta"`
			Type   string  `json:"rope_type"`
			Factor float64 `json:"factor"`
			Low    float64 `json:"low_freq_factor"`
			High   float64 `json:"high_freq_factor"`
			Orig   int     `json:"original_max_position_embeddings"`
		} `json:"rope_parameters"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	if err := json.Unmarshal(b, &hc); err != nil {
		t.Fatal(err)
	}
	c := &format.Config{Architecture: hc.ModelType, HiddenSize: hc.Hidden, IntermediateSize: hc.Inter, NumLayers: hc.Layers,
		NumHeads: hc.Heads, NumKVHeads: hc.KV, HeadDim: hc.HeadDim, VocabSize: hc.Vocab, MaxPositions: hc.MaxPos,
		RMSNormEps: hc.Eps, TieEmbeddings: hc.Tie,
		Rope: format.Rope{Theta: hc.RopeParams.Theta, Type: hc.RopeParams.Type, Factor: hc.RopeParams.Factor,
			LowFreqFactor: hc.RopeParams.Low, HighFreqFactor: hc.RopeParams.High, OriginalMaxPositions: hc.RopeParams.Orig}}
	kinds := make([]format.LayerKind, hc.Layers)
	for i := range kinds {
		kinds[i] = format.Attention
	}
	if mb, err := os.ReadFile(filepath.Join(dir, "mamba_config.json")); err == nil {
		var mc struct {
			Attn   []int `json:"attn_layers"`
			DInner int   `json:"d_inner"`
			DXB    int   `json:"d_xb"`
		}
		json.Unmarshal(mb, &mc)
		for i := range kinds {
			kinds[i] = format.Mamba2
		}
		for _, a := range mc.Attn {
			kinds[a] = format.Attention
		}
		c.Mamba = &format.Mamba{DState: hc.HeadDim, DConv: 4, DInner: mc.DInner, DXB: mc.DXB, Heads: hc.Heads,
			KVHeads: mc.DXB / hc.HeadDim, HeadDim: hc.HeadDim, NormEps: 1e-5}
	}
	c.LayerKinds = kinds
	files, _ := filepath.Glob(filepath.Join(dir, "*.safetensors"))
	out := filepath.Join(t.TempDir(), "m.mmb")
	w, err := format.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	dts := map[string]format.DType{"F32": format.F32, "F16": format.F16, "BF16": format.BF16}
	for _, f := range files {
		for k, data := range readST(t, f) {
			var name, dt string
			var shape []int64
			parts := splitKey(k)
			name, dt = parts[0], parts[1]
			fmt.Sscan(parts[2], &shape)
			_ = shape
			sh := parseShape(parts[2])
			if err := w.AddTensorBytes(name, dts[dt], sh, data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := w.Commit(format.Meta{Stage: "convert", Time: time.Unix(0, 0), Config: c}); err != nil {
		t.Fatal(err)
	}
	return out
}

func splitKey(k string) []string {
	var out []string
	last := 0
	for i := 0; i < len(k); i++ {
		if k[i] == '|' {
			out = append(out, k[last:i])
			last = i + 1
		}
	}
	return append(out, k[last:])
}

func parseShape(s string) []int64 {
	var out []int64
	var cur int64
	in := false
	for _, r := range s {
		if r >= '0' && r <= '9' {
			cur = cur*10 + int64(r-'0')
			in = true
		} else if in {
			out = append(out, cur)
			cur, in = 0, false
		}
	}
	return out
}
