package convert

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mmbformat/mmb/convert/safetensors"
	"github.com/mmbformat/mmb/format"
)

// LatestRevision selects the newest complete revision in ExportOptions.
const LatestRevision = -1

// DefaultShardSize is the size above which an export is sharded, as
// transformers' save_pretrained does by default.
const DefaultShardSize = 5_000_000_000

// ExportOptions control an export of a .mmb revision to a HF checkpoint.
type ExportOptions struct {
	Input  string // the .mmb file
	OutDir string // created if needed; existing files of the same names are replaced
	// Revision to export; LatestRevision for the newest.
	Revision int
	// DType of the exported floating-point tensors: F32, F16 or BF16. 0
	// uses the source checkpoint's dtype recorded at conversion (so that a
	// conversion without --dtype exports back to the same bytes), else F32.
	// The Mamba parameters A_log, D, dt_bias and conv1d stay F32. Q8_0
	// tensors are dequantised.
	DType format.DType
	// ShardSize is the largest data size of one safetensors file; above it
	// the checkpoint is sharded with an index. 0 means DefaultShardSize.
	ShardSize int64
}

// ExportSummary lists what an export wrote.
type ExportSummary struct {
	OutDir   string   `json:"out_dir"`
	Revision int      `json:"revision"`
	Files    []string `json:"files"`
	Tensors  int      `json:"tensors"`
	Bytes    int64    `json:"bytes"`
	DType    string   `json:"dtype"`
}

// keepsF32 reports whether an exported tensor stays F32 whatever the dtype:
// the Mamba parameters that are F32 in the runtime and small.
func keepsF32(name string) bool {
	for _, s := range []string{".mamba.A_log", ".mamba.D", ".mamba.dt_bias", ".mamba.conv1d.weight", ".mamba.conv1d.bias"} {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// Export writes a revision of a .mmb file as a HF checkpoint: config.json,
// mamba_config.json for hybrids (MambaInLlama's layout), model.safetensors
// (or shards with model.safetensors.index.json), the tokenizer and
// generation files.
func Export(ctx context.Context, o ExportOptions) (*ExportSummary, error) {
	f, err := format.Open(o.Input)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rev := f.Latest()
	if o.Revision != LatestRevision {
		if rev, err = f.Revision(o.Revision); err != nil {
			return nil, err
		}
	}
	c := rev.Config
	if c == nil {
		return nil, fmt.Errorf("%s: revision %d has no model config", o.Input, rev.Number)
	}
	for i, k := range c.LayerKinds {
		if k != format.Attention && k != format.Mamba2 {
			return nil, fmt.Errorf("%s: layer %d is %s; export supports attention and Mamba-2 layers", o.Input, i, k)
		}
	}
	dt := o.DType
	if dt == 0 {
		dt = format.F32
		if d, err := format.ParseDType(rev.Metadata[MetaSourceDType]); err == nil && (d == format.F16 || d == format.BF16) {
			dt = d
		}
	}
	if dt != format.F32 && dt != format.F16 && dt != format.BF16 {
		return nil, fmt.Errorf("export: dtype %s not supported (F32, F16, BF16)", dt)
	}
	shard := o.ShardSize
	if shard <= 0 {
		shard = DefaultShardSize
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	sum := &ExportSummary{OutDir: o.OutDir, Revision: rev.Number, DType: dt.String()}
	put := func(name string, b []byte) error {
		if err := writeAtomic(filepath.Join(o.OutDir, name), func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
			return err
		}
		sum.Files = append(sum.Files, name)
		return nil
	}
	cj, err := hfConfigJSON(c, dt)
	if err != nil {
		return nil, err
	}
	if err := put("config.json", cj); err != nil {
		return nil, err
	}
	if slices.Contains(c.LayerKinds, format.Mamba2) {
		if err := put("mamba_config.json", mambaConfigJSON(c)); err != nil {
			return nil, err
		}
	}
	for _, n := range []struct{ tensor, file string }{{format.TokenizerJSONTensor, "tokenizer.json"},
		{format.TokenizerConfigTensor, "tokenizer_config.json"}, {format.GenerationConfigTensor, "generation_config.json"}} {
		if t, ok := rev.Tensor(n.tensor); ok {
			b, err := f.Data(t)
			if err != nil {
				return nil, err
			}
			if err := put(n.file, b); err != nil {
				return nil, err
			}
		}
	}

	// Plan the tensors and their shards.
	type exp struct {
		t    *format.TensorInfo
		dt   format.DType
		size int64
	}
	var ts []exp
	for i := range rev.Tensors {
		t := &rev.Tensors[i]
		if t.DType == format.U8 {
			continue // tokenizer and generation files, written above
		}
		odt := dt
		switch {
		case t.DType == format.I32:
			return nil, fmt.Errorf("%s: tensor %s: I32 tensors are not part of a HF Llama checkpoint", o.Input, t.Name)
		case keepsF32(t.Name):
			odt = format.F32
		}
		n, err := odt.NBytes(t.Shape)
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %w", t.Name, err)
		}
		ts = append(ts, exp{t, odt, n})
	}
	var shards [][]exp
	var cur []exp
	var curSize, total int64
	for _, e := range ts {
		if len(cur) > 0 && curSize+e.size > shard {
			shards = append(shards, cur)
			cur, curSize = nil, 0
		}
		cur = append(cur, e)
		curSize += e.size
		total += e.size
	}
	if len(cur) > 0 {
		shards = append(shards, cur)
	}
	weightMap := map[string]string{}
	for i, sh := range shards {
		name := "model.safetensors"
		if len(shards) > 1 {
			name = fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(shards))
		}
		var wts []safetensors.WriteTensor
		for _, e := range sh {
			e := e
			weightMap[e.t.Name] = name
			wts = append(wts, safetensors.WriteTensor{Name: e.t.Name, DType: e.dt.String(), Shape: e.t.Shape,
				Write: func(w io.Writer) error { return exportTensor(ctx, w, f, e.t, e.dt) }})
		}
		err := writeAtomic(filepath.Join(o.OutDir, name), func(w io.Writer) error {
			return safetensors.Write(w, wts, map[string]string{"format": "pt"})
		})
		if err != nil {
			return nil, err
		}
		sum.Files = append(sum.Files, name)
	}
	if len(shards) > 1 {
		ix, _ := json.MarshalIndent(map[string]any{"metadata": map[string]any{"total_size": total}, "weight_map": weightMap}, "", "  ")
		if err := put(safetensors.IndexName, append(ix, '\n')); err != nil {
			return nil, err
		}
	} else {
		os.Remove(filepath.Join(o.OutDir, safetensors.IndexName)) // a stale index would win over model.safetensors
	}
	sum.Tensors, sum.Bytes = len(ts), total
	return sum, nil
}

// exportTensor writes t in dtype dt, converting a chunk at a time.
func exportTensor(ctx context.Context, w io.Writer, f *format.File, t *format.TensorInfo, dt format.DType) error {
	src, err := f.Data(t)
	if err != nil {
		return err
	}
	if t.DType == dt {
		_, err := w.Write(src)
		return err
	}
	n, err := format.ElemCount(t.Shape)
	if err != nil {
		return err
	}
	// Chunks of whole Q8_0 blocks (a multiple of 32 elements).
	const chunk = 1 << 15
	in := make([]float32, chunk)
	out := make([]byte, 4*chunk)
	srcPer, srcUnit := int64(elemSize(t.DType)), int64(1)
	if t.DType == format.Q8_0 {
		srcPer, srcUnit = format.Q8BlockBytes, format.Q8Block
	}
	for done := int64(0); done < n; done += chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := min(int64(chunk), n-done)
		s := src[done/srcUnit*srcPer : (done+k)/srcUnit*srcPer]
		if err := format.DecodeFloat32(in[:k], t.DType, s); err != nil {
			return fmt.Errorf("tensor %s: %w", t.Name, err)
		}
		m := encode(out, dt, in[:k])
		if _, err := w.Write(out[:m]); err != nil {
			return err
		}
	}
	return nil
}

// writeAtomic writes path through a temporary file in the same folder.
func writeAtomic(path string, write func(w io.Writer) error) error {
	tf, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	err = tf.Chmod(0o644) // CreateTemp makes it 0600
	if err == nil {
		err = write(tf)
	}
	if err == nil {
		err = tf.Sync()
	}
	if e := tf.Close(); err == nil {
		err = e
	}
	if err == nil {
		err = os.Rename(tf.Name(), path)
	}
	if err != nil {
		os.Remove(tf.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

var torchNames = map[format.DType]string{format.F32: "float32", format.F16: "float16", format.BF16: "bfloat16"}

// hfConfigJSON writes a config.json that transformers (4.x and 5.x) loads as
// LlamaForCausalLM / MistralForCausalLM. The rope uses the classic
// rope_theta + rope_scaling form, which both read.
func hfConfigJSON(c *format.Config, dt format.DType) ([]byte, error) {
	arch := map[string]string{"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM"}[c.Architecture]
	if arch == "" {
		return nil, fmt.Errorf("export: architecture %q has no HF equivalent here", c.Architecture)
	}
	m := map[string]any{
		"architectures":           []string{arch},
		"model_type":              c.Architecture,
		"hidden_size":             c.HiddenSize,
		"intermediate_size":       c.IntermediateSize,
		"num_hidden_layers":       c.NumLayers,
		"num_attention_heads":     c.NumHeads,
		"num_key_value_heads":     c.NumKVHeads,
		"head_dim":                c.HeadDim,
		"vocab_size":              c.VocabSize,
		"max_position_embeddings": c.MaxPositions,
		"rms_norm_eps":            c.RMSNormEps,
		"hidden_act":              "silu",
		"tie_word_embeddings":     c.TieEmbeddings,
		"rope_theta":              c.Rope.Theta,
		"rope_scaling":            nil,
		"torch_dtype":             torchNames[dt], // transformers 4
		"dtype":                   torchNames[dt], // transformers 5
	}
	if c.Architecture == "llama" {
		m["attention_bias"], m["mlp_bias"] = false, false
	} else {
		m["sliding_window"] = nil
	}
	switch c.Rope.Type {
	case "linear":
		m["rope_scaling"] = map[string]any{"rope_type": "linear", "factor": c.Rope.Factor}
	case "llama3":
		m["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": c.Rope.Factor, "low_freq_factor": c.Rope.LowFreqFactor,
			"high_freq_factor": c.Rope.HighFreqFactor, "original_max_position_embeddings": c.Rope.OriginalMaxPositions}
	}
	if c.BOSTokenID >= 0 {
		m["bos_token_id"] = c.BOSTokenID
	}
	switch len(c.EOSTokenIDs) {
	case 0:
	case 1:
		m["eos_token_id"] = c.EOSTokenIDs[0]
	default:
		m["eos_token_id"] = c.EOSTokenIDs
	}
	b, err := json.MarshalIndent(m, "", "  ")
	return append(b, '\n'), err
}

// mambaConfigJSON is MambaInLlama's mamba_config.json (DESIGN.md §4).
func mambaConfigJSON(c *format.Config) []byte {
	mc := c.Mamba
	expand := 1
	if mc.DInner%c.HiddenSize == 0 {
		expand = mc.DInner / c.HiddenSize
	}
	attn := attnLayers(c)
	if attn == nil {
		attn = []int{}
	}
	m := map[string]any{
		"d_model":           c.HiddenSize,
		"ssm_cfg":           map[string]any{"expand": expand, "ngroups": mc.Heads, "d_state": mc.DState},
		"rms_norm_eps":      c.RMSNormEps,
		"vocab_size":        nil,
		"d_inner":           mc.DInner,
		"d_xb":              mc.DXB,
		"intermediate_size": c.IntermediateSize,
		"hidden_act":        "silu",
		"n_layer":           c.NumLayers,
		"attn_layers":       attn,
	}
	if mc.DConv != 4 {
		m["ssm_cfg"].(map[string]any)["d_conv"] = mc.DConv
	}
	b, _ := json.MarshalIndent(m, "", " ")
	return append(b, '\n')
}
