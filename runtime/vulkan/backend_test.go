//go:build cgo

package vulkan

import (
	"fmt"
	"testing"

	rt "github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/backendtest"
)

// newTest opens the default device; Vulkan (lavapipe in CI) must be present:
// a missing device is a failure, not a skip.
// The cooperative-matrix path (f16 operands) is left out so that the fp32
// tolerances hold on every device; coopmat_test.go tests it.
func newTest(t *testing.T, opts Options) *Backend {
	t.Helper()
	opts.NoCoopMatrix = true
	b, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	b.mvCap, b.mvSplit = testMVCap, testMVSplit
	return b
}

// testMVSplit is newTest's forced matvec4 split: 0 (each backend's own
// choice) but while split runs a test.
var testMVSplit int

// split runs test with newTest's backends sharing each matvec4 row among 3
// subgroups (see capped).
func split(t *testing.T, test func(*testing.T)) {
	testMVSplit = 3
	defer func() { testMVSplit = 0 }()
	test(t)
}

// testMVCap is the matvec4 workgroup cap of newTest's backends: 0 (the
// default) but while capped runs a test.
var testMVCap int

// smallCap is the matvec4 workgroup cap of the capped tests.
const smallCap = 3

// capped runs test with newTest's backends launching at most smallCap
// matvec4 workgroups, so that tests written for the default launch check
// the grid-stride loop of every variant they reach. Not for tests that run
// in parallel (none do): the cap is a package variable.
func capped(t *testing.T, test func(*testing.T)) {
	testMVCap = smallCap
	defer func() { testMVCap = 0 }()
	test(t)
}

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) rt.Backend { return newTest(t, Options{Device: AutoDevice, CacheDir: t.TempDir()}) })
}

// The shared-memory reduction shaders, used where subgroup arithmetic is absent.
func TestConformanceNoSubgroups(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) rt.Backend {
		return newTest(t, Options{Device: AutoDevice, NoSubgroups: true, CacheDir: "-"})
	})
}

// The word-at-a-time subgroup matvec, used where K is not a multiple of a
// 16-byte word, on every shape; and attention split into chunks of 4
// positions (never in one pass), so that the suite's short contexts take the
// combining path, and Argmax in two passes from 16 values on, and the
// one-row-per-workgroup prefill attention, and the 64×64-tile matmul for
// every dtype. The split attention runs attndec per query head here
// (TestConformanceGroupedAttn covers attndecg).
func TestConformanceScalarMatvec(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) rt.Backend {
		b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
		b.scalarMV = true
		b.attnChunk = 4
		b.attnOnePass = 0
		b.noGroupedAttn = true
		b.argmaxSplit = 16
		b.untiledAttn = true
		b.oldMatmul = true
		return b
	})
}

// Decode attention split into 4-position chunks, so that the suite's short
// grouped-query contexts (3, 4 and 5 query heads per kv head) run attndecg
// over several chunks; the count shows they did.
func TestConformanceGroupedAttn(t *testing.T) {
	var bs []*Backend
	backendtest.Run(t, func(t *testing.T) rt.Backend {
		b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
		b.attnChunk = 4
		b.attnOnePass = 0
		bs = append(bs, b)
		return b
	})
	n := 0
	for _, b := range bs {
		n += b.groupedAttns
	}
	if n == 0 {
		t.Error("no attndecg dispatch ran")
	}
	t.Logf("%d attndecg dispatches", n)
}

// matvec4 launched as 3 workgroups (smallCap), so that every variant's
// workgroups loop over many row blocks and the stride crosses the partial
// last block.
func TestConformanceCappedMatvec(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) rt.Backend {
		b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
		b.mvCap = smallCap
		return b
	})
}

func TestListDevices(t *testing.T) {
	devs, err := ListDevices()
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) == 0 {
		t.Fatal("no Vulkan devices (CI runs on lavapipe: install mesa-vulkan-drivers)")
	}
	for i, d := range devs {
		t.Log(d)
		if d.Index != i || d.Name == "" || d.SubgroupSize <= 0 || d.APIVersion == "" {
			t.Errorf("device %d: incomplete info %+v", i, d)
		}
	}
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer b.Close()
	if got, want := b.Device().Index, best(devs); got != want {
		t.Errorf("AutoDevice opened device %d, best is %d", got, want)
	}
	if _, err := New(Options{Device: len(devs), CacheDir: "-"}); err == nil {
		t.Errorf("New with device %d of %d gave no error", len(devs), len(devs))
	}
}

func TestBest(t *testing.T) {
	devs := []DeviceInfo{
		{Name: "cpu", typeRank: 3, MemoryBytes: 1 << 40},
		{Name: "igpu", typeRank: 1, MemoryBytes: 8 << 30},
		{Name: "small dgpu", typeRank: 0, MemoryBytes: 8 << 30},
		{Name: "big dgpu", typeRank: 0, MemoryBytes: 80 << 30},
	}
	if got := devs[best(devs)].Name; got != "big dgpu" {
		t.Errorf("best = %s, want big dgpu", got)
	}
}

// Every op in its own submission (Submit before each), so that each
// dependency crosses a submission boundary: the barriers recorded at the
// start of the next command buffer must order it (as when the runtime
// submits every few layers of a step).
func TestConformanceSubmitEach(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) rt.Backend {
		b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
		b.submitEach = true
		t.Cleanup(func() {
			if b.submits == 0 {
				t.Error("no early submissions")
			}
		})
		return b
	})
}

// matvec4 rows shared by 3 subgroups (their sums meeting in shared memory),
// launched as 3 workgroups: the suite's short rows leave some subgroups no
// words at all, and the workgroups loop over row blocks through the
// barriers, across the partial last block.
func TestConformanceSplitMatvec(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) rt.Backend {
		b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
		b.mvSplit = 3
		b.mvCap = smallCap
		return b
	})
}

// Every plain matvec4 with two rows per subgroup (ROW2; by default only a
// Q8_0 lm_head's): odd row counts leave a last subgroup one row; alone, split 3
// ways, and launched as 3 workgroups.
func TestConformanceRowPairs(t *testing.T) {
	for _, v := range []struct{ split, cap int }{{0, 0}, {3, 0}, {0, smallCap}} {
		t.Run(fmt.Sprintf("split %d cap %d", v.split, v.cap), func(t *testing.T) {
			backendtest.Run(t, func(t *testing.T) rt.Backend {
				b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
				b.mvRowPairs, b.mvSplit, b.mvCap = 1, v.split, v.cap
				return b
			})
		})
	}
}
