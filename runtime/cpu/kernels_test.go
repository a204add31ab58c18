package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mmbformat/mmb/format"
	"github.com/mmbformat/mmb/runtime/backendtest"
)

// The dispatching kernels (asm where the CPU has it) agree with the portable
// ones to the summation-order bound (n+4)·u·Σ|terms| for every length,
// including the tails that are not a multiple of 8 or 32.
func TestKernelsAgree(t *testing.T) { eachVariant(t, testKernelsAgree) }

// eachVariant runs f with the AVX2-only kernels and with the best ones.
func eachVariant(t *testing.T, f func(t *testing.T)) {
	best := useAVX512
	defer func() { useAVX512 = best }()
	useAVX512 = false
	t.Run("avx2-or-portable", f)
	if best {
		useAVX512 = true
		t.Run("avx512", f)
	}
}

func testKernelsAgree(t *testing.T) {
	t.Logf("kernels: %s", kernelName)
	r := rand.New(rand.NewPCG(1, 2))
	const u = 1.0 / (1 << 24)
	for _, n := range []int{1, 7, 8, 9, 31, 32, 33, 64, 100, 257, 1024, 4099} {
		x := make([]float32, n+64)
		w := make([]float32, n+64)
		for i := range x {
			x[i], w[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
		}
		for _, dt := range []format.DType{format.F32, format.F16, format.BF16, format.Q8_0} {
			m := n
			if dt == format.Q8_0 {
				m = (n + 31) &^ 31
			}
			data, exact := backendtest.EncodeWeight(dt, 1, m, w)
			up, err := New(Options{Threads: 1}).Upload("w", dt, 1, m, data)
			if err != nil {
				t.Fatal(err)
			}
			ww := up.(*Weight)
			var abs float64
			for i := 0; i < m; i++ {
				abs += math.Abs(exact[i] * float64(x[i]))
			}
			var fast, slow float32
			switch dt {
			case format.F32:
				fast, slow = dotF32(ww.f32, x[:m]), dotF32Go(ww.f32, x[:m])
			case format.F16:
				fast, slow = dotF16(ww.u16, x[:m]), dotF16Go(ww.u16, x[:m])
			case format.BF16:
				fast, slow = dotBF16(ww.u16, x[:m]), dotBF16Go(ww.u16, x[:m])
			case format.Q8_0:
				fast, slow = dotQ8(ww.q8, x[:m]), dotQ8Go(ww.q8, x[:m])
			}
			if d := math.Abs(float64(fast - slow)); d > 2*float64(m+4)*u*abs {
				t.Errorf("%s n %d: kernel %v, portable %v (bound %.3g)", dt, m, fast, slow, 2*float64(m+4)*u*abs)
			}
		}
	}
	p := make([]uint64, 1000)
	var want uint64
	for i := range p {
		p[i] = r.Uint64()
		want += p[i]
	}
	if got := SumUint64(p); got != want {
		t.Errorf("SumUint64 = %d, want %d", got, want)
	}
}

func TestDot4(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const u = 1.0 / (1 << 24)
	for _, n := range []int{1, 8, 15, 16, 17, 40, 768, 1001} {
		stride := n + 3
		x := make([]float32, n)
		w := make([]float32, 3*stride+n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		for i := range w {
			w[i] = float32(r.NormFloat64())
		}
		var out [4]float32
		dot4F32(x, w, stride, &out)
		for i := range out {
			var want, abs float64
			for k := 0; k < n; k++ {
				p := float64(x[k]) * float64(w[i*stride+k])
				want += p
				abs += math.Abs(p)
			}
			if d := math.Abs(float64(out[i]) - want); d > float64(n+4)*u*abs {
				t.Errorf("n %d row %d: %v, want %v", n, i, out[i], want)
			}
		}
	}
}

func TestCopyBandwidth(t *testing.T) {
	b := New(Options{Threads: 2})
	defer b.Close()
	bw, err := b.CopyBandwidth(8 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if bw.BytesPerSec <= 0 || bw.Bytes != 8<<20 || bw.Method == "" {
		t.Errorf("CopyBandwidth: %+v", bw)
	}
	if _, err := b.CopyBandwidth(100); err == nil {
		t.Error("tiny buffer: no error")
	}
}

// The four-row decode kernels agree with four single-row dots.
func TestDot4Weights(t *testing.T) { eachVariant(t, testDot4Weights) }

func testDot4Weights(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const u = 1.0 / (1 << 24)
	for _, cols := range []int{32, 40, 96, 768, 1000} {
		for _, dt := range []format.DType{format.F32, format.F16, format.BF16, format.Q8_0} {
			if dt == format.Q8_0 && cols%32 != 0 {
				continue
			}
			const rows = 6
			vals := make([]float32, rows*cols)
			for i := range vals {
				vals[i] = float32(r.NormFloat64())
			}
			x := make([]float32, cols)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			data, exact := backendtest.EncodeWeight(dt, rows, cols, vals)
			up, err := New(Options{Threads: 1}).Upload("w", dt, rows, cols, data)
			if err != nil {
				t.Fatal(err)
			}
			w := up.(*Weight)
			for r0 := 0; r0+4 <= rows; r0++ {
				var out [4]float32
				w.dot4(r0, x, &out)
				for i := range out {
					var want, abs float64
					for k := 0; k < cols; k++ {
						p := exact[(r0+i)*cols+k] * float64(x[k])
						want += p
						abs += math.Abs(p)
					}
					if d := math.Abs(float64(out[i]) - want); d > float64(cols+4)*u*abs {
						t.Errorf("%s cols %d rows %d+%d: %v, want %v", dt, cols, r0, i, out[i], want)
					}
				}
			}
		}
	}
}

func TestAxpy(t *testing.T) {
	for _, n := range []int{1, 8, 13, 64, 101} {
		y, x := make([]float32, n), make([]float32, n)
		want := make([]float32, n)
		for i := range y {
			y[i], x[i] = float32(i)*0.5, float32(n-i)*0.25
			want[i] = y[i] + 1.5*x[i] // exact in float32 for these values
		}
		axpy(y, 1.5, x)
		for i := range y {
			if y[i] != want[i] {
				t.Fatalf("n %d: y[%d] = %v, want %v", n, i, y[i], want[i])
			}
		}
	}
}

// Conversions are exact: the fast ones equal the portable ones bit for bit.
func TestConvertRows(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{32, 40, 96, 100, 768} {
		vals := make([]float32, n)
		for i := range vals {
			vals[i] = float32(r.NormFloat64())
		}
		vals[0] = 1e-6 // an f16 subnormal
		for _, dt := range []format.DType{format.F16, format.BF16, format.Q8_0} {
			if dt == format.Q8_0 && n%32 != 0 {
				continue
			}
			data, exact := backendtest.EncodeWeight(dt, 1, n, vals)
			up, err := New(Options{Threads: 1}).Upload("w", dt, 1, n, data)
			if err != nil {
				t.Fatal(err)
			}
			w := up.(*Weight)
			got := make([]float32, n)
			switch dt {
			case format.F16:
				cvtF16(got, w.u16)
			case format.BF16:
				cvtBF16(got, w.u16)
			case format.Q8_0:
				cvtQ8(got, w.q8)
			}
			for i := range got {
				if float64(got[i]) != exact[i] {
					t.Fatalf("%s n %d: [%d] = %v, want %v", dt, n, i, got[i], exact[i])
				}
			}
		}
	}
}

func TestSSMRow(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const u = 1.0 / (1 << 24)
	for _, n := range []int{1, 8, 16, 23, 64} {
		s, b, c := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range s {
			s[i], b[i], c[i] = float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64())
		}
		s0 := append([]float32(nil), s...)
		got := ssmRow(s, b, c, 0.75, 0.3)
		var want, abs float64
		for k := range s {
			nk := 0.75*float64(s0[k]) + 0.3*float64(b[k])
			if d := math.Abs(float64(s[k]) - nk); d > 4*u*(math.Abs(0.75*float64(s0[k]))+math.Abs(0.3*float64(b[k]))) {
				t.Fatalf("n %d: s[%d] = %v, want %v", n, k, s[k], nk)
			}
			want += nk * float64(c[k])
			abs += math.Abs(nk * float64(c[k]))
		}
		if d := math.Abs(float64(got) - want); d > float64(n+8)*u*abs {
			t.Errorf("n %d: s·c = %v, want %v", n, got, want)
		}
	}
}
