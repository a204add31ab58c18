// Package runcmd is mmbrun: open a model file, pick a backend, tokenize,
// generate, report speed. tools/mmbrun only parses flags into Options.
package runcmd

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/mmbformat/mmb/format"
	"github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/cpu"
	"github.com/mmbformat/mmb/runtime/generate"
	"github.com/mmbformat/mmb/runtime/npy"
	"github.com/mmbformat/mmb/runtime/sample"
	"github.com/mmbformat/mmb/runtime/tokenizer"
	"github.com/mmbformat/mmb/runtime/vulkan"
)

// Options are mmbrun's flags.
type Options struct {
	Model       string
	Rev         int // -1: the newest
	Prompt      string
	PromptIDs   string // "1,2,3"; overrides Prompt
	MaxNew      int
	Sampling    sample.Params
	Stop        []string
	Backend     string // auto, cpu, vulkan
	Device      int    // vulkan device index; -1: best
	Threads     int
	MaxContext  int
	Tokenize    bool // print the prompt ids as JSON and exit
	PrintIDs    bool // print all ids as JSON instead of text
	LogitsOut   string
	ListDevices bool
	Quiet       bool // no speed line on stderr
}

// Run does what the options ask, writing text to stdout and reports to stderr.
func Run(o Options, stdout, stderr io.Writer) (err error) {
	if o.ListDevices {
		return listDevices(stdout)
	}
	if o.Model == "" {
		return errors.New("no model file given (usage: mmbrun [flags] MODEL.mmb)")
	}
	f, err := format.Open(o.Model)
	if err != nil {
		return fmt.Errorf("open model: %w", err)
	}
	defer f.Close()
	if n := f.SkippedBytes(); n > 0 {
		fmt.Fprintf(stderr, "mmbrun: %s ends in a torn append of %d bytes; using revision %d\n", o.Model, n, f.Latest().Number)
	}
	rev := f.Latest()
	if o.Rev >= 0 {
		if rev, err = f.Revision(o.Rev); err != nil {
			return err
		}
	}
	if rev.Config == nil {
		return fmt.Errorf("%s: revision %d has no model config", o.Model, rev.Number)
	}
	// A file without a tokenizer (e.g. random-weight benchmark models) still
	// runs from --prompt-ids and prints --ids.
	tok, err := loadTokenizer(f, rev)
	if err != nil && (o.PromptIDs == "" || !o.PrintIDs || !errors.Is(err, errNoTokenizer)) {
		return err
	}
	var ids []int
	if o.PromptIDs != "" {
		if ids, err = parseIDs(o.PromptIDs, rev.Config.VocabSize); err != nil {
			return err
		}
	} else {
		ids = tok.Encode(o.Prompt, true)
	}
	if o.Tokenize {
		return writeJSON(stdout, ids)
	}
	if len(ids) == 0 {
		return errors.New("empty prompt: give -p TEXT or --prompt-ids")
	}

	b, err := openBackend(o, stderr)
	if err != nil {
		return err
	}
	defer b.Close()
	m, err := runtime.Load(f, rev, b, runtime.Options{MaxContext: o.MaxContext})
	if err != nil {
		return fmt.Errorf("load model: %w", err)
	}
	sess, err := m.NewSession()
	if err != nil {
		return err
	}
	if len(ids) > sess.MaxPositions() {
		return fmt.Errorf("prompt of %d tokens is longer than the context (%d positions; --ctx raises it up to the model's %d)", len(ids), sess.MaxPositions(), rev.Config.MaxPositions)
	}

	if o.LogitsOut != "" {
		all, err := sess.PrefillAll(ids)
		if err != nil {
			return err
		}
		if err := writeLogits(o.LogitsOut, len(ids), rev.Config.VocabSize, all); err != nil {
			return err
		}
		if o.MaxNew == 0 {
			return nil
		}
		if err := sess.Reset(); err != nil {
			return err
		}
	}

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	gen := generate.Options{MaxNew: o.MaxNew, Sampling: o.Sampling, StopIDs: rev.Config.EOSTokenIDs, StopStrings: o.Stop}
	if tok != nil {
		gen.StopIDs = append(append([]int(nil), gen.StopIDs...), tok.EOS()...)
	}
	if !o.PrintIDs {
		gen.Detok = tok.NewStreamDecoder()
		gen.Out = flushWriter{out}
		if o.Prompt != "" && o.PromptIDs == "" {
			io.WriteString(out, o.Prompt)
		}
	}
	res, err := generate.Run(sess, ids, gen)
	if err != nil {
		return err
	}
	if o.PrintIDs {
		if err := writeJSON(out, res.IDs); err != nil {
			return err
		}
	} else {
		io.WriteString(out, "\n")
	}
	if err := out.Flush(); err != nil {
		return err
	}
	if !o.Quiet {
		fmt.Fprintf(stderr, "mmbrun: %s backend; prompt %d tokens, %.1f tok/s; decode %d tokens, %.1f tok/s; stop: %s\n",
			b.Name(), res.PromptTokens, res.PromptTokensPerSec(), res.NewTokens, res.DecodeTokensPerSec(), res.StopReason)
	}
	return nil
}

// flushWriter makes streamed text appear as it is generated.
type flushWriter struct{ w *bufio.Writer }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		err = f.w.Flush()
	}
	return n, err
}

var errNoTokenizer = errors.New("no tokenizer.json in the file")

func loadTokenizer(f *format.File, rev *format.Revision) (*tokenizer.Tokenizer, error) {
	ti, ok := rev.Tensor(format.TokenizerJSONTensor)
	if !ok {
		return nil, fmt.Errorf("%s: revision %d: %w (run with --prompt-ids and --ids)", f.Name(), rev.Number, errNoTokenizer)
	}
	tj, err := f.Data(ti)
	if err != nil {
		return nil, err
	}
	var tc []byte
	if ci, ok := rev.Tensor(format.TokenizerConfigTensor); ok {
		if tc, err = f.Data(ci); err != nil {
			return nil, err
		}
	}
	t, err := tokenizer.Load(tj, tc)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	return t, nil
}

func parseIDs(s string, vocab int) ([]int, error) {
	var ids []int
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v >= vocab {
			return nil, fmt.Errorf("--prompt-ids: %q is not a token id in [0, %d)", p, vocab)
		}
		ids = append(ids, v)
	}
	return ids, nil
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func writeLogits(path string, rows, vocab int, data []float32) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("logits: %w", err)
	}
	bw := bufio.NewWriter(fh)
	if err := npy.WriteFloat32(bw, []int{rows, vocab}, data[:rows*vocab]); err != nil {
		fh.Close()
		return fmt.Errorf("logits: %w", err)
	}
	if err := bw.Flush(); err != nil {
		fh.Close()
		return fmt.Errorf("logits: %w", err)
	}
	return fh.Close()
}

func openBackend(o Options, stderr io.Writer) (runtime.Backend, error) {
	return OpenBackend("mmbrun", o.Backend, vulkan.Options{Device: o.Device}, o.Threads, stderr)
}

// OpenBackend opens the backend called name (auto, cpu or vulkan) as mmbrun's
// --backend, --device and --threads do (vo.Device is the device index, -1
// the best); prog prefixes the notes written to stderr when auto falls back
// to the CPU.
func OpenBackend(prog, name string, vo vulkan.Options, threads int, stderr io.Writer) (runtime.Backend, error) {
	device := vo.Device
	switch name {
	case "cpu":
		return cpu.New(cpu.Options{Threads: threads}), nil
	case "vulkan":
		b, err := vulkan.New(vo)
		if err != nil {
			return nil, fmt.Errorf("vulkan backend: %w", err)
		}
		return b, nil
	case "auto", "":
		// A Vulkan device that is itself the CPU (lavapipe) is slower than the
		// native CPU backend, so auto takes Vulkan only for a real GPU.
		devs, err := vulkan.ListDevices()
		gpu := false
		for _, d := range devs {
			if d.Type != "CPU" && (device < 0 || d.Index == device) {
				gpu = true
			}
		}
		if err == nil && gpu {
			b, err := vulkan.New(vo)
			if err == nil {
				return b, nil
			}
			fmt.Fprintf(stderr, "%s: Vulkan device unusable (%v); running on the CPU\n", prog, err)
		} else if err != nil {
			fmt.Fprintf(stderr, "%s: no Vulkan (%v); running on the CPU\n", prog, err)
		} else {
			fmt.Fprintf(stderr, "%s: no Vulkan GPU (only a CPU implementation); running on the CPU backend\n", prog)
		}
		return cpu.New(cpu.Options{Threads: threads}), nil
	}
	return nil, fmt.Errorf("--backend %q: want auto, cpu or vulkan", name)
}

func listDevices(w io.Writer) error {
	devs, err := vulkan.ListDevices()
	if err != nil {
		return err
	}
	for _, d := range devs {
		fmt.Fprintln(w, d.String())
	}
	return nil
}
