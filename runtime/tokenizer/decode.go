package tokenizer

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decoder is one step of HF's decode_chain: tokens in, tokens out; Decode joins the result.
type decoder interface {
	decode(toks []string) []string
}

type rawDecoder struct {
	Type           string            `json:"type"`
	Decoders       []json.RawMessage `json:"decoders"`
	Pattern        *rawPattern       `json:"pattern"`
	Content        json.RawMessage   `json:"content"`
	Start          *int              `json:"start"`
	Stop           *int              `json:"stop"`
	Replacement    *string           `json:"replacement"`
	PrependScheme  *string           `json:"prepend_scheme"`
	AddPrefixSpace *bool             `json:"add_prefix_space"`
	Split          *bool             `json:"split"`
}

func parseDecoder(m json.RawMessage, field string) (decoder, error) {
	return parseDecoderDepth(m, field, 0)
}

func parseDecoderDepth(m json.RawMessage, field string, depth int) (decoder, error) {
	if depth > maxDepth {
		return nil, errf(field, "nested too deeply")
	}
	var r rawDecoder
	if err := json.Unmarshal(m, &r); err != nil {
		return nil, jsonErr(fileTok, field, err)
	}
	switch r.Type {
	case "ByteLevel":
		return byteLevelDec{}, nil
	case "Sequence":
		var seq sequenceDec
		for i, sub := range r.Decoders {
			d, err := parseDecoderDepth(sub, fmt.Sprintf("%s.decoders[%d]", field, i), depth+1)
			if err != nil {
				return nil, err
			}
			seq = append(seq, d)
		}
		return seq, nil
	case "Replace":
		var content *string
		if !isNull(r.Content) {
			var s string
			if err := json.Unmarshal(r.Content, &s); err != nil {
				return nil, jsonErr(fileTok, field+".content", err)
			}
			content = &s
		}
		from, to, err := parseReplace(r.Pattern, content, field)
		if err != nil {
			return nil, err
		}
		return replaceDec{from, to}, nil
	case "ByteFallback":
		return byteFallbackDec{}, nil
	case "Fuse":
		return fuseDec{}, nil
	case "Strip":
		var c string
		if err := json.Unmarshal(r.Content, &c); err != nil || utf8.RuneCountInString(c) != 1 {
			return nil, errf(field+".content", "want one character")
		}
		d := stripDec{}
		d.content, _ = utf8.DecodeRuneInString(c)
		if r.Start != nil {
			d.start = *r.Start
		}
		if r.Stop != nil {
			d.stop = *r.Stop
		}
		if d.start < 0 || d.stop < 0 {
			return nil, errf(field, "negative start or stop")
		}
		return d, nil
	case "Metaspace":
		repl, scheme, _, err := parseMetaspaceFields(rawPreTok{Replacement: r.Replacement,
			PrependScheme: r.PrependScheme, AddPrefixSpace: r.AddPrefixSpace, Split: r.Split}, field)
		if err != nil {
			return nil, err
		}
		d := metaspaceDec{scheme: scheme}
		d.repl, _ = utf8.DecodeRuneInString(repl)
		return d, nil
	}
	return nil, unsupported(field+".type", fmt.Sprintf("decoder %q", r.Type))
}

type sequenceDec []decoder

func (sq sequenceDec) decode(toks []string) []string {
	for _, d := range sq {
		toks = d.decode(toks)
	}
	return toks
}

// byteLevelDec maps each token's characters back to bytes (a token with a character outside the
// byte alphabet, e.g. an added token, is kept as it is) and decodes the whole as UTF-8, lossily.
type byteLevelDec struct{}

func (byteLevelDec) decode(toks []string) []string {
	var buf []byte
	for _, t := range toks {
		n := len(buf)
		ok := true
		for _, r := range t {
			b, found := runeToByte[r]
			if !found {
				ok = false
				break
			}
			buf = append(buf, b)
		}
		if !ok {
			buf = append(buf[:n], t...)
		}
	}
	return []string{lossyUTF8(string(buf))}
}

type replaceDec struct{ from, to string }

func (r replaceDec) decode(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		if r.from == "" {
			out[i] = t
		} else {
			out[i] = strings.ReplaceAll(t, r.from, r.to)
		}
	}
	return out
}

// byteFallbackDec turns runs of <0xNN> tokens into text; a run that is not valid UTF-8 becomes
// one U+FFFD per byte, as HF does.
type byteFallbackDec struct{}

func byteToken(t string) (byte, bool) {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return 0, false
	}
	// Rust's u8::from_str_radix, which HF uses, also takes a leading '+'.
	v, err := strconv.ParseUint(strings.TrimPrefix(t[3:5], "+"), 16, 8)
	if err != nil || strings.HasPrefix(t[3:5], "+-") {
		return 0, false
	}
	return byte(v), true
}

func (byteFallbackDec) decode(toks []string) []string {
	out := make([]string, 0, len(toks))
	var run []byte
	flush := func() {
		if len(run) == 0 {
			return
		}
		if utf8.Valid(run) {
			out = append(out, string(run))
		} else {
			for range run {
				out = append(out, "\uFFFD")
			}
		}
		run = run[:0]
	}
	for _, t := range toks {
		if b, ok := byteToken(t); ok {
			run = append(run, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

type fuseDec struct{}

func (fuseDec) decode(toks []string) []string { return []string{strings.Join(toks, "")} }

// stripDec removes up to start leading and stop trailing content characters from each token.
type stripDec struct {
	content     rune
	start, stop int
}

func (st stripDec) decode(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		rs := []rune(t)
		a := 0
		for a < st.start && a < len(rs) && rs[a] == st.content {
			a++
		}
		b := len(rs)
		for n := 0; n < st.stop && b > a && rs[b-1] == st.content; n++ {
			b--
		}
		out[i] = string(rs[a:b])
	}
	return out
}

// metaspaceDec turns the replacement character into spaces; in the first token HF drops them
// all (not only a leading one) unless the scheme is "never".
type metaspaceDec struct {
	repl   rune
	scheme prependScheme
}

func (md metaspaceDec) decode(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		var b strings.Builder
		for _, r := range t {
			switch {
			case r != md.repl:
				b.WriteRune(r)
			case i == 0 && md.scheme != prependNever:
			default:
				b.WriteByte(' ')
			}
		}
		out[i] = b.String()
	}
	return out
}

// lossyUTF8 is Rust's String::from_utf8_lossy: each maximal prefix of an ill-formed sequence
// becomes one U+FFFD (Go's range loop would give one per byte).
func lossyUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || w > 1 {
			b.WriteString(s[i : i+w])
			i += w
			continue
		}
		b.WriteString("\uFFFD")
		i += invalidLen(s[i:])
	}
	return b.String()
}

// invalidLen is the length of the maximal prefix of s (which starts with an ill-formed sequence)
// that could begin a well-formed one, at least 1.
func invalidLen(s string) int {
	c := s[0]
	var n int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		n = 2
	case c == 0xE0:
		n, lo = 3, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		n = 3
	case c == 0xED:
		n, hi = 3, 0x9F
	case c == 0xF0:
		n, lo = 4, 0x90
	case c >= 0xF1 && c <= 0xF3:
		n = 4
	case c == 0xF4:
		n, hi = 4, 0x8F
	default:
		return 1
	}
	i := 1
	for ; i < n && i < len(s); i++ {
		x := s[i]
		if i == 1 {
			if x < lo || x > hi {
				break
			}
		} else if x < 0x80 || x > 0xBF {
			break
		}
	}
	return i
}
