//go:build !amd64 || purego

package cpu

const kernelName = "portable"

func dotF32(a, b []float32) float32                                { return dotF32Go(a, b) }
func dot4F32(x, w []float32, stride int, out *[4]float32)          { dot4F32Go(x, w, stride, out) }
func dot4F16(x []float32, w []uint16, stride int, out *[4]float32) { dot4F16Go(x, w, stride, out) }
func dot4BF16(x []float32, w []uint16, stride int, out *[4]float32) {
	dot4BF16Go(x, w, stride, out)
}
func dot4Q8(x []float32, q []byte, stride int, out *[4]float32) { dot4Q8Go(x, q, stride, out) }
func dotF16(w []uint16, x []float32) float32                    { return dotF16Go(w, x) }
func dotBF16(w []uint16, x []float32) float32                   { return dotBF16Go(w, x) }
func dotQ8(q []byte, x []float32) float32                       { return dotQ8Go(q, x) }

// SumUint64 reads p once; the bandwidth baseline of the decode benchmarks.
func SumUint64(p []uint64) uint64 {
	var s0, s1, s2, s3 uint64
	i := 0
	for ; i+4 <= len(p); i += 4 {
		s0 += p[i]
		s1 += p[i+1]
		s2 += p[i+2]
		s3 += p[i+3]
	}
	for ; i < len(p); i++ {
		s0 += p[i]
	}
	return s0 + s1 + s2 + s3
}

// useAVX512 exists so that tests can select kernel variants on every build.
var useAVX512 = false

func axpy(y []float32, a float32, x []float32) { axpyGo(y, a, x) }

func cvtF16(dst []float32, src []uint16)  { cvtF16Go(dst, src) }
func cvtBF16(dst []float32, src []uint16) { cvtBF16Go(dst, src) }
func cvtQ8(dst []float32, q []byte)       { cvtQ8Go(dst, q) }

func ssmRow(s, b, c []float32, a, dx float32) float32 { return ssmRowGo(s, b, c, a, dx) }
