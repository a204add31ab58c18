// Command hfconvert converts a HuggingFace Llama/Mistral checkpoint
// (safetensors) into a .mmb file, optionally replacing attention layers by
// Mamba-2 mixers initialised from them.
//
//	hfconvert [flags] INPUT OUTPUT.mmb
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"

	"github.com/mmbformat/mmb/convert"
	"github.com/mmbformat/mmb/format"
	"golang.org/x/term"
)

func main() {
	fs := flag.NewFlagSet("hfconvert", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: hfconvert [flags] INPUT OUTPUT.mmb\n\nINPUT is a .safetensors file, an index file or a checkpoint folder.\n\n")
		fs.PrintDefaults()
	}
	keep := fs.String("keep-attention", "", "fraction of attention layers kept: 1, 0.5, 0.25, 0.125 or 0 (default: keep the source's layer kinds)")
	layers := fs.String("attention-layers", "", "comma-separated attention layers to keep (0-based); \"none\" for all Mamba")
	dtype := fs.String("dtype", "", "dtype of the large matrices: f32, f16, bf16 or q8_0 (default: the source's)")
	seed := fs.Uint64("seed", 0, "seed of the fresh Mamba parameters")
	jsonOut := fs.Bool("json", false, "print a JSON summary on stdout")
	fs.Parse(os.Args[1:])
	if fs.NArg() != 2 {
		fs.Usage()
		os.Exit(2)
	}
	o := convert.Options{Input: fs.Arg(0), Output: fs.Arg(1), Seed: *seed, Command: strings.Join(os.Args, " ")}
	if *keep != "" {
		r, err := strconv.ParseFloat(*keep, 64)
		if err != nil {
			fail(fmt.Errorf("keep-attention: %w", err))
		}
		o.KeepAttention = &r
	}
	if *layers != "" {
		o.AttentionLayers = []int{}
		if *layers != "none" {
			for _, s := range strings.Split(*layers, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil {
					fail(fmt.Errorf("attention-layers: %w", err))
				}
				o.AttentionLayers = append(o.AttentionLayers, n)
			}
		}
	}
	if *dtype != "" {
		d, err := format.ParseDType(*dtype)
		if err != nil {
			fail(err)
		}
		o.DType = d
	}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		o.Progress = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sum, err := convert.Convert(ctx, o)
	if err != nil {
		fail(err)
	}
	if *jsonOut {
		e := json.NewEncoder(os.Stdout)
		e.SetIndent("", "  ")
		e.Encode(sum)
		return
	}
	printSummary(os.Stderr, sum)
}

func printSummary(w io.Writer, s *convert.Summary) {
	fmt.Fprintf(w, "%s: %d tensors, %d layers (attention %v), %.2f GB in %.2fs (%.2f GB/s)\n",
		s.Output, s.Tensors, len(s.LayerKinds), s.AttentionLayers, float64(s.SourceBytes)/1e9, s.Seconds, s.GBPerSecond)
	for _, f := range s.Fallbacks {
		fmt.Fprintln(w, "note:", f)
	}
	for _, m := range s.Warnings {
		fmt.Fprintln(w, "warning:", m)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "hfconvert:", err)
	os.Exit(1)
}
