//go:build !purego

package cpu

import (
	"golang.org/x/sys/cpu"

	"github.com/mmbformat/mmb/format"
)

// AVX2 with FMA and F16C: the asm kernels handle whole blocks of 8 values
// (32 for Q8_0), the portable code the rest of a row.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C

// Q8_0 is limited by its int8→float32 conversions; 16 lanes halve them.
var useAVX512 = useAVX2 && cpu.X86.HasAVX512F

var kernelName = func() string {
	if useAVX512 {
		return "avx2+avx512 (Q8_0)"
	}
	if useAVX2 {
		return "avx2"
	}
	return "portable"
}()

// f16Table maps every f16 bit pattern to its float32 value (256 KiB, L2
// resident while decoding Q8_0).
var f16Table [1 << 16]float32

func init() {
	for i := range f16Table {
		f16Table[i] = format.F16ToF32(uint16(i))
	}
}

//go:noescape
func dotF32AVX2(a, b *float32, n int) float32

//go:noescape
func dotF16AVX2(w *uint16, x *float32, n int) float32

//go:noescape
func dotBF16AVX2(w *uint16, x *float32, n int) float32

//go:noescape
func dotQ8AVX2(q *byte, x *float32, nblocks int) float32

//go:noescape
func dotQ8AVX512(q *byte, x *float32, nblocks int) float32

//go:noescape
func dot4F32AVX2(x, w *float32, stride, n int, out *[4]float32)

//go:noescape
func dot4F16AVX2(x *float32, w *uint16, stride, n int, out *[4]float32)

//go:noescape
func dot4BF16AVX2(x *float32, w *uint16, stride, n int, out *[4]float32)

//go:noescape
func dot4Q8AVX2(x *float32, w *byte, stride, n int, out *[4]float32)

//go:noescape
func dot4Q8AVX512(x *float32, w *byte, stride, n int, out *[4]float32)

//go:noescape
func axpyAVX2(y *float32, a float32, x *float32, n int)

//go:noescape
func cvtF16AVX2(dst *float32, src *uint16, n int)

//go:noescape
func cvtBF16AVX2(dst *float32, src *uint16, n int)

//go:noescape
func cvtQ8AVX2(dst *float32, q *byte, nblocks int)

//go:noescape
func ssmRowAVX2(s, b, c *float32, a, dx float32, n int) float32

//go:noescape
func sumU64AVX2(p *uint64, n int) uint64

func dotF32(a, b []float32) float32 {
	b = b[:len(a)]
	n := len(a) &^ 7
	if !useAVX2 || n == 0 {
		return dotF32Go(a, b)
	}
	s := dotF32AVX2(&a[0], &b[0], n)
	if n < len(a) {
		s += dotF32Go(a[n:], b[n:])
	}
	return s
}

// dot4F32 sets out[i] = x · w[i·stride : i·stride+len(x)] for i < 4.
func dot4F32(x, w []float32, stride int, out *[4]float32) {
	n := len(x) &^ 7
	_ = w[3*stride+len(x)-1]
	if !useAVX2 || n == 0 {
		dot4F32Go(x, w, stride, out)
		return
	}
	dot4F32AVX2(&x[0], &w[0], stride*4, n, out)
	if n < len(x) {
		for i := range out {
			out[i] += dotF32Go(x[n:], w[i*stride+n:i*stride+len(x)])
		}
	}
}

func dotF16(w []uint16, x []float32) float32 {
	x = x[:len(w)]
	n := len(w) &^ 7
	if !useAVX2 || n == 0 {
		return dotF16Go(w, x)
	}
	s := dotF16AVX2(&w[0], &x[0], n)
	if n < len(w) {
		s += dotF16Go(w[n:], x[n:])
	}
	return s
}

func dotBF16(w []uint16, x []float32) float32 {
	x = x[:len(w)]
	n := len(w) &^ 7
	if !useAVX2 || n == 0 {
		return dotBF16Go(w, x)
	}
	s := dotBF16AVX2(&w[0], &x[0], n)
	if n < len(w) {
		s += dotBF16Go(w[n:], x[n:])
	}
	return s
}

func dotQ8(q []byte, x []float32) float32 {
	nb := len(q) / format.Q8BlockBytes
	if !useAVX2 || nb == 0 {
		return dotQ8Go(q, x)
	}
	_ = x[nb*format.Q8Block-1] // bounds: the asm reads nb·32 values
	if useAVX512 {
		return dotQ8AVX512(&q[0], &x[0], nb)
	}
	return dotQ8AVX2(&q[0], &x[0], nb)
}

// SumUint64 reads p once, as fast as the machine can stream memory; it is
// the bandwidth baseline of the decode benchmarks.
func SumUint64(p []uint64) uint64 {
	n := len(p) &^ 15
	var s uint64
	if useAVX2 && n > 0 {
		s = sumU64AVX2(&p[0], n)
	} else {
		n = 0
	}
	for _, v := range p[n:] {
		s += v
	}
	return s
}

// dot4F16 sets out[i] = x · w[i·stride:][:len(x)] for i < 4 (f16 weights).
func dot4F16(x []float32, w []uint16, stride int, out *[4]float32) {
	n := len(x) &^ 7
	_ = w[3*stride+len(x)-1]
	if !useAVX2 || n == 0 {
		dot4F16Go(x, w, stride, out)
		return
	}
	dot4F16AVX2(&x[0], &w[0], stride*2, n, out)
	if n < len(x) {
		for i := range out {
			out[i] += dotF16Go(w[i*stride+n:i*stride+len(x)], x[n:])
		}
	}
}

// dot4BF16 is dot4F16 for bf16 weights.
func dot4BF16(x []float32, w []uint16, stride int, out *[4]float32) {
	n := len(x) &^ 7
	_ = w[3*stride+len(x)-1]
	if !useAVX2 || n == 0 {
		dot4BF16Go(x, w, stride, out)
		return
	}
	dot4BF16AVX2(&x[0], &w[0], stride*2, n, out)
	if n < len(x) {
		for i := range out {
			out[i] += dotBF16Go(w[i*stride+n:i*stride+len(x)], x[n:])
		}
	}
}

// dot4Q8 sets out[i] = x · row i for four Q8_0 rows stride bytes apart.
func dot4Q8(x []float32, q []byte, stride int, out *[4]float32) {
	nb := len(x) / format.Q8Block
	rb := nb * format.Q8BlockBytes
	_ = q[3*stride+rb-1]
	switch {
	case nb == 0 || !useAVX2:
		dot4Q8Go(x, q, stride, out)
	case useAVX512:
		dot4Q8AVX512(&x[0], &q[0], stride, nb, out)
	default:
		dot4Q8AVX2(&x[0], &q[0], stride, nb, out)
	}
}

// axpy: y += a·x.
func axpy(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	n := len(y) &^ 7
	if !useAVX2 || n == 0 {
		axpyGo(y, a, x)
		return
	}
	axpyAVX2(&y[0], a, &x[0], n)
	if n < len(y) {
		axpyGo(y[n:], a, x[n:])
	}
}

func cvtF16(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	n := len(src) &^ 7
	if useAVX2 && n > 0 {
		cvtF16AVX2(&dst[0], &src[0], n)
	} else {
		n = 0
	}
	cvtF16Go(dst[n:], src[n:])
}

func cvtBF16(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	n := len(src) &^ 7
	if useAVX2 && n > 0 {
		cvtBF16AVX2(&dst[0], &src[0], n)
	} else {
		n = 0
	}
	cvtBF16Go(dst[n:], src[n:])
}

// cvtQ8 converts whole blocks (the product d·q is exact in float32).
func cvtQ8(dst []float32, q []byte) {
	nb := len(q) / format.Q8BlockBytes
	if !useAVX2 || nb == 0 {
		cvtQ8Go(dst, q)
		return
	}
	_ = dst[nb*format.Q8Block-1]
	cvtQ8AVX2(&dst[0], &q[0], nb)
}

// ssmRow updates s = a·s + dx·b and returns s·c.
func ssmRow(s, b, c []float32, a, dx float32) float32 {
	b, c = b[:len(s)], c[:len(s)]
	n := len(s) &^ 7
	if !useAVX2 || n == 0 {
		return ssmRowGo(s, b, c, a, dx)
	}
	r := ssmRowAVX2(&s[0], &b[0], &c[0], a, dx, n)
	if n < len(s) {
		r += ssmRowGo(s[n:], b[n:], c[n:], a, dx)
	}
	return r
}
