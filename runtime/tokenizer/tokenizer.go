// Package tokenizer encodes and decodes text exactly as HF `tokenizers` does for the tokenizer.json
// files of byte-level BPE models (GPT-2, Llama-3) and SentencePiece-style BPE models (Llama-2,
// Mistral): added/special tokens, normalizers, pre-tokenizers, BPE with byte fallback, decoders and
// the post-processor template. Anything else in a file is refused with an error naming the field.
//
// Behaviour was checked against tokenizers 0.23.2 and transformers 5.17 (testdata/hf_cases.json.gz).
package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// ErrUnsupported is wrapped by errors for model types, normalizers, pre-tokenizers, decoders and
// post-processors that this package does not implement.
var ErrUnsupported = errors.New("unsupported")

// FormatError reports a tokenizer file that cannot be used.
type FormatError struct {
	File   string // "tokenizer.json" or "tokenizer_config.json"
	Field  string // JSON path of the offending field, e.g. "model.merges[3]"
	Offset int64  // byte offset in the file where known (JSON syntax/type errors), else -1
	Err    error
}

func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " (byte %d)", e.Offset)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *FormatError) Unwrap() error { return e.Err }

const (
	fileTok = "tokenizer.json"
	fileCfg = "tokenizer_config.json"
)

func errf(field, format string, a ...any) error {
	return &FormatError{File: fileTok, Field: field, Offset: -1, Err: fmt.Errorf(format, a...)}
}

func unsupported(field, what string) error {
	return &FormatError{File: fileTok, Field: field, Offset: -1, Err: fmt.Errorf("%w: %s", ErrUnsupported, what)}
}

// jsonErr converts an encoding/json error into a FormatError carrying its byte offset.
func jsonErr(file, field string, err error) error {
	off := int64(-1)
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
		if te.Field != "" {
			if field != "" {
				field += "." + te.Field
			} else {
				field = te.Field
			}
		}
	}
	return &FormatError{File: file, Field: field, Offset: off, Err: err}
}

// Tokenizer is safe for concurrent use.
type Tokenizer struct {
	added      *addedVocab
	normalizer normalizer     // nil: none
	pretok     preTokenizer   // nil: none
	model      *bpe           //
	decoder    decoder        // nil: tokens joined with " " as HF does
	post       postProcessor  // nil: nothing added
	idToToken  map[int]string // added tokens and model vocabulary
	decodeTok  map[int]string // what Decode feeds the decoder (normalized added tokens normalized)
	vocabSize  int

	bos      int
	hasBOS   bool
	eos      []int
	template string
}

type rawTokenizer struct {
	AddedTokens   []rawAddedToken `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	Model         json.RawMessage `json:"model"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Truncation    json.RawMessage `json:"truncation"`
	Padding       json.RawMessage `json:"padding"`
}

type rawAddedToken struct {
	ID         *int64 `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized *bool  `json:"normalized"`
	Special    bool   `json:"special"`
}

func isNull(m json.RawMessage) bool {
	s := strings.TrimSpace(string(m))
	return s == "" || s == "null"
}

// Load parses tokenizer.json bytes and, when not nil, tokenizer_config.json bytes.
func Load(tokenizerJSON, tokenizerConfigJSON []byte) (*Tokenizer, error) {
	var raw rawTokenizer
	if err := json.Unmarshal(tokenizerJSON, &raw); err != nil {
		return nil, jsonErr(fileTok, "", err)
	}
	if isNull(raw.Model) {
		return nil, errf("model", "missing")
	}
	t := &Tokenizer{}
	var err error
	if t.model, err = parseModel(raw.Model); err != nil {
		return nil, err
	}
	if !isNull(raw.Normalizer) {
		if t.normalizer, err = parseNormalizer(raw.Normalizer, "normalizer"); err != nil {
			return nil, err
		}
	}
	if !isNull(raw.PreTokenizer) {
		if t.pretok, err = parsePreTokenizer(raw.PreTokenizer, "pre_tokenizer"); err != nil {
			return nil, err
		}
		markLazy(t.pretok)
	}
	if !isNull(raw.Decoder) {
		if t.decoder, err = parseDecoder(raw.Decoder, "decoder"); err != nil {
			return nil, err
		}
	}
	var rc rawConfig
	if len(tokenizerConfigJSON) > 0 {
		if err := json.Unmarshal(tokenizerConfigJSON, &rc); err != nil {
			return nil, jsonErr(fileCfg, "", err)
		}
	}
	if rc.TokenizerClass == "LlamaTokenizer" || rc.TokenizerClass == "LlamaTokenizerFast" {
		t.llamaPipeline(rc)
	}
	if t.added, err = newAddedVocab(raw.AddedTokens, t.model, t.normalizer); err != nil {
		return nil, err
	}
	if !isNull(raw.PostProcessor) {
		if t.post, err = parsePostProcessor(raw.PostProcessor, "post_processor", t); err != nil {
			return nil, err
		}
	}
	if !isNull(raw.Truncation) {
		return nil, unsupported("truncation", "truncation is not applied by this package")
	}
	if !isNull(raw.Padding) {
		return nil, unsupported("padding", "padding is not applied by this package")
	}

	t.idToToken = make(map[int]string, len(t.model.vocab)+len(t.added.tokens))
	for s, id := range t.model.vocab {
		t.idToToken[id] = s
	}
	t.decodeTok = make(map[int]string, len(t.idToToken))
	for id, s := range t.idToToken {
		t.decodeTok[id] = s
	}
	for _, a := range t.added.tokens { // added tokens win, as in HF's id_to_token
		t.idToToken[a.id] = a.content
		// HF 0.23 decodes a normalized added token as its normalized form (seen with Prepend
		// "▁": "func" decodes as "▁func", hence " func" mid-text).
		t.decodeTok[a.id] = a.content
		if a.normalized && t.normalizer != nil {
			t.decodeTok[a.id] = t.normalizer.normalize(a.content)
		}
	}
	for id := range t.idToToken {
		if id+1 > t.vocabSize {
			t.vocabSize = id + 1
		}
	}
	if err := t.loadConfig(rc); err != nil {
		return nil, err
	}
	return t, nil
}

// TokenID returns the id of a token (added tokens first, then the model's vocabulary).
func (t *Tokenizer) TokenID(s string) (int, bool) {
	if id, ok := t.added.byContent[s]; ok {
		return id, true
	}
	id, ok := t.model.vocab[s]
	return id, ok
}

// Token returns the token string of an id, or "" if the id is unknown.
func (t *Tokenizer) Token(id int) string { return t.idToToken[id] }

// VocabSize is one more than the largest id (model vocabulary and added tokens): the number of
// embedding rows the ids need.
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// BOS is the beginning-of-sequence token: bos_token of tokenizer_config.json, else the special
// token the post-processor template puts first.
func (t *Tokenizer) BOS() (int, bool) { return t.bos, t.hasBOS }

// EOS lists the ids that end a generation: eos_token of tokenizer_config.json (or, without one,
// a special token with a conventional end-of-text name) followed by the end-of-turn special tokens
// the vocabulary has (<|eot_id|>, <|im_end|>, ...), which chat models emit instead.
func (t *Tokenizer) EOS() []int { return append([]int(nil), t.eos...) }

// ChatTemplate is the Jinja chat template of tokenizer_config.json ("" if none).
func (t *Tokenizer) ChatTemplate() string { return t.template }

type rawConfig struct {
	TokenizerClass string          `json:"tokenizer_class"`
	AddPrefixSpace *bool           `json:"add_prefix_space"`
	Legacy         *bool           `json:"legacy"`
	BOSToken       json.RawMessage `json:"bos_token"`
	EOSToken       json.RawMessage `json:"eos_token"`
	ChatTemplate   json.RawMessage `json:"chat_template"`
}

// configToken reads a special token given as a string or as an AddedToken object.
func configToken(m json.RawMessage, field string) (string, bool, error) {
	if isNull(m) {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(m, &s); err == nil {
		return s, true, nil
	}
	var o struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(m, &o); err != nil || o.Content == nil {
		return "", false, &FormatError{File: fileCfg, Field: field, Offset: -1,
			Err: errors.New("want a string or an object with \"content\"")}
	}
	return *o.Content, true, nil
}

var (
	eosNames = []string{"</s>", "<|endoftext|>", "<|end_of_text|>", "<eos>"}
	eotNames = []string{"<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<end_of_turn>", "<|end|>"}
)

// llamaPipeline does what transformers 5.17's LlamaTokenizer does on loading: it keeps the
// vocabulary, merges, added tokens and post-processor of tokenizer.json but replaces the
// normalizer, pre-tokenizer and decoder with its own (Metaspace, prepended "first" unless the
// config says legacy or no add_prefix_space).
func (t *Tokenizer) llamaPipeline(rc rawConfig) {
	addPrefix := rc.AddPrefixSpace == nil || *rc.AddPrefixSpace
	scheme := prependNever
	if addPrefix {
		scheme = prependFirst
		if rc.Legacy != nil && *rc.Legacy {
			scheme = prependAlways
		}
	}
	t.normalizer = nil
	t.pretok = &metaspacePre{repl: "▁", scheme: scheme, split: false}
	dec := sequenceDec{replaceDec{"▁", " "}, byteFallbackDec{}, fuseDec{}}
	if addPrefix {
		dec = append(dec, stripDec{content: ' ', start: 1})
	}
	t.decoder = dec
}

func (t *Tokenizer) loadConfig(rc rawConfig) error {
	name, ok, err := configToken(rc.BOSToken, "bos_token")
	if err != nil {
		return err
	}
	if ok {
		if id, found := t.TokenID(name); found {
			t.bos, t.hasBOS = id, true
		}
	} else if tp, isTP := t.post.(*templateProcessing); isTP && len(tp.single) > 0 && tp.single[0].special {
		if ids := tp.single[0].ids; len(ids) == 1 {
			t.bos, t.hasBOS = ids[0], true
		}
	}
	seen := map[int]bool{}
	addEOS := func(id int) {
		if !seen[id] {
			seen[id] = true
			t.eos = append(t.eos, id)
		}
	}
	name, ok, err = configToken(rc.EOSToken, "eos_token")
	if err != nil {
		return err
	}
	if ok {
		if id, found := t.TokenID(name); found {
			addEOS(id)
		}
	} else {
		for _, n := range eosNames {
			if id, found := t.added.special[n]; found {
				addEOS(id)
				break
			}
		}
	}
	for _, n := range eotNames {
		if id, found := t.added.special[n]; found {
			addEOS(id)
		}
	}
	if !isNull(rc.ChatTemplate) {
		var s string
		if err := json.Unmarshal(rc.ChatTemplate, &s); err == nil {
			t.template = s
		} else {
			// A list of named templates: the "default" one is what apply_chat_template uses.
			var list []struct {
				Name     string `json:"name"`
				Template string `json:"template"`
			}
			if err := json.Unmarshal(rc.ChatTemplate, &list); err != nil {
				return jsonErr(fileCfg, "chat_template", err)
			}
			for _, e := range list {
				if e.Name == "default" {
					t.template = e.Template
				}
			}
		}
	}
	return nil
}

// Encode tokenizes text. With addSpecial the post-processor's template is applied (e.g. "<s>"
// prepended), as HF tokenizer(text) does by default; transformers 5.17 takes that from
// tokenizer.json and ignores add_bos_token/add_eos_token of tokenizer_config.json.
// Invalid UTF-8 is first replaced by U+FFFD, one per maximal invalid subsequence, as Python's
// bytes.decode(errors="replace") would before HF sees the text.
func (t *Tokenizer) Encode(text string, addSpecial bool) []int {
	text = lossyUTF8(text)
	var ids []int
	for _, p := range t.added.extract(text, t.normalizer) {
		if p.id >= 0 {
			ids = append(ids, p.id)
			continue
		}
		words := []piece{p}
		if t.pretok != nil {
			words = t.pretok.preTokenize(words)
		}
		for _, w := range words {
			ids = t.model.tokenize(w.s, w.raw, ids)
		}
	}
	if addSpecial && t.post != nil {
		ids = t.post.process(ids)
	}
	return ids
}

// Decode turns ids back into text as HF decode(ids) does (special tokens kept, no clean-up of
// spaces: transformers 5.17 applies none even where tokenizer_config.json asks for it).
// Unknown ids are skipped, as HF does.
func (t *Tokenizer) Decode(ids []int) string {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if s, ok := t.decodeTok[id]; ok {
			toks = append(toks, s)
		}
	}
	if t.decoder == nil {
		return strings.Join(toks, " ")
	}
	return strings.Join(t.decoder.decode(toks), "")
}

// bpeCache memoises word → ids; HF keeps 10,000 words of under 256 bytes.
type bpeCache struct {
	mu sync.RWMutex
	m  [2]map[string][]int // by model input; by raw bytes (words whose byte-level mapping is pending)
	n  int
}

const (
	cacheCap     = 10000
	cacheMaxWord = 256
)

func (c *bpeCache) get(w string, raw bool) ([]int, bool) {
	c.mu.RLock()
	v, ok := c.m[b2i(raw)][w]
	c.mu.RUnlock()
	return v, ok
}

func (c *bpeCache) put(w string, raw bool, ids []int) {
	if len(w) >= cacheMaxWord {
		return
	}
	c.mu.Lock()
	if c.n < cacheCap {
		m := &c.m[b2i(raw)]
		if *m == nil {
			*m = map[string][]int{}
		}
		if _, ok := (*m)[w]; !ok {
			(*m)[w] = ids
			c.n++
		}
	}
	c.mu.Unlock()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sortedKeys is used where the iteration order of a map must not matter (errors, tests).
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
