package inspect

import (
	"bytes"
	"encoding/json"

	"github.com/mmbformat/mmb/format"
)

// TokenizerSummary says which tokenizer files the revision carries and what
// can be read from them cheaply.
type TokenizerSummary struct {
	Tensors []TokenizerFile `json:"tensors"`
	// From tokenizer.json: the model type ("BPE", "Unigram", …) and the
	// number of added tokens.
	Model       string `json:"model,omitempty"`
	AddedTokens int    `json:"added_tokens,omitempty"`
	// From tokenizer_config.json.
	BOSToken          string `json:"bos_token,omitempty"`
	EOSToken          string `json:"eos_token,omitempty"`
	ChatTemplateBytes int    `json:"chat_template_bytes,omitempty"`
	// Problems reading the files (not fatal for a dump).
	Errors []string `json:"errors,omitempty"`
}

// TokenizerFile is one tokenizer tensor.
type TokenizerFile struct {
	Name     string `json:"name"`
	NBytes   int64  `json:"nbytes"`
	Revision int    `json:"revision"`
}

// maxTokenizerParse bounds what the summary parses; real tokenizer.json
// files are a few MiB.
const maxTokenizerParse = 64 << 20

func tokenizerSummary(f *format.File, r *format.Revision) TokenizerSummary {
	s := TokenizerSummary{Tensors: []TokenizerFile{}}
	for _, name := range []string{format.TokenizerJSONTensor, format.TokenizerConfigTensor, format.GenerationConfigTensor} {
		t, ok := r.Tensor(name)
		if !ok {
			continue
		}
		s.Tensors = append(s.Tensors, TokenizerFile{Name: name, NBytes: t.NBytes, Revision: t.Revision})
		if t.DType != format.U8 || t.NBytes > maxTokenizerParse {
			continue
		}
		b, err := f.Data(t)
		if err != nil {
			s.Errors = append(s.Errors, err.Error())
			continue
		}
		switch name {
		case format.TokenizerJSONTensor:
			if err := scanTokenizerJSON(b, &s); err != nil {
				s.Errors = append(s.Errors, name+": "+err.Error())
			}
		case format.TokenizerConfigTensor:
			var tc struct {
				BOS          json.RawMessage `json:"bos_token"`
				EOS          json.RawMessage `json:"eos_token"`
				ChatTemplate json.RawMessage `json:"chat_template"`
			}
			if err := json.Unmarshal(b, &tc); err != nil {
				s.Errors = append(s.Errors, name+": "+err.Error())
				continue
			}
			s.BOSToken, s.EOSToken = tokenString(tc.BOS), tokenString(tc.EOS)
			var tmpl string
			if json.Unmarshal(tc.ChatTemplate, &tmpl) == nil {
				s.ChatTemplateBytes = len(tmpl)
			} else if len(tc.ChatTemplate) > 0 && string(tc.ChatTemplate) != "null" {
				s.ChatTemplateBytes = len(tc.ChatTemplate) // a list of named templates
			}
		}
	}
	return s
}

// tokenString reads a special token given as "<s>" or {"content": "<s>", …}.
func tokenString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Content string `json:"content"`
	}
	if json.Unmarshal(raw, &obj) == nil {
		return obj.Content
	}
	return ""
}

// scanTokenizerJSON streams tokenizer.json's top level, counting
// added_tokens and reading model.type, without building the vocabulary.
func scanTokenizerJSON(b []byte, s *TokenizerSummary) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return err
		}
		switch key {
		case "added_tokens":
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			if tok != json.Delim('[') {
				if d, ok := tok.(json.Delim); ok {
					if err := skipRest(dec, d); err != nil {
						return err
					}
				}
				continue
			}
			for dec.More() {
				if err := skipValue(dec); err != nil {
					return err
				}
				s.AddedTokens++
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
		case "model":
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			if tok != json.Delim('{') {
				if d, ok := tok.(json.Delim); ok {
					if err := skipRest(dec, d); err != nil {
						return err
					}
				}
				continue
			}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				if k == "type" {
					v, err := dec.Token()
					if err != nil {
						return err
					}
					if str, ok := v.(string); ok {
						s.Model = str
						return nil // the vocabulary that follows is not needed
					}
					if d, ok := v.(json.Delim); ok {
						if err := skipRest(dec, d); err != nil {
							return err
						}
					}
					continue
				}
				if err := skipValue(dec); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
		default:
			if err := skipValue(dec); err != nil {
				return err
			}
		}
	}
	return nil
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != d {
		return &json.UnmarshalTypeError{Value: "not an object"}
	}
	return nil
}

// skipValue skips one value without keeping it.
func skipValue(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); ok {
		return skipRest(dec, d)
	}
	return nil
}

// skipRest skips to the end of the array or object opened by d.
func skipRest(dec *json.Decoder, d json.Delim) error {
	if d != '{' && d != '[' {
		return nil
	}
	depth := 1
	for depth > 0 {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}
