//go:build cgo

package vulkan

import (
	"errors"
	"strings"
	"testing"

	"github.com/mmbformat/mmb/format"
)

// TestPipelineStats logs the driver's compiler statistics (on NVIDIA the
// register count, which bounds how many workgroups an SM holds) for the
// decode kernels at the 1B model's shapes: the MLP block, the paired
// gate/up matvec and the plain matvec, f16 and Q8_0. Run with -test.v on
// the GPU. Devices without VK_KHR_pipeline_executable_properties (lavapipe
// as of Mesa 22.3) skip, saying so; where it is present, every pipeline
// must report at least one statistic, and a backend without
// Options.PipelineStats must refuse.
func TestPipelineStats(t *testing.T) {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-", PipelineStats: true})
	defer b.Close()
	if _, err := b.pipelineStats("add", specElem); errors.Is(err, errNoStats) {
		t.Skipf("%s: no VK_KHR_pipeline_executable_properties: no statistics to show", b.dev.Name)
	} else if err != nil {
		t.Fatal(err)
	}
	for _, dt := range []format.DType{format.F16, format.Q8_0} {
		sfx := dtSuffix[dt]
		mv := b.mvSpec(1, 1)
		cases := []struct {
			name string
			spec []uint32
		}{{"matvec4_" + sfx, mv[:]}, {"matvec4ng_" + sfx, mv[:]}}
		if b.mlpF > 0 {
			for _, ua := range []int{0, 4, 8} { // the default and the benchmark's -uaN
				b.mlpUA = ua
				ms := b.mlpSpec(1, dt, 2048)
				cases = append(cases, struct {
					name string
					spec []uint32
				}{"mlp_" + sfx, ms[:]})
			}
			b.mlpUA = 0
		}
		for _, c := range cases {
			st, err := b.pipelineStats(c.name, c.spec)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Count(st, "\n") == 0 {
				t.Errorf("%s: no statistics", c.name)
			}
			t.Logf("%s %v:\n%s", c.name, c.spec, st)
		}
	}
	plain := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer plain.Close()
	if _, err := plain.pipelineStats("add", specElem); !errors.Is(err, errNoStats) {
		t.Errorf("without Options.PipelineStats: err %v, want errNoStats", err)
	}
}
