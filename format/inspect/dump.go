package inspect

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/mmbformat/mmb/format"
)

// DumpOptions are mmbdump's flags.
type DumpOptions struct {
	JSON   bool
	Rev    int // -1: the newest revision
	Verify bool
	Tensor string
	Stats  bool
	Diff   bool
	DiffA  int
	DiffB  int
}

// ErrUsage marks bad command lines (exit status 2).
var ErrUsage = errors.New("usage")

// ErrVerify is returned when --verify finds bad tensors (exit status 1).
var ErrVerify = errors.New("verify failed")

const dumpUsage = `usage: mmbdump FILE [--json] [--rev N] [--verify] [--tensor NAME [--stats]] [--diff A B]

Describes a .mmb file: format version, revisions, config, tokenizer, metadata,
provenance and the tensor table of the newest revision (or --rev N).
  --json          machine-readable output
  --rev N         describe revision N
  --verify        check every tensor checksum; exit 1 naming each bad tensor
  --tensor NAME   describe one tensor; with --stats: min, max, mean, std, NaN/Inf counts
  --diff A B      tensors added/changed/removed and metadata/config changes from A to B
Exit status: 0 ok, 1 error or failed verify, 2 bad command line.`

// ParseDumpArgs reads mmbdump's command line. Flags may come before or after
// FILE; --diff takes two values.
func ParseDumpArgs(args []string) (string, DumpOptions, error) {
	o := DumpOptions{Rev: -1}
	fs := flag.NewFlagSet("mmbdump", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&o.JSON, "json", false, "")
	fs.IntVar(&o.Rev, "rev", -1, "")
	fs.BoolVar(&o.Verify, "verify", false, "")
	fs.StringVar(&o.Tensor, "tensor", "", "")
	fs.BoolVar(&o.Stats, "stats", false, "")
	// --diff A B is taken out before flag parsing, which knows one value per flag.
	var rest []string
	for i := 0; i < len(args); i++ {
		if a := args[i]; a == "--diff" || a == "-diff" {
			if i+2 >= len(args) {
				return "", o, usageErr("--diff needs two revision numbers")
			}
			var err1, err2 error
			o.DiffA, err1 = strconv.Atoi(args[i+1])
			o.DiffB, err2 = strconv.Atoi(args[i+2])
			if err1 != nil || err2 != nil {
				return "", o, usageErr(fmt.Sprintf("--diff %s %s: revisions are numbers", args[i+1], args[i+2]))
			}
			o.Diff = true
			i += 2
			continue
		}
		rest = append(rest, args[i])
	}
	pos, err := parseInterleaved(fs, rest)
	if err != nil {
		return "", o, err
	}
	if len(pos) != 1 {
		return "", o, usageErr(fmt.Sprintf("want one FILE, got %d arguments", len(pos)))
	}
	if o.Stats && o.Tensor == "" {
		return "", o, usageErr("--stats needs --tensor NAME")
	}
	return pos[0], o, nil
}

// parseInterleaved parses flags anywhere among the positional arguments
// (the flag package stops at the first non-flag).
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, usageErr("")
			}
			return nil, usageErr(err.Error())
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }
func (e *usageError) Unwrap() error { return ErrUsage }

func usageErr(msg string) error { return &usageError{msg} }

// Exit prints err as one line on w, prefixed with the tool's name, and
// returns the exit status: 0 for nil, 2 for a bad command line, 1 otherwise.
func Exit(w io.Writer, tool string, err error, usage string) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, ErrUsage) {
		if m := err.Error(); m != "" {
			fmt.Fprintf(w, "%s: %s\n", tool, m)
		}
		fmt.Fprintln(w, usage)
		return 2
	}
	fmt.Fprintf(w, "%s: %s\n", tool, oneLine(err.Error()))
	return 1
}

// DumpUsage is mmbdump's help text.
func DumpUsage() string { return dumpUsage }

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }

// Dump writes what o asks for about the file at path to w.
func Dump(w io.Writer, path string, o DumpOptions) error {
	f, err := format.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := f.Latest()
	if o.Rev >= 0 {
		if r, err = f.Revision(o.Rev); err != nil {
			return err
		}
	}
	switch {
	case o.Diff:
		a, err := f.Revision(o.DiffA)
		if err != nil {
			return err
		}
		b, err := f.Revision(o.DiffB)
		if err != nil {
			return err
		}
		d := Diff(a, b)
		if o.JSON {
			return writeJSON(w, d)
		}
		writeDiff(w, d)
		return nil
	case o.Tensor != "":
		t, ok := r.Tensor(o.Tensor)
		if !ok {
			return fmt.Errorf("%s: revision %d: tensor %s: %w", path, r.Number, format.Quote(o.Tensor), format.ErrNoTensor)
		}
		if !o.Stats {
			if o.JSON {
				return writeJSON(w, tensorOf(t))
			}
			writeTensors(w, []Tensor{tensorOf(t)})
			return nil
		}
		s, err := TensorStats(f, t)
		if err != nil {
			return err
		}
		if o.JSON {
			return writeJSON(w, s)
		}
		writeStats(w, s)
		return nil
	case o.Verify:
		return verify(w, f, r, o.JSON)
	}
	d := Describe(f, r)
	if o.JSON {
		return writeJSON(w, d)
	}
	writeText(w, d)
	return nil
}

func writeJSON(w io.Writer, v any) error {
	b, err := marshalJSON(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// VerifyResult is --verify --json's output.
type VerifyResult struct {
	Revision int         `json:"revision"`
	Tensors  int         `json:"tensors"`
	Bad      []BadTensor `json:"bad"`
}

// BadTensor is one tensor that failed verification.
type BadTensor struct {
	Name  string `json:"name"`
	Error string `json:"error"`
}

// verify checks every tensor of r, prints one line per bad tensor and
// returns ErrVerify naming them.
func verify(w io.Writer, f *format.File, r *format.Revision, asJSON bool) error {
	res := VerifyResult{Revision: r.Number, Tensors: len(r.Tensors), Bad: []BadTensor{}}
	for i := range r.Tensors {
		t := &r.Tensors[i]
		one := &format.Revision{Number: r.Number, Tensors: []format.TensorInfo{*t}}
		if err := f.Verify(one); err != nil {
			res.Bad = append(res.Bad, BadTensor{Name: t.Name, Error: oneLine(err.Error())})
		}
	}
	if asJSON {
		if err := writeJSON(w, res); err != nil {
			return err
		}
	} else {
		for _, b := range res.Bad {
			fmt.Fprintf(w, "BAD %s: %s\n", format.Quote(b.Name), b.Error)
		}
		if len(res.Bad) == 0 {
			fmt.Fprintf(w, "ok: revision %d, %d tensors verified\n", r.Number, len(r.Tensors))
		}
	}
	if len(res.Bad) == 0 {
		return nil
	}
	names := make([]string, len(res.Bad))
	for i, b := range res.Bad {
		names[i] = format.Quote(b.Name)
	}
	return fmt.Errorf("%w: %s: revision %d: %d of %d tensors bad: %s", ErrVerify, f.Name(), r.Number, len(res.Bad), len(r.Tensors), strings.Join(names, ", "))
}

// short quotes a value from the file for one line of text, cutting long ones.
func short(s string) string {
	const max = 100
	if len(s) <= max {
		return format.Quote(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return format.Quote(s[:cut]) + fmt.Sprintf("… (%d bytes)", len(s))
}

func writeText(w io.Writer, d *Description) {
	fmt.Fprintf(w, "file:      %s (%d bytes)\n", format.Quote(d.File), d.Size)
	fmt.Fprintf(w, "format:    %s\n", d.FormatVersion)
	if d.SkippedBytes > 0 {
		last := d.Revisions[len(d.Revisions)-1].Number
		fmt.Fprintf(w, "warning:   skipped %d bytes of a torn append after revision %d\n", d.SkippedBytes, last)
	}
	fmt.Fprintf(w, "revision:  %d of %d\n\nrevisions:\n", d.Revision, len(d.Revisions))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tstage\tparent\ttime\tsize\ttensors\twritten")
	for _, r := range d.Revisions {
		parent := "-"
		if r.Parent >= 0 {
			parent = strconv.Itoa(r.Parent)
		}
		mark := " "
		if r.Number == d.Revision {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s %d\t%s\t%s\t%s\t%d\t%d\t%d\n", mark, r.Number, format.Quote(r.Stage), parent, r.Time, r.Size, r.Tensors, r.Written)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nconfig:")
	if d.config == nil {
		fmt.Fprintln(w, "  (none)")
	} else {
		flat := map[string]string{}
		flatten("", d.Config, flat)
		for _, k := range sortedKeys(flat) {
			fmt.Fprintf(w, "  %s: %s\n", format.Quote(k), short(flat[k]))
		}
	}

	t := d.Tokenizer
	fmt.Fprintln(w, "\ntokenizer:")
	if len(t.Tensors) == 0 {
		fmt.Fprintln(w, "  (no tokenizer tensors)")
	}
	for _, tf := range t.Tensors {
		fmt.Fprintf(w, "  %s: %d bytes (revision %d)\n", tf.Name, tf.NBytes, tf.Revision)
	}
	if t.Model != "" {
		fmt.Fprintf(w, "  model: %s, %d added tokens\n", short(t.Model), t.AddedTokens)
	}
	if t.BOSToken != "" || t.EOSToken != "" {
		fmt.Fprintf(w, "  bos_token: %s  eos_token: %s\n", short(t.BOSToken), short(t.EOSToken))
	}
	if t.ChatTemplateBytes > 0 {
		fmt.Fprintf(w, "  chat_template: %d bytes\n", t.ChatTemplateBytes)
	}
	for _, e := range t.Errors {
		fmt.Fprintf(w, "  error: %s\n", oneLine(e))
	}

	fmt.Fprintln(w, "\nmetadata:")
	if len(d.Metadata) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	for _, k := range sortedKeys(d.Metadata) {
		fmt.Fprintf(w, "  %s = %s\n", format.Quote(k), short(d.Metadata[k]))
	}
	if len(d.Metrics) > 0 {
		fmt.Fprintln(w, "\nmetrics:")
		for _, k := range sortedKeys(d.Metrics) {
			fmt.Fprintf(w, "  %s = %v\n", format.Quote(k), d.Metrics[k])
		}
	}
	fmt.Fprintln(w, "\nprovenance:")
	if p := d.Provenance; p == nil {
		fmt.Fprintln(w, "  (none)")
	} else {
		fmt.Fprintf(w, "  tool: %s\n  command: %s\n", short(p.Tool), short(p.Command))
		for _, s := range p.Sources {
			fmt.Fprintf(w, "  source: %s %d bytes sha256 %s\n", short(s.Name), s.Size, short(s.SHA256))
		}
	}
	fmt.Fprintf(w, "\ntensors: %d, %d bytes\n", len(d.Tensors), d.TensorBytes)
	writeTensors(w, d.Tensors)
}

func shapeString(s []int64) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.FormatInt(v, 10)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func writeTensors(w io.Writer, ts []Tensor) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	// right-aligned numbers; the name column is last so long names do not
	// push the table apart
	fmt.Fprintln(tw, "dtype\tshape\tbytes\toffset\trev\t\tname")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t\t%s\n", t.DType, shapeString(t.Shape), t.NBytes, t.Offset, t.Revision, format.Quote(t.Name))
	}
	tw.Flush()
}

func writeStats(w io.Writer, s *Stats) {
	fmt.Fprintf(w, "tensor: %s %s %s, %d values\n", format.Quote(s.Name), s.DType, shapeString(s.Shape), s.Count)
	if s.Min != nil {
		fmt.Fprintf(w, "min:    %.9g\nmax:    %.9g\nmean:   %.9g\nstd:    %.9g\n", *s.Min, *s.Max, *s.Mean, *s.Std)
	} else {
		fmt.Fprintln(w, "no finite values")
	}
	fmt.Fprintf(w, "nan:    %d\ninf:    %d\n", s.NaN, s.Inf)
}

func writeDiff(w io.Writer, d *RevDiff) {
	fmt.Fprintf(w, "diff revision %d -> %d: %d added, %d removed, %d changed, %d unchanged tensors\n",
		d.From, d.To, len(d.Added), len(d.Removed), len(d.Changed), d.Unchanged)
	for _, t := range d.Added {
		fmt.Fprintf(w, "+ tensor %s %s %s\n", format.Quote(t.Name), t.DType, shapeString(t.Shape))
	}
	for _, t := range d.Removed {
		fmt.Fprintf(w, "- tensor %s %s %s\n", format.Quote(t.Name), t.DType, shapeString(t.Shape))
	}
	for _, c := range d.Changed {
		fmt.Fprintf(w, "~ tensor %s (%s): %s %s -> %s %s\n", format.Quote(c.Name), strings.Join(c.What, ", "),
			c.From.DType, shapeString(c.From.Shape), c.To.DType, shapeString(c.To.Shape))
	}
	for _, sec := range []struct {
		name string
		cs   []ValueChange
	}{{"metadata", d.Metadata}, {"config", d.Config}, {"metrics", d.Metrics}} {
		for _, c := range sec.cs {
			switch {
			case c.From == nil:
				fmt.Fprintf(w, "+ %s %s = %s\n", sec.name, format.Quote(c.Key), short(*c.To))
			case c.To == nil:
				fmt.Fprintf(w, "- %s %s (was %s)\n", sec.name, format.Quote(c.Key), short(*c.From))
			default:
				fmt.Fprintf(w, "~ %s %s: %s -> %s\n", sec.name, format.Quote(c.Key), short(*c.From), short(*c.To))
			}
		}
	}
}
