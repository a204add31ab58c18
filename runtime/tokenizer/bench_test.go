package tokenizer

import (
	"math/rand"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
)

// benchText is Go source: this package's own files, read once.
func benchText(b *testing.B) string {
	var sb strings.Builder
	for _, f := range []string{"tokenizer.go", "bpe.go", "split.go", "pretok.go", "added.go", "decode.go"} {
		sb.Write(readFile(b, f))
	}
	return sb.String()
}

// runeScan is the baseline: one pass classifying every rune, the least any splitter must do.
func runeScan(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

var sink int

// nsPer measures f's time per call over at least 50ms, in this run.
func nsPer(f func()) float64 {
	n := 0
	start := time.Now()
	for time.Since(start) < 50*time.Millisecond {
		f()
		n++
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

// BenchmarkEncode reports MB/s and "x-rune-scan": the time of Encode over that of a rune
// classification pass on the same text measured in the same run.
func BenchmarkEncode(b *testing.B) {
	text := benchText(b)
	gocoder := readFile(b, filepath.Join(gocoderDir, "tokenizer.json"))
	llama3, err := Load([]byte(editTB(b, gocoder, "pre_tokenizer", `{"type": "Sequence", "pretokenizers": [`+
		`{"type": "Split", "pattern": {"Regex": `+quoteJSON(patLlama3)+`}, "behavior": "Isolated", "invert": false},`+
		`{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]}`)), nil)
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		tk   *Tokenizer
	}{
		{"gocoder-gpt2", loadDir(b, gocoderDir)},
		{"gocoder-llama3", llama3},
		{"mistral-spm", loadDir(b, filepath.Join(fixturesDir, "mistral-tiny-f16-spm"))},
	}
	base := nsPer(func() { sink += runeScan(text) })
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			c.tk.Encode(text, false) // warm the word cache, as a long-running process has it
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				sink += len(c.tk.Encode(text, false))
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/base, "x-rune-scan")
		})
	}
	b.Run("gocoder-gpt2-cold", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		for b.Loop() {
			b.StopTimer()
			tk := loadDir(b, gocoderDir) // empty word cache
			b.StartTimer()
			sink += len(tk.Encode(text, false))
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/base, "x-rune-scan")
	})
}

// BenchmarkLongWord: BPE on one long word (no cache) must not be quadratic; "per-byte-64k/1k" is
// the cost per byte of a 64 KiB word over that of a 1 KiB word (about 1 when n log n).
func BenchmarkLongWord(b *testing.B) {
	tk := loadDir(b, gocoderDir)
	rng := rand.New(rand.NewSource(1))
	word := func(n int) string {
		var sb strings.Builder
		for sb.Len() < n {
			sb.WriteByte("abcdefghijklmnopqrstuvwxyz"[rng.Intn(26)])
		}
		return sb.String()
	}
	short, long := word(1<<10), word(1<<16)
	perByteShort := nsPer(func() { sink += len(tk.Encode(short, false)) }) / float64(len(short))
	b.SetBytes(int64(len(long)))
	for b.Loop() {
		sink += len(tk.Encode(long, false))
	}
	perByteLong := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(len(long))
	b.ReportMetric(perByteLong/perByteShort, "per-byte-64k/1k")
}
