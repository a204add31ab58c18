//go:build cgo

package vulkan

import (
	"errors"
	"testing"
)

// An allocation the device cannot back comes back as ErrOutOfDeviceMemory
// (or, where the driver reports it so, out of host memory), a Go error naming
// the size, and the backend keeps working afterwards.
func TestOutOfDeviceMemory(t *testing.T) {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer b.Close()
	b.mu.Lock()
	b.maxRange = 1 << 62 // past the per-buffer range check, so that Vulkan itself refuses
	_, err := b.newDevBuf(1 << 50)
	b.mu.Unlock()
	if err == nil {
		t.Fatal("a 1 PiB buffer was allocated")
	}
	if !errors.Is(err, ErrOutOfDeviceMemory) && !errors.Is(err, ErrOutOfHostMemory) {
		t.Fatalf("error %q is neither ErrOutOfDeviceMemory nor ErrOutOfHostMemory", err)
	}
	t.Log(err)
	x, err := b.Alloc(16)
	if err != nil {
		t.Fatalf("after the failed allocation: %v", err)
	}
	if err := b.Write(x, 0, []float32{1, 2}); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 2)
	if err := b.Read(got, x, 0); err != nil || got[1] != 2 {
		t.Fatalf("after the failed allocation: read %v, %v", got, err)
	}
}
