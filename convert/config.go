package convert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/mmbformat/mmb/format"
)

// Supported lists what the converter reads, for error messages.
const Supported = "LlamaForCausalLM (Llama 2, 3, 3.1, 3.2) and MistralForCausalLM without attention/MLP biases, " +
	"SiLU MLP, rope default/linear/llama3, no sliding window shorter than the context"

// hfConfig is the subset of a transformers config.json the converter reads.
// Pointers tell "absent" from zero.
type hfConfig struct {
	Architectures       []string        `json:"architectures"`
	ModelType           string          `json:"model_type"`
	HiddenSize          int             `json:"hidden_size"`
	IntermediateSize    int             `json:"intermediate_size"`
	NumHiddenLayers     int             `json:"num_hidden_layers"`
	NumAttentionHeads   int             `json:"num_attention_heads"`
	NumKeyValueHeads    *int            `json:"num_key_value_heads"`
	HeadDim             *int            `json:"head_dim"`
	VocabSize           int             `json:"vocab_size"`
	MaxPositions        int             `json:"max_position_embeddings"`
	RMSNormEps          *float64        `json:"rms_norm_eps"`
	HiddenAct           *string         `json:"hidden_act"`
	TieWordEmbeddings   *bool           `json:"tie_word_embeddings"`
	AttentionBias       bool            `json:"attention_bias"`
	MLPBias             bool            `json:"mlp_bias"`
	SlidingWindow       *int            `json:"sliding_window"`
	RopeTheta           *float64        `json:"rope_theta"`
	RopeScaling         *ropeParams     `json:"rope_scaling"`
	RopeParameters      *ropeParams     `json:"rope_parameters"`
	PartialRotaryFactor *float64        `json:"partial_rotary_factor"`
	BOSTokenID          *int            `json:"bos_token_id"`
	EOSTokenID          json.RawMessage `json:"eos_token_id"`
	DType               string          `json:"dtype"`
	TorchDType          string          `json:"torch_dtype"`
}

// ropeParams is both the classic rope_scaling object and the transformers-5
// rope_parameters object (which also carries rope_theta).
type ropeParams struct {
	RopeType             string   `json:"rope_type"`
	Type                 string   `json:"type"` // older spelling of rope_type
	RopeTheta            *float64 `json:"rope_theta"`
	Factor               *float64 `json:"factor"`
	LowFreqFactor        *float64 `json:"low_freq_factor"`
	HighFreqFactor       *float64 `json:"high_freq_factor"`
	OriginalMaxPositions *int     `json:"original_max_position_embeddings"`
}

// ParseConfig reads a transformers config.json of a Llama or Mistral model
// into a format.Config with every layer marked attention. name is used in
// error messages.
func ParseConfig(b []byte, name string) (*format.Config, error) {
	var h hfConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	errf := func(field, f string, args ...any) error {
		return fmt.Errorf("%s: %s: %s", name, field, fmt.Sprintf(f, args...))
	}
	c := &format.Config{}
	switch {
	case len(h.Architectures) > 1:
		return nil, errf("architectures", "%q: one architecture expected; supported: %s", h.Architectures, Supported)
	case len(h.Architectures) == 1:
		switch h.Architectures[0] {
		case "LlamaForCausalLM":
			c.Architecture = "llama"
		case "MistralForCausalLM":
			c.Architecture = "mistral"
		default:
			return nil, errf("architectures", "%q is not supported; supported: %s", h.Architectures[0], Supported)
		}
		if h.ModelType != "" && h.ModelType != c.Architecture {
			return nil, errf("model_type", "%q contradicts architectures %q", h.ModelType, h.Architectures[0])
		}
	default: // MambaInLlama hybrids save a config without architectures
		switch h.ModelType {
		case "llama", "mistral":
			c.Architecture = h.ModelType
		default:
			return nil, errf("model_type", "%q with no architectures is not supported; supported: %s", h.ModelType, Supported)
		}
	}
	if h.AttentionBias {
		return nil, errf("attention_bias", "true is not supported (attention projections without bias only)")
	}
	if h.MLPBias {
		return nil, errf("mlp_bias", "true is not supported (MLP projections without bias only)")
	}
	if h.HiddenAct != nil && *h.HiddenAct != "silu" {
		return nil, errf("hidden_act", "%q is not supported (silu only)", *h.HiddenAct)
	}
	if h.PartialRotaryFactor != nil && *h.PartialRotaryFactor != 1 {
		return nil, errf("partial_rotary_factor", "%g is not supported (1 only)", *h.PartialRotaryFactor)
	}
	for _, f := range []struct {
		n string
		v int
	}{{"hidden_size", h.HiddenSize}, {"intermediate_size", h.IntermediateSize}, {"num_hidden_layers", h.NumHiddenLayers},
		{"num_attention_heads", h.NumAttentionHeads}, {"vocab_size", h.VocabSize}, {"max_position_embeddings", h.MaxPositions}} {
		if f.v <= 0 || f.v > 1<<24 {
			return nil, errf(f.n, "%d is missing or out of range", f.v)
		}
	}
	if h.SlidingWindow != nil && *h.SlidingWindow > 0 && *h.SlidingWindow < h.MaxPositions {
		return nil, errf("sliding_window", "%d is shorter than max_position_embeddings %d; sliding-window attention is not supported (null or ≥ the context only)", *h.SlidingWindow, h.MaxPositions)
	}
	c.HiddenSize, c.IntermediateSize, c.NumLayers = h.HiddenSize, h.IntermediateSize, h.NumHiddenLayers
	c.NumHeads, c.NumKVHeads = h.NumAttentionHeads, h.NumAttentionHeads
	if h.NumKeyValueHeads != nil {
		c.NumKVHeads = *h.NumKeyValueHeads
	}
	if c.NumKVHeads <= 0 || c.NumKVHeads > c.NumHeads || c.NumHeads%c.NumKVHeads != 0 {
		return nil, errf("num_key_value_heads", "%d must divide num_attention_heads %d", c.NumKVHeads, c.NumHeads)
	}
	if h.HeadDim != nil {
		c.HeadDim = *h.HeadDim
	} else {
		if h.HiddenSize%h.NumAttentionHeads != 0 {
			return nil, errf("head_dim", "absent and hidden_size %d is not a multiple of num_attention_heads %d", h.HiddenSize, h.NumAttentionHeads)
		}
		c.HeadDim = h.HiddenSize / h.NumAttentionHeads
	}
	if c.HeadDim <= 0 || c.HeadDim%2 != 0 || c.HeadDim > 1<<16 {
		return nil, errf("head_dim", "%d must be positive and even", c.HeadDim)
	}
	c.VocabSize, c.MaxPositions = h.VocabSize, h.MaxPositions
	c.RMSNormEps = 1e-6 // the LlamaConfig/MistralConfig default
	if h.RMSNormEps != nil {
		c.RMSNormEps = *h.RMSNormEps
	}
	if !(c.RMSNormEps > 0 && c.RMSNormEps < 1) {
		return nil, errf("rms_norm_eps", "%g out of range", c.RMSNormEps)
	}
	c.TieEmbeddings = h.TieWordEmbeddings != nil && *h.TieWordEmbeddings // transformers' default is false for both
	rope, err := parseRope(&h, c.MaxPositions)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c.Rope = rope
	if h.BOSTokenID != nil {
		c.BOSTokenID = *h.BOSTokenID
	} else {
		c.BOSTokenID = -1
	}
	eos, err := parseIDs(h.EOSTokenID)
	if err != nil {
		return nil, errf("eos_token_id", "%v", err)
	}
	c.EOSTokenIDs = eos
	for _, id := range append([]int{c.BOSTokenID}, eos...) {
		if id < -1 || id >= c.VocabSize {
			return nil, errf("bos_token_id/eos_token_id", "token id %d outside the vocabulary of %d", id, c.VocabSize)
		}
	}
	c.LayerKinds = make([]format.LayerKind, c.NumLayers)
	for i := range c.LayerKinds {
		c.LayerKinds[i] = format.Attention
	}
	return c, nil
}

// sourceDType is the checkpoint's declared dtype ("dtype" in transformers 5,
// "torch_dtype" before), as a format dtype name, or "".
func sourceDType(b []byte) string {
	var h hfConfig
	if json.Unmarshal(b, &h) != nil {
		return ""
	}
	d := h.DType
	if d == "" {
		d = h.TorchDType
	}
	switch d {
	case "float32":
		return "F32"
	case "float16":
		return "F16"
	case "bfloat16":
		return "BF16"
	}
	return ""
}

// parseIDs accepts null, an integer or a list of integers.
func parseIDs(raw json.RawMessage) ([]int, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one int
	if err := json.Unmarshal(raw, &one); err == nil {
		return []int{one}, nil
	}
	var many []int
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("%s is neither an integer nor a list of integers", raw)
	}
	return many, nil
}

func parseRope(h *hfConfig, maxPos int) (format.Rope, error) {
	r := format.Rope{Theta: 10000, Type: "default"}
	p := h.RopeScaling
	field := "rope_scaling"
	if h.RopeTheta != nil {
		r.Theta = *h.RopeTheta
	}
	if h.RopeParameters != nil {
		if h.RopeScaling != nil {
			return r, fmt.Errorf("rope_parameters and rope_scaling both present")
		}
		p, field = h.RopeParameters, "rope_parameters"
		if p.RopeTheta != nil {
			r.Theta = *p.RopeTheta
		}
	}
	if !(r.Theta > 1) || math.IsInf(r.Theta, 0) {
		return r, fmt.Errorf("rope_theta: %g out of range", r.Theta)
	}
	if p == nil {
		return r, nil
	}
	typ := p.RopeType
	if typ == "" {
		typ = p.Type
	}
	if typ == "" {
		typ = "default"
	}
	need := func(name string, v *float64) (float64, error) {
		if v == nil || !(*v > 0) || math.IsInf(*v, 0) {
			return 0, fmt.Errorf("%s.%s: missing or not positive for rope_type %q", field, name, typ)
		}
		return *v, nil
	}
	var err error
	switch typ {
	case "default":
	case "linear":
		r.Type = "linear"
		if r.Factor, err = need("factor", p.Factor); err != nil {
			return r, err
		}
	case "llama3":
		r.Type = "llama3"
		if r.Factor, err = need("factor", p.Factor); err != nil {
			return r, err
		}
		if r.LowFreqFactor, err = need("low_freq_factor", p.LowFreqFactor); err != nil {
			return r, err
		}
		if r.HighFreqFactor, err = need("high_freq_factor", p.HighFreqFactor); err != nil {
			return r, err
		}
		if r.HighFreqFactor <= r.LowFreqFactor {
			return r, fmt.Errorf("%s: high_freq_factor %g must exceed low_freq_factor %g", field, r.HighFreqFactor, r.LowFreqFactor)
		}
		if p.OriginalMaxPositions == nil || *p.OriginalMaxPositions <= 0 || *p.OriginalMaxPositions > 1<<24 {
			return r, fmt.Errorf("%s.original_max_position_embeddings: missing or out of range for rope_type llama3", field)
		}
		r.OriginalMaxPositions = *p.OriginalMaxPositions
	default:
		return r, fmt.Errorf("%s: rope_type %q is not supported (supported: default, linear, llama3)", field, typ)
	}
	return r, nil
}

// mambaConfig is MambaInLlama's mamba_config.json.
type mambaConfig struct {
	DModel int `json:"d_model"`
	SSMCfg struct {
		Expand  *int `json:"expand"`
		NGroups *int `json:"ngroups"`
		DState  int  `json:"d_state"`
		DConv   *int `json:"d_conv"`
	} `json:"ssm_cfg"`
	RMSNormEps       *float64 `json:"rms_norm_eps"`
	DInner           int      `json:"d_inner"`
	DXB              int      `json:"d_xb"`
	IntermediateSize int      `json:"intermediate_size"`
	HiddenAct        string   `json:"hidden_act"`
	NLayer           int      `json:"n_layer"`
	AttnLayers       []int    `json:"attn_layers"`
}

// parseMambaConfig checks mamba_config.json against the model config and
// fills c.Mamba and c.LayerKinds (Mamba-2 for every layer not in
// attn_layers; whether the checkpoint really holds Mamba-2 mixers is checked
// against its tensors later).
func parseMambaConfig(b []byte, name string, c *format.Config) error {
	var m mambaConfig
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	errf := func(field, f string, args ...any) error {
		return fmt.Errorf("%s: %s: %s", name, field, fmt.Sprintf(f, args...))
	}
	if m.DModel != c.HiddenSize {
		return errf("d_model", "%d, config.json has hidden_size %d", m.DModel, c.HiddenSize)
	}
	if m.NLayer != c.NumLayers {
		return errf("n_layer", "%d, config.json has num_hidden_layers %d", m.NLayer, c.NumLayers)
	}
	if m.IntermediateSize != 0 && m.IntermediateSize != c.IntermediateSize {
		return errf("intermediate_size", "%d, config.json has %d", m.IntermediateSize, c.IntermediateSize)
	}
	if m.HiddenAct != "" && m.HiddenAct != "silu" {
		return errf("hidden_act", "%q is not supported (silu only)", m.HiddenAct)
	}
	ds := m.SSMCfg.DState
	if ds <= 0 || ds > 1<<16 {
		return errf("ssm_cfg.d_state", "%d out of range", ds)
	}
	if m.DInner <= 0 || m.DInner%ds != 0 || m.DInner > 1<<24 {
		return errf("d_inner", "%d must be a positive multiple of d_state %d", m.DInner, ds)
	}
	if m.DXB <= 0 || m.DXB%ds != 0 || m.DXB > m.DInner || (m.DInner/ds)%(m.DXB/ds) != 0 {
		return errf("d_xb", "%d must be a multiple of d_state %d whose head count divides d_inner's", m.DXB, ds)
	}
	dconv := 4
	if m.SSMCfg.DConv != nil {
		dconv = *m.SSMCfg.DConv
	}
	if dconv < 1 || dconv > 64 {
		return errf("ssm_cfg.d_conv", "%d out of range", dconv)
	}
	c.Mamba = &format.Mamba{DState: ds, DConv: dconv, DInner: m.DInner, DXB: m.DXB,
		Heads: m.DInner / ds, KVHeads: m.DXB / ds, HeadDim: ds, NormEps: mambaNormEps}
	attn := map[int]bool{}
	for _, l := range m.AttnLayers {
		if l < 0 || l >= c.NumLayers || attn[l] {
			return errf("attn_layers", "%v: layer %d out of range or repeated", m.AttnLayers, l)
		}
		attn[l] = true
	}
	for i := range c.LayerKinds {
		if attn[i] {
			c.LayerKinds[i] = format.Attention
		} else {
			c.LayerKinds[i] = format.Mamba2
		}
	}
	return nil
}

// mambaNormEps is the gated RMSNorm's epsilon in MambaInLlama's Mamba-2
// mixer (DESIGN.md §4), independent of the model's rms_norm_eps.
const mambaNormEps = 1e-5

// mambaFor gives the Mamba-2 sizes that replace attention layers of c.
func mambaFor(c *format.Config) *format.Mamba {
	hd := c.HeadDim
	return &format.Mamba{DState: hd, DConv: 4, DInner: c.NumHeads * hd, DXB: c.NumKVHeads * hd,
		Heads: c.NumHeads, KVHeads: c.NumKVHeads, HeadDim: hd, NormEps: mambaNormEps}
}

// attnLayers lists the attention layers of c, sorted.
func attnLayers(c *format.Config) []int {
	var l []int
	for i, k := range c.LayerKinds {
		if k == format.Attention {
			l = append(l, i)
		}
	}
	sort.Ints(l)
	return l
}
