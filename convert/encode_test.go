package convert

import (
	"encoding/binary"
	"math"
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

// TestQuantQ8Rounding compares the fast rounding with math.Round (half away
// from zero) over many random blocks, including values at exact halves.
func TestQuantQ8Rounding(t *testing.T) {
	var b [34]byte
	x := make([]float32, 32)
	for k := 0; k < 20000; k++ {
		for i := range x {
			x[i] = float32(int32(uint32(k*7919+i*104729)%2001)-1000) / 8 // many exact halves of the step
		}
		quantQ8(b[:], x)
		s := float64(format.F16ToF32(binary.LittleEndian.Uint16(b[:])))
		for i, v := range x {
			want := math.Max(-127, math.Min(127, math.Round(float64(v)/s)))
			if got := int8(b[2+i]); float64(got) != want {
				t.Fatalf("block %d: %g/%g → %d, want %g", k, v, s, got, want)
			}
		}
	}
}

func BenchmarkQuantQ8(b *testing.B) {
	x := make([]float32, 1<<15)
	for i := range x {
		x[i] = float32(math.Sin(float64(i))) * 0.02
	}
	dst := make([]byte, len(x)/32*34)
	b.SetBytes(int64(2 * len(x))) // as f16 input
	for i := 0; i < b.N; i++ {
		encode(dst, format.Q8_0, x)
	}
}
