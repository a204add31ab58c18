package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

type mergeVal struct {
	rank int32
	id   int32
}

// bpe is HF's BPE model (tokenizers/src/models/bpe).
type bpe struct {
	vocab        map[string]int
	merges       map[uint64]mergeVal // (left id, right id) → rank and merged id
	unk          int                 // -1: no unk token
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
	byteTokens   [256]int // <0xNN> ids for byte_fallback, -1 where missing
	cache        bpeCache
}

type rawBPE struct {
	Type                    *string         `json:"type"`
	Dropout                 *float64        `json:"dropout"`
	UnkToken                *string         `json:"unk_token"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	FuseUnk                 bool            `json:"fuse_unk"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	Vocab                   map[string]int  `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
}

// maxID bounds ids so that a hostile file cannot make us allocate without limit.
const maxID = 1 << 24

func parseModel(m json.RawMessage) (*bpe, error) {
	var head struct {
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(m, &head); err != nil {
		return nil, jsonErr(fileTok, "model", err)
	}
	if head.Type != nil && *head.Type != "BPE" {
		return nil, unsupported("model.type", fmt.Sprintf("model type %q (only BPE)", *head.Type))
	}
	var r rawBPE
	if err := json.Unmarshal(m, &r); err != nil {
		return nil, jsonErr(fileTok, "model", err)
	}
	if r.Type == nil && r.Merges == nil {
		return nil, unsupported("model.type", "model without type or merges (only BPE)")
	}
	if r.Dropout != nil && *r.Dropout != 0 {
		return nil, unsupported("model.dropout", "BPE dropout (random at inference)")
	}
	if r.ContinuingSubwordPrefix != nil && *r.ContinuingSubwordPrefix != "" {
		return nil, unsupported("model.continuing_subword_prefix", "continuing_subword_prefix")
	}
	if r.EndOfWordSuffix != nil && *r.EndOfWordSuffix != "" {
		return nil, unsupported("model.end_of_word_suffix", "end_of_word_suffix")
	}
	b := &bpe{vocab: r.Vocab, unk: -1, fuseUnk: r.FuseUnk, byteFallback: r.ByteFallback,
		ignoreMerges: r.IgnoreMerges}
	if b.vocab == nil {
		b.vocab = map[string]int{}
	}
	for _, k := range sortedKeys(b.vocab) {
		if id := b.vocab[k]; id < 0 || id >= maxID {
			return nil, errf("model.vocab", "token %q has id %d, outside [0, %d)", k, id, maxID)
		}
	}
	if r.UnkToken != nil {
		id, ok := b.vocab[*r.UnkToken]
		if !ok {
			return nil, errf("model.unk_token", "%q is not in the vocabulary", *r.UnkToken)
		}
		b.unk = id
	}
	for i := range b.byteTokens {
		b.byteTokens[i] = -1
		if id, ok := b.vocab[fmt.Sprintf("<0x%02X>", i)]; ok {
			b.byteTokens[i] = id
		}
	}
	if err := b.parseMerges(r.Merges); err != nil {
		return nil, err
	}
	return b, nil
}

// parseMerges accepts both serialisations HF writes: "a b" strings and [a, b] pairs.
func (b *bpe) parseMerges(m json.RawMessage) error {
	if isNull(m) {
		b.merges = map[uint64]mergeVal{}
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(m, &items); err != nil {
		return jsonErr(fileTok, "model.merges", err)
	}
	if len(items) >= maxID {
		return errf("model.merges", "%d merges is too many", len(items))
	}
	b.merges = make(map[uint64]mergeVal, len(items))
	for i, it := range items {
		field := fmt.Sprintf("model.merges[%d]", i)
		var a, c string
		var s string
		if err := json.Unmarshal(it, &s); err == nil {
			parts := strings.Split(s, " ")
			if len(parts) != 2 {
				return errf(field, "%q is not two tokens separated by one space", s)
			}
			a, c = parts[0], parts[1]
		} else {
			var pair []string
			if err := json.Unmarshal(it, &pair); err != nil {
				return jsonErr(fileTok, field, err)
			}
			if len(pair) != 2 {
				return errf(field, "a merge pair has %d elements, want 2", len(pair))
			}
			a, c = pair[0], pair[1]
		}
		ia, ok := b.vocab[a]
		if !ok {
			return errf(field, "token %q is not in the vocabulary", a)
		}
		ic, ok := b.vocab[c]
		if !ok {
			return errf(field, "token %q is not in the vocabulary", c)
		}
		nid, ok := b.vocab[a+c]
		if !ok {
			return errf(field, "merged token %q is not in the vocabulary", a+c)
		}
		// A repeated pair takes its last rank: HF collects the merges into a HashMap in order.
		b.merges[uint64(ia)<<32|uint64(ic)] = mergeVal{rank: int32(i), id: int32(nid)}
	}
	return nil
}

type symbol struct {
	id         int32
	prev, next int32
	size       int32 // bytes of the word it covers; 0 once merged away
}

type mergeItem struct {
	rank, pos, id int32
}

// mergeHeap is a binary min-heap by (rank, pos), the order of HF's BinaryHeap of Merge.
type mergeHeap []mergeItem

func (h mergeHeap) less(i, j int) bool {
	if h[i].rank != h[j].rank {
		return h[i].rank < h[j].rank
	}
	return h[i].pos < h[j].pos
}

func (h *mergeHeap) push(x mergeItem) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *mergeHeap) pop() mergeItem {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && s.less(l, m) {
			m = l
		}
		if r < n && s.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// tokenize appends the ids of one pre-tokenized word; raw words get the byte-level mapping first
// (on a cache miss only).
func (b *bpe) tokenize(w string, raw bool, out []int) []int {
	if w == "" {
		return out
	}
	if ids, ok := b.cache.get(w, raw); ok {
		// HF checks ignore_merges first, but a word in the vocabulary is never cached then.
		return append(out, ids...)
	}
	key := w
	if raw {
		w = byteLevelString(w)
	}
	if b.ignoreMerges {
		if id, ok := b.vocab[w]; ok {
			return append(out, id)
		}
	}
	ids := b.mergeWord(w)
	b.cache.put(key, raw, ids)
	return append(out, ids...)
}

// mergeWord follows HF's BPE::merge_word and Word::merge_all, quirks included: with byte
// fallback a pending unk is emitted only at the next vocabulary hit, and an expired queue entry
// is recognised by the merged id alone.
func (b *bpe) mergeWord(w string) []int {
	syms := make([]symbol, 0, len(w))
	add := func(id, size int) {
		n := int32(len(syms))
		syms = append(syms, symbol{id: int32(id), prev: n - 1, next: n + 1, size: int32(size)})
	}
	unkID, unkLen := -1, 0
	for i := 0; i < len(w); {
		_, sz := utf8.DecodeRuneInString(w[i:])
		s := w[i : i+sz]
		i += sz
		if id, ok := b.vocab[s]; ok {
			if unkID >= 0 {
				add(unkID, unkLen)
				unkID = -1
			}
			add(id, sz)
			continue
		}
		if b.byteFallback {
			all := true
			for j := 0; j < len(s); j++ {
				if b.byteTokens[s[j]] < 0 {
					all = false
					break
				}
			}
			if all {
				for j := 0; j < len(s); j++ {
					add(b.byteTokens[s[j]], 1)
				}
				continue
			}
		}
		if b.unk >= 0 {
			switch {
			case unkID >= 0 && b.fuseUnk:
				unkLen += sz
			case unkID >= 0:
				add(unkID, unkLen)
				unkID, unkLen = b.unk, sz
			default:
				unkID, unkLen = b.unk, sz
			}
		}
	}
	if unkID >= 0 {
		add(unkID, unkLen)
	}
	if len(syms) == 0 {
		return nil
	}
	syms[len(syms)-1].next = -1

	h := make(mergeHeap, 0, len(syms))
	for i := 0; i+1 < len(syms); i++ {
		if m, ok := b.merges[uint64(syms[i].id)<<32|uint64(syms[i+1].id)]; ok {
			h.push(mergeItem{rank: m.rank, pos: int32(i), id: m.id})
		}
	}
	for len(h) > 0 {
		top := h.pop()
		cur := &syms[top.pos]
		if cur.size == 0 || cur.next == -1 {
			continue
		}
		nextPos := cur.next
		right := syms[nextPos]
		if m, ok := b.merges[uint64(cur.id)<<32|uint64(right.id)]; !ok || m.id != top.id {
			continue
		}
		cur.id = top.id
		cur.size += right.size
		cur.next = right.next
		syms[nextPos].size = 0
		if right.next >= 0 && int(right.next) < len(syms) {
			syms[right.next].prev = top.pos
		}
		if cur.prev >= 0 {
			if m, ok := b.merges[uint64(syms[cur.prev].id)<<32|uint64(cur.id)]; ok {
				h.push(mergeItem{rank: m.rank, pos: cur.prev, id: m.id})
			}
		}
		if cur.next >= 0 && int(cur.next) < len(syms) {
			if m, ok := b.merges[uint64(cur.id)<<32|uint64(syms[cur.next].id)]; ok {
				h.push(mergeItem{rank: m.rank, pos: top.pos, id: m.id})
			}
		}
	}
	ids := make([]int, 0, len(syms))
	for _, s := range syms {
		if s.size != 0 {
			ids = append(ids, int(s.id))
		}
	}
	return ids
}
