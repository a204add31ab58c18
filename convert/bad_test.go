package convert

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mmbformat/mmb/convert/safetensors"
	"github.com/mmbformat/mmb/format"
)

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	es, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if strings.HasPrefix(e.Name(), "ref_") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func editJSON(t *testing.T, path string, f func(m map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, _ = json.Marshal(m)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func editFile(t *testing.T, path string, f func(b []byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, f(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBadInput: each broken checkpoint fails with an error that names the
// file and what is wrong, and leaves nothing in the output folder.
func TestBadInput(t *testing.T) {
	sharded := fixture(t, "llama-tiny-bf16-tied-sharded")
	single := fixture(t, "llama-tiny-f32")
	shard3 := "model-00003-of-00005.safetensors"
	for _, c := range []struct {
		name string
		src  string
		mod  func(t *testing.T, d string)
		opts Options
		want []string // substrings of the error
		is   error
	}{
		{"truncated shard", sharded, func(t *testing.T, d string) {
			editFile(t, filepath.Join(d, shard3), func(b []byte) []byte { return b[:len(b)-1000] })
		}, Options{}, []string{shard3, "truncated"}, safetensors.ErrTruncated},
		{"header length past EOF", single, func(t *testing.T, d string) {
			editFile(t, filepath.Join(d, "model.safetensors"), func(b []byte) []byte {
				binary.LittleEndian.PutUint64(b, uint64(len(b)))
				return b
			})
		}, Options{}, []string{"model.safetensors", "offset 0", "header length past end of file"}, safetensors.ErrHeaderLength},
		{"overlapping ranges", single, func(t *testing.T, d string) {
			editFile(t, filepath.Join(d, "model.safetensors"), func(b []byte) []byte {
				// lm_head [0, 131072) and embed_tokens [131072, 262144):
				// move embed_tokens back by 4 bytes (same digit count).
				return []byte(strings.Replace(string(b), `"data_offsets":[131072,262144]`, `"data_offsets":[131068,262140]`, 1))
			})
		}, Options{}, []string{"model.safetensors", "overlap"}, safetensors.ErrOffsets},
		{"index names a missing shard", sharded, func(t *testing.T, d string) {
			os.Remove(filepath.Join(d, shard3))
		}, Options{}, []string{"open shard", shard3}, os.ErrNotExist},
		{"config/shape disagreement", single, func(t *testing.T, d string) {
			editJSON(t, filepath.Join(d, "config.json"), func(m map[string]any) { m["intermediate_size"] = 180 })
		}, Options{}, []string{"model.layers.0.mlp.gate_proj.weight", "shape [176 64]", "[180 64]", "intermediate_size"}, nil},
		{"kv heads disagreement", single, func(t *testing.T, d string) {
			editJSON(t, filepath.Join(d, "config.json"), func(m map[string]any) { m["num_key_value_heads"] = 1 })
		}, Options{KeepAttention: Keep(0.5)}, []string{"k_proj.weight", "num_key_value_heads"}, nil},
		{"unsupported architecture", single, func(t *testing.T, d string) {
			editJSON(t, filepath.Join(d, "config.json"), func(m map[string]any) { m["architectures"] = []string{"Qwen2ForCausalLM"} })
		}, Options{}, []string{"config.json", "Qwen2ForCausalLM", "not supported", "LlamaForCausalLM"}, nil},
		{"attention bias", single, func(t *testing.T, d string) {
			editJSON(t, filepath.Join(d, "config.json"), func(m map[string]any) { m["attention_bias"] = true })
		}, Options{}, []string{"attention_bias", "without bias"}, nil},
		{"mlp bias", single, func(t *testing.T, d string) {
			editJSON(t, filepath.Join(d, "config.json"), func(m map[string]any) { m["mlp_bias"] = true })
		}, Options{}, []string{"mlp_bias"}, nil},
		{"sliding window", fixture(t, "mistral-tiny-f16-spm"), func(t *testing.T, d string) {
			editJSON(t, filepath.Join(d, "config.json"), func(m map[string]any) { m["sliding_window"] = 128 })
		}, Options{}, []string{"sliding_window", "128", "not supported"}, nil},
		{"rope yarn", single, func(t *testing.T, d string) {
			editJSON(t, filepath.Join(d, "config.json"), func(m map[string]any) {
				m["rope_parameters"] = map[string]any{"rope_type": "yarn", "factor": 4.0, "rope_theta": 10000.0}
			})
		}, Options{}, []string{"yarn", "supported: default, linear, llama3"}, nil},
		{"missing layer tensor", single, func(t *testing.T, d string) {
			editJSON(t, filepath.Join(d, "config.json"), func(m map[string]any) { m["num_hidden_layers"] = 5 })
		}, Options{}, []string{"model.layers.4.input_layernorm.weight", "missing"}, nil},
		{"extra layer tensor", single, func(t *testing.T, d string) {
			editJSON(t, filepath.Join(d, "config.json"), func(m map[string]any) { m["num_hidden_layers"] = 3 })
		}, Options{}, []string{"model.layers.3.", "not part of"}, nil},
		{"no config", single, func(t *testing.T, d string) {
			os.Remove(filepath.Join(d, "config.json"))
		}, Options{}, []string{"open config", "config.json"}, nil},
		{"bad keep", single, func(t *testing.T, d string) {}, Options{KeepAttention: Keep(0.3)}, []string{"keep-attention 0.3"}, nil},
		{"both choices", single, func(t *testing.T, d string) {}, Options{KeepAttention: Keep(0.5), AttentionLayers: []int{1}}, []string{"exclusive"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := copyDir(t, c.src)
			c.mod(t, d)
			outDir := t.TempDir()
			o := c.opts
			o.Input, o.Output = d, filepath.Join(outDir, "out.mmb")
			_, err := Convert(context.Background(), o)
			if err == nil {
				t.Fatal("converted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q lacks %q", err, w)
				}
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Fatalf("error %v is not %v", err, c.is)
			}
			if es, _ := os.ReadDir(outDir); len(es) != 0 {
				t.Fatalf("failed conversion left %s", es[0].Name())
			}
		})
	}
}

// TestCancelLeavesNothing: a cancelled conversion leaves neither the
// output nor a temporary file.
func TestCancelLeavesNothing(t *testing.T) {
	outDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Convert(ctx, Options{Input: fixture(t, "llama-tiny-f32"), Output: filepath.Join(outDir, "x.mmb")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if es, _ := os.ReadDir(outDir); len(es) != 0 {
		t.Fatalf("cancelled conversion left %s", es[0].Name())
	}
}

func TestParseConfigForms(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{"architectures": []string{"LlamaForCausalLM"}, "hidden_size": 64, "intermediate_size": 128,
			"num_hidden_layers": 2, "num_attention_heads": 8, "vocab_size": 100, "max_position_embeddings": 1024}
	}
	parse := func(m map[string]any) (*format.Config, error) {
		b, _ := json.Marshal(m)
		return ParseConfig(b, "config.json")
	}
	// Defaults: MHA, derived head_dim, theta 10000, untied, eps 1e-6.
	c, err := parse(base())
	if err != nil {
		t.Fatal(err)
	}
	if c.NumKVHeads != 8 || c.HeadDim != 8 || c.Rope.Theta != 10000 || c.Rope.Type != "default" || c.TieEmbeddings || c.RMSNormEps != 1e-6 || c.EOSTokenIDs != nil {
		t.Fatalf("defaults: %+v", c)
	}
	// Classic llama3 scaling (Llama 3.1/3.2 config.json) and an eos list.
	m := base()
	m["rope_theta"] = 500000.0
	m["rope_scaling"] = map[string]any{"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
	m["eos_token_id"] = []int{10, 11, 12}
	m["num_key_value_heads"] = 1
	m["head_dim"] = 16
	m["tie_word_embeddings"] = true
	if c, err = parse(m); err != nil {
		t.Fatal(err)
	}
	if c.Rope != (format.Rope{Theta: 500000, Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 8192}) ||
		len(c.EOSTokenIDs) != 3 || c.EOSTokenIDs[2] != 12 || c.NumKVHeads != 1 || c.HeadDim != 16 || !c.TieEmbeddings {
		t.Fatalf("llama3: %+v", c)
	}
	// Older spelling "type" and linear scaling.
	m = base()
	m["rope_scaling"] = map[string]any{"type": "linear", "factor": 2.0}
	if c, err = parse(m); err != nil || c.Rope.Type != "linear" || c.Rope.Factor != 2 {
		t.Fatalf("linear: %+v %v", c, err)
	}
	// transformers-5 form.
	m = base()
	m["rope_parameters"] = map[string]any{"rope_type": "default", "rope_theta": 1e6}
	if c, err = parse(m); err != nil || c.Rope.Theta != 1e6 {
		t.Fatalf("rope_parameters: %+v %v", c, err)
	}
	// Mistral with a window as long as the context is fine.
	m = base()
	m["architectures"] = []string{"MistralForCausalLM"}
	m["sliding_window"] = 1024
	if c, err = parse(m); err != nil || c.Architecture != "mistral" {
		t.Fatalf("mistral: %v", err)
	}
	for _, bad := range []struct {
		key  string
		val  any
		want string
	}{
		{"rope_scaling", map[string]any{"type": "dynamic", "factor": 2.0}, `"dynamic" is not supported`},
		{"rope_scaling", map[string]any{"rope_type": "llama3", "factor": 8.0}, "low_freq_factor"},
		{"rope_scaling", map[string]any{"rope_type": "linear"}, "factor"},
		{"num_key_value_heads", 3, "must divide"},
		{"hidden_act", "gelu", "silu only"},
		{"eos_token_id", "x", "neither"},
		{"eos_token_id", 100, "outside the vocabulary"},
		{"architectures", []string{"LlamaForCausalLM", "MistralForCausalLM"}, "one architecture"},
		{"hidden_size", 0, "hidden_size"},
		{"partial_rotary_factor", 0.5, "partial_rotary_factor"},
	} {
		m := base()
		m[bad.key] = bad.val
		if _, err := parse(m); err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), "config.json") {
			t.Fatalf("%s=%v: %v, want error containing %q", bad.key, bad.val, err, bad.want)
		}
	}
}

// FuzzConfig: the config parsers never panic and whatever they accept
// passes the format's own validation.
func FuzzConfig(f *testing.F) {
	for _, fx := range fixtureNames {
		b, err := os.ReadFile(filepath.Join(fixtures, fx, "config.json"))
		if err != nil {
			f.Fatal(err)
		}
		mb, _ := os.ReadFile(filepath.Join(fixtures, fx, "mamba_config.json"))
		f.Add(b, mb)
	}
	f.Fuzz(func(t *testing.T, cfg, mcfg []byte) {
		c, err := ParseConfig(cfg, "config.json")
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config fails validation: %v", err)
		}
		if len(mcfg) > 0 && parseMambaConfig(mcfg, "mamba_config.json", c) == nil {
			if err := c.Validate(); err != nil {
				t.Fatalf("accepted mamba config fails validation: %v", err)
			}
		}
	})
}

// TestMetadataAndProvenance: special tokens in both spellings, the chat
// template from tokenizer_config.json and from chat_template.jinja, eos ids
// from generation_config.json, and sha256/size of every source file.
func TestMetadataAndProvenance(t *testing.T) {
	d := copyDir(t, fixture(t, "llama-tiny-f32"))
	editJSON(t, filepath.Join(d, "tokenizer_config.json"), func(m map[string]any) {
		m["bos_token"] = map[string]any{"content": "<s>", "lstrip": false}
		m["chat_template"] = "{{ messages }}"
		m["add_bos_token"] = true
	})
	editJSON(t, filepath.Join(d, "generation_config.json"), func(m map[string]any) { m["eos_token_id"] = []int{0, 5} })
	f, _ := convertT(t, Options{Input: d, Command: "hfconvert in out"})
	r := f.Latest()
	for k, v := range map[string]string{"tokenizer.bos_token": "<s>", "tokenizer.eos_token": "<|endoftext|>",
		MetaChatTemplate: "{{ messages }}", "tokenizer.add_bos_token": "true", MetaSourceDType: "F32", MetaArchitecture: "llama"} {
		if r.Metadata[k] != v {
			t.Fatalf("metadata %s = %q, want %q", k, r.Metadata[k], v)
		}
	}
	if !reflect.DeepEqual(r.Config.EOSTokenIDs, []int{0, 5}) {
		t.Fatalf("eos ids %v, want generation_config's [0 5]", r.Config.EOSTokenIDs)
	}
	p := r.Provenance
	if p.Tool != "hfconvert" || p.Command != "hfconvert in out" {
		t.Fatalf("provenance %+v", p)
	}
	names := map[string]format.Source{}
	for _, s := range p.Sources {
		names[s.Name] = s
	}
	for _, n := range []string{"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json"} {
		b, err := os.ReadFile(filepath.Join(d, n))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if s := names[n]; s.Size != int64(len(b)) || s.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("source %s: %+v, want size %d sha256 %x", n, s, len(b), sum)
		}
	}
	os.WriteFile(filepath.Join(d, "chat_template.jinja"), []byte("jinja!"), 0o644)
	f2, _ := convertT(t, Options{Input: filepath.Join(d, "model.safetensors")})
	if got := f2.Latest().Metadata[MetaChatTemplate]; got != "jinja!" {
		t.Fatalf("chat template %q from chat_template.jinja", got)
	}
}
