package tokenizer

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

type addedToken struct {
	id                         int
	content                    string
	singleWord, lstrip, rstrip bool
	normalized, special        bool
}

// addedVocab is HF's AddedVocabulary: tokens cut out of the text before the model sees it, first
// those matched on the raw text (normalized=false), then those matched on the normalized text.
type addedVocab struct {
	tokens    []addedToken
	byContent map[string]int
	special   map[string]int
	raw, norm trie
}

// newAddedVocab assigns ids as HF does when it loads a file: a token in the model's vocabulary
// takes that id, another one the next id after the model and the tokens before it; the "id" in
// the file is not used (HF only warns when it differs).
func newAddedVocab(raw []rawAddedToken, model *bpe, norm normalizer) (*addedVocab, error) {
	av := &addedVocab{byContent: map[string]int{}, special: map[string]int{}}
	next := len(model.vocab)
	maxAdded := -1
	for i, r := range raw {
		field := fmt.Sprintf("added_tokens[%d]", i)
		if r.Content == "" {
			return nil, errf(field+".content", "empty token")
		}
		if _, dup := av.byContent[r.Content]; dup {
			continue // HF adds a token once
		}
		id, inModel := model.vocab[r.Content]
		if !inModel {
			// HF: max(added ids) + 1 once added ids reach past the model, else the model size.
			id = next
			if maxAdded >= next {
				id = maxAdded + 1
			}
			if id >= maxID {
				return nil, errf(field, "too many added tokens")
			}
		}
		if id > maxAdded {
			maxAdded = id
		}
		// Special tokens default to normalized=false, others to true (AddedToken's defaults).
		normalized := !r.Special
		if r.Normalized != nil {
			normalized = *r.Normalized
		}
		a := addedToken{id: id, content: r.Content, singleWord: r.SingleWord, lstrip: r.LStrip,
			rstrip: r.RStrip, normalized: normalized, special: r.Special}
		av.tokens = append(av.tokens, a)
		av.byContent[a.content] = id
		if a.special {
			av.special[a.content] = id
		}
	}
	for i, a := range av.tokens {
		if a.normalized {
			key := a.content
			if norm != nil {
				key = norm.normalize(key)
			}
			av.norm.add(key, i)
		} else {
			av.raw.add(a.content, i)
		}
	}
	return av, nil
}

// extract cuts text into pieces: added tokens (id set) and the normalized text between them.
func (av *addedVocab) extract(text string, norm normalizer) []piece {
	first := av.splitOn(piece{s: text, id: -1, orig0: true}, &av.raw, nil)
	out := make([]piece, 0, len(first))
	for _, p := range first {
		if p.id >= 0 {
			out = append(out, p)
			continue
		}
		if norm != nil {
			p.s = norm.normalize(p.s)
		}
		out = av.splitOn(p, &av.norm, out)
	}
	return out
}

// splitOn is HF's find_matches + split_with_indices: leftmost-longest matches, then the
// single_word, lstrip and rstrip rules; empty pieces are dropped.
func (av *addedVocab) splitOn(p piece, tr *trie, out []piece) []piece {
	s := p.s
	emit := func(start, end, id int) {
		if end > start {
			out = append(out, piece{s: s[start:end], id: id, orig0: p.orig0 && start == 0})
		}
	}
	if len(tr.nodes) == 0 {
		emit(0, len(s), -1)
		return out
	}
	startOff := 0
	for i := 0; i < len(s); {
		e, tok := tr.longest(s, i)
		if tok < 0 {
			i++
			continue
		}
		a := av.tokens[tok]
		start, stop := i, e
		i = e
		if a.singleWord {
			startOK := start == 0 || !endsWithWord(s[:start])
			stopOK := stop == len(s) || !startsWithWord(s[stop:])
			if !startOK || !stopOK {
				continue
			}
		}
		if a.lstrip {
			ns := len(strings.TrimRightFunc(s[:start], unicode.IsSpace))
			start = max(ns, startOff)
		}
		if a.rstrip {
			stop = len(s) - len(strings.TrimLeftFunc(s[stop:], unicode.IsSpace))
		}
		if startOff < start {
			emit(startOff, start, -1)
		}
		emit(start, stop, a.id)
		startOff = stop
	}
	if startOff < len(s) {
		emit(startOff, len(s), -1)
	}
	return out
}

// isWordChar is \w of Rust's regex crate: Alphabetic, marks, decimal digits, connector
// punctuation, Join_Control.
func isWordChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r) ||
		unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r) ||
		unicode.Is(unicode.Join_Control, r)
}

func endsWithWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return s != "" && isWordChar(r)
}

func startsWithWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return s != "" && isWordChar(r)
}

// trie over bytes for leftmost-longest matching of the added tokens.
type trie struct {
	nodes []trieNode
	first [256]bool // bytes that start a token: most positions are rejected with one load
}

type trieNode struct {
	next map[byte]int32
	tok  int // index into addedVocab.tokens, -1 if no token ends here
}

func (t *trie) add(s string, tok int) {
	if len(t.nodes) == 0 {
		t.nodes = append(t.nodes, trieNode{tok: -1})
	}
	if s == "" {
		return // a token normalized to nothing can never match
	}
	t.first[s[0]] = true
	n := 0
	for i := 0; i < len(s); i++ {
		nx, ok := t.nodes[n].next[s[i]]
		if !ok {
			if t.nodes[n].next == nil {
				t.nodes[n].next = map[byte]int32{}
			}
			nx = int32(len(t.nodes))
			t.nodes[n].next[s[i]] = nx
			t.nodes = append(t.nodes, trieNode{tok: -1})
		}
		n = int(nx)
	}
	if t.nodes[n].tok < 0 { // the first of two tokens normalizing alike wins
		t.nodes[n].tok = tok
	}
}

// longest returns the end and token of the longest token starting at i, or tok -1.
func (t *trie) longest(s string, i int) (end, tok int) {
	tok = -1
	if !t.first[s[i]] {
		return 0, -1
	}
	n := 0
	for j := i; j < len(s); j++ {
		nx, ok := t.nodes[n].next[s[j]]
		if !ok {
			break
		}
		n = int(nx)
		if t.nodes[n].tok >= 0 {
			end, tok = j+1, t.nodes[n].tok
		}
	}
	return end, tok
}
