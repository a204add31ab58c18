# Builds inputs.json: the strings and tokenizer variants that hf_cases.py (run where HF tokenizers
# is installed) encodes; run here, where a Go distribution is, once.
import json, os, random
random.seed(7)
GOSRC = "/usr/local/go/src"
files = ["bytes/buffer.go", "strings/builder.go", "unicode/utf8/utf8.go", "sort/sort.go",
         "encoding/json/scanner.go", "fmt/print.go", "net/http/status.go", "regexp/syntax/parse.go"]
texts = []
for f in files:
    src = open(os.path.join(GOSRC, f), encoding="utf-8").read()
    for i in range(4):
        a = random.randrange(0, max(1, len(src) - 600))
        texts.append(src[a:a + random.randrange(100, 600)])
edge = [
    "", " ", "  ", "\n", "\r\n", " \n", "\n ", "a  b", "a   b", "a \n b", "a\n\n b", "a \t\n\n  b",
    "\t\tx", "x\t", "x ", "x  ", "  x", " \r\n\r\n x", "\r\r\n\n\r", "}\n\n\t", "}\r\n", "!!\n\n", " !!\r\n\rz",
    "it's", "It'S", "IT'LL", "we'Re", "you'VE", "I'M", "he'D", "'s'", "''s", "x's's", "'ſ", "'ſt",
    "don't", "DON'T", "a'llb", "'ll'", "'d'm",
    "123", "1234567", "12 345", " 12", "x1y2", "١٢٣٤", "Ⅻ and ½ and ²³", "3.14159", "0xFFFF_FFFF",
    "héllo wörld", "e\u0301t\u00e9", "日本語のテキスト", "한국어 텍스트", "Привет, мир!", "مرحبا بالعالم", "ελληνικά",
    "emoji 🙂🙂 👩‍👩‍👧 ✓ ✔️", "\u00a0nbsp\u00a0", "a\u2028b\u2029c", "\u3000ideo", "x\u0085y", "\u000b\u000cz",
    "\u200bzero\u200dwidth", "tab\tand\u3000\u00a0 mixed \n", "ﬁne ligature", "İstanbul ǅ", "ß ẞ",
    "<|endoftext|>", "a<|endoftext|>b", "<|endoftext|><|endoftext|>", " <|begin_of_text|> x", "<|endoftext",
    "<s>", "</s>", "a<s>b</s>c", " <s> ", "<unk>", "<0x41>", "x<0x41>y", "▁", "▁▁x", "a▁b",
    "<mask>", "a <mask> b", "a  <mask>  b", "<sep>  x", "x<sep>\n\ny", "word", "a word b", "sword", "words", "_word",
    "wordword", "word.", "func", " func", "funcx", "<tool>call</tool>", " <tool> x </tool> y", "my token", "a my tokenb",
    "a" * 300, "ab" * 200, " " * 50 + "x", "\n" * 20, "x" * 2000, "🙂" * 40,
    "café\r\n\tnaïve  résumé", "func (b *Buffer) Write(p []byte) (n int, err error) {\n\tb.lastRead = opInvalid\n",
    "Hello wörld, this is a test of byte fallback: ✓ 🙂",
    "hello. world , foo ? bar ! it 's n't 've 're 'm",
]
alphabet = list("aZé 日\t\n\r'sSlLdtT1٣½_.,!?-–—“”\"<>|▁") + ["\u00a0", "\u3000", "🙂", "\u0301", "\u2028", "ſ", "Ⅻ", "\u200d", "<s>", "<|endoftext|>", "word", "<mask>", "  ", "\r\n"]
rnd = ["".join(random.choice(alphabet) for _ in range(random.randrange(1, 40))) for _ in range(80)]
LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
BL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}
def split(p): return {"type": "Split", "pattern": {"Regex": p}, "behavior": "Isolated", "invert": False}
GO = "testdata/models/gocoder-4m/tokenizer.json"
MI = "testdata/fixtures/mistral-tiny-f16-spm/tokenizer.json"
LT = "testdata/fixtures/llama-tiny-f32/tokenizer.json"
def tok(content, id, special=True, lstrip=False, rstrip=False, single_word=False, normalized=False):
    return dict(id=id, content=content, single_word=single_word, lstrip=lstrip, rstrip=rstrip, normalized=normalized, special=special)
go_added = [tok("<|endoftext|>", 0), tok("<|begin_of_text|>", 1),
            tok("<mask>", 3072, lstrip=True), tok("<sep>", 3073, rstrip=True),
            tok("word", 3074, special=False, single_word=True, normalized=True),
            tok("my token", 5000, special=False, normalized=False)]
mi_added_extra = [tok("<tool>", 640, lstrip=True, rstrip=True), tok("</tool>", 641, rstrip=True),
                  tok("func", 642, special=False, normalized=True), tok("word", 643, special=False, single_word=True, normalized=False)]
ms = lambda scheme, split: {"type": "Metaspace", "replacement": "▁", "prepend_scheme": scheme, "split": split}
variants = [
    {"name": "bytelevel-fixture", "base": LT, "set": {}},
    {"name": "gocoder", "base": GO, "set": {}},
    {"name": "gocoder-llama3-split", "base": GO, "set": {
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [split(LLAMA3), BL]},
        "post_processor": {"type": "Sequence", "processors": [
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
            {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
             "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [1], "tokens": ["<|begin_of_text|>"]}}}]}}},
    {"name": "gocoder-qwen2-split-ignore-merges-strings", "base": GO, "merges_to_strings": True, "set": {
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [split(QWEN2), BL]}, "model.ignore_merges": True}},
    {"name": "gocoder-gpt2-split-addprefix", "base": GO, "set": {
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [split(GPT2), dict(BL, add_prefix_space=True)]}}},
    {"name": "gocoder-added-flags", "base": GO, "set": {"added_tokens": go_added}},
    {"name": "mistral-fixture", "base": MI, "set": {}},
    {"name": "mistral-added-flags", "base": MI, "append_added": mi_added_extra, "set": {}},
    {"name": "mistral-metaspace-first", "base": MI, "set": {"normalizer": None, "pre_tokenizer": ms("first", False),
        "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}},
        "append_added": mi_added_extra},
    {"name": "mistral-metaspace-always-split", "base": MI, "set": {"normalizer": None, "pre_tokenizer": ms("always", True),
        "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}}},
    {"name": "mistral-no-bytefallback-unk", "base": MI, "set": {"model.byte_fallback": False}},
    {"name": "mistral-no-bytefallback-nofuse", "base": MI, "set": {"model.byte_fallback": False, "model.fuse_unk": False}},
]
# Transformers-level behaviour (tokenizer_config.json): default add_special_tokens, decode clean-up, bos/eos.
configs = [
    {"name": "mistral-config", "variant": "mistral-fixture", "config": "testdata/fixtures/mistral-tiny-f16-spm/tokenizer_config.json"},
    {"name": "mistral-llamaclass-eos", "variant": "mistral-fixture", "config": {"tokenizer_class": "LlamaTokenizer", "add_bos_token": False, "add_eos_token": True, "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}},
    {"name": "mistral-backend-eos", "variant": "mistral-fixture", "config": {"tokenizer_class": "TokenizersBackend", "add_bos_token": False, "add_eos_token": True, "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}},
    {"name": "mistral-fast-nobos", "variant": "mistral-fixture", "config": {"tokenizer_class": "PreTrainedTokenizerFast", "add_bos_token": False, "bos_token": "<s>", "eos_token": "</s>"}},
    {"name": "gocoder-cleanup", "variant": "gocoder", "config": {"tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": True, "bos_token": "<|begin_of_text|>", "eos_token": "<|endoftext|>"}},
    {"name": "llama3-like", "variant": "gocoder-llama3-split", "config": {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|begin_of_text|>", "eos_token": {"content": "<|endoftext|>", "special": True, "lstrip": False, "rstrip": False, "normalized": False, "single_word": False}, "clean_up_tokenization_spaces": True}},
    {"name": "gocoder-config", "variant": "gocoder", "config": "testdata/models/gocoder-4m/tokenizer_config.json"},
    {"name": "mistral-llamaclass-legacy", "variant": "mistral-added-flags", "config": {"tokenizer_class": "LlamaTokenizer", "legacy": True, "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}},
    {"name": "mistral-llamaclass-nonlegacy", "variant": "mistral-added-flags", "config": {"tokenizer_class": "LlamaTokenizerFast", "legacy": False, "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}},
    {"name": "mistral-llamaclass-noprefix", "variant": "mistral-added-flags", "config": {"tokenizer_class": "LlamaTokenizerFast", "add_prefix_space": False, "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}},
]
json.dump({"texts": texts + edge + rnd, "variants": variants, "configs": configs,
           "patterns": {"gpt2": GPT2, "llama3": LLAMA3, "qwen2": QWEN2}},
          open("inputs.json", "w"), ensure_ascii=False, indent=0)
print(len(texts + edge + rnd))
