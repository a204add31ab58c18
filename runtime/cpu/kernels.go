package cpu

import (
	"encoding/binary"

	"github.com/mmbformat/mmb/format"
)

// The portable kernels. The amd64 build replaces dot* with AVX2 versions
// when the CPU has them (kernels_amd64.go); tests check both agree.

func dotF32Go(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dot4F32Go(x, w []float32, stride int, out *[4]float32) {
	for i := range out {
		out[i] = dotF32Go(x, w[i*stride:i*stride+len(x)])
	}
}

func dot4F16Go(x []float32, w []uint16, stride int, out *[4]float32) {
	for i := range out {
		out[i] = dotF16Go(w[i*stride:i*stride+len(x)], x)
	}
}

func dot4BF16Go(x []float32, w []uint16, stride int, out *[4]float32) {
	for i := range out {
		out[i] = dotBF16Go(w[i*stride:i*stride+len(x)], x)
	}
}

func dot4Q8Go(x []float32, q []byte, stride int, out *[4]float32) {
	rb := len(x) / format.Q8Block * format.Q8BlockBytes
	for i := range out {
		out[i] = dotQ8Go(q[i*stride:i*stride+rb], x)
	}
}

func f16(h uint16) float32 { return format.F16ToF32(h) }

func dotF16Go(w []uint16, x []float32) float32 {
	x = x[:len(w)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(w); i += 4 {
		s0 += f16(w[i]) * x[i]
		s1 += f16(w[i+1]) * x[i+1]
		s2 += f16(w[i+2]) * x[i+2]
		s3 += f16(w[i+3]) * x[i+3]
	}
	for ; i < len(w); i++ {
		s0 += f16(w[i]) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func dotBF16Go(w []uint16, x []float32) float32 {
	x = x[:len(w)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(w); i += 4 {
		s0 += format.BF16ToF32(w[i]) * x[i]
		s1 += format.BF16ToF32(w[i+1]) * x[i+1]
		s2 += format.BF16ToF32(w[i+2]) * x[i+2]
		s3 += format.BF16ToF32(w[i+3]) * x[i+3]
	}
	for ; i < len(w); i++ {
		s0 += format.BF16ToF32(w[i]) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// dotQ8Go sums each block's int8·x products, then scales the block sum.
func dotQ8Go(q []byte, x []float32) float32 {
	var s float32
	for b := 0; b*format.Q8BlockBytes < len(q); b++ {
		p := q[b*format.Q8BlockBytes : (b+1)*format.Q8BlockBytes]
		xs := x[b*format.Q8Block : (b+1)*format.Q8Block]
		var s0, s1, s2, s3 float32
		for i := 0; i < format.Q8Block; i += 4 {
			s0 += float32(int8(p[2+i])) * xs[i]
			s1 += float32(int8(p[3+i])) * xs[i+1]
			s2 += float32(int8(p[4+i])) * xs[i+2]
			s3 += float32(int8(p[5+i])) * xs[i+3]
		}
		s += f16(binary.LittleEndian.Uint16(p)) * ((s0 + s1) + (s2 + s3))
	}
	return s
}

func cvtF16Go(dst []float32, src []uint16) {
	for i, h := range src {
		dst[i] = f16(h)
	}
}

func cvtBF16Go(dst []float32, src []uint16) {
	for i, h := range src {
		dst[i] = format.BF16ToF32(h)
	}
}

func cvtQ8Go(dst []float32, q []byte) {
	for b := 0; b*format.Q8BlockBytes < len(q); b++ {
		p := q[b*format.Q8BlockBytes:]
		d := f16(binary.LittleEndian.Uint16(p))
		for i := 0; i < format.Q8Block; i++ {
			dst[b*format.Q8Block+i] = d * float32(int8(p[2+i]))
		}
	}
}

// axpyGo: y += a·x.
func axpyGo(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] += a * x[i]
	}
}

// ssmRowGo updates s = a·s + dx·b and returns s·c.
func ssmRowGo(s, b, c []float32, a, dx float32) float32 {
	b, c = b[:len(s)], c[:len(s)]
	var r float32
	for k := range s {
		s[k] = a*s[k] + dx*b[k]
		r += s[k] * c[k]
	}
	return r
}
