package convert

import (
	"encoding/binary"
	"testing"

	"github.com/mmbformat/mmb/format"
)

// TestBF16ToF16: the bit-moving fast path agrees with the general
// conversion (bf16 → f32 exactly, then f32 → f16 rounding to nearest-even)
// on all 65536 bf16 values.
func TestBF16ToF16(t *testing.T) {
	src := make([]byte, 2<<16)
	for i := 0; i < 1<<16; i++ {
		binary.LittleEndian.PutUint16(src[2*i:], uint16(i))
	}
	dst := make([]byte, len(src))
	bf16ToF16(dst, src)
	for i := 0; i < 1<<16; i++ {
		got := binary.LittleEndian.Uint16(dst[2*i:])
		want := format.F32ToF16(format.BF16ToF32(uint16(i)))
		if got != want {
			t.Fatalf("bf16 %#04x: f16 %#04x, want %#04x", i, got, want)
		}
	}
}

func BenchmarkBF16ToF16(b *testing.B) {
	src := make([]byte, 1<<20)
	for i := 0; i < len(src); i += 2 {
		binary.LittleEndian.PutUint16(src[i:], format.F32ToBF16(float32(i%977)*1e-4))
	}
	dst := make([]byte, len(src))
	b.SetBytes(int64(len(src)))
	for i := 0; i < b.N; i++ {
		bf16ToF16(dst, src)
	}
}
