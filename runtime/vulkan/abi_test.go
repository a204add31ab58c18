//go:build cgo

package vulkan

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestABI checks vk.h's struct layouts against the Khronos header: a C
// program built against the system vulkan_core.h prints the same list as
// abiLayout. It needs the header (Debian libvulkan-dev, installed in CI); the
// backend itself never does.
func TestABI(t *testing.T) {
	const sys = "/usr/include/vulkan/vulkan_core.h"
	if _, err := os.Stat(sys); err != nil {
		t.Skip("\n\n*** " + sys + " NOT FOUND: vk.h NOT CHECKED against the Khronos header (apt-get install libvulkan-dev) ***\n\n")
	}
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Fatal("no C compiler: ", err)
	}
	src, err := os.ReadFile("abi.go")
	if err != nil {
		t.Fatal(err)
	}
	// Reuse the macro lists and mmb_abi from abi.go's preamble verbatim.
	m := regexp.MustCompile(`(?s)/\*\n#include "vk.h"\n(.*?)\*/\nimport "C"`).FindSubmatch(src)
	if m == nil {
		t.Fatal("abi.go preamble not found")
	}
	prog := "#include <vulkan/vulkan_core.h>\n#include <stddef.h>\n" + string(m[1]) +
		"int main(void) { static char b[1 << 14]; size_t n = mmb_abi(b, sizeof b); fwrite(b, 1, n, stdout); return 0; }\n"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "abi.c"), []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "abi")
	if out, err := exec.Command(cc, "-o", exe, filepath.Join(dir, "abi.c")).CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	want, err := exec.Command(exe).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := abiLayout()
	if got != string(want) {
		g, w := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range min(len(g), len(w)) {
			if g[i] != w[i] {
				t.Fatalf("vk.h differs from %s: line %d: vk.h %q, Khronos %q", sys, i+1, g[i], w[i])
			}
		}
		t.Fatalf("vk.h layout list has %d lines, Khronos %d", len(g), len(w))
	}
	if n := strings.Count(got, "\n"); n < 50 {
		t.Errorf("only %d layout lines", n)
	}
}
