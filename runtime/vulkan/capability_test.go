//go:build cgo

package vulkan

import "testing"

// The probe gives its buffers back (repeated probes leave the backend's
// allocations as they were) and stays within maxStorageBufferRange.
func TestCopyBandwidth(t *testing.T) {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer b.Close()
	owned := len(b.owned)
	for i := 0; i < 3; i++ {
		bw, err := b.CopyBandwidth(4 << 20)
		if err != nil {
			t.Fatal(err)
		}
		if bw.BytesPerSec <= 0 || bw.Bytes != 4<<20 || bw.Method == "" {
			t.Errorf("probe %d: %+v", i, bw)
		}
	}
	if len(b.owned) != owned {
		t.Errorf("%d buffers owned after the probes, %d before", len(b.owned), owned)
	}
	b.maxRange = 8 << 20 // as a device with a small range would report
	bw, err := b.CopyBandwidth(1 << 30)
	if err != nil {
		t.Fatal(err)
	}
	if bw.Bytes != 8<<20 {
		t.Errorf("probe of 1 GiB with an 8 MiB range used %d bytes", bw.Bytes)
	}
}
