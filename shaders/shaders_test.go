package shaders

import (
	"bytes"
	"encoding/binary"
	"os/exec"
	"testing"

	"github.com/mmbformat/mmb/shaders/internal/build"
)

// TestSPIRVUpToDate recompiles every variant and requires the committed bytes.
func TestSPIRVUpToDate(t *testing.T) {
	glslc, err := exec.LookPath("glslc")
	if err != nil {
		t.Skip("\n\n*** glslc NOT FOUND: committed SPIR-V NOT CHECKED against shaders/glsl (apt-get install glslc) ***\n\n")
	}
	for _, v := range build.Variants {
		want, err := build.Compile(glslc, ".", v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := SPIRV(v.Name)
		if err != nil {
			t.Fatalf("%v (run make shaders)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("spv/%s.spv is stale: %d bytes committed, glslc gives %d (run make shaders)", v.Name, len(got), len(want))
		}
	}
}

// TestEmbedded checks every variant is present and is SPIR-V (magic number,
// little-endian words), so the backend never meets a truncated module.
func TestEmbedded(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range build.Variants {
		if seen[v.Name] {
			t.Errorf("variant %s listed twice", v.Name)
		}
		seen[v.Name] = true
		b, err := SPIRV(v.Name)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < 20 || len(b)%4 != 0 || binary.LittleEndian.Uint32(b) != 0x07230203 {
			t.Errorf("%s: not a SPIR-V module (%d bytes)", v.Name, len(b))
		}
	}
	if _, err := SPIRV("no-such-shader"); err == nil {
		t.Error("SPIRV of an unknown name gave no error")
	}
}
