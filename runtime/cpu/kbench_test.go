package cpu

import (
	"testing"

	"github.com/mmbformat/mmb/format"
	"github.com/mmbformat/mmb/runtime/backendtest"
)

// Kernel throughput on an L2-resident matrix (compute, not memory, bound):
// bytes of weights per second, single thread.
func BenchmarkKernel(b *testing.B) {
	const rows, cols = 64, 2048 // 512 KiB in F32
	x := make([]float32, cols)
	vals := make([]float32, rows*cols)
	for i := range vals {
		vals[i] = float32(i%17) - 8
	}
	for i := range x {
		x[i] = float32(i%5) - 2
	}
	for _, dt := range []format.DType{format.F32, format.F16, format.BF16, format.Q8_0} {
		b.Run(dt.String(), func(b *testing.B) {
			data, _ := backendtest.EncodeWeight(dt, rows, cols, vals)
			w, _ := New(Options{Threads: 1}).Upload("w", dt, rows, cols, data)
			ww := w.(*Weight)
			b.SetBytes(int64(len(data)))
			var s float32
			for i := 0; i < b.N; i++ {
				for r := 0; r < rows; r++ {
					s += ww.dot(r, x)
				}
			}
			_ = s
		})
		b.Run(dt.String()+"x4", func(b *testing.B) {
			data, _ := backendtest.EncodeWeight(dt, rows, cols, vals)
			w, _ := New(Options{Threads: 1}).Upload("w", dt, rows, cols, data)
			ww := w.(*Weight)
			b.SetBytes(int64(len(data)))
			var out [4]float32
			for i := 0; i < b.N; i++ {
				for r := 0; r < rows; r += 4 {
					ww.dot4(r, x, &out)
				}
			}
		})
	}
}
