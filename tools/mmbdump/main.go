// Command mmbdump describes, verifies and compares .mmb files. See
// format/inspect for what it prints.
package main

import (
	"os"

	"github.com/mmbformat/mmb/format/inspect"
)

func main() {
	path, opts, err := inspect.ParseDumpArgs(os.Args[1:])
	if err == nil {
		err = inspect.Dump(os.Stdout, path, opts)
	}
	os.Exit(inspect.Exit(os.Stderr, "mmbdump", err, inspect.DumpUsage()))
}
