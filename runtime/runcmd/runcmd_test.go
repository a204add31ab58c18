package runcmd

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mmbformat/mmb/runtime/internal/hfref"
	"github.com/mmbformat/mmb/runtime/sample"
)

const fixtures = "../../testdata/fixtures"

func run(t *testing.T, o Options) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	if o.Backend == "" {
		o.Backend = "cpu"
	}
	if o.Rev == 0 {
		o.Rev = -1
	}
	err := Run(o, &out, &errb)
	return out.String(), errb.String(), err
}

func idsString(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, ",")
}

// For every fixture, mmbrun reproduces HF: --tokenize gives the ids HF's
// tokenizer gave the prompt, greedy --ids gives HF's 16 greedy tokens, and
// --logits-out writes HF's logits.
func TestFixturesThroughCLI(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(fixtures, "*"))
	n := 0
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		n++
		t.Run(filepath.Base(dir), func(t *testing.T) {
			model := hfref.Convert(t, dir, 0)
			var ref struct{ Prompt string }
			b, err := os.ReadFile(filepath.Join(dir, "reference.json"))
			if err != nil {
				t.Fatal(err)
			}
			json.Unmarshal(b, &ref)
			wantIDs := hfref.Ints(t, filepath.Join(dir, "ref_input_ids.npy"))

			out, _, err := run(t, Options{Model: model, Prompt: ref.Prompt, Tokenize: true})
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("--tokenize printed %q: %v", out, err)
			}
			// The fixtures saved the ids with add_special_tokens=False; -p encodes
			// as HF's tokenizer(text) does by default, which for the SentencePiece
			// fixture's TemplateProcessing post-processor prepends <s> (id 1).
			wantTok := wantIDs
			if filepath.Base(dir) == "mistral-tiny-f16-spm" {
				wantTok = append([]int{1}, wantIDs...)
			}
			if !slices.Equal(got, wantTok) {
				t.Errorf("--tokenize = %v\nHF gave     %v", got, wantTok)
			}

			greedy := hfref.Ints(t, filepath.Join(dir, "ref_greedy_ids.npy"))
			out, stderr, err := run(t, Options{Model: model, PromptIDs: idsString(wantIDs), MaxNew: 16, PrintIDs: true, Sampling: sample.Params{Temperature: 0}})
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("--ids printed %q: %v", out, err)
			}
			// Generation stops early at an eos id; HF's reference ran 16 steps
			// regardless, so compare the common prefix and require the stop.
			if len(got) < len(greedy) && !strings.Contains(stderr, "stop: stop_id") {
				t.Fatalf("generated %d ids without an eos stop: %s", len(got), stderr)
			}
			if !slices.Equal(got, greedy[:len(got)]) {
				t.Errorf("greedy --ids = %v\nHF gave        %v", got, greedy)
			}

			npyPath := filepath.Join(t.TempDir(), "logits.npy")
			if _, _, err := run(t, Options{Model: model, PromptIDs: idsString(wantIDs), LogitsOut: npyPath}); err != nil {
				t.Fatal(err)
			}
			gotL := hfref.Float32(t, npyPath)
			wantL := hfref.Float32(t, filepath.Join(dir, "ref_logits.npy"))
			if len(gotL) != len(wantL) {
				t.Fatalf("--logits-out wrote %d values, HF has %d", len(gotL), len(wantL))
			}
			// The same bound as the runtime's HF tests (hfref.HFTol).
			hfref.CheckClose(t, "--logits-out vs HF", gotL, wantL, hfref.HFTol)
		})
	}
	if n != 4 {
		t.Fatalf("found %d fixtures in %s, want 4", n, fixtures)
	}
}

// The bundled model through the CLI: HF's 48-token greedy continuations.
func TestGocoderGreedy(t *testing.T) {
	model := hfref.Convert(t, "../../testdata/models/gocoder-4m", 0)
	for _, c := range hfref.Gocoder(t, "../../testdata/models/gocoder-4m/reference_logits.npz") {
		out, stderr, err := run(t, Options{Model: model, PromptIDs: idsString(c.IDs), MaxNew: len(c.Greedy) - len(c.IDs), PrintIDs: true})
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		w := c.Greedy
		if len(got) < len(w) && !strings.Contains(stderr, "stop_id") {
			t.Fatalf("stopped after %d of %d ids: %s", len(got), len(w), stderr)
		}
		if len(got) > len(w) || !slices.Equal(got, w[:len(got)]) {
			t.Errorf("prompt %s: got %v\nHF       %v", c.Name, got, w)
		}
		// The text streams and speed goes to stderr.
		text, stderr, err := run(t, Options{Model: model, Prompt: "package main\n", MaxNew: 8})
		if err != nil || !strings.HasPrefix(text, "package main\n") || !strings.Contains(stderr, "decode 8 tokens") {
			t.Fatalf("text run: %v, %q, %q", err, text, stderr)
		}
	}
}

func TestErrors(t *testing.T) {
	model := hfref.Convert(t, filepath.Join(fixtures, "llama-tiny-f32"), 0)
	cases := []struct {
		name string
		o    Options
		want string
	}{
		{"missing file", Options{Model: filepath.Join(t.TempDir(), "nope.mmb"), Prompt: "x"}, "no such file"},
		{"bad revision", Options{Model: model, Rev: 5, Prompt: "x"}, "revision 5"},
		{"context", Options{Model: model, Prompt: strings.Repeat("func ", 200), MaxContext: 64}, "longer than the context"},
		{"bad ids", Options{Model: model, PromptIDs: "1,99999"}, "not a token id"},
		{"bad backend", Options{Model: model, Prompt: "x", Backend: "tpu"}, "--backend"},
	}
	for _, c := range cases {
		_, _, err := run(t, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line containing %q", c.name, err, c.want)
		}
	}
}

// A stop string ends generation and is not printed, even when it spans
// several tokens; the text before it is.
func TestStopString(t *testing.T) {
	model := hfref.Convert(t, "../../testdata/models/gocoder-4m", 0)
	prompt := "package main\n\nimport (\n\t\"fmt\"\n"
	full, _, err := run(t, Options{Model: model, Prompt: prompt, MaxNew: 48})
	if err != nil {
		t.Fatal(err)
	}
	const stop = "\"io\""
	i := strings.Index(full, stop)
	if i < len(prompt) {
		t.Fatalf("the greedy continuation has no %s to stop at: %q", stop, full)
	}
	out, stderr, err := run(t, Options{Model: model, Prompt: prompt, MaxNew: 48, Stop: []string{stop}})
	if err != nil {
		t.Fatal(err)
	}
	if want := full[:i] + "\n"; out != want {
		t.Errorf("with stop %s printed %q, want %q", stop, out, want)
	}
	if !strings.Contains(stderr, "stop: stop_string") {
		t.Errorf("stderr %q does not report the stop string", stderr)
	}
}
