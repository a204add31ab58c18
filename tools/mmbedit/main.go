// Command mmbedit changes a .mmb file's metadata (or config fields) by
// appending a metadata-only revision, and prints the new revision number.
package main

import (
	"fmt"
	"os"

	"github.com/mmbformat/mmb/format/inspect"
)

func main() {
	path, opts, err := inspect.ParseEditArgs(os.Args[1:])
	var n int
	if err == nil {
		if n, err = inspect.Edit(path, opts); err == nil {
			fmt.Println(n)
		}
	}
	os.Exit(inspect.Exit(os.Stderr, "mmbedit", err, inspect.EditUsage()))
}
