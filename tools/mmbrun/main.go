// Command mmbrun runs a model stored in an .mmb file.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/mmbformat/mmb/runtime/runcmd"
)

type stops []string

func (s *stops) String() string     { return strings.Join(*s, ",") }
func (s *stops) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	var o runcmd.Options
	var st stops
	fs := flag.NewFlagSet("mmbrun", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: mmbrun [flags] MODEL.mmb")
		fs.PrintDefaults()
	}
	for _, n := range []string{"p", "prompt"} {
		fs.StringVar(&o.Prompt, n, "", "prompt text")
	}
	fs.StringVar(&o.PromptIDs, "prompt-ids", "", "prompt as token ids, e.g. 1,2,3")
	fs.IntVar(&o.MaxNew, "n", 64, "new tokens to generate (0: prefill only)")
	fs.Float64Var(&o.Sampling.Temperature, "temp", 0.8, "temperature (0: greedy)")
	fs.IntVar(&o.Sampling.TopK, "top-k", 40, "keep the k most likely tokens (0: off)")
	fs.Float64Var(&o.Sampling.TopP, "top-p", 0.95, "nucleus sampling threshold (1: off)")
	fs.Float64Var(&o.Sampling.MinP, "min-p", 0.05, "drop tokens below this fraction of the top probability (0: off)")
	fs.Float64Var(&o.Sampling.RepetitionPenalty, "repeat-penalty", 1, "repetition penalty (1: off)")
	fs.Uint64Var(&o.Sampling.Seed, "seed", 1, "random seed")
	fs.Var(&st, "stop", "stop string (repeatable)")
	fs.StringVar(&o.Backend, "backend", "auto", "auto, cpu or vulkan")
	fs.IntVar(&o.Device, "device", -1, "Vulkan device index (see --list-devices; -1: best)")
	fs.IntVar(&o.Threads, "threads", 0, "CPU threads (0: all cores)")
	fs.IntVar(&o.MaxContext, "ctx", 0, "context positions to allocate (0: model's, capped at 8192)")
	fs.IntVar(&o.Rev, "rev", -1, "revision to run (-1: newest)")
	fs.BoolVar(&o.Tokenize, "tokenize", false, "print the prompt's token ids as JSON and exit")
	fs.BoolVar(&o.PrintIDs, "ids", false, "print the token ids (prompt included) as JSON instead of text")
	fs.StringVar(&o.LogitsOut, "logits-out", "", "write the prompt's logits [positions, vocab] to this .npy file")
	fs.BoolVar(&o.ListDevices, "list-devices", false, "list Vulkan devices and exit")
	fs.BoolVar(&o.Quiet, "q", false, "no speed report on stderr")
	// Flags may come before or after the model file.
	var files []string
	args := os.Args[1:]
	for {
		if err := fs.Parse(args); err != nil {
			os.Exit(2)
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	o.Stop = st
	if len(files) > 1 {
		fmt.Fprintf(os.Stderr, "mmbrun: one model file, got %d\n", len(files))
		os.Exit(2)
	}
	if len(files) == 1 {
		o.Model = files[0]
	}
	if err := runcmd.Run(o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mmbrun:", err)
		os.Exit(1)
	}
}
