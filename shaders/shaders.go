// Package shaders holds mmb's GLSL compute shaders (glsl/) and their SPIR-V
// (spv/), compiled by glslc with `make shaders` and committed, so that
// building mmb needs no shader compiler. TestSPIRVUpToDate checks that the
// committed SPIR-V is what the sources compile to.
package shaders

import (
	"embed"
	"fmt"
)

//go:embed spv/*.spv
var spv embed.FS

// SPIRV returns the committed SPIR-V of a variant.
func SPIRV(name string) ([]byte, error) {
	b, err := spv.ReadFile("spv/" + name + ".spv")
	if err != nil {
		return nil, fmt.Errorf("shader %q: %w", name, err)
	}
	return b, nil
}
