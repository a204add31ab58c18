package convert

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mmbformat/mmb/convert/safetensors"
)

// Throughput is a conversion timed next to a plain copy of the same source
// files in the same run (for mmbbench and the benchmark).
type Throughput struct {
	SourceBytes int64    `json:"source_bytes"` // bytes of the safetensors files
	CopySeconds float64  `json:"copy_seconds"`
	CopyGBps    float64  `json:"copy_gb_per_second"`
	ConvSeconds float64  `json:"convert_seconds"`
	ConvGBps    float64  `json:"convert_gb_per_second"`
	Ratio       float64  `json:"ratio"` // convert rate / copy rate
	Summary     *Summary `json:"summary"`
}

// MeasureThroughput copies the checkpoint's safetensors files to a
// temporary file next to o.Output (read and write through a user-space
// buffer, then fsync, as the converter's output is synced), removes it, then
// runs Convert(o), and reports both rates over the same bytes.
func MeasureThroughput(ctx context.Context, o Options) (*Throughput, error) {
	ck, err := safetensors.OpenCheckpoint(o.Input)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range ck.Files {
		paths = append(paths, f.Name())
	}
	ck.Close()
	t0 := time.Now()
	n, err := CopyBaseline(paths, filepath.Dir(o.Output))
	if err != nil {
		return nil, err
	}
	t1 := time.Now()
	sum, err := Convert(ctx, o)
	if err != nil {
		return nil, err
	}
	t2 := time.Now()
	tp := &Throughput{SourceBytes: n, CopySeconds: t1.Sub(t0).Seconds(), ConvSeconds: t2.Sub(t1).Seconds(), Summary: sum}
	tp.CopyGBps = float64(n) / 1e9 / tp.CopySeconds
	tp.ConvGBps = float64(n) / 1e9 / tp.ConvSeconds
	tp.Ratio = tp.CopySeconds / tp.ConvSeconds
	return tp, nil
}

// CopyBaseline copies the files into one temporary file in dir through a
// 1 MiB buffer (no copy_file_range or sendfile), fsyncs and removes it, and
// returns the bytes copied.
func CopyBaseline(paths []string, dir string) (int64, error) {
	o, err := os.CreateTemp(dir, ".copy-baseline-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(o.Name())
	defer o.Close()
	buf := make([]byte, 1<<20)
	var total int64
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return 0, err
		}
		n, err := io.CopyBuffer(struct{ io.Writer }{o}, struct{ io.Reader }{f}, buf)
		f.Close()
		if err != nil {
			return 0, fmt.Errorf("copy %s: %w", p, err)
		}
		total += n
	}
	return total, o.Sync()
}
