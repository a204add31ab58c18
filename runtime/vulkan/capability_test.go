//go:build cgo

package vulkan

import "testing"

// The probe gives its buffers back (repeated probes leave the backend's
// allocations as they were) and stays within maxStorageBufferRange.
func TestCopyBandwidth(t *testing.T) {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer b.Close()
	owned := -1
	for i := 0; i < 3; i++ {
		if i == 1 {
			owned = len(b.owned) // the streaming probe keeps its two buffers
		}
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

// Timestamps bracket each op; marks survive Syncs between ops and a pool
// that fills up (made small here) and is gathered and reset.
func TestProfile(t *testing.T) {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer b.Close()
	defer func(n uint32) { profQueries = n }(profQueries)
	profQueries = 6
	x, err := b.Alloc(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.ProfileMark("x"); err == nil {
		t.Error("a mark outside a profile was accepted")
	}
	if err := b.ProfileStart(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 7; i++ {
		for _, op := range []struct {
			label string
			run   func() error
		}{{"add", func() error { return b.Add(x, x, 1<<16) }}, {"swiglu", func() error { return b.SwiGLU(x, x, x, 1<<16) }}} {
			if err := b.ProfileMark(""); err != nil {
				t.Fatal(err)
			}
			if err := op.run(); err != nil {
				t.Fatal(err)
			}
			if err := b.ProfileMark(op.label); err != nil {
				t.Fatal(err)
			}
		}
		if i%3 == 0 {
			if err := b.Sync(); err != nil {
				t.Fatal(err)
			}
		}
	}
	ts, err := b.ProfileStop()
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].Op != "add" || ts[1].Op != "swiglu" {
		t.Fatalf("profile %+v, want add and swiglu", ts)
	}
	for _, op := range ts {
		// 64k elements take microseconds, not seconds, on any device.
		if op.Count != 7 || !(op.Seconds > 0 && op.Seconds < 1) {
			t.Errorf("%s: %d ops in %g s, want 7 in (0, 1) s", op.Op, op.Count, op.Seconds)
		}
	}
	if b.prof != nil {
		t.Error("query pool kept after ProfileStop")
	}
}
