// Command mmbexport writes a revision of a .mmb file back as a HuggingFace
// checkpoint (config.json, mamba_config.json for hybrids, safetensors,
// tokenizer and generation files).
//
//	mmbexport [flags] FILE.mmb OUTDIR
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/mmbformat/mmb/convert"
	"github.com/mmbformat/mmb/format"
)

func main() {
	fs := flag.NewFlagSet("mmbexport", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: mmbexport [flags] FILE.mmb OUTDIR\n\n")
		fs.PrintDefaults()
	}
	rev := fs.Int("rev", convert.LatestRevision, "revision to export (default: the newest)")
	dtype := fs.String("dtype", "", "dtype of the exported tensors: f32, f16 or bf16 (default: the converted checkpoint's)")
	shard := fs.Int64("shard-size", convert.DefaultShardSize, "largest safetensors file in bytes before sharding")
	jsonOut := fs.Bool("json", false, "print a JSON summary on stdout")
	// Flags may follow the positional arguments.
	fs.Parse(os.Args[1:])
	args := fs.Args()
	if len(args) > 2 {
		fs.Parse(args[2:])
		args = append(args[:2:2], fs.Args()...)
	}
	if len(args) != 2 {
		fs.Usage()
		os.Exit(2)
	}
	o := convert.ExportOptions{Input: args[0], OutDir: args[1], Revision: *rev, ShardSize: *shard}
	if *dtype != "" {
		d, err := format.ParseDType(*dtype)
		if err != nil {
			fail(err)
		}
		o.DType = d
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sum, err := convert.Export(ctx, o)
	if err != nil {
		fail(err)
	}
	if *jsonOut {
		e := json.NewEncoder(os.Stdout)
		e.SetIndent("", "  ")
		e.Encode(sum)
		return
	}
	fmt.Fprintf(os.Stderr, "%s: revision %d, %d tensors (%s), %.2f GB in %v\n", sum.OutDir, sum.Revision, sum.Tensors, sum.DType, float64(sum.Bytes)/1e9, sum.Files)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mmbexport:", err)
	os.Exit(1)
}
