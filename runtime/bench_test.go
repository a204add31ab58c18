package runtime_test

import (
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mmbformat/mmb/format"
	"github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/cpu"
	"github.com/mmbformat/mmb/runtime/internal/testmodel"
)

// benchConfig is a 100.2M-parameter hybrid (hidden 768, 12 layers alternating
// Mamba-2 and attention, 12 heads, 4 kv heads, ffn 2048, vocab 32000, tied).
func benchConfig() *format.Config {
	kinds := make([]format.LayerKind, 12)
	for i := range kinds {
		kinds[i] = format.Attention
		if i%2 == 0 {
			kinds[i] = format.Mamba2
		}
	}
	return testmodel.Config(768, 2048, 12, 4, 64, 32000, kinds)
}

// benchModels writes one random-weight file per dtype under dir, once.
type benchModels struct {
	dir   string
	mu    sync.Mutex
	paths map[format.DType]string
}

func (bm *benchModels) path(b *testing.B, dt format.DType) string {
	bm.mu.Lock()
	defer bm.mu.Unlock()
	if p, ok := bm.paths[dt]; ok {
		return p
	}
	p := filepath.Join(bm.dir, dt.String()+".mmb")
	if err := testmodel.Write(p, benchConfig(), dt, 7); err != nil {
		b.Fatal(err)
	}
	bm.paths[dt] = p
	return p
}

// weightBytes is what one decode step reads: every tensor once (the tied
// embedding as lm_head; the embedding row lookup is negligible).
func weightBytes(rev *format.Revision) int64 {
	var n int64
	for _, t := range rev.Tensors {
		if t.DType != format.U8 {
			n += t.NBytes
		}
	}
	return n
}

// bandwidth measures streaming read bandwidth (bytes/s) with the backend's
// thread count over a buffer well past the last-level cache; best of 3.
// bwBuf is 512 MiB, twice this machine's 260 MiB L3 (allocated once).
var bwBuf = sync.OnceValue(func() []uint64 {
	buf := make([]uint64, 512<<20/8)
	for i := range buf {
		buf[i] = uint64(i) // touch every page before timing
	}
	return buf
})

// bandwidthPass times one streaming read of bwBuf with the backend's thread
// count and returns bytes/s.
func bandwidthPass(threads int, sums []uint64) float64 {
	buf := bwBuf()
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < threads; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lo, hi := w*len(buf)/threads, (w+1)*len(buf)/threads
			sums[w] += cpu.SumUint64(buf[lo:hi])
		}()
	}
	wg.Wait()
	return float64(len(buf)*8) / time.Since(t0).Seconds()
}

func median(d []float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func openBench(b *testing.B, path string) (*runtime.Model, *format.File, *cpu.Backend) {
	f, err := format.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	be := cpu.New(cpu.Options{})
	m, err := runtime.Load(f, nil, be, runtime.Options{MaxContext: 1024})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { be.Close(); f.Close() })
	return m, f, be
}

// BenchmarkDecode reports decode tokens/s and the fraction of the measured
// memory bandwidth it uses: weight bytes × tokens/s ÷ bandwidth.
//
//	go test ./runtime -run XXX -bench Decode -benchtime 40x
func BenchmarkDecode(b *testing.B) {
	bm := &benchModels{dir: b.TempDir(), paths: map[format.DType]string{}}
	for _, dt := range []format.DType{format.F32, format.F16, format.BF16, format.Q8_0} {
		b.Run(dt.String(), func(b *testing.B) {
			m, f, be := openBench(b, bm.path(b, dt))
			s, err := m.NewSession()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := s.Prefill([]int{1, 2, 3, 4}); err != nil {
				b.Fatal(err)
			}
			for i := 0; i < 2; i++ { // warm the page cache and scratch
				s.Step(5)
			}
			// Other processes share this machine, so the load changes during a
			// run. A bandwidth pass follows every two steps (outside the timer),
			// and each pair of steps is compared with the pass next to it:
			// bw-fraction is the median of these paired ratios. The best step
			// against the best pass is reported too.
			threads := be.Threads()
			bwSums := make([]uint64, threads)
			steps := make([]float64, 0, b.N)
			bws, ratios := make([]float64, 0, b.N/2+1), make([]float64, 0, b.N/2+1)
			wb := float64(weightBytes(f.Latest()))
			bandwidthPass(threads, bwSums) // fault in the buffer
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if s.Pos() == s.MaxPositions() {
					b.StopTimer()
					s.Reset()
					b.StartTimer()
				}
				t0 := time.Now()
				if _, err := s.Step(i % 32000); err != nil {
					b.Fatal(err)
				}
				steps = append(steps, time.Since(t0).Seconds())
				if i%2 == 1 {
					b.StopTimer()
					bw := bandwidthPass(threads, bwSums)
					bws = append(bws, bw)
					ratios = append(ratios, wb/((steps[i]+steps[i-1])/2)/bw)
					b.StartTimer()
				}
			}
			b.StopTimer()
			if len(ratios) == 0 {
				return // b.N == 1: the calibration run
			}
			best := slices.Min(steps)
			bwBest := slices.Max(bws)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
			b.ReportMetric(1/best, "tok/s-best")
			b.ReportMetric(median(bws)/1e9, "GB/s-bw-median")
			b.ReportMetric(wb/1e6, "MB-weights")
			b.ReportMetric(median(ratios), "bw-fraction")
			b.ReportMetric(wb/best/bwBest, "bw-fraction-best")
		})
	}
}

// BenchmarkPrefill512 reports prompt tokens/s for a 512-token prompt.
//
//	go test ./runtime -run XXX -bench Prefill -benchtime 1x
func BenchmarkPrefill512(b *testing.B) {
	bm := &benchModels{dir: b.TempDir(), paths: map[format.DType]string{}}
	for _, dt := range []format.DType{format.F32, format.Q8_0} {
		b.Run(dt.String(), func(b *testing.B) {
			m, _, _ := openBench(b, bm.path(b, dt))
			s, err := m.NewSession()
			if err != nil {
				b.Fatal(err)
			}
			ids := make([]int, 512)
			for i := range ids {
				ids[i] = (i * 7919) % 32000
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s.Reset()
				if _, err := s.Prefill(ids); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(512*b.N)/b.Elapsed().Seconds(), "tok/s")
		})
	}
}
