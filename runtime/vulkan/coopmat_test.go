//go:build cgo

package vulkan

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/internal/hfref"
)

// The cooperative-matrix path runs only where the device has
// VK_NV_cooperative_matrix (NVIDIA; not lavapipe), so these tests skip,
// saying so, elsewhere. The other tests open the backend with NoCoopMatrix
// (newTest), keeping their fp32 tolerances; these check the f16-operand path
// against float64 references built from the same f16-rounded operands.

func newCoop(t *testing.T) *Backend {
	t.Helper()
	b, err := New(Options{Device: AutoDevice, CacheDir: "-"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if !b.coopmat {
		b.Close()
		t.Skipf("%s has no VK_NV_cooperative_matrix with 16×16×16 fp16 matrices: cooperative-matrix path not tested here", b.dev.Name)
	}
	return b
}

// f16r rounds to the nearest f16 (clamped to ±65504), as tof16.comp does.
func f16r(v float32) float64 {
	v = max(-65504, min(65504, v))
	return float64(format.F16ToF32(format.F32ToF16(v)))
}

func readBuf(t *testing.T, b *Backend, x rt.Buffer, n int) []float32 {
	t.Helper()
	out := make([]float32, n)
	if err := b.Read(out, x, 0); err != nil {
		t.Fatal(err)
	}
	return out
}

// lcg returns a generator of values in [-1, 1) from a 64-bit linear
// congruential sequence started at seed.
func lcg(seed uint64) func() float32 {
	r := seed
	return func() float32 {
		r = r*6364136223846793005 + 1442695040888963407
		return float32(int32(r>>32)) / float32(1<<31)
	}
}

func TestCoopMatmul(t *testing.T) {
	b := newCoop(t)
	defer b.Close()
	next := lcg(7)
	// Row counts that leave partial 64- and 128-row blocks; N both
	// multiples of 128 and not. Q8_0 weights are dequantised to f16 as they
	// are staged: the reference uses f16(scale·q).
	type shape struct {
		rows, n, k int
		q8         bool
	}
	var shapes []shape
	for _, q8 := range []bool{false, true} {
		for _, sh := range []shape{{64, 64, 32, q8}, {65, 128, 64, q8}, {100, 192, 256, q8}, {130, 256, 2048, q8}, {513, 2048, 512, q8}, {300, 4096, 64, q8}} {
			shapes = append(shapes, sh)
		}
	}
	// A width that is no multiple of 32 stays on the fp32 shaders.
	if w, err := b.Upload("w", format.F16, 64, 48, make([]byte, 2*64*48)); err != nil || b.useCoopMatmul(w.(*weight), 128) {
		t.Fatalf("K = 48 takes the cooperative path (%v)", err)
	}
	for _, sh := range shapes {
		t.Run(fmt.Sprintf("%dx%dx%d/q8=%v", sh.rows, sh.n, sh.k, sh.q8), func(t *testing.T) {
			wv := make([]float32, sh.n*sh.k)
			dt := format.F16
			var raw []byte
			if sh.q8 {
				dt = format.Q8_0
				for blk := 0; blk < len(wv)/32; blk++ {
					sc := format.F32ToF16(0.004 + 0.004*next())
					raw = binary.LittleEndian.AppendUint16(raw, sc)
					for i := 0; i < 32; i++ {
						q := int8(int32(next() * 127))
						raw = append(raw, byte(q))
						wv[32*blk+i] = float32(f16r(format.F16ToF32(sc) * float32(q)))
					}
				}
			} else {
				raw = make([]byte, 2*len(wv))
				for i := range wv {
					h := format.F32ToF16(next())
					binary.LittleEndian.PutUint16(raw[2*i:], h)
					wv[i] = format.F16ToF32(h)
				}
			}
			w, err := b.Upload("w", dt, sh.n, sh.k, raw)
			if err != nil {
				t.Fatal(err)
			}
			wt := w.(*weight)
			if !b.useCoopMatmul(wt, sh.rows) {
				t.Fatal("shape does not take the cooperative path")
			}
			xv := make([]float32, sh.rows*sh.k)
			for i := range xv {
				xv[i] = 3 * next()
			}
			x, _ := b.Alloc(len(xv))
			y, _ := b.Alloc(sh.rows * sh.n)
			if err := b.Write(x, 0, xv); err != nil {
				t.Fatal(err)
			}
			if err := b.MatMul(y, x, w, sh.rows); err != nil {
				t.Fatal(err)
			}
			got := readBuf(t, b, y, sh.rows*sh.n)
			// Products of f16 values are exact in fp32; the matrix units add
			// them in fp32 (possibly truncating rather than rounding), so each
			// of the K additions errs by at most 2^-23 of the running
			// magnitude: |err| ≤ K·2^-23·Σ|w·x16|, plus a floor for zero sums.
			for m := 0; m < sh.rows; m++ {
				for n := 0; n < sh.n; n++ {
					var ref, mag float64
					for k := 0; k < sh.k; k++ {
						p := float64(wv[n*sh.k+k]) * f16r(xv[m*sh.k+k])
						ref += p
						mag += math.Abs(p)
					}
					tol := float64(sh.k)*0x1p-23*mag + 1e-30
					if d := math.Abs(float64(got[m*sh.n+n]) - ref); !(d <= tol) {
						t.Fatalf("y[%d,%d] = %g, want %g (|diff| %g > %g)", m, n, got[m*sh.n+n], ref, d, tol)
					}
				}
			}
		})
	}
}

func TestCoopAttention(t *testing.T) {
	b := newCoop(t)
	defer b.Close()
	next := lcg(11)
	for _, c := range []struct{ heads, kv, hd, pos0, rows int }{
		{4, 2, 64, 0, 64}, {4, 2, 64, 0, 100}, {4, 1, 64, 37, 70}, {2, 2, 64, 300, 129}, {4, 2, 128, 5, 90},
	} {
		t.Run(fmt.Sprintf("h%d_kv%d_hd%d_pos%d_rows%d", c.heads, c.kv, c.hd, c.pos0, c.rows), func(t *testing.T) {
			if !b.useCoopAttention(c.rows, c.hd) {
				t.Skipf("head dim %d does not fit this device's %d bytes of shared memory", c.hd, b.maxShared)
			}
			L, qd, kvd := c.pos0+c.rows, c.heads*c.hd, c.kv*c.hd
			fill := func(n int, s float32) []float32 {
				v := make([]float32, n)
				for i := range v {
					v[i] = s * next()
				}
				return v
			}
			qv, kv, vv := fill(c.rows*qd, 3), fill(L*kvd, 3), fill(L*kvd, 1)
			q, _ := b.Alloc(len(qv))
			k, _ := b.Alloc(c.rows * kvd)
			v, _ := b.Alloc(c.rows * kvd)
			kc, _ := b.Alloc(L * kvd)
			vc, _ := b.Alloc(L * kvd)
			o, _ := b.Alloc(c.rows * qd)
			for _, w := range []struct {
				dst rt.Buffer
				off int
				src []float32
			}{{q, 0, qv}, {k, 0, kv[c.pos0*kvd:]}, {v, 0, vv[c.pos0*kvd:]}, {kc, 0, kv[:c.pos0*kvd]}, {vc, 0, vv[:c.pos0*kvd]}} {
				if err := b.Write(w.dst, w.off, w.src); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.Attention(o, q, k, v, kc, vc, c.rows, c.pos0, c.heads, c.kv, c.hd); err != nil {
				t.Fatal(err)
			}
			got := readBuf(t, b, o, len(qv))
			// The reference uses the kernel's f16 operands (q prescaled into the
			// log2 domain, k, v) in float64. The kernel also rounds the softmax
			// weights p ∈ [0, 1] to f16 before P·V while summing them unrounded,
			// which moves an output by at most 2^-11·max|v|; the fp32 sums and
			// exp2 add far less. Bound: 2^-10·max|v| (twice that).
			qs := float32(1/math.Sqrt(float64(c.hd))) * math.Log2E
			var vmax float64
			for _, x := range vv {
				vmax = max(vmax, math.Abs(f16r(x)))
			}
			tol := 0x1p-10 * vmax
			s := make([]float64, L)
			for i := 0; i < c.rows; i++ {
				for h := 0; h < c.heads; h++ {
					g := h / (c.heads / c.kv)
					n := c.pos0 + i + 1
					mx := math.Inf(-1)
					for j := 0; j < n; j++ {
						var d float64
						for e := 0; e < c.hd; e++ {
							d += f16r(qv[i*qd+h*c.hd+e]*qs) * f16r(kv[j*kvd+g*c.hd+e])
						}
						s[j] = d
						mx = max(mx, d)
					}
					var l float64
					for j := 0; j < n; j++ {
						s[j] = math.Exp2(s[j] - mx)
						l += s[j]
					}
					for e := 0; e < c.hd; e++ {
						var ref float64
						for j := 0; j < n; j++ {
							ref += s[j] * f16r(vv[j*kvd+g*c.hd+e])
						}
						ref /= l
						gv := got[i*qd+h*c.hd+e]
						if d := math.Abs(float64(gv) - ref); !(d <= tol) {
							t.Fatalf("row %d head %d dim %d: %g, want %g (|diff| %g > %g)", i, h, e, gv, ref, d, tol)
						}
					}
				}
			}
		})
	}
}

// gocoder-4m in f16 (head dim 64, all widths multiples of 64) on the whole
// cooperative path against the same file on the fp32 shaders. Every matmul
// and attention input is rounded to 11 significant bits (relative 2^-12 ≈
// 2.4e-4 at most); over 4 layers of ~5 such ops each (and the head) these
// compound to ≈ 21·2.4e-4 ≈ 5e-3 of the logits' scale, so the bound is 1e-2 of
// the largest |logit|, twice that.
func TestCoopGocoder(t *testing.T) {
	bc := newCoop(t) // closed by openOn's cleanup
	path := hfref.Convert(t, "../../testdata/models/gocoder-4m", format.F16)
	cases := hfref.Gocoder(t, "../../testdata/models/gocoder-4m/reference_logits.npz")
	var ids []int
	for len(ids) < 200 {
		for _, c := range cases {
			ids = append(ids, c.Greedy...)
		}
	}
	var out [2][]float32
	for i, b := range []*Backend{bc, newTest(t, Options{Device: AutoDevice, CacheDir: "-"})} {
		s, err := openOn(t, path, b, rt.Options{}).NewSession()
		if err != nil {
			t.Fatal(err)
		}
		lg, err := s.PrefillAll(ids[:200])
		if err != nil {
			t.Fatal(err)
		}
		out[i] = append([]float32(nil), lg...)
	}
	hfref.CheckClose(t, "cooperative vs fp32 logits", out[0], out[1], 1e-2) // relative to max(1, max|logit|)
}
