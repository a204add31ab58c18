// Package convert turns HF Llama/Mistral checkpoints (safetensors, single or
// sharded) into .mmb files, replacing chosen attention layers by Mamba-2
// mixers initialised from the attention weights ("Mamba in the Llama",
// DESIGN.md §4), and exports .mmb revisions back to HF checkpoints.
package convert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mmbformat/mmb/convert/safetensors"
	"github.com/mmbformat/mmb/format"
)

// Options control a conversion.
type Options struct {
	// Input is a .safetensors file (its config.json, tokenizer and
	// generation files are looked up in the same folder), an index file or
	// a checkpoint folder.
	Input string
	// Output is the .mmb file to write. It appears only when the conversion
	// succeeded (written to a temporary file in the same folder, then
	// renamed).
	Output string
	// KeepAttention is the fraction R of attention layers kept: 1 keeps all,
	// 0 none, R = 1/k keeps layer i when i mod k = k-1 (0.5 keeps 1,3,5,…;
	// 0.25 keeps 3,7,11,…). Nil keeps the source's layer kinds: all
	// attention for a Transformer, the hybrid's own for a hybrid.
	KeepAttention *float64
	// AttentionLayers lists the attention layers explicitly (0-based); the
	// others become Mamba-2. Nil means unset; an empty non-nil list means
	// none. Exclusive with KeepAttention.
	AttentionLayers []int
	// DType of the large matrices (embeddings, projections, MLP, lm_head):
	// F32, F16, BF16 or Q8_0; 0 keeps each tensor's source dtype. Norms and
	// the Mamba parameters A_log, D, dt_bias, conv1d and norm are always F32.
	// Q8_0 needs rows of a multiple of 32 values; other matrices keep their
	// source dtype (listed in Summary.Fallbacks).
	DType format.DType
	// Seed of the fresh Mamba parameters. The same input, options and seed
	// give a byte-identical file.
	Seed uint64
	// Progress, if not nil, receives a progress line (carriage returns);
	// pass a terminal only.
	Progress io.Writer
	// Command is recorded in the provenance (the tool's command line).
	Command string
	// Tool is recorded in the provenance; default "hfconvert".
	Tool string
	// Time is the revision time; zero means the Unix epoch, so that output
	// does not depend on when it was made.
	Time time.Time
}

// Keep is a convenience for Options.KeepAttention.
func Keep(r float64) *float64 { return &r }

// Summary describes a finished conversion (the tools print it with --json).
type Summary struct {
	Input           string             `json:"input"`
	Output          string             `json:"output"`
	Architecture    string             `json:"architecture"`
	LayerKinds      []format.LayerKind `json:"layer_kinds"`
	AttentionLayers []int              `json:"attention_layers"`
	Tensors         int                `json:"tensors"`
	SourceBytes     int64              `json:"source_bytes"`
	OutputBytes     int64              `json:"output_bytes"`
	Seconds         float64            `json:"seconds"`
	GBPerSecond     float64            `json:"gb_per_second"` // source tensor bytes per second
	DType           string             `json:"dtype"`
	Seed            uint64             `json:"seed"`
	Fallbacks       []string           `json:"fallbacks,omitempty"`
	Warnings        []string           `json:"warnings,omitempty"`
}

// Version is the converter's version string recorded in every file.
func Version() string {
	v := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return fmt.Sprintf("mmb %s (format %d.%d)", v, format.MajorVersion, format.MinorVersion)
}

// input is an opened source checkpoint with its side files.
type input struct {
	dir     string
	ckpt    *safetensors.Checkpoint
	cfg     *format.Config
	hybrid  bool
	srcDT   string            // declared dtype of the checkpoint
	files   map[string][]byte // side files by base name
	sources []string          // every file read, for provenance
}

var sideFiles = []string{"config.json", "mamba_config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja"}

func openInput(path string) (*input, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open input: %w", err)
	}
	in := &input{dir: path, files: map[string][]byte{}}
	if !st.IsDir() {
		in.dir = filepath.Dir(path)
	}
	for _, n := range sideFiles {
		p := filepath.Join(in.dir, n)
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", n, err)
		}
		in.files[n] = b
		in.sources = append(in.sources, p)
	}
	cb, ok := in.files["config.json"]
	if !ok {
		return nil, fmt.Errorf("open config: %s has no config.json", in.dir)
	}
	cfgPath := filepath.Join(in.dir, "config.json")
	if in.cfg, err = ParseConfig(cb, cfgPath); err != nil {
		return nil, err
	}
	in.srcDT = sourceDType(cb)
	if gb, ok := in.files["generation_config.json"]; ok {
		// generate() stops on generation_config's eos ids, which for chat
		// models (Llama 3 Instruct) list more ids than config.json.
		var g struct {
			EOS json.RawMessage `json:"eos_token_id"`
		}
		if err := json.Unmarshal(gb, &g); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(in.dir, "generation_config.json"), err)
		}
		ids, err := parseIDs(g.EOS)
		if err != nil {
			return nil, fmt.Errorf("%s: eos_token_id: %w", filepath.Join(in.dir, "generation_config.json"), err)
		}
		for _, id := range ids {
			if id < 0 || id >= in.cfg.VocabSize {
				return nil, fmt.Errorf("%s: eos_token_id: %d outside the vocabulary of %d", filepath.Join(in.dir, "generation_config.json"), id, in.cfg.VocabSize)
			}
		}
		if len(ids) > 0 {
			in.cfg.EOSTokenIDs = ids
		}
	}
	if mb, ok := in.files["mamba_config.json"]; ok {
		in.hybrid = true
		if err := parseMambaConfig(mb, filepath.Join(in.dir, "mamba_config.json"), in.cfg); err != nil {
			return nil, err
		}
	}
	if in.ckpt, err = safetensors.OpenCheckpoint(path); err != nil {
		return nil, err
	}
	in.sources = append(in.sources, in.ckpt.Paths()...)
	return in, nil
}

// chooseAttention returns which layers keep attention.
func chooseAttention(n int, keep *float64, list []int) ([]bool, error) {
	attn := make([]bool, n)
	switch {
	case keep != nil && list != nil:
		return nil, errors.New("keep-attention and attention-layers are exclusive")
	case list != nil:
		for _, l := range list {
			if l < 0 || l >= n {
				return nil, fmt.Errorf("attention-layers: layer %d outside 0..%d", l, n-1)
			}
			if attn[l] {
				return nil, fmt.Errorf("attention-layers: layer %d listed twice", l)
			}
			attn[l] = true
		}
	case keep != nil:
		r := *keep
		if r == 0 {
			break
		}
		k := math.Round(1 / r)
		if !(r > 0 && r <= 1) || math.Abs(1/r-k) > 1e-9 || k > float64(n) && k != 1 {
			return nil, fmt.Errorf("keep-attention %g: want 0 or 1/k for a whole k ≤ %d layers (1, 0.5, 0.25, 0.125, …)", r, n)
		}
		for i := range attn {
			attn[i] = i%int(k) == int(k)-1
		}
	}
	return attn, nil
}

// outTensor is one tensor of the output, in the order written.
type outTensor struct {
	name  string
	dt    format.DType
	shape []int64
	segs  []segment // streamed from the source (or generated)
	small []float32 // F32 tensors built in memory
	raw   []byte    // U8 files
	srcs  []srcRef  // to release after writing
}

type srcRef struct {
	f *safetensors.File
	t *safetensors.TensorInfo
}

type planner struct {
	in        *input
	opts      *Options
	cfg       *format.Config // the output's
	used      map[string]bool
	out       []outTensor
	fallbacks []string
	srcBytes  int64
}

// src finds a source tensor and checks its shape against what the config
// implies (why names the config fields).
func (p *planner) src(name, why string, shape ...int64) (segment, srcRef, error) {
	f, t, ok := p.in.ckpt.Tensor(name)
	if !ok {
		return segment{}, srcRef{}, fmt.Errorf("tensor %s: missing from the checkpoint in %s", name, p.in.dir)
	}
	p.used[name] = true
	dt, ok := stDType(t.DType)
	if !ok {
		return segment{}, srcRef{}, fmt.Errorf("%s: tensor %s: dtype %s not supported (F32, F16, BF16)", f.Name(), name, t.DType)
	}
	if !slices.Equal(t.Shape, shape) {
		return segment{}, srcRef{}, fmt.Errorf("%s: tensor %s: shape %v contradicts config.json, which implies %v (%s)", f.Name(), name, t.Shape, shape, why)
	}
	b, err := f.Data(t)
	if err != nil {
		return segment{}, srcRef{}, err
	}
	p.srcBytes += t.Size()
	return segment{src: b, srcDT: dt, n: t.Size() / int64(elemSize(dt))}, srcRef{f, t}, nil
}

// largeDT is the output dtype of a large matrix whose rows have cols values.
func (p *planner) largeDT(name string, src format.DType, cols int64) format.DType {
	dt := p.opts.DType
	if dt == 0 {
		return src
	}
	if dt == format.Q8_0 && cols%format.Q8Block != 0 {
		p.fallbacks = append(p.fallbacks, fmt.Sprintf("%s: rows of %d values are not a multiple of %d, kept as %s", name, cols, format.Q8Block, src))
		return src
	}
	return dt
}

// copyLarge plans a large matrix copied from the source.
func (p *planner) copyLarge(name, why string, shape ...int64) error {
	return p.copyLargeAs(name, name, why, shape...)
}

// copyLargeAs plans source tensor name stored as out.
func (p *planner) copyLargeAs(out, name, why string, shape ...int64) error {
	s, r, err := p.src(name, why, shape...)
	if err != nil {
		return err
	}
	dt := p.largeDT(out, s.srcDT, shape[len(shape)-1])
	p.out = append(p.out, outTensor{name: out, dt: dt, shape: shape, segs: []segment{s}, srcs: []srcRef{r}})
	return nil
}

// copySmall plans a small tensor (norms, Mamba parameters) stored as F32.
// Widening F16/BF16 to F32 is exact.
func (p *planner) copySmall(name, why string, shape ...int64) error {
	s, r, err := p.src(name, why, shape...)
	if err != nil {
		return err
	}
	p.out = append(p.out, outTensor{name: name, dt: format.F32, shape: shape, segs: []segment{s}, srcs: []srcRef{r}})
	return nil
}

func (p *planner) fresh(name string, shape []int64, v []float32) {
	p.out = append(p.out, outTensor{name: name, dt: format.F32, shape: shape, small: v})
}

func (p *planner) plan(srcKinds []format.LayerKind) error {
	c := p.cfg
	D, V, F := int64(c.HiddenSize), int64(c.VocabSize), int64(c.IntermediateSize)
	H, Hkv, hd := int64(c.NumHeads), int64(c.NumKVHeads), int64(c.HeadDim)
	if err := p.copyLarge("model.embed_tokens.weight", "vocab_size × hidden_size", V, D); err != nil {
		return err
	}
	for i := 0; i < c.NumLayers; i++ {
		pre := fmt.Sprintf("model.layers.%d.", i)
		if err := p.copySmall(pre+"input_layernorm.weight", "hidden_size", D); err != nil {
			return err
		}
		var err error
		switch {
		case c.LayerKinds[i] == format.Attention:
			err = p.attention(pre, D, H, Hkv, hd)
		case srcKinds[i] == format.Mamba2:
			err = p.mambaCopy(pre, D)
		default:
			err = p.mambaFromAttention(i, pre, D, H, Hkv, hd)
		}
		if err != nil {
			return err
		}
		if err := p.copySmall(pre+"post_attention_layernorm.weight", "hidden_size", D); err != nil {
			return err
		}
		for _, m := range []struct {
			n      string
			r, col int64
			why    string
		}{{"gate_proj", F, D, "intermediate_size × hidden_size"}, {"up_proj", F, D, "intermediate_size × hidden_size"}, {"down_proj", D, F, "hidden_size × intermediate_size"}} {
			if err := p.copyLarge(pre+"mlp."+m.n+".weight", m.why, m.r, m.col); err != nil {
				return err
			}
		}
	}
	if err := p.copySmall("model.norm.weight", "hidden_size", D); err != nil {
		return err
	}
	if !c.TieEmbeddings {
		if err := p.copyLarge("lm_head.weight", "vocab_size × hidden_size", V, D); err != nil {
			return err
		}
	}
	// Anything left in the checkpoint is a tensor this model does not have:
	// biases, another architecture's weights, a wrong layer count.
	for _, n := range p.in.ckpt.Names() {
		if p.used[n] || strings.HasSuffix(n, ".rotary_emb.inv_freq") || (c.TieEmbeddings && n == "lm_head.weight") {
			continue
		}
		f, _, _ := p.in.ckpt.Tensor(n)
		return fmt.Errorf("%s: tensor %s: not part of a %s model with %d layers as config.json describes it (supported: %s)", f.Name(), n, c.Architecture, c.NumLayers, Supported)
	}
	return nil
}

func (p *planner) attention(pre string, D, H, Hkv, hd int64) error {
	if _, _, ok := p.in.ckpt.Tensor(pre + "mamba.in_proj.weight"); ok {
		return fmt.Errorf("tensor %smamba.in_proj.weight: layer is a Mamba layer in the source, it cannot become attention", pre)
	}
	for _, m := range []struct {
		n    string
		r, c int64
		why  string
	}{{"q_proj", H * hd, D, "num_attention_heads·head_dim × hidden_size"}, {"k_proj", Hkv * hd, D, "num_key_value_heads·head_dim × hidden_size"},
		{"v_proj", Hkv * hd, D, "num_key_value_heads·head_dim × hidden_size"}, {"o_proj", D, H * hd, "hidden_size × num_attention_heads·head_dim"}} {
		if err := p.copyLarge(pre+"self_attn."+m.n+".weight", m.why, m.r, m.c); err != nil {
			return err
		}
	}
	return nil
}

// mambaCopy copies a Mamba-2 mixer of a hybrid source as it is.
func (p *planner) mambaCopy(pre string, D int64) error {
	m := p.cfg.Mamba
	if _, _, ok := p.in.ckpt.Tensor(pre + "mamba.in_proj_x.weight"); ok {
		return fmt.Errorf("tensor %smamba.in_proj_x.weight: Mamba-1 hybrids are not supported (Mamba-2 only)", pre)
	}
	di, dxb, Hm, K := int64(m.DInner), int64(m.DXB), int64(m.Heads), int64(m.DConv)
	mp := pre + "mamba."
	if err := p.copyLarge(mp+"in_proj.weight", "2·d_inner + 2·d_xb + d_inner/d_state × d_model of mamba_config.json", 2*di+2*dxb+Hm, D); err != nil {
		return err
	}
	conv := "d_inner + 2·d_xb of mamba_config.json"
	if err := p.copySmall(mp+"conv1d.weight", conv+" × 1 × d_conv", di+2*dxb, 1, K); err != nil {
		return err
	}
	if err := p.copySmall(mp+"conv1d.bias", conv, di+2*dxb); err != nil {
		return err
	}
	for _, n := range []string{"dt_bias", "A_log", "D"} {
		if err := p.copySmall(mp+n, "d_inner/d_state of mamba_config.json", Hm); err != nil {
			return err
		}
	}
	if err := p.copySmall(mp+"norm.weight", "d_inner of mamba_config.json", di); err != nil {
		return err
	}
	return p.copyLarge(mp+"out_proj.weight", "d_model × d_inner of mamba_config.json", D, di)
}

// mambaFromAttention builds a Mamba-2 mixer from layer i's attention
// (DESIGN.md §4): in_proj rows [z | x←v_proj | B←k_proj | C←q_proj | dt],
// out_proj←o_proj, everything else fresh.
func (p *planner) mambaFromAttention(i int, pre string, D, H, Hkv, hd int64) error {
	ap := pre + "self_attn."
	q, qr, err := p.src(ap+"q_proj.weight", "num_attention_heads·head_dim × hidden_size", H*hd, D)
	if err != nil {
		return err
	}
	k, kr, err := p.src(ap+"k_proj.weight", "num_key_value_heads·head_dim × hidden_size", Hkv*hd, D)
	if err != nil {
		return err
	}
	v, vr, err := p.src(ap+"v_proj.weight", "num_key_value_heads·head_dim × hidden_size", Hkv*hd, D)
	if err != nil {
		return err
	}
	di, dxb := H*hd, Hkv*hd
	mp := pre + "mamba."
	dt := p.largeDT(mp+"in_proj.weight", q.srcDT, D)
	bound := 1 / math.Sqrt(float64(D)) // nn.Linear's default init for fan_in D
	z := segment{gen: uniformGen(newStream(p.opts.Seed, i, paramZ), bound), n: di * D}
	dtRows := segment{gen: uniformGen(newStream(p.opts.Seed, i, paramDT), bound), n: H * D}
	p.out = append(p.out, outTensor{name: mp + "in_proj.weight", dt: dt, shape: []int64{2*di + 2*dxb + H, D},
		segs: []segment{z, v, k, q, dtRows}, srcs: []srcRef{qr, kr, vr}})
	conv := di + 2*dxb
	p.fresh(mp+"conv1d.weight", []int64{conv, 1, 4}, fillUniform(newStream(p.opts.Seed, i, paramConvW), convBound, int(conv*4)))
	p.fresh(mp+"conv1d.bias", []int64{conv}, fillUniform(newStream(p.opts.Seed, i, paramConvB), convBound, int(conv)))
	p.fresh(mp+"dt_bias", []int64{H}, dtBias(newStream(p.opts.Seed, i, paramDTBias), int(H)))
	p.fresh(mp+"A_log", []int64{H}, aLog(newStream(p.opts.Seed, i, paramALog), int(H)))
	p.fresh(mp+"D", []int64{H}, constant(1, int(H)))
	p.fresh(mp+"norm.weight", []int64{di}, constant(1, int(di)))
	return p.copyLargeAs(mp+"out_proj.weight", ap+"o_proj.weight", "hidden_size × num_attention_heads·head_dim", D, di)
}

// Convert converts one checkpoint. See Options.
func Convert(ctx context.Context, o Options) (*Summary, error) {
	start := time.Now()
	if o.Output == "" {
		return nil, errors.New("convert: no output path")
	}
	switch o.DType {
	case 0, format.F32, format.F16, format.BF16, format.Q8_0:
	default:
		return nil, fmt.Errorf("convert: dtype %s not supported (F32, F16, BF16, Q8_0)", o.DType)
	}
	in, err := openInput(o.Input)
	if err != nil {
		return nil, err
	}
	defer in.ckpt.Close()

	// Hash the source files on another goroutine while converting: the
	// provenance needs a full read of every shard, and doing it alongside the
	// conversion keeps the wall time near one pass. The goroutine reads the
	// mapped shards, so it must finish before the deferred Close unmaps them,
	// on every return path.
	hctx, cancelHash := context.WithCancel(ctx)
	var srcs []format.Source
	hashed := make(chan struct{})
	shards := map[string]*safetensors.File{}
	for _, f := range in.ckpt.Files {
		shards[f.Name()] = f
	}
	go func() {
		defer close(hashed)
		srcs = hashSources(hctx, in.dir, in.sources, shards)
	}()
	defer func() {
		cancelHash()
		<-hashed
	}()

	srcKinds := append([]format.LayerKind(nil), in.cfg.LayerKinds...)
	cfg := *in.cfg
	cfg.LayerKinds = append([]format.LayerKind(nil), srcKinds...)
	var sum Summary
	if o.KeepAttention != nil || o.AttentionLayers != nil {
		attn, err := chooseAttention(cfg.NumLayers, o.KeepAttention, o.AttentionLayers)
		if err != nil {
			return nil, fmt.Errorf("convert: %w", err)
		}
		for i, a := range attn {
			switch {
			case a && srcKinds[i] != format.Attention:
				return nil, fmt.Errorf("convert: layer %d is %s in the source and cannot be kept as attention (source attention layers: %v)", i, srcKinds[i], attnLayers(in.cfg))
			case !a:
				cfg.LayerKinds[i] = format.Mamba2
			}
		}
	}
	for i, k := range cfg.LayerKinds {
		if k == format.Mamba2 && srcKinds[i] == format.Attention {
			want := mambaFor(&cfg)
			if cfg.Mamba != nil && *cfg.Mamba != *want {
				return nil, fmt.Errorf("convert: the hybrid's mamba_config.json (%+v) differs from what replacing attention layer %d gives (%+v)", *cfg.Mamba, i, *want)
			}
			cfg.Mamba = want
		}
	}
	if !slices.Contains(cfg.LayerKinds, format.Mamba2) {
		cfg.Mamba = nil
	}
	p := &planner{in: in, opts: &o, cfg: &cfg, used: map[string]bool{}}
	if err := p.plan(srcKinds); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	for _, n := range []struct{ file, tensor string }{{"tokenizer.json", format.TokenizerJSONTensor},
		{"tokenizer_config.json", format.TokenizerConfigTensor}, {"generation_config.json", format.GenerationConfigTensor}} {
		if b, ok := in.files[n.file]; ok {
			p.out = append(p.out, outTensor{name: n.tensor, dt: format.U8, shape: []int64{int64(len(b))}, raw: b})
		} else if n.file == "tokenizer.json" {
			sum.Warnings = append(sum.Warnings, "no tokenizer.json next to the checkpoint: the .mmb cannot tokenize text")
		}
	}
	meta, err := metadata(in, &o, &cfg)
	if err != nil {
		return nil, err
	}

	dir := filepath.Dir(o.Output)
	tf, err := os.CreateTemp(dir, "."+filepath.Base(o.Output)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create output: %w", err)
	}
	tmp := tf.Name()
	tf.Close()
	os.Chmod(tmp, 0o644) // CreateTemp makes it 0600; the result is an ordinary file
	committed := false
	defer func() {
		if !committed {
			os.Remove(tmp)
		}
	}()
	w, err := format.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("create output: %w", err)
	}
	prog := newProgress(o.Progress, p.srcBytes)
	if err := writeTensors(ctx, w, p.out, prog); err != nil {
		w.Abort()
		return nil, err
	}
	prog.done()
	<-hashed
	if err := ctx.Err(); err != nil {
		w.Abort()
		return nil, err
	}
	tool := o.Tool
	if tool == "" {
		tool = "hfconvert"
	}
	t := o.Time
	if t.IsZero() {
		t = time.Unix(0, 0).UTC()
	}
	if _, err := w.Commit(format.Meta{Stage: "convert", Time: t, Config: &cfg, Metadata: meta,
		Provenance: &format.Provenance{Tool: tool, Command: o.Command, Sources: srcs}}); err != nil {
		w.Abort()
		return nil, err
	}
	if err := os.Rename(tmp, o.Output); err != nil {
		return nil, fmt.Errorf("rename output: %w", err)
	}
	committed = true
	if d, err := os.Open(dir); err == nil { // make the rename durable
		d.Sync()
		d.Close()
	}
	st, err := os.Stat(o.Output)
	if err != nil {
		return nil, err
	}
	sum.Input, sum.Output, sum.Architecture = o.Input, o.Output, cfg.Architecture
	sum.LayerKinds, sum.AttentionLayers = cfg.LayerKinds, attnLayers(&cfg)
	if sum.AttentionLayers == nil {
		sum.AttentionLayers = []int{}
	}
	sum.Tensors, sum.SourceBytes, sum.OutputBytes = len(p.out), p.srcBytes, st.Size()
	sum.Seconds = time.Since(start).Seconds()
	if sum.Seconds > 0 {
		sum.GBPerSecond = float64(p.srcBytes) / 1e9 / sum.Seconds
	}
	sum.DType = "source"
	if o.DType != 0 {
		sum.DType = o.DType.String()
	}
	sum.Seed, sum.Fallbacks = o.Seed, p.fallbacks
	return &sum, nil
}

func writeTensors(ctx context.Context, w *format.Writer, ts []outTensor, prog *progress) error {
	for i := range ts {
		t := &ts[i]
		if err := ctx.Err(); err != nil {
			return err
		}
		var err error
		switch {
		case t.raw != nil:
			err = w.AddTensorBytes(t.name, t.dt, t.shape, t.raw)
		case t.small != nil:
			buf := make([]byte, 4*len(t.small))
			encode(buf, format.F32, t.small)
			err = w.AddTensorBytes(t.name, t.dt, t.shape, buf)
		default:
			for _, s := range t.srcs {
				s.f.Prefetch(s.t)
			}
			r := newTensorReader(t.dt, t.segs, ctx.Err)
			err = w.AddTensor(t.name, t.dt, t.shape, r)
			for _, s := range t.srcs {
				prog.add(s.t.Size())
				s.f.Release(s.t)
			}
		}
		if err != nil {
			return fmt.Errorf("write tensor %s: %w", t.name, err)
		}
	}
	return nil
}

// hashSources hashes every source file, shards from their mapping (which
// the conversion reads anyway), others with read(2).
func hashSources(ctx context.Context, dir string, paths []string, shards map[string]*safetensors.File) []format.Source {
	var out []format.Source
	buf := make([]byte, 1<<20)
	for _, p := range paths {
		s := format.Source{Name: p}
		if rel, err := filepath.Rel(dir, p); err == nil {
			s.Name = rel
		}
		if sf := shards[p]; sf != nil {
			h := sha256.New()
			n, err := sf.WriteTo(ctxWriter{ctx, h})
			s.Size, s.SHA256 = n, hex.EncodeToString(h.Sum(nil))
			if err != nil {
				s.SHA256 = "error: " + err.Error()
			}
			out = append(out, s)
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			s.SHA256 = "error: " + err.Error()
			out = append(out, s)
			continue
		}
		h := sha256.New()
		for ctx.Err() == nil {
			n, err := f.Read(buf)
			h.Write(buf[:n])
			s.Size += int64(n)
			if err != nil {
				break
			}
		}
		f.Close()
		s.SHA256 = hex.EncodeToString(h.Sum(nil))
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Metadata keys written by the converter.
const (
	MetaChatTemplate  = "tokenizer.chat_template"
	MetaSourceDType   = "source.dtype"
	MetaSourceLayers  = "source.layer_kinds"
	MetaVersion       = "mmb.version"
	MetaArchitecture  = "general.architecture"
	MetaConvertSeed   = "convert.seed"
	MetaConvertDType  = "convert.dtype"
	metaTokenPrefix   = "tokenizer."
	metaConvertPrefix = "convert."
)

func metadata(in *input, o *Options, cfg *format.Config) (map[string]string, error) {
	m := map[string]string{
		MetaVersion:      Version(),
		MetaArchitecture: cfg.Architecture,
		MetaConvertSeed:  strconv.FormatUint(o.Seed, 10),
	}
	if o.DType != 0 {
		m[MetaConvertDType] = o.DType.String()
	}
	if in.srcDT != "" {
		m[MetaSourceDType] = in.srcDT
	} else if _, t, ok := in.ckpt.Tensor("model.embed_tokens.weight"); ok {
		m[MetaSourceDType] = t.DType
	}
	ks := make([]string, len(in.cfg.LayerKinds))
	for i, k := range in.cfg.LayerKinds {
		ks[i] = string(k)
	}
	m[MetaSourceLayers] = strings.Join(ks, ",")
	if b, ok := in.files["tokenizer_config.json"]; ok {
		var tc map[string]json.RawMessage
		if err := json.Unmarshal(b, &tc); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(in.dir, "tokenizer_config.json"), err)
		}
		for _, k := range []string{"bos_token", "eos_token", "pad_token", "unk_token"} {
			if s, ok := tokenString(tc[k]); ok {
				m[metaTokenPrefix+k] = s
			}
		}
		for _, k := range []string{"add_bos_token", "add_eos_token"} {
			var v bool
			if raw, ok := tc[k]; ok && json.Unmarshal(raw, &v) == nil {
				m[metaTokenPrefix+k] = strconv.FormatBool(v)
			}
		}
		if t, ok := chatTemplate(tc["chat_template"]); ok {
			m[MetaChatTemplate] = t
		}
	}
	if t, ok := in.files["chat_template.jinja"]; ok { // transformers ≥ 4.43 saves it apart
		m[MetaChatTemplate] = string(t)
	}
	return m, nil
}

// tokenString reads a special token given as a string or as an AddedToken
// object {"content": ...}.
func tokenString(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		return s, true
	}
	var o struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(raw, &o) == nil && o.Content != "" {
		return o.Content, true
	}
	return "", false
}

// chatTemplate reads a template given as a string or as a list of
// {"name", "template"} (the one named "default" is taken).
func chatTemplate(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		return s, true
	}
	var l []struct {
		Name     string `json:"name"`
		Template string `json:"template"`
	}
	if json.Unmarshal(raw, &l) == nil {
		for _, t := range l {
			if t.Name == "default" {
				return t.Template, true
			}
		}
	}
	return "", false
}

// ctxWriter stops a long write when ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
