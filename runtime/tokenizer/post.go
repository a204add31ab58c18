package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
)

type postProcessor interface {
	process(ids []int) []int
}

type rawPost struct {
	Type          string                      `json:"type"`
	Single        []map[string]rawTemplateArg `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
	Processors []json.RawMessage `json:"processors"`
	Sep        json.RawMessage   `json:"sep"`
	Cls        json.RawMessage   `json:"cls"`
}

type rawTemplateArg struct {
	ID string `json:"id"`
}

func parsePostProcessor(m json.RawMessage, field string, t *Tokenizer) (postProcessor, error) {
	return parsePostDepth(m, field, t, 0)
}

func parsePostDepth(m json.RawMessage, field string, t *Tokenizer, depth int) (postProcessor, error) {
	if depth > maxDepth {
		return nil, errf(field, "nested too deeply")
	}
	var r rawPost
	if err := json.Unmarshal(m, &r); err != nil {
		return nil, jsonErr(fileTok, field, err)
	}
	switch r.Type {
	case "ByteLevel":
		return nil, nil // adjusts offsets only
	case "TemplateProcessing":
		tp := &templateProcessing{}
		for i, piece := range r.Single {
			f := fmt.Sprintf("%s.single[%d]", field, i)
			if len(piece) != 1 {
				return nil, errf(f, "want one of SpecialToken or Sequence")
			}
			for kind, arg := range piece {
				switch kind {
				case "Sequence":
					if arg.ID != "A" {
						return nil, errf(f+".Sequence.id", "sequence %q in a single-sequence template", arg.ID)
					}
					tp.single = append(tp.single, templatePiece{})
				case "SpecialToken":
					st, ok := r.SpecialTokens[arg.ID]
					if !ok {
						return nil, errf(f+".SpecialToken.id", "%q is not in special_tokens", arg.ID)
					}
					tp.single = append(tp.single, templatePiece{special: true, ids: st.IDs})
				default:
					return nil, errf(f, "unknown template piece %q", kind)
				}
			}
		}
		return tp, nil
	case "Sequence":
		var seq sequencePost
		for i, sub := range r.Processors {
			p, err := parsePostDepth(sub, fmt.Sprintf("%s.processors[%d]", field, i), t, depth+1)
			if err != nil {
				return nil, err
			}
			if p != nil {
				seq = append(seq, p)
			}
		}
		return seq, nil
	case "BertProcessing", "RobertaProcessing":
		cls, err := tokenPair(r.Cls, field+".cls")
		if err != nil {
			return nil, err
		}
		sep, err := tokenPair(r.Sep, field+".sep")
		if err != nil {
			return nil, err
		}
		return &templateProcessing{single: []templatePiece{{special: true, ids: []int{cls}}, {}, {special: true, ids: []int{sep}}}}, nil
	}
	return nil, unsupported(field+".type", fmt.Sprintf("post-processor %q", strings.TrimSpace(r.Type)))
}

// tokenPair reads ["<s>", 0].
func tokenPair(m json.RawMessage, field string) (int, error) {
	var pair []json.RawMessage
	if err := json.Unmarshal(m, &pair); err != nil {
		return 0, jsonErr(fileTok, field, err)
	}
	if len(pair) != 2 {
		return 0, errf(field, "want [token, id]")
	}
	var id int
	if err := json.Unmarshal(pair[1], &id); err != nil {
		return 0, jsonErr(fileTok, field+"[1]", err)
	}
	return id, nil
}

type templatePiece struct {
	special bool
	ids     []int // the special token's ids; the sequence itself when !special
}

type templateProcessing struct {
	single []templatePiece
}

func (tp *templateProcessing) process(ids []int) []int {
	out := make([]int, 0, len(ids)+4)
	for _, p := range tp.single {
		if p.special {
			out = append(out, p.ids...)
		} else {
			out = append(out, ids...)
		}
	}
	return out
}

type sequencePost []postProcessor

func (sq sequencePost) process(ids []int) []int {
	for _, p := range sq {
		ids = p.process(ids)
	}
	return ids
}
