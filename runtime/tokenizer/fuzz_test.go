package tokenizer

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzLoad: no tokenizer.json or tokenizer_config.json makes Load panic, and whatever loads can
// encode, decode and stream without panicking.
func FuzzLoad(f *testing.F) {
	cfg := readFile(f, filepath.Join(fixturesDir, "mistral-tiny-f16-spm", "tokenizer_config.json"))
	// Seeds: the fixture files whole and truncated, and in testdata/fuzz/FuzzLoad small hand-made
	// tokenizers covering every supported component. Go's fuzzer stalls on inputs of tens of KB,
	// so while fuzzing (-test.fuzz set) the whole files are left to the plain test run.
	fuzzing := flag.Lookup("test.fuzz").Value.String() != ""
	for _, dir := range []string{"llama-tiny-f32", "mistral-tiny-f16-spm"} {
		b := readFile(f, filepath.Join(fixturesDir, dir, "tokenizer.json"))
		if !fuzzing {
			f.Add(b, cfg)
			f.Add(b[:len(b)/2], []byte(nil))
			f.Add(b[:len(b)-1], []byte(nil))
		}
		for _, n := range []int{0, 1, 40, 200, 1000} {
			f.Add(b[:n], []byte(nil))
		}
	}
	f.Fuzz(func(t *testing.T, tok, cfg []byte) {
		tk, err := Load(tok, cfg)
		if err != nil {
			return
		}
		for _, s := range []string{"", "Hello wörld <s> </s> <|endoftext|> 🙂\r\n\t x", "\xff\xfe"} {
			ids := tk.Encode(s, true)
			text := tk.Decode(ids)
			sd := tk.NewStreamDecoder()
			for _, id := range ids {
				sd.Add(id)
			}
			sd.Flush()
			_ = text
		}
		tk.Decode([]int{-1, 0, 1, 1 << 30})
		tk.BOS()
		tk.EOS()
	})
}

// FuzzRoundTrip: byte-level tokenizers lose nothing: Decode(Encode(s)) == s for valid UTF-8,
// with the GPT-2 split (the fixture, gocoder) and the Llama-3 split.
func FuzzRoundTrip(f *testing.F) {
	base := readFile(f, filepath.Join(gocoderDir, "tokenizer.json"))
	toks := []*Tokenizer{
		loadDir(f, filepath.Join(fixturesDir, "llama-tiny-f32")),
		loadDir(f, gocoderDir),
	}
	tk, err := Load([]byte(editTB(f, base, "pre_tokenizer", `{"type": "Sequence", "pretokenizers": [`+
		`{"type": "Split", "pattern": {"Regex": `+quoteJSON(patLlama3)+`}, "behavior": "Isolated", "invert": false},`+
		`{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]}`)), nil)
	if err != nil {
		f.Fatal(err)
	}
	toks = append(toks, tk)
	for _, s := range []string{"", "func main() {\n\tfmt.Println(\"héllo, 世界\")\n}\n", "  x\r\n\r\n 'S 1234 🙂<|endoftext|>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		for i, tk := range toks {
			if got := tk.Decode(tk.Encode(s, false)); got != s {
				t.Fatalf("tokenizer %d: Decode(Encode(%q)) = %q", i, s, got)
			}
		}
	})
}

// readCorpus reads the []byte arguments of a committed fuzz corpus file.
func readCorpus(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var out [][]byte
	for _, l := range lines[1:] {
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(l, "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, []byte(s))
	}
	return out
}

// TestFuzzLoadSeeds: the hand-made seeds load and work, so the fuzzer starts from valid files.
func TestFuzzLoadSeeds(t *testing.T) {
	for _, c := range []struct {
		name, text string
		want       []int
		decoded    string
	}{
		{"bytelevel", "ab <s>ab", []int{3, 2, 3, 2}, "<s>ab<s>ab"},
		{"spm", "hi A🙂", []int{7, 6, 2, 1, 0}, "<s> hi A<unk>"},
		{"metaspace", "hi hi", []int{3, 6, 6, 2}, "h hi hi "},
	} {
		args := readCorpus(t, filepath.Join("testdata", "fuzz", "FuzzLoad", c.name))
		tk, err := Load(args[0], args[1])
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		ids := tk.Encode(c.text, true)
		if !slices.Equal(ids, c.want) {
			t.Errorf("%s: Encode(%q) = %v, want %v", c.name, c.text, ids, c.want)
		}
		if got := tk.Decode(ids); got != c.decoded {
			t.Errorf("%s: Decode = %q, want %q", c.name, got, c.decoded)
		}
	}
}
