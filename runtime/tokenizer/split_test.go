package tokenizer

import (
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// A backtracking matcher for the regex subset of the pre-tokenizer patterns, written from the
// regex semantics (ordered alternation, greedy quantifiers, negative lookahead, (?i:) with simple
// case folding) and parsed from the pattern text itself: the specification the hand-written
// splitters of split.go are checked against.

type reNode interface {
	// match tries n at i and calls k with each end it can reach, in priority order, until k
	// accepts one.
	match(s string, i int, k func(int) bool) bool
}

type reLit struct {
	r    rune
	fold bool
}

func (n reLit) match(s string, i int, k func(int) bool) bool {
	if i >= len(s) {
		return false
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	if r == n.r || (n.fold && foldEq(r, n.r)) {
		return k(i + w)
	}
	return false
}

type reClass struct {
	neg   bool
	items []func(rune) bool
}

func (n reClass) match(s string, i int, k func(int) bool) bool {
	if i >= len(s) {
		return false
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	in := false
	for _, f := range n.items {
		if f(r) {
			in = true
			break
		}
	}
	if in != n.neg {
		return k(i + w)
	}
	return false
}

type reAlt []reNode

func (n reAlt) match(s string, i int, k func(int) bool) bool {
	for _, a := range n {
		if a.match(s, i, k) {
			return true
		}
	}
	return false
}

type reCat []reNode

func (n reCat) match(s string, i int, k func(int) bool) bool {
	if len(n) == 0 {
		return k(i)
	}
	return n[0].match(s, i, func(j int) bool { return n[1:].match(s, j, k) })
}

type reRep struct {
	n        reNode
	min, max int // max < 0: unbounded
}

func (n reRep) match(s string, i int, k func(int) bool) bool {
	var rep func(count, i int) bool
	rep = func(count, i int) bool {
		if n.max < 0 || count < n.max {
			if n.n.match(s, i, func(j int) bool { return j > i && rep(count+1, j) }) {
				return true
			}
		}
		return count >= n.min && k(i)
	}
	return rep(0, i)
}

type reNegLook struct{ n reNode }

func (n reNegLook) match(s string, i int, k func(int) bool) bool {
	if n.n.match(s, i, func(int) bool { return true }) {
		return false
	}
	return k(i)
}

type reParser struct {
	src []rune
	pos int
}

func parseRe(pat string) (reNode, error) {
	p := &reParser{src: []rune(pat)}
	n, err := p.alt(false)
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.src) {
		return nil, fmt.Errorf("unexpected %q at %d", p.src[p.pos], p.pos)
	}
	return n, nil
}

func (p *reParser) peek() rune {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *reParser) alt(fold bool) (reNode, error) {
	var alts reAlt
	for {
		var cat reCat
		for p.pos < len(p.src) && p.peek() != '|' && p.peek() != ')' {
			a, err := p.repeat(fold)
			if err != nil {
				return nil, err
			}
			cat = append(cat, a)
		}
		alts = append(alts, cat)
		if p.peek() != '|' {
			return alts, nil
		}
		p.pos++
	}
}

func (p *reParser) repeat(fold bool) (reNode, error) {
	a, err := p.atom(fold)
	if err != nil {
		return nil, err
	}
	switch p.peek() {
	case '?':
		p.pos++
		return reRep{a, 0, 1}, nil
	case '+':
		p.pos++
		return reRep{a, 1, -1}, nil
	case '*':
		p.pos++
		return reRep{a, 0, -1}, nil
	case '{':
		end := slices.Index(p.src[p.pos:], '}')
		if end < 0 {
			return nil, fmt.Errorf("unclosed {")
		}
		body := string(p.src[p.pos+1 : p.pos+end])
		p.pos += end + 1
		lo, hi, ok := strings.Cut(body, ",")
		if !ok {
			hi = lo
		}
		mn, err1 := strconv.Atoi(lo)
		mx, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad repeat {%s}", body)
		}
		return reRep{a, mn, mx}, nil
	}
	return a, nil
}

func (p *reParser) atom(fold bool) (reNode, error) {
	c := p.peek()
	switch c {
	case '(':
		p.pos++
		rest := string(p.src[p.pos:min(p.pos+3, len(p.src))])
		var n reNode
		var err error
		switch {
		case strings.HasPrefix(rest, "?i:"):
			p.pos += 3
			n, err = p.alt(true)
		case strings.HasPrefix(rest, "?!"):
			p.pos += 2
			n, err = p.alt(fold)
			n = reNegLook{n}
		case strings.HasPrefix(rest, "?:"):
			p.pos += 2
			n, err = p.alt(fold)
		default:
			n, err = p.alt(fold)
		}
		if err != nil {
			return nil, err
		}
		if p.peek() != ')' {
			return nil, fmt.Errorf("unclosed (")
		}
		p.pos++
		return n, nil
	case '[':
		p.pos++
		cl := reClass{}
		if p.peek() == '^' {
			cl.neg = true
			p.pos++
		}
		for p.peek() != ']' {
			if p.pos >= len(p.src) {
				return nil, fmt.Errorf("unclosed [")
			}
			f, err := p.classItem()
			if err != nil {
				return nil, err
			}
			cl.items = append(cl.items, f)
		}
		p.pos++
		return cl, nil
	case '\\':
		f, neg, lit, err := p.escape()
		if err != nil {
			return nil, err
		}
		if f == nil {
			return reLit{lit, fold}, nil
		}
		return reClass{neg: neg, items: []func(rune) bool{f}}, nil
	}
	p.pos++
	return reLit{c, fold}, nil
}

func (p *reParser) classItem() (func(rune) bool, error) {
	if p.peek() == '\\' {
		f, neg, lit, err := p.escape()
		if err != nil {
			return nil, err
		}
		if neg {
			return nil, fmt.Errorf("negated escape in class")
		}
		if f == nil {
			return func(r rune) bool { return r == lit }, nil
		}
		return f, nil
	}
	c := p.peek()
	p.pos++
	return func(r rune) bool { return r == c }, nil
}

// escape parses \p{L}, \p{N}, \s, \S (as classes) and \r, \n, \t, \' and the like (literals).
func (p *reParser) escape() (f func(rune) bool, neg bool, lit rune, err error) {
	p.pos++ // backslash
	c := p.peek()
	p.pos++
	switch c {
	case 'p':
		name := string(p.src[p.pos:min(p.pos+3, len(p.src))])
		p.pos += 3
		switch name {
		case "{L}":
			return func(r rune) bool { return unicode.In(r, unicode.L) }, false, 0, nil
		case "{N}":
			return func(r rune) bool { return unicode.In(r, unicode.N) }, false, 0, nil
		}
		return nil, false, 0, fmt.Errorf("unknown property %s", name)
	case 's':
		return func(r rune) bool { return unicode.Is(unicode.White_Space, r) }, false, 0, nil
	case 'S':
		return func(r rune) bool { return unicode.Is(unicode.White_Space, r) }, true, 0, nil
	case 'r':
		return nil, false, '\r', nil
	case 'n':
		return nil, false, '\n', nil
	case 't':
		return nil, false, '\t', nil
	}
	if unicode.IsLetter(c) || unicode.IsDigit(c) {
		return nil, false, 0, fmt.Errorf("unknown escape \\%c", c)
	}
	return nil, false, c, nil
}

// refMatcher runs the backtracking matcher at i: the first end the pattern reaches.
func refMatcher(n reNode) matcher {
	return func(s string, i int) int {
		end := -1
		n.match(s, i, func(j int) bool { end = j; return true })
		return end
	}
}

var refPatterns = func() map[string]matcher {
	out := map[string]matcher{}
	for _, pat := range []string{patGPT2, patLlama3, patQwen2} {
		n, err := parseRe(pat)
		if err != nil {
			panic(fmt.Sprintf("%s: %v", pat, err))
		}
		out[pat] = refMatcher(n)
	}
	return out
}()

func splitStrings(s string, m matcher) []string {
	var out []string
	for _, x := range findMatches(s, m) {
		out = append(out, fmt.Sprintf("%v:%q", x.match, s[x.start:x.end]))
	}
	return out
}

func checkSplit(t *testing.T, s string) {
	t.Helper()
	for _, pat := range []string{patGPT2, patLlama3, patQwen2} {
		got := splitStrings(s, knownPatterns[pat])
		want := splitStrings(s, refPatterns[pat])
		if !slices.Equal(got, want) {
			t.Fatalf("pattern %s on %q:\n got %v\nwant %v", pat, s, got, want)
		}
	}
}

// splitAlphabet has a member of every class the patterns tell apart, and the contraction letters.
var splitAlphabet = []string{" ", " ", "  ", "\t", "\n", "\r", "\r\n", "\u00a0", "\u3000", "\u2028", "\u0085", "\v",
	"'", "s", "S", "ſ", "t", "T", "r", "e", "E", "v", "m", "M", "l", "L", "d", "D", "x", "é", "日", "ß",
	"1", "٣", "Ⅻ", "½", ".", "-", "_", "🙂", "\u0301", "\u200d", "\xff", "\xe2\x9c", "<", ">", "▁"}

// TestSplitReference compares the splitters with the reference on random strings (the fuzz
// target does the same on arbitrary bytes) and on the texts of inputs.json.
func TestSplitReference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for n := 0; n < 5000; n++ {
		var b strings.Builder
		for k := rng.Intn(14); k >= 0; k-- {
			b.WriteString(splitAlphabet[rng.Intn(len(splitAlphabet))])
		}
		checkSplit(t, b.String())
	}
	_, in := loadHF(t)
	for _, s := range in.Texts {
		if len(s) <= 600 { // the reference backtracks; keep it quick
			checkSplit(t, s)
		}
	}
}

func FuzzSplit(f *testing.F) {
	for _, s := range []string{"", "it's a  test\n\n\tfunc(x)", "'ſ 'LL 123456 ١٢٣", " \r\n\r\n x", "a\u00a0\u3000 b", "\xff\xfe 'S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 256 {
			return
		}
		checkSplit(t, s)
	})
}
