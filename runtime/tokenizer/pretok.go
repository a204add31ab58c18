package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// piece is one split of the text on its way to the model.
type piece struct {
	s     string
	id    int  // an added token's id, or -1
	orig0 bool // the piece begins at offset 0 of the original text (Metaspace "first")
	raw   bool // s still needs the byte-level mapping (done by the model, see byteLevelPre.lazy)
}

type preTokenizer interface {
	preTokenize(in []piece) []piece
}

type rawPreTok struct {
	Type           string            `json:"type"`
	AddPrefixSpace *bool             `json:"add_prefix_space"`
	UseRegex       *bool             `json:"use_regex"`
	Pattern        *rawPattern       `json:"pattern"`
	Behavior       string            `json:"behavior"`
	Invert         bool              `json:"invert"`
	Replacement    *string           `json:"replacement"`
	PrependScheme  *string           `json:"prepend_scheme"`
	Split          *bool             `json:"split"`
	PreTokenizers  []json.RawMessage `json:"pretokenizers"`
}

type rawPattern struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

const maxDepth = 16 // nesting of Sequence objects

func parsePreTokenizer(m json.RawMessage, field string) (preTokenizer, error) {
	return parsePreTokenizerDepth(m, field, 0)
}

func parsePreTokenizerDepth(m json.RawMessage, field string, depth int) (preTokenizer, error) {
	if depth > maxDepth {
		return nil, errf(field, "nested too deeply")
	}
	var r rawPreTok
	if err := json.Unmarshal(m, &r); err != nil {
		return nil, jsonErr(fileTok, field, err)
	}
	switch r.Type {
	case "ByteLevel":
		p := &byteLevelPre{useRegex: true}
		if r.AddPrefixSpace != nil {
			p.addPrefixSpace = *r.AddPrefixSpace
		}
		if r.UseRegex != nil {
			p.useRegex = *r.UseRegex
		}
		return p, nil
	case "Split":
		if r.Pattern == nil {
			return nil, errf(field+".pattern", "missing")
		}
		p := &splitPre{invert: r.Invert}
		switch {
		case r.Pattern.Regex != nil:
			m, ok := knownPatterns[*r.Pattern.Regex]
			if !ok {
				return nil, unsupported(field+".pattern.Regex", fmt.Sprintf("regex %q (known: the GPT-2, Llama-3 and Qwen2 patterns)", *r.Pattern.Regex))
			}
			p.m = m
		case r.Pattern.String != nil:
			p.m = literalMatcher(*r.Pattern.String)
		default:
			return nil, errf(field+".pattern", "neither String nor Regex")
		}
		b, err := parseBehavior(r.Behavior, field+".behavior")
		if err != nil {
			return nil, err
		}
		p.behavior = b
		return p, nil
	case "Metaspace":
		return parseMetaspace(r, field)
	case "Sequence":
		seq := &sequencePre{}
		for i, sub := range r.PreTokenizers {
			p, err := parsePreTokenizerDepth(sub, fmt.Sprintf("%s.pretokenizers[%d]", field, i), depth+1)
			if err != nil {
				return nil, err
			}
			seq.steps = append(seq.steps, p)
		}
		return seq, nil
	}
	return nil, unsupported(field+".type", fmt.Sprintf("pre-tokenizer %q", r.Type))
}

type behavior int

const (
	removed behavior = iota
	isolated
	mergedWithPrevious
	mergedWithNext
	contiguous
)

func parseBehavior(s, field string) (behavior, error) {
	switch s {
	case "Removed":
		return removed, nil
	case "Isolated":
		return isolated, nil
	case "MergedWithPrevious":
		return mergedWithPrevious, nil
	case "MergedWithNext":
		return mergedWithNext, nil
	case "Contiguous":
		return contiguous, nil
	}
	return 0, errf(field, "unknown split behavior %q", s)
}

// literalMatcher matches a fixed string (an empty one matches nothing, as in HF).
func literalMatcher(lit string) matcher {
	return func(s string, i int) int {
		if lit != "" && strings.HasPrefix(s[i:], lit) {
			return i + len(lit)
		}
		return -1
	}
}

// splitBy cuts p the way HF's NormalizedString::split does with the given behavior and drops
// empty pieces as PreTokenizedString::split does.
func splitBy(p piece, m matcher, b behavior, invert bool, out []piece) []piece {
	if b == isolated || (b == removed && !invert) {
		// The common case, without the intermediate list.
		s := p.s
		prev := 0
		for i := 0; i < len(s); {
			e := m(s, i)
			if e <= i {
				_, w := utf8.DecodeRuneInString(s[i:])
				i += w
				continue
			}
			if prev != i {
				out = append(out, piece{s: s[prev:i], id: -1, orig0: p.orig0 && prev == 0, raw: p.raw})
			}
			if b == isolated {
				out = append(out, piece{s: s[i:e], id: -1, orig0: p.orig0 && i == 0, raw: p.raw})
			}
			i, prev = e, e
		}
		if prev != len(s) {
			out = append(out, piece{s: s[prev:], id: -1, orig0: p.orig0 && prev == 0, raw: p.raw})
		}
		return out
	}
	ms := findMatches(p.s, m)
	if invert {
		for i := range ms {
			ms[i].match = !ms[i].match
		}
	}
	var parts []span2
	switch b {
	case isolated:
		parts = ms
	case removed:
		for _, x := range ms {
			if !x.match {
				parts = append(parts, x)
			}
		}
	case mergedWithPrevious:
		prevMatch := false
		for _, x := range ms {
			if x.match && !prevMatch && len(parts) > 0 {
				parts[len(parts)-1].end = x.end
			} else {
				parts = append(parts, span2{x.start, x.end, false})
			}
			prevMatch = x.match
		}
	case mergedWithNext:
		prevMatch := false
		for i := len(ms) - 1; i >= 0; i-- {
			x := ms[i]
			if x.match && !prevMatch && len(parts) > 0 {
				parts[len(parts)-1].start = x.start
			} else {
				parts = append(parts, span2{x.start, x.end, false})
			}
			prevMatch = x.match
		}
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
	case contiguous:
		prevMatch := false
		for k, x := range ms {
			if k > 0 && x.match == prevMatch {
				parts[len(parts)-1].end = x.end
			} else {
				parts = append(parts, span2{x.start, x.end, false})
			}
			prevMatch = x.match
		}
	}
	for _, x := range parts {
		if x.end > x.start {
			out = append(out, piece{s: p.s[x.start:x.end], id: -1, orig0: p.orig0 && x.start == 0, raw: p.raw})
		}
	}
	return out
}

type splitPre struct {
	m        matcher
	behavior behavior
	invert   bool
}

// capFor guesses how many pieces splitting in gives (source code averages over 3 bytes a
// piece), sparing the appends most of their regrowth.
func capFor(in []piece) int {
	n := len(in)
	for _, p := range in {
		n += len(p.s) / 3
	}
	return n
}

func (sp *splitPre) preTokenize(in []piece) []piece {
	out := make([]piece, 0, capFor(in))
	for _, p := range in {
		out = splitBy(p, sp.m, sp.behavior, sp.invert, out)
	}
	return out
}

type sequencePre struct{ steps []preTokenizer }

func (sq *sequencePre) preTokenize(in []piece) []piece {
	for _, s := range sq.steps {
		in = s.preTokenize(in)
	}
	return in
}

// byteLevelPre is HF's ByteLevel pre-tokenizer: optional prefix space, the GPT-2 split, then
// every byte mapped to its printable stand-in.
type byteLevelPre struct {
	addPrefixSpace bool
	useRegex       bool
	// lazy: this is the last pre-tokenizer step, so the mapping is left to the model, which
	// then caches words by their raw bytes and maps only the ones it has not seen.
	lazy bool
}

func (bl *byteLevelPre) preTokenize(in []piece) []piece {
	n := len(in)
	if bl.useRegex {
		n = capFor(in)
	}
	out := make([]piece, 0, n)
	for _, p := range in {
		if bl.addPrefixSpace && !strings.HasPrefix(p.s, " ") {
			p.s = " " + p.s
		}
		start := len(out)
		if bl.useRegex {
			out = splitBy(p, matchGPT2, isolated, false, out)
		} else if p.s != "" {
			out = append(out, p)
		}
		for i := start; i < len(out); i++ {
			if bl.lazy {
				out[i].raw = true
			} else {
				out[i].s = byteLevelString(out[i].s)
			}
		}
	}
	return out
}

// GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the others are shifted
// to U+0100 and up.
var byteToRune, runeToByte = func() ([256]rune, map[rune]byte) {
	var b2r [256]rune
	r2b := make(map[rune]byte, 256)
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			b2r[b] = rune(b)
		} else {
			b2r[b] = rune(256 + n)
			n++
		}
		r2b[b2r[b]] = byte(b)
	}
	return b2r, r2b
}()

var byteToStr = func() (t [256]string) {
	for b := range t {
		t[b] = string(byteToRune[b])
	}
	return t
}()

func byteLevelString(s string) string {
	var b strings.Builder
	b.Grow(2 * len(s))
	for i := 0; i < len(s); i++ {
		b.WriteString(byteToStr[s[i]])
	}
	return b.String()
}

type prependScheme int

const (
	prependAlways prependScheme = iota
	prependFirst
	prependNever
)

// metaspacePre is HF's Metaspace pre-tokenizer: spaces become the replacement character, one is
// prepended per the scheme, and the text is cut before each replacement character.
type metaspacePre struct {
	repl   string
	scheme prependScheme
	split  bool
}

func parseMetaspaceFields(r rawPreTok, field string) (string, prependScheme, bool, error) {
	repl := "▁"
	if r.Replacement != nil {
		repl = *r.Replacement
		if utf8.RuneCountInString(repl) != 1 {
			return "", 0, false, errf(field+".replacement", "%q is not one character", repl)
		}
	}
	scheme := prependAlways
	if r.PrependScheme != nil {
		switch *r.PrependScheme {
		case "always":
		case "first":
			scheme = prependFirst
		case "never":
			scheme = prependNever
		default:
			return "", 0, false, errf(field+".prepend_scheme", "unknown scheme %q", *r.PrependScheme)
		}
	} else if r.AddPrefixSpace != nil && !*r.AddPrefixSpace { // files older than prepend_scheme
		scheme = prependNever
	}
	split := true
	if r.Split != nil {
		split = *r.Split
	}
	return repl, scheme, split, nil
}

func parseMetaspace(r rawPreTok, field string) (preTokenizer, error) {
	repl, scheme, split, err := parseMetaspaceFields(r, field)
	if err != nil {
		return nil, err
	}
	return &metaspacePre{repl: repl, scheme: scheme, split: split}, nil
}

func (ms *metaspacePre) preTokenize(in []piece) []piece {
	out := make([]piece, 0, len(in))
	for _, p := range in {
		s := strings.ReplaceAll(p.s, " ", ms.repl)
		if !strings.HasPrefix(s, ms.repl) &&
			(ms.scheme == prependAlways || (ms.scheme == prependFirst && p.orig0)) {
			s = ms.repl + s
		}
		p.s = s
		if ms.split {
			out = splitBy(p, literalMatcher(ms.repl), mergedWithNext, false, out)
		} else if s != "" {
			out = append(out, p)
		}
	}
	return out
}

// markLazy lets the final ByteLevel step of a pre-tokenizer leave its mapping to the model.
func markLazy(p preTokenizer) {
	switch x := p.(type) {
	case *byteLevelPre:
		x.lazy = true
	case *sequencePre:
		if len(x.steps) > 0 {
			markLazy(x.steps[len(x.steps)-1])
		}
	}
}
