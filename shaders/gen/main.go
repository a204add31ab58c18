// Command gen compiles every shader variant with glslc into shaders/spv
// (`make shaders`). Run from the repository root.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	shaders "github.com/mmbformat/mmb/shaders/internal/build"
)

func main() {
	dir := flag.String("dir", "shaders", "the shaders directory")
	glslc := flag.String("glslc", "glslc", "the glslc binary")
	only := flag.String("only", "", "comma-separated variant names to build (default: all)")
	flag.Parse()
	want := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n != "" {
			want[n] = true
		}
	}
	for _, v := range shaders.Variants {
		if len(want) > 0 && !want[v.Name] {
			continue
		}
		b, err := shaders.Compile(*glslc, *dir, v)
		if err == nil {
			err = os.WriteFile(filepath.Join(*dir, "spv", v.Name+".spv"), b, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "shaders:", err)
			os.Exit(1)
		}
	}
}
