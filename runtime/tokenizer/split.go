package tokenizer

import (
	"unicode"
	"unicode/utf8"
)

// Hand-written matchers for the pre-tokenizer regexes of byte-level BPE files. Go's regexp has no
// lookahead (`\s+(?!\S)`), so each pattern's alternatives are followed here the way a backtracking
// engine (Oniguruma, which HF uses) tries them: at each position the first alternative that
// matches wins, each quantifier greedy, backtracking only where an alternative needs it.
// split_test.go checks them against a backtracking matcher of the pattern text (fuzzed) and
// against HF's own splits.

const (
	patGPT2   = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	patLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	patQwen2  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// matcher returns the end of the pattern's match starting at byte i, or -1.
type matcher func(s string, i int) int

// knownPatterns maps the regex text found in files to its matcher.
var knownPatterns = map[string]matcher{
	patGPT2:   matchGPT2,
	patLlama3: func(s string, i int) int { return matchLlama3(s, i, 3) },
	patQwen2:  func(s string, i int) int { return matchLlama3(s, i, 1) },
}

// Character classes as Oniguruma defines them for UTF-8: \s is Unicode White_Space (the set
// unicode.IsSpace tests), \p{L} letters, \p{N} numbers (Nd, Nl, No).
func isL(r rune) bool     { return unicode.IsLetter(r) }
func isN(r rune) bool     { return unicode.IsNumber(r) }
func isS(r rune) bool     { return unicode.IsSpace(r) }
func isOther(r rune) bool { return !isS(r) && !isL(r) && !isN(r) }
func isCRLF(r rune) bool  { return r == '\r' || r == '\n' }

// span returns the end of the run of runes from i that satisfy f.
func span(s string, i int, f func(rune) bool) int {
	for i < len(s) {
		r, w := utf8.DecodeRuneInString(s[i:])
		if !f(r) {
			break
		}
		i += w
	}
	return i
}

// matchSpace covers the last two alternatives, `\s+(?!\S)|\s+`: a whitespace run ending the text
// matches whole; otherwise the lookahead makes the first give back the run's last rune (which
// then starts the next piece, e.g. as the space of " word"); a single rune matches via `\s+`.
func matchSpace(s string, i int) int {
	e := span(s, i, isS)
	if e == i {
		return -1
	}
	if e == len(s) {
		return e
	}
	_, w := utf8.DecodeLastRuneInString(s[:e])
	if e-w > i {
		return e - w
	}
	return e
}

// contraction matches `'s|'t|'re|'ve|'m|'ll|'d` after the apostrophe at i; fold makes it case
// insensitive as (?i:...) does with Unicode simple case folding (so "'ſ" counts as "'s").
func contraction(s string, i int, fold bool) int {
	j := i + 1
	eq := func(k int, c rune) (int, bool) {
		if k >= len(s) {
			return k, false
		}
		r, w := utf8.DecodeRuneInString(s[k:])
		if r == c || (fold && foldEq(r, c)) {
			return k + w, true
		}
		return k, false
	}
	for _, c := range []rune{'s', 't', 'm', 'd'} {
		if e, ok := eq(j, c); ok {
			return e
		}
	}
	for _, p := range [][2]rune{{'r', 'e'}, {'v', 'e'}, {'l', 'l'}} {
		if e, ok := eq(j, p[0]); ok {
			if e2, ok := eq(e, p[1]); ok {
				return e2
			}
		}
	}
	return -1
}

// foldEq reports whether r is in c's simple case-folding orbit.
func foldEq(r, c rune) bool {
	for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
		if f == r {
			return true
		}
	}
	return false
}

// matchGPT2 follows patGPT2.
func matchGPT2(s string, i int) int {
	r0, _ := utf8.DecodeRuneInString(s[i:])
	if r0 == '\'' {
		if e := contraction(s, i, false); e >= 0 {
			return e
		}
	}
	// ` ?X+`: with a leading space the space-less branch cannot match (a space is not X).
	j := i
	if r0 == ' ' {
		j = i + 1
	}
	for _, f := range []func(rune) bool{isL, isN, isOther} {
		if e := span(s, j, f); e > j {
			return e
		}
	}
	return matchSpace(s, i)
}

// matchLlama3 follows patLlama3 (maxDigits 3) and patQwen2 (maxDigits 1).
func matchLlama3(s string, i int, maxDigits int) int {
	r0, w0 := utf8.DecodeRuneInString(s[i:])
	if r0 == '\'' {
		if e := contraction(s, i, true); e >= 0 {
			return e
		}
	}
	// `[^\r\n\p{L}\p{N}]?\p{L}+`
	if !isCRLF(r0) && !isL(r0) && !isN(r0) {
		if e := span(s, i+w0, isL); e > i+w0 {
			return e
		}
	} else if isL(r0) {
		return span(s, i, isL)
	}
	// `\p{N}{1,n}`
	if isN(r0) {
		e := i
		for n := 0; n < maxDigits && e < len(s); n++ {
			r, w := utf8.DecodeRuneInString(s[e:])
			if !isN(r) {
				break
			}
			e += w
		}
		return e
	}
	// ` ?[^\s\p{L}\p{N}]+[\r\n]*`
	j := i
	if r0 == ' ' {
		j = i + 1
	}
	if e := span(s, j, isOther); e > j {
		return span(s, e, isCRLF)
	}
	// `\s*[\r\n]+`: the greedy \s* gives back runes until a CR/LF follows, so the match ends just
	// after the run's last CR or LF.
	e := span(s, i, isS)
	for k := e; k > i; {
		r, w := utf8.DecodeLastRuneInString(s[i:k])
		if isCRLF(r) {
			return k
		}
		k -= w
	}
	return matchSpace(s, i)
}

// findMatches lists the pieces of s as HF's Pattern::find_matches does: matches (true) and the
// gaps between them (false), covering s. An empty s gives one empty gap.
func findMatches(s string, m matcher) []span2 {
	if s == "" {
		return []span2{{0, 0, false}}
	}
	var out []span2
	prev := 0
	for i := 0; i < len(s); {
		e := m(s, i)
		if e <= i {
			_, w := utf8.DecodeRuneInString(s[i:])
			i += w
			continue
		}
		if prev != i {
			out = append(out, span2{prev, i, false})
		}
		out = append(out, span2{i, e, true})
		i, prev = e, e
	}
	if prev != len(s) {
		out = append(out, span2{prev, len(s), false})
	}
	return out
}

type span2 struct {
	start, end int
	match      bool
}
