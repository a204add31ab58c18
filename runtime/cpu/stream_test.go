package cpu

import (
	"os"
	"testing"
	"unsafe"

	"github.com/mmbformat/mmb/format"
)

// Single-thread streaming from memory: each kernel over a 512 MiB weight
// buffer, against a plain streaming read of the same buffer.
func BenchmarkStream(b *testing.B) {
	const size = 512 << 20
	raw := make([]uint64, size/8)
	for i := range raw {
		raw[i] = uint64(i) * 0x9e3779b97f4a7c15 & 0x3c003c003c003c00 // finite f16/bf16 patterns
	}
	bytes := unsafe.Slice((*byte)(unsafe.Pointer(&raw[0])), size)
	x := make([]float32, 768)
	b.Run("read", func(b *testing.B) {
		b.SetBytes(size)
		for i := 0; i < b.N; i++ {
			SumUint64(raw)
		}
	})
	for _, dt := range []format.DType{format.F32, format.F16, format.Q8_0} {
		b.Run(dt.String(), func(b *testing.B) {
			rb, _ := dt.NBytes([]int64{1, 768})
			rows := size / int(rb)
			w, err := New(Options{Threads: 1}).Upload("w", dt, rows, 768, bytes[:rows*int(rb)])
			if err != nil {
				b.Fatal(err)
			}
			ww := w.(*Weight)
			if dt == format.Q8_0 && os.Getenv("Q8_SCALES") != "" {
				// Scales of a trained model sit within a few binades
				// (here 2^-12..2^-10), as the f16 table lookups see them.
				for blk := 0; blk < rows*768/32; blk++ {
					bytes[blk*34] = byte(blk * 7)
					bytes[blk*34+1] = 0x0c + byte(blk%3)*4
				}
			}
			b.SetBytes(int64(rows) * rb)
			var out [4]float32
			for i := 0; i < b.N; i++ {
				for r := 0; r+4 <= rows; r += 4 {
					ww.dot4(r, x, &out) // the decode path
				}
			}
		})
	}
}
