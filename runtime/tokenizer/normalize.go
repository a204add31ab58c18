package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

type normalizer interface {
	normalize(s string) string
}

type rawNormalizer struct {
	Type        string            `json:"type"`
	Normalizers []json.RawMessage `json:"normalizers"`
	Prepend     *string           `json:"prepend"`
	Pattern     *rawPattern       `json:"pattern"`
	Content     *string           `json:"content"`
	StripLeft   *bool             `json:"strip_left"`
	StripRight  *bool             `json:"strip_right"`
}

func parseNormalizer(m json.RawMessage, field string) (normalizer, error) {
	return parseNormalizerDepth(m, field, 0)
}

func parseNormalizerDepth(m json.RawMessage, field string, depth int) (normalizer, error) {
	if depth > maxDepth {
		return nil, errf(field, "nested too deeply")
	}
	var r rawNormalizer
	if err := json.Unmarshal(m, &r); err != nil {
		return nil, jsonErr(fileTok, field, err)
	}
	switch r.Type {
	case "Sequence":
		var seq sequenceNorm
		for i, sub := range r.Normalizers {
			n, err := parseNormalizerDepth(sub, fmt.Sprintf("%s.normalizers[%d]", field, i), depth+1)
			if err != nil {
				return nil, err
			}
			seq = append(seq, n)
		}
		return seq, nil
	case "Prepend":
		if r.Prepend == nil {
			return nil, errf(field+".prepend", "missing")
		}
		return prependNorm(*r.Prepend), nil
	case "Replace":
		from, to, err := parseReplace(r.Pattern, r.Content, field)
		if err != nil {
			return nil, err
		}
		return replaceNorm{from, to}, nil
	case "Strip":
		n := stripNorm{left: true, right: true}
		if r.StripLeft != nil {
			n.left = *r.StripLeft
		}
		if r.StripRight != nil {
			n.right = *r.StripRight
		}
		return n, nil
	}
	return nil, unsupported(field+".type", fmt.Sprintf("normalizer %q", r.Type))
}

// parseReplace accepts the String form of a Replace pattern; a Regex one is refused.
func parseReplace(p *rawPattern, content *string, field string) (string, string, error) {
	if p == nil {
		return "", "", errf(field+".pattern", "missing")
	}
	if content == nil {
		return "", "", errf(field+".content", "missing")
	}
	if p.Regex != nil {
		return "", "", unsupported(field+".pattern.Regex", fmt.Sprintf("Replace with regex %q", *p.Regex))
	}
	if p.String == nil {
		return "", "", errf(field+".pattern", "neither String nor Regex")
	}
	return *p.String, *content, nil
}

type sequenceNorm []normalizer

func (sq sequenceNorm) normalize(s string) string {
	for _, n := range sq {
		s = n.normalize(s)
	}
	return s
}

type prependNorm string

// normalize prepends only to non-empty text, as HF's Prepend does.
func (p prependNorm) normalize(s string) string {
	if s == "" {
		return s
	}
	return string(p) + s
}

type replaceNorm struct{ from, to string }

func (r replaceNorm) normalize(s string) string {
	if r.from == "" {
		return s
	}
	return strings.ReplaceAll(s, r.from, r.to)
}

type stripNorm struct{ left, right bool }

func (st stripNorm) normalize(s string) string {
	if st.left {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
	}
	if st.right {
		s = strings.TrimRightFunc(s, unicode.IsSpace)
	}
	return s
}
