//go:build cgo

package bench

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/vulkan"
)

// The whole run on Vulkan (lavapipe in CI: a missing device is a failure).
func TestMeasureVulkan(t *testing.T) {
	f, rev := genFile(t, tiny("half", false))
	cache := t.TempDir()
	open := func() (runtime.Backend, error) {
		return vulkan.New(vulkan.Options{Device: vulkan.AutoDevice, CacheDir: cache})
	}
	o := small()
	o.Prefill, o.Contexts = []int{9, 24}, []int{16, 64} // lavapipe is slow: keep it to a few seconds
	r, err := Measure(f, rev, open, o, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r, []int{16, 64})
	if r.Backend != "vulkan" || !strings.Contains(r.Bandwidth.Method, "vkCmdCopyBuffer") {
		t.Errorf("backend %q, bandwidth by %q", r.Backend, r.Bandwidth.Method)
	}
	if r.Decode.Feed != "device" {
		t.Errorf("decode fed by the %q, want the device (vulkan is a runtime.TokenFeeder)", r.Decode.Feed)
	}
	o.HostFeed, o.Prefill, o.Contexts, o.Profile = true, nil, nil, false
	if r, err = Measure(f, rev, open, o, new(bytes.Buffer)); err != nil {
		t.Fatal(err)
	}
	if r.Decode.Feed != "host" {
		t.Errorf("decode with HostFeed fed by the %q, want the host", r.Decode.Feed)
	}
	// The Vulkan backend is a runtime.Profiler: ops are timed on the device.
	for _, p := range r.Profile {
		if !strings.HasPrefix(p.Method, "device timestamps") {
			t.Errorf("%s profiled by %q, want device timestamps", p.Phase, p.Method)
		}
	}
}
