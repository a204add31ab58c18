package format

import "fmt"

// LayerKind names the mixer of one decoder layer.
type LayerKind string

const (
	Attention LayerKind = "attention"
	Mamba2    LayerKind = "mamba2"
	Mamba1    LayerKind = "mamba1"
)

// Rope holds the rotary embedding parameters as HF transformers interprets them.
type Rope struct {
	Theta float64 `msgpack:"theta" json:"theta"`
	// Type is "default", "llama3" or "linear".
	Type   string  `msgpack:"type" json:"type"`
	Factor float64 `msgpack:"factor,omitempty" json:"factor,omitempty"`
	// llama3 only.
	LowFreqFactor        float64 `msgpack:"low_freq_factor,omitempty" json:"low_freq_factor,omitempty"`
	HighFreqFactor       float64 `msgpack:"high_freq_factor,omitempty" json:"high_freq_factor,omitempty"`
	OriginalMaxPositions int     `msgpack:"original_max_position_embeddings,omitempty" json:"original_max_position_embeddings,omitempty"`
}

// Mamba holds the sizes of the Mamba-2 mixers (DESIGN.md §4). Heads and
// HeadDim follow the attention layer the mixer replaces: d_inner = Heads·HeadDim,
// d_xb = KVHeads·HeadDim, d_state = HeadDim.
type Mamba struct {
	DState  int     `msgpack:"d_state" json:"d_state"`
	DConv   int     `msgpack:"d_conv" json:"d_conv"`
	DInner  int     `msgpack:"d_inner" json:"d_inner"`
	DXB     int     `msgpack:"d_xb" json:"d_xb"`
	Heads   int     `msgpack:"heads" json:"heads"`
	KVHeads int     `msgpack:"kv_heads" json:"kv_heads"`
	HeadDim int     `msgpack:"head_dim" json:"head_dim"`
	NormEps float64 `msgpack:"norm_eps" json:"norm_eps"`
}

// Config is the model architecture the runtime builds from. It travels in
// every revision's index.
type Config struct {
	// Architecture is the source family: "llama" or "mistral".
	Architecture     string      `msgpack:"architecture" json:"architecture"`
	HiddenSize       int         `msgpack:"hidden_size" json:"hidden_size"`
	IntermediateSize int         `msgpack:"intermediate_size" json:"intermediate_size"`
	NumLayers        int         `msgpack:"num_layers" json:"num_layers"`
	NumHeads         int         `msgpack:"num_heads" json:"num_heads"`
	NumKVHeads       int         `msgpack:"num_kv_heads" json:"num_kv_heads"`
	HeadDim          int         `msgpack:"head_dim" json:"head_dim"`
	VocabSize        int         `msgpack:"vocab_size" json:"vocab_size"`
	MaxPositions     int         `msgpack:"max_position_embeddings" json:"max_position_embeddings"`
	RMSNormEps       float64     `msgpack:"rms_norm_eps" json:"rms_norm_eps"`
	Rope             Rope        `msgpack:"rope" json:"rope"`
	TieEmbeddings    bool        `msgpack:"tie_word_embeddings" json:"tie_word_embeddings"`
	LayerKinds       []LayerKind `msgpack:"layer_kinds" json:"layer_kinds"`
	Mamba            *Mamba      `msgpack:"mamba,omitempty" json:"mamba,omitempty"`
	BOSTokenID       int         `msgpack:"bos_token_id" json:"bos_token_id"`
	EOSTokenIDs      []int       `msgpack:"eos_token_ids" json:"eos_token_ids"`
}

// Validate checks the internal consistency a runtime relies on.
func (c *Config) Validate() error {
	pos := func(name string, v int) error {
		if v <= 0 || v > 1<<24 {
			return fmt.Errorf("config: %s = %d out of range", name, v)
		}
		return nil
	}
	for _, f := range []struct {
		n string
		v int
	}{{"hidden_size", c.HiddenSize}, {"intermediate_size", c.IntermediateSize}, {"num_layers", c.NumLayers},
		{"num_heads", c.NumHeads}, {"num_kv_heads", c.NumKVHeads}, {"head_dim", c.HeadDim}, {"vocab_size", c.VocabSize}} {
		if err := pos(f.n, f.v); err != nil {
			return err
		}
	}
	if c.NumHeads%c.NumKVHeads != 0 {
		return fmt.Errorf("config: num_heads %d is not a multiple of num_kv_heads %d", c.NumHeads, c.NumKVHeads)
	}
	if len(c.LayerKinds) != c.NumLayers {
		return fmt.Errorf("config: %d layer kinds for %d layers", len(c.LayerKinds), c.NumLayers)
	}
	hasMamba := false
	for i, k := range c.LayerKinds {
		switch k {
		case Attention:
		case Mamba2, Mamba1:
			hasMamba = true
		default:
			return fmt.Errorf("config: layer %d has unknown kind %q", i, k)
		}
	}
	if hasMamba && c.Mamba == nil {
		return fmt.Errorf("config: Mamba layers present but no mamba parameters")
	}
	if c.RMSNormEps <= 0 {
		return fmt.Errorf("config: rms_norm_eps %g must be positive", c.RMSNormEps)
	}
	switch c.Rope.Type {
	case "default", "llama3", "linear":
	default:
		return fmt.Errorf("config: rope type %q not supported (default, llama3, linear)", c.Rope.Type)
	}
	return nil
}

// Tokenizer tensors: the tokenizer files travel as U8 tensors so that a
// metadata-only revision references them instead of copying them.
const (
	TokenizerJSONTensor    = "tokenizer.json"
	TokenizerConfigTensor  = "tokenizer_config.json"
	GenerationConfigTensor = "generation_config.json"
)
