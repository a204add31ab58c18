// Command mmbbench measures a model's speed on one backend: memory bandwidth,
// decode (and its fraction of the bandwidth limit), prefill, decode at long
// contexts, and per-op time with --profile. "mmbbench gen" writes a model
// with random weights to benchmark without a checkpoint.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/mmbformat/mmb/runtime/bench"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "gen" {
		gen(os.Args[2:])
		return
	}
	var o bench.Options
	pre, ctx := bench.Lengths{512, 4096}, bench.Lengths{1024, 8192, 32768}
	fs := flag.NewFlagSet("mmbbench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: mmbbench [flags] MODEL.mmb\n       mmbbench gen [flags] OUT.mmb (gen -h for its flags)")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.Backend, "backend", "auto", "auto, cpu or vulkan")
	fs.IntVar(&o.Device, "device", -1, "Vulkan device index (mmbrun --list-devices; -1: best)")
	fs.IntVar(&o.Threads, "threads", 0, "CPU threads (0: all cores)")
	fs.IntVar(&o.Rev, "rev", -1, "revision to run (-1: newest)")
	fs.IntVar(&o.PromptTokens, "prompt", 16, "prompt tokens before the decode run")
	fs.IntVar(&o.DecodeTokens, "decode", 128, "tokens decoded for the headline figure")
	fs.Var(&pre, "prefill", "prompt lengths to time prefill for (k = 1024; none: skip)")
	fs.Var(&ctx, "contexts", "contexts to time decode at (capped to the model's positions; none: skip)")
	fs.IntVar(&o.ContextTokens, "context-decode", 32, "tokens decoded at each context")
	fs.IntVar(&o.PrefillChunk, "chunk", 0, "rows per forward pass in prefill (0: runtime default)")
	fs.IntVar(&o.SubmitLayers, "submit-layers", 0, "layers per early GPU submission while a step is recorded (0: runtime default, -1: off)")
	fs.IntVar(&o.SubmitFirst, "submit-first", 0, "layers before the first early GPU submission of a forward pass (0: runtime default, 1)")
	fs.BoolVar(&o.HostFeed, "host-feed", false, "read each greedy token back before the next decode step is recorded (default: fed on the device where the backend can, steps queued ahead)")
	fs.IntVar(&o.MatvecSplit, "matvec-split", 0, "Vulkan: subgroups per row of a decode matvec (0: default, 1: never split)")
	fs.IntVar(&o.RowPairs, "matvec-row-pairs", 0, "Vulkan: plain decode matvecs with two rows per subgroup (0: default, a Q8_0 lm_head; 1: all; -1: none)")
	fs.BoolVar(&o.NoAttnBlock, "no-attn-block", false, "Vulkan: decode attention, its output projection and residual add as separate stages")
	fs.BoolVar(&o.NoSSMBlock, "no-ssm-block", false, "Vulkan: a decode row's Mamba-2 scan, gated norm and output projection as separate stages")
	fs.IntVar(&o.MLPFeatures, "mlp-features", 0, "Vulkan: ffn features per workgroup of the one-dispatch decode MLP block (0: default 32; 16, 64; -1: off)")
	fs.IntVar(&o.Reps, "reps", 3, "repetitions of the decode and prefill timings (median reported)")
	fs.IntVar(&o.BandwidthMiB, "bw-mib", 1024, "size of the bandwidth probe in MiB")
	fs.BoolVar(&o.Profile, "profile", false, "time each op (GPU timestamps where the backend has them, else wall clock)")
	fs.IntVar(&o.ProfileTokens, "profile-tokens", 16, "decode steps to profile")
	fs.BoolVar(&o.JSON, "json", false, "print the result as JSON instead of the table")
	fs.StringVar(&o.JSONOut, "json-out", "", "also write the result as JSON to this file")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		os.Exit(2)
	}
	o.Model, o.Prefill, o.Contexts = fs.Arg(0), pre, ctx
	if err := bench.Run(o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mmbbench:", err)
		os.Exit(1)
	}
}

func gen(args []string) {
	var o bench.GenOptions
	fs := flag.NewFlagSet("mmbbench gen", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: mmbbench gen [flags] OUT.mmb (defaults: Llama-3.2-1B's shape)")
		fs.PrintDefaults()
	}
	fs.IntVar(&o.Hidden, "hidden", 2048, "hidden size")
	fs.IntVar(&o.Intermediate, "inter", 8192, "MLP intermediate size")
	fs.IntVar(&o.Layers, "layers", 16, "decoder layers")
	fs.IntVar(&o.Heads, "heads", 32, "attention heads (and Mamba heads)")
	fs.IntVar(&o.KVHeads, "kv-heads", 8, "key/value heads")
	fs.IntVar(&o.HeadDim, "head-dim", 64, "head dimension")
	fs.IntVar(&o.Vocab, "vocab", 128256, "vocabulary size")
	fs.IntVar(&o.MaxPositions, "max-pos", 131072, "max_position_embeddings")
	fs.BoolVar(&o.Untied, "untied", false, "separate lm_head instead of the tied embedding")
	fs.StringVar(&o.DType, "dtype", "f16", "matrix dtype: f32, f16, bf16, q8_0")
	fs.StringVar(&o.MambaLayers, "mamba-layers", "none", "all, half, none, or a count spread evenly")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed")
	fs.StringVar(&o.TokenizerJSON, "tokenizer", "", "tokenizer.json to store with the model (optional)")
	fs.StringVar(&o.TokenizerConfig, "tokenizer-config", "", "tokenizer_config.json to store with the model (optional)")
	if err := fs.Parse(args); err != nil {
		os.Exit(2)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		os.Exit(2)
	}
	if _, err := bench.Generate(fs.Arg(0), o); err != nil {
		fmt.Fprintln(os.Stderr, "mmbbench gen:", err)
		os.Exit(1)
	}
}
