package format

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The benchmarks measure their baseline in the same run and report ratios
// (b.ReportMetric), so the figures do not depend on the machine's speed.
// One iteration writes 2–3 GiB; run them with -benchtime 1x (see BENCH.md).

const (
	benchTensors    = 64
	benchTensorSize = 16 << 20 // 64 × 16 MiB = 1 GiB
)

func benchData() []byte {
	b := make([]byte, benchTensorSize)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i+8 <= len(b); i += 8 {
		le.PutUint64(b[i:], r.Uint64())
	}
	return b
}

// writePlain is the baseline: the same bytes, one os.File.Write per
// tensor, and one fsync so that both sides put the data on disk.
func writePlain(b *testing.B, path string, data []byte) time.Duration {
	start := time.Now()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < benchTensors; i++ {
		if _, err := f.Write(data); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// writeMMB writes the tensors through Writer: streamed from an io.Reader
// (1 MiB buffer, CRC32C on the fly) or from a byte slice.
func writeMMB(b *testing.B, path string, data []byte, stream bool) time.Duration {
	start := time.Now()
	w, err := Create(path)
	if err != nil {
		b.Fatal(err)
	}
	shape := []int64{benchTensorSize / 4}
	for i := 0; i < benchTensors; i++ {
		name := fmt.Sprintf("model.layers.%d.weight", i)
		if stream {
			err = w.AddTensor(name, F32, shape, bytes.NewReader(data))
		} else {
			err = w.AddTensorBytes(name, F32, shape, data)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if _, err := w.Commit(Meta{Stage: "convert", Time: time.Unix(0, 0)}); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkWrite1GiB writes 64 × 16 MiB to a plain file and through Writer
// in each iteration, in rotating order, and reports each speed and the
// ratios Writer/plain (1.0 = as fast as a plain file).
func BenchmarkWrite1GiB(b *testing.B) {
	data := benchData()
	dir := b.TempDir()
	var plain, stream, slice time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runs := []func(){
			func() { plain += writePlain(b, filepath.Join(dir, "plain"), data) },
			func() { stream += writeMMB(b, filepath.Join(dir, "stream.mmb"), data, true) },
			func() { slice += writeMMB(b, filepath.Join(dir, "slice.mmb"), data, false) },
		}
		for j := range runs {
			runs[(i+j)%len(runs)]()
		}
		// free the disk between iterations; the page cache is reused
		for _, n := range []string{"plain", "stream.mmb", "slice.mmb"} {
			os.Remove(filepath.Join(dir, n))
		}
	}
	const total = benchTensors * benchTensorSize
	mbps := func(d time.Duration) float64 { return float64(total) * float64(b.N) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(plain), "plain_MB/s")
	b.ReportMetric(mbps(stream), "writer_stream_MB/s")
	b.ReportMetric(mbps(slice), "writer_bytes_MB/s")
	b.ReportMetric(plain.Seconds()/stream.Seconds(), "stream/plain")
	b.ReportMetric(plain.Seconds()/slice.Seconds(), "bytes/plain")
}

const openTensors = 10000

var openFiles struct {
	once  sync.Once
	dir   string
	tiny  string // 10,000 × 4 bytes
	large string // 10,000 × 64 KiB
	err   error
}

// makeOpenFile writes n tensors of per bytes each.
func makeOpenFile(path string, per int) error {
	w, err := Create(path)
	if err != nil {
		return err
	}
	data := make([]byte, per)
	for i := range data {
		data[i] = byte(i)
	}
	for i := 0; i < openTensors; i++ {
		if err := w.AddTensorBytes(fmt.Sprintf("model.layers.%d.mlp.up_proj.weight", i), F32, []int64{int64(per / 4)}, data); err != nil {
			return err
		}
	}
	_, err = w.Commit(Meta{Stage: "convert", Time: time.Unix(0, 0)})
	return err
}

func openAndList(b *testing.B, path string) time.Duration {
	start := time.Now()
	f, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, t := range f.Latest().Tensors {
		n += t.NBytes + int64(len(t.Name))
	}
	f.Close()
	d := time.Since(start)
	if n == 0 {
		b.Fatal("no tensors listed")
	}
	return d
}

// BenchmarkOpen10kTensors opens and lists a file of 10,000 tiny tensors
// (41 MB, every tensor padded to 4 KiB) and one of 10,000 × 64 KiB (656 MB)
// in alternation and reports both times and their ratio: opening reads the
// preamble, trailer and index only, so the ratio stays near 1.
func BenchmarkOpen10kTensors(b *testing.B) {
	o := &openFiles
	o.once.Do(func() {
		if o.dir, o.err = os.MkdirTemp("", "mmbbench"); o.err != nil {
			return
		}
		o.tiny, o.large = filepath.Join(o.dir, "tiny.mmb"), filepath.Join(o.dir, "large.mmb")
		if o.err = makeOpenFile(o.tiny, 4); o.err == nil {
			o.err = makeOpenFile(o.large, 64<<10)
		}
	})
	if o.err != nil {
		b.Fatal(o.err)
	}
	var tiny, large time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			tiny += openAndList(b, o.tiny)
			large += openAndList(b, o.large)
		} else {
			large += openAndList(b, o.large)
			tiny += openAndList(b, o.tiny)
		}
	}
	for unit, p := range map[string]string{"tiny_file_MB": o.tiny, "large_file_MB": o.large} {
		if st, err := os.Stat(p); err == nil {
			b.ReportMetric(float64(st.Size())/1e6, unit)
		}
	}
	b.ReportMetric(float64(tiny.Microseconds())/float64(b.N), "tiny_us/open")
	b.ReportMetric(float64(large.Microseconds())/float64(b.N), "large_us/open")
	b.ReportMetric(large.Seconds()/tiny.Seconds(), "large/tiny")
}

// TestMain removes the files BenchmarkOpen10kTensors shares between its runs.
func TestMain(m *testing.M) {
	code := m.Run()
	if openFiles.dir != "" {
		os.RemoveAll(openFiles.dir)
	}
	os.Exit(code)
}
