// Package backendtest is the conformance suite every runtime.Backend runs:
// each op gets the same inputs as a plain float64 reference implementation
// here, and the outputs must agree within bounds derived from float32
// rounding (u = 2⁻²⁴), stated next to each check.
//
// Use from a backend's tests:
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, func(t *testing.T) runtime.Backend { return mybackend.New(...) })
//	}
package backendtest

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mmbformat/mmb/format"
	"github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/internal/testmodel"
)

// u is the unit roundoff of float32.
const u = 1.0 / (1 << 24)

var allDTypes = []format.DType{format.F32, format.F16, format.BF16, format.Q8_0}
var vecDTypes = []format.DType{format.F32, format.F16, format.BF16}

// Run runs every op's cases on one backend from newBackend, closed at the end.
func Run(t *testing.T, newBackend func(t *testing.T) runtime.Backend) {
	b := newBackend(t)
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	s := &suite{b: b}
	t.Run("Embed", s.embed)
	t.Run("MatMul", s.matmul)
	t.Run("RMSNorm", s.rmsnorm)
	t.Run("Copy", s.copyOp)
	t.Run("Add", s.add)
	t.Run("SwiGLU", s.swiglu)
	t.Run("RoPE", s.rope)
	t.Run("Attention", s.attention)
	t.Run("Conv1D", s.conv1d)
	t.Run("SSMScan", s.ssmscan)
	t.Run("GatedRMSNorm", s.gatedRMSNorm)
	t.Run("Argmax", s.argmax)
	t.Run("MLPBlock", s.mlpBlock)
	t.Run("TopK", s.topK)
	t.Run("TokenFeeder", s.tokenFeeder)
	t.Run("Errors", s.errors)
}

type suite struct{ b runtime.Backend }

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x6d6d62)) }

// EncodeWeight stores vals (rows·cols) as dt and returns the bytes and the
// exact values those bytes hold, which is what a backend must compute with.
// Q8_0 uses per-block scale max|v|/127 rounded to f16, like llama.cpp.
func EncodeWeight(dt format.DType, rows, cols int, vals []float32) ([]byte, []float64) {
	n := rows * cols
	if dt == format.Q8_0 && cols%format.Q8Block != 0 {
		panic("backendtest: Q8_0 needs cols multiple of 32")
	}
	out, err := testmodel.Encode(dt, vals[:n])
	if err != nil {
		panic("backendtest: " + err.Error())
	}
	// The exact values are read back from the bytes.
	exact := make([]float64, n)
	for i := range exact {
		switch dt {
		case format.F32:
			exact[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(out[4*i:])))
		case format.F16:
			exact[i] = float64(format.F16ToF32(binary.LittleEndian.Uint16(out[2*i:])))
		case format.BF16:
			exact[i] = float64(format.BF16ToF32(binary.LittleEndian.Uint16(out[2*i:])))
		case format.Q8_0:
			p := out[i/format.Q8Block*format.Q8BlockBytes:]
			exact[i] = float64(format.F16ToF32(binary.LittleEndian.Uint16(p))) * float64(int8(p[2+i%format.Q8Block]))
		}
	}
	return out, exact
}

func uniform(r *rand.Rand, n int, lo, hi float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*r.Float64())
	}
	return v
}

func f64(v []float32) []float64 {
	o := make([]float64, len(v))
	for i, x := range v {
		o[i] = float64(x)
	}
	return o
}

func (s *suite) weight(t *testing.T, name string, dt format.DType, rows, cols int, vals []float32) (runtime.Weight, []float64) {
	t.Helper()
	data, exact := EncodeWeight(dt, rows, cols, vals)
	w, err := s.b.Upload(name, dt, rows, cols, data)
	if err != nil {
		t.Fatalf("Upload %s %s [%d,%d]: %v", name, dt, rows, cols, err)
	}
	if w.Rows() != rows || w.Cols() != cols || w.DType() != dt {
		t.Fatalf("Upload %s: weight reports [%d,%d] %s, want [%d,%d] %s", name, w.Rows(), w.Cols(), w.DType(), rows, cols, dt)
	}
	return w, exact
}

func (s *suite) buffer(t *testing.T, vals []float32) runtime.Buffer {
	t.Helper()
	x, err := s.b.Alloc(len(vals))
	if err != nil {
		t.Fatalf("Alloc %d: %v", len(vals), err)
	}
	if x.Len() != len(vals) {
		t.Fatalf("Alloc %d: Len() = %d", len(vals), x.Len())
	}
	if err := s.b.Write(x, 0, vals); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return x
}

// sentinel fills a buffer of n elements with NaN so that unwritten outputs
// and writes past the end are seen.
func (s *suite) sentinel(t *testing.T, n int) runtime.Buffer {
	t.Helper()
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(math.NaN())
	}
	return s.buffer(t, v)
}

func (s *suite) read(t *testing.T, x runtime.Buffer, off, n int) []float32 {
	t.Helper()
	out := make([]float32, n)
	if err := s.b.Read(out, x, off); err != nil {
		t.Fatalf("Read: %v", err)
	}
	return out
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// check compares got with want element by element: |got-want| <= bound.
// It names the first element out of bounds and the worst ratio.
func check(t *testing.T, what string, got []float32, want, bound []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst, wi := 0.0, -1
	first := -1
	for i := range got {
		g := float64(got[i])
		diff := math.Abs(g - want[i])
		bad := math.IsNaN(g) || diff > bound[i]
		if g == want[i] { // also equal infinities
			bad, diff = false, 0
		}
		if bad && first < 0 {
			first = i
		}
		if bound[i] > 0 {
			if r := diff / bound[i]; r > worst || math.IsNaN(r) {
				worst, wi = r, i
			}
		}
	}
	if first >= 0 {
		t.Errorf("%s: element %d = %v, want %v ± %.3g (diff %.3g); worst ratio diff/bound %.3g at %d",
			what, first, got[first], want[first], bound[first], math.Abs(float64(got[first])-want[first]), worst, wi)
	}
}

func exactBound(n int) []float64 { return make([]float64, n) }

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// siluBound: silu through exp and a division may be off by a few ulps of exp
// and its argument (GLSL exp: 3+2|x| ulp), hence (16 + 4|x|)·u relative.
func siluRel(x float64) float64 { return (16 + 4*math.Abs(x)) * u }

func (s *suite) embed(t *testing.T) {
	r := newRNG(1)
	for _, dt := range allDTypes {
		for _, cols := range []int{33, 96} {
			if dt == format.Q8_0 && cols%32 != 0 {
				continue
			}
			rows := 37
			w, exact := s.weight(t, "embed", dt, rows, cols, uniform(r, rows*cols, -2, 2))
			ids := []int32{0, 36, 5, 5, 17}
			dst := s.sentinel(t, len(ids)*cols+3)
			must(t, "Embed", s.b.Embed(dst, w, ids))
			want := make([]float64, 0, len(ids)*cols+3)
			for _, id := range ids {
				want = append(want, exact[int(id)*cols:int(id+1)*cols]...)
			}
			got := s.read(t, dst, 0, len(ids)*cols+3)
			// Converting a stored value to float32 is exact; the tail stays NaN.
			check(t, fmt.Sprintf("Embed %s cols %d", dt, cols), got[:len(want)], want, exactBound(len(want)))
			for i, v := range got[len(want):] {
				if !math.IsNaN(float64(v)) {
					t.Errorf("Embed %s: wrote past the rows at %d", dt, len(want)+i)
				}
			}
		}
	}
}

func (s *suite) matmul(t *testing.T) {
	r := newRNG(2)
	shapes := []struct{ rows, out, in int }{
		{1, 1, 32}, {1, 67, 96}, {3, 5, 33}, {17, 45, 160}, {70, 19, 64}, {1, 1000, 256}, {40, 300, 128}, {2, 7, 1},
	}
	for _, dt := range allDTypes {
		for _, sh := range shapes {
			if dt == format.Q8_0 && sh.in%32 != 0 {
				continue
			}
			name := fmt.Sprintf("%s rows %d out %d in %d", dt, sh.rows, sh.out, sh.in)
			w, wv := s.weight(t, "w", dt, sh.out, sh.in, uniform(r, sh.out*sh.in, -1, 1))
			xv := uniform(r, sh.rows*sh.in, -2, 2)
			x := s.buffer(t, xv)
			n := sh.rows * sh.out
			dst := s.sentinel(t, n+5)
			must(t, "MatMul "+name, s.b.MatMul(dst, x, w, sh.rows))
			want, bound := make([]float64, n), make([]float64, n)
			for i := 0; i < sh.rows; i++ {
				for o := 0; o < sh.out; o++ {
					var sum, abs float64
					for k := 0; k < sh.in; k++ {
						p := wv[o*sh.in+k] * float64(xv[i*sh.in+k])
						sum += p
						abs += math.Abs(p)
					}
					want[i*sh.out+o] = sum
					// Any float32 summation order: |err| <= (K-1)·u·Σ|terms|, plus
					// the product roundings and the Q8_0 block scaling (+4).
					bound[i*sh.out+o] = float64(sh.in+4) * u * abs
				}
			}
			got := s.read(t, dst, 0, n+5)
			check(t, "MatMul "+name, got[:n], want, bound)
			for i, v := range got[n:] {
				if !math.IsNaN(float64(v)) {
					t.Errorf("MatMul %s: wrote past rows·out at %d", name, n+i)
				}
			}
		}
	}
}

func (s *suite) rmsnorm(t *testing.T) {
	r := newRNG(3)
	for _, dt := range vecDTypes {
		for _, c := range []struct {
			rows, dim int
			eps       float32
		}{{1, 33, 1e-5}, {5, 96, 1e-6}, {3, 64, 1e-5}, {2, 7, 1e-5}} {
			name := fmt.Sprintf("%s rows %d dim %d", dt, c.rows, c.dim)
			w, wv := s.weight(t, "norm", dt, 1, c.dim, uniform(r, c.dim, 0.5, 1.5))
			xv := uniform(r, c.rows*c.dim, -3, 3)
			x := s.buffer(t, xv)
			dst := s.sentinel(t, c.rows*c.dim)
			must(t, "RMSNorm "+name, s.b.RMSNorm(dst, x, w, c.rows, c.dim, c.eps))
			want, bound := make([]float64, c.rows*c.dim), make([]float64, c.rows*c.dim)
			for i := 0; i < c.rows; i++ {
				ss := 0.0
				for k := 0; k < c.dim; k++ {
					ss += float64(xv[i*c.dim+k]) * float64(xv[i*c.dim+k])
				}
				inv := 1 / math.Sqrt(ss/float64(c.dim)+float64(c.eps))
				for k := 0; k < c.dim; k++ {
					j := i*c.dim + k
					want[j] = wv[k] * float64(xv[j]) * inv
					// Sum of squares (dim·u relative), mean, eps, rsqrt (2 ulp on GPUs)
					// halve under the square root; two products.
					bound[j] = (float64(c.dim)/2 + 8) * u * math.Abs(want[j])
				}
			}
			check(t, "RMSNorm "+name, s.read(t, dst, 0, c.rows*c.dim), want, bound)
		}
	}
}

func (s *suite) copyOp(t *testing.T) {
	r := newRNG(4)
	src := uniform(r, 50, -1, 1)
	sb := s.buffer(t, src)
	dst := s.sentinel(t, 40)
	must(t, "Copy", s.b.Copy(dst, 7, sb, 13, 29))
	got := s.read(t, dst, 0, 40)
	for i, v := range got {
		in := i >= 7 && i < 36
		if in && v != src[i-7+13] {
			t.Fatalf("Copy: dst[%d] = %v, want src[%d] = %v", i, v, i-7+13, src[i-7+13])
		}
		if !in && !math.IsNaN(float64(v)) {
			t.Fatalf("Copy: dst[%d] written outside the range", i)
		}
	}
}

func (s *suite) add(t *testing.T) {
	r := newRNG(5)
	for _, n := range []int{1, 37, 1000} {
		a, c := uniform(r, n+3, -5, 5), uniform(r, n+3, -5, 5)
		ab, cb := s.buffer(t, a), s.buffer(t, c)
		must(t, "Add", s.b.Add(ab, cb, n))
		got := s.read(t, ab, 0, n+3)
		want := make([]float64, n+3)
		for i := range want {
			want[i] = float64(a[i])
			if i < n {
				// A float32 sum is the float64 sum rounded: exact comparison.
				want[i] = float64(a[i] + c[i])
			}
		}
		check(t, fmt.Sprintf("Add n %d", n), got, want, exactBound(n+3))
	}
}

func (s *suite) swiglu(t *testing.T) {
	r := newRNG(6)
	for _, n := range []int{1, 45, 700} {
		g, up := uniform(r, n, -12, 12), uniform(r, n, -3, 3)
		dst := s.sentinel(t, n)
		must(t, "SwiGLU", s.b.SwiGLU(dst, s.buffer(t, g), s.buffer(t, up), n))
		want, bound := make([]float64, n), make([]float64, n)
		for i := range want {
			x := float64(g[i])
			want[i] = x * sigmoid(x) * float64(up[i])
			bound[i] = siluRel(x) * math.Abs(want[i])
		}
		check(t, fmt.Sprintf("SwiGLU n %d", n), s.read(t, dst, 0, n), want, bound)
	}
}

// InvFreq is the default RoPE inverse frequency table as HF computes it in
// float32: 1 / theta^(2i/d).
func InvFreq(theta float64, headDim int) []float32 {
	f := make([]float32, headDim/2)
	for i := range f {
		e := float32(2*i) / float32(headDim)
		f[i] = float32(1 / float32(math.Pow(theta, float64(e))))
	}
	return f
}

func (s *suite) rope(t *testing.T) {
	r := newRNG(7)
	for _, c := range []struct{ rows, heads, hd, pos0 int }{
		{1, 3, 6, 0}, {7, 5, 16, 0}, {4, 2, 24, 100}, {1, 1, 64, 1000}, {3, 4, 2, 5},
	} {
		name := fmt.Sprintf("rows %d heads %d headDim %d pos0 %d", c.rows, c.heads, c.hd, c.pos0)
		f := InvFreq(10000, c.hd)
		n := c.rows * c.heads * c.hd
		xv := uniform(r, n, -2, 2)
		x := s.buffer(t, xv)
		must(t, "RoPE "+name, s.b.RoPE(x, c.rows, c.heads, c.hd, c.pos0, s.buffer(t, f)))
		want, bound := make([]float64, n), make([]float64, n)
		half := c.hd / 2
		for i := 0; i < c.rows; i++ {
			for h := 0; h < c.heads; h++ {
				base := (i*c.heads + h) * c.hd
				for k := 0; k < half; k++ {
					// The angle is a float32 product, as HF computes it.
					ang := float64(float32(c.pos0+i) * f[k])
					co, si := math.Cos(ang), math.Sin(ang)
					a, b := float64(xv[base+k]), float64(xv[base+k+half])
					want[base+k] = a*co - b*si
					want[base+k+half] = b*co + a*si
					// cos/sin of the float32 angle to a few ulps, two products, a sum.
					bd := 16 * u * (math.Abs(a) + math.Abs(b))
					bound[base+k], bound[base+k+half] = bd, bd
				}
			}
		}
		check(t, "RoPE "+name, s.read(t, x, 0, n), want, bound)
	}
}

func (s *suite) attention(t *testing.T) {
	r := newRNG(8)
	for _, c := range []struct {
		heads, kv, hd int
		calls         []int // rows per call, positions continue
	}{
		{4, 4, 16, []int{5}},
		{6, 2, 8, []int{7, 1, 1}},
		{5, 1, 24, []int{1, 1}},
		{3, 3, 6, []int{9, 4}},
		{8, 2, 64, []int{33, 1}},
	} {
		maxPos := 0
		for _, n := range c.calls {
			maxPos += n
		}
		maxPos += 3 // the cache is larger than what is used
		kvw, qw := c.kv*c.hd, c.heads*c.hd
		kc, vc := s.sentinel(t, maxPos*kvw), s.sentinel(t, maxPos*kvw)
		var allK, allV []float32
		pos := 0
		for ci, rows := range c.calls {
			name := fmt.Sprintf("heads %d kv %d headDim %d call %d (rows %d pos0 %d)", c.heads, c.kv, c.hd, ci, rows, pos)
			qv := uniform(r, rows*qw, -1.5, 1.5)
			kv, vv := uniform(r, rows*kvw, -1.5, 1.5), uniform(r, rows*kvw, -2, 2)
			allK, allV = append(allK, kv...), append(allV, vv...)
			out := s.sentinel(t, rows*qw)
			must(t, "Attention "+name, s.b.Attention(out, s.buffer(t, qv), s.buffer(t, kv), s.buffer(t, vv), kc, vc, rows, pos, c.heads, c.kv, c.hd))
			want, bound := make([]float64, rows*qw), make([]float64, rows*qw)
			for i := 0; i < rows; i++ {
				n := pos + i + 1
				for h := 0; h < c.heads; h++ {
					g := h / (c.heads / c.kv)
					q := qv[i*qw+h*c.hd : i*qw+(h+1)*c.hd]
					sc := make([]float64, n)
					m, maxErr := math.Inf(-1), 0.0
					for j := 0; j < n; j++ {
						k := allK[j*kvw+g*c.hd : j*kvw+(g+1)*c.hd]
						var dot, abs float64
						for d := range q {
							dot += float64(q[d]) * float64(k[d])
							abs += math.Abs(float64(q[d]) * float64(k[d]))
						}
						sc[j] = dot / math.Sqrt(float64(c.hd))
						m = math.Max(m, sc[j])
						// Score error: the dot's (hd+2)·u·Σ|qk| scaled, and the scale's rounding.
						maxErr = math.Max(maxErr, (float64(c.hd)+4)*u*abs/math.Sqrt(float64(c.hd)))
					}
					var sum float64
					for j := range sc {
						sc[j] = math.Exp(sc[j] - m)
						sum += sc[j]
					}
					for d := 0; d < c.hd; d++ {
						var o, absv float64
						for j := 0; j < n; j++ {
							v := float64(allV[j*kvw+g*c.hd+d])
							o += sc[j] / sum * v
							absv += sc[j] / sum * math.Abs(v)
						}
						want[i*qw+h*c.hd+d] = o
						// A score error δ moves each weight by at most 2δ relative;
						// exp, normalisation and the weighted sum add (n+16)·u; ×2 for
						// second-order terms.
						bound[i*qw+h*c.hd+d] = 2 * (2*maxErr + float64(n+16)*u) * absv
					}
				}
			}
			check(t, "Attention "+name, s.read(t, out, 0, rows*qw), want, bound)
			// The caches hold k and v at their positions.
			gotK, gotV := s.read(t, kc, pos*kvw, rows*kvw), s.read(t, vc, pos*kvw, rows*kvw)
			check(t, "Attention kCache "+name, gotK, f64(kv), exactBound(len(kv)))
			check(t, "Attention vCache "+name, gotV, f64(vv), exactBound(len(vv)))
			pos += rows
		}
	}
}

func (s *suite) conv1d(t *testing.T) {
	r := newRNG(9)
	for _, dt := range vecDTypes {
		for _, c := range []struct {
			ch    int
			calls []int
		}{{7, []int{5, 1, 1, 2}}, {40, []int{1, 1, 1, 1, 1}}, {96, []int{10}}, {33, []int{2, 2, 6}}} {
			w, wv := s.weight(t, "conv", dt, c.ch, 4, uniform(r, c.ch*4, -0.5, 0.5))
			bias, bv := s.weight(t, "bias", dt, 1, c.ch, uniform(r, c.ch, -0.5, 0.5))
			state := s.buffer(t, make([]float32, 3*c.ch))
			var hist []float32 = make([]float32, 3*c.ch) // zero initial state
			for ci, rows := range c.calls {
				name := fmt.Sprintf("%s ch %d call %d rows %d", dt, c.ch, ci, rows)
				xv := uniform(r, rows*c.ch, -2, 2)
				dst := s.sentinel(t, rows*c.ch)
				must(t, "Conv1D "+name, s.b.Conv1D(dst, s.buffer(t, xv), state, w, bias, rows, c.ch))
				hist = append(hist, xv...)
				want, bound := make([]float64, rows*c.ch), make([]float64, rows*c.ch)
				base := len(hist)/c.ch - rows // row of hist holding x[0]
				for i := 0; i < rows; i++ {
					for ch := 0; ch < c.ch; ch++ {
						pre, abs := bv[ch], math.Abs(bv[ch])
						for k := 0; k < 4; k++ {
							p := wv[ch*4+k] * float64(hist[(base+i-3+k)*c.ch+ch])
							pre += p
							abs += math.Abs(p)
						}
						j := i*c.ch + ch
						want[j] = pre * sigmoid(pre)
						// Five-term sum (8u·Σ|terms|, silu' ≤ 1.1) then silu.
						bound[j] = 8*u*abs*1.1 + siluRel(pre)*math.Abs(want[j])
					}
				}
				check(t, "Conv1D "+name, s.read(t, dst, 0, rows*c.ch), want, bound)
				st := hist[len(hist)-3*c.ch:]
				check(t, "Conv1D state "+name, s.read(t, state, 0, 3*c.ch), f64(st), exactBound(3*c.ch))
			}
		}
	}
}

func softplus(x float64) float64 {
	if x > 20 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

func (s *suite) ssmscan(t *testing.T) {
	r := newRNG(10)
	for _, c := range []struct {
		heads, kv, hd int
		calls         []int
	}{
		{4, 2, 16, []int{37}},
		{4, 2, 16, []int{20, 1, 16}},
		{3, 1, 6, []int{1, 1, 1}},
		{6, 3, 8, []int{100}},
		{5, 5, 4, []int{33, 2}},
		{2, 1, 64, []int{70, 1}},
	} {
		H, p := c.heads, c.hd
		dxb := c.kv * p
		width := 2*dxb + H*p
		// Parameters as the converter initialises them (DESIGN.md §4), D perturbed.
		aNeg, dtBias, dSkip := make([]float32, H), make([]float32, H), make([]float32, H)
		for h := 0; h < H; h++ {
			aNeg[h] = float32(-(1 + 15*r.Float64()))
			dt0 := math.Exp(math.Log(1e-3) + r.Float64()*(math.Log(0.1)-math.Log(1e-3)))
			dtBias[h] = float32(dt0 + math.Log(-math.Expm1(-dt0)))
			dSkip[h] = float32(1 + 0.1*r.NormFloat64())
		}
		aw, _ := s.weight(t, "A", format.F32, 1, H, aNeg)
		bw, _ := s.weight(t, "dt_bias", format.F32, 1, H, dtBias)
		dw, _ := s.weight(t, "D", format.F32, 1, H, dSkip)
		state := s.buffer(t, make([]float32, H*p*p))
		S := make([]float64, H*p*p)
		Sabs := make([]float64, H*p*p)
		step := 0
		for ci, rows := range c.calls {
			name := fmt.Sprintf("heads %d kv %d headDim %d call %d rows %d", H, c.kv, p, ci, rows)
			xbc := uniform(r, rows*width, -1, 1)
			dt := uniform(r, rows*H, -2, 5) // with dt_bias: d from ~1e-4 to ~3
			y := s.sentinel(t, rows*H*p)
			must(t, "SSMScan "+name, s.b.SSMScan(y, s.buffer(t, xbc), s.buffer(t, dt), state, aw, bw, dw, rows, H, c.kv, p))
			want, bound := make([]float64, rows*H*p), make([]float64, rows*H*p)
			for i := 0; i < rows; i++ {
				step++
				for h := 0; h < H; h++ {
					g := h / (H / c.kv)
					row := xbc[i*width:]
					d := softplus(float64(dt[i*H+h]) + float64(dtBias[h]))
					a := math.Exp(d * float64(aNeg[h]))
					for pi := 0; pi < p; pi++ {
						x := float64(row[g*p+pi])
						var yv, yabs float64
						for n := 0; n < p; n++ {
							B, C := float64(row[dxb+g*p+n]), float64(row[2*dxb+h*p+n])
							k := (h*p+pi)*p + n
							S[k] = a*S[k] + d*x*B
							Sabs[k] = a*Sabs[k] + math.Abs(d*x*B)
							yv += S[k] * C
							yabs += Sabs[k] * math.Abs(C)
						}
						j := i*H*p + h*p + pi
						want[j] = yv + float64(dSkip[h])*x
						// Each step multiplies earlier terms by one more rounded factor
						// (exp, softplus: a few u each): relative error grows by 8u per
						// step of the sequence; the C dot adds n·u.
						bound[j] = (float64(p) + 16 + 8*float64(step)) * u * (yabs + math.Abs(float64(dSkip[h])*x))
					}
				}
			}
			check(t, "SSMScan y "+name, s.read(t, y, 0, rows*H*p), want, bound)
			sb := make([]float64, len(S))
			for k := range sb {
				sb[k] = (16 + 8*float64(step)) * u * Sabs[k]
			}
			check(t, "SSMScan state "+name, s.read(t, state, 0, H*p*p), S, sb)
		}
	}
}

func (s *suite) gatedRMSNorm(t *testing.T) {
	r := newRNG(11)
	for _, dt := range vecDTypes {
		for _, c := range []struct{ rows, heads, hd int }{{1, 3, 6}, {4, 4, 16}, {2, 5, 24}} {
			name := fmt.Sprintf("%s rows %d heads %d headDim %d", dt, c.rows, c.heads, c.hd)
			n := c.heads * c.hd
			w, wv := s.weight(t, "norm", dt, 1, n, uniform(r, n, 0.5, 1.5))
			yv, zv := uniform(r, c.rows*n, -2, 2), uniform(r, c.rows*n, -6, 6)
			dst := s.sentinel(t, c.rows*n)
			must(t, "GatedRMSNorm "+name, s.b.GatedRMSNorm(dst, s.buffer(t, yv), s.buffer(t, zv), w, c.rows, c.heads, c.hd, 1e-5))
			want, bound := make([]float64, c.rows*n), make([]float64, c.rows*n)
			for i := 0; i < c.rows; i++ {
				for h := 0; h < c.heads; h++ {
					o := i*n + h*c.hd
					g := make([]float64, c.hd)
					ss, emax := 0.0, 0.0
					for k := range g {
						z := float64(zv[o+k])
						g[k] = float64(yv[o+k]) * z * sigmoid(z)
						ss += g[k] * g[k]
						emax = math.Max(emax, siluRel(z))
					}
					inv := 1 / math.Sqrt(ss/float64(c.hd)+1e-5)
					for k := range g {
						want[o+k] = g[k] * inv * wv[h*c.hd+k]
						// g's own error, the norm's (bounded by the worst g error and
						// the sum of squares), rsqrt and products.
						bound[o+k] = (siluRel(float64(zv[o+k])) + emax + (float64(c.hd)/2+8)*u) * math.Abs(want[o+k])
					}
				}
			}
			check(t, "GatedRMSNorm "+name, s.read(t, dst, 0, c.rows*n), want, bound)
		}
	}
}

func (s *suite) argmax(t *testing.T) {
	r := newRNG(12)
	n := 1001
	rows := 4
	x := uniform(r, rows*n, -10, 10)
	// Row 1: a tie between 7 and 500 (first wins); row 2: all equal (0 wins);
	// row 3: the maximum in the last column.
	x[n+7], x[n+500] = 20, 20
	for i := 0; i < n; i++ {
		x[2*n+i] = 1.5
	}
	x[3*n+n-1] = 30
	want := make([]float64, rows)
	for i := 0; i < rows; i++ {
		best := 0
		for k := 0; k < n; k++ {
			if x[i*n+k] > x[i*n+best] {
				best = k
			}
		}
		want[i] = float64(best)
	}
	dst := s.sentinel(t, rows)
	must(t, "Argmax", s.b.Argmax(dst, s.buffer(t, x), rows, n))
	check(t, "Argmax", s.read(t, dst, 0, rows), want, exactBound(rows))
}

// errors: bad inputs are errors, never panics or silent out-of-range writes.
func (s *suite) errors(t *testing.T) {
	r := newRNG(13)
	data, _ := EncodeWeight(format.F32, 4, 32, uniform(r, 128, -1, 1))
	if _, err := s.b.Upload("short", format.F32, 4, 32, data[:len(data)-4]); err == nil {
		t.Error("Upload with too few bytes: no error")
	}
	if _, err := s.b.Upload("q8", format.Q8_0, 4, 30, data); err == nil {
		t.Error("Upload Q8_0 with cols not a multiple of 32: no error")
	}
	w, _ := s.weight(t, "w", format.F32, 4, 32, uniform(r, 128, -1, 1))
	small := s.buffer(t, make([]float32, 3))
	x := s.buffer(t, make([]float32, 64))
	if err := s.b.Embed(small, w, []int32{4}); err == nil {
		t.Error("Embed with id past the table: no error")
	}
	if err := s.b.Embed(small, w, []int32{-1}); err == nil {
		t.Error("Embed with negative id: no error")
	}
	if err := s.b.MatMul(small, x, w, 2); err == nil {
		t.Error("MatMul into a too small dst: no error")
	}
	if err := s.b.MatMul(s.buffer(t, make([]float32, 8)), small, w, 1); err == nil {
		t.Error("MatMul from a too small x: no error")
	}
	kc := s.buffer(t, make([]float32, 2*16))
	q := s.buffer(t, make([]float32, 16))
	if err := s.b.Attention(q, q, q, q, kc, kc, 1, 2, 1, 1, 16); err == nil {
		t.Error("Attention past the cache: no error")
	}
	if err := s.b.Copy(small, 2, x, 0, 2); err == nil {
		t.Error("Copy past dst: no error")
	}
	if err := s.b.Write(small, 1, make([]float32, 3)); err == nil {
		t.Error("Write past the buffer: no error")
	}
	if err := s.b.Read(make([]float32, 4), small, 0); err == nil {
		t.Error("Read past the buffer: no error")
	}
}
