package convert

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmbformat/mmb/convert/safetensors"
	"github.com/mmbformat/mmb/format"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const fixtures = "../testdata/fixtures"

var fixtureNames = []string{"llama-tiny-f32", "llama-tiny-bf16-tied-sharded", "mistral-tiny-f16-spm", "mamba2-hybrid-tiny"}

func fixture(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(fixtures, name)
	if _, err := os.Stat(filepath.Join(p, "config.json")); err != nil {
		t.Fatalf("fixture %s missing: %v", name, err)
	}
	return p
}

func convertT(t testing.TB, o Options) (*format.File, *Summary) {
	t.Helper()
	if o.Output == "" {
		o.Output = filepath.Join(t.TempDir(), "out.mmb")
	}
	sum, err := Convert(context.Background(), o)
	if err != nil {
		t.Fatalf("convert %s: %v", o.Input, err)
	}
	f, err := format.Open(o.Output)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := f.Verify(f.Latest()); err != nil {
		t.Fatal(err)
	}
	return f, sum
}

// goldenText is what the golden files hold: the config, the layer kinds and
// every tensor's name, dtype, shape and CRC32C.
func goldenText(f *format.File) string {
	r := f.Latest()
	var b strings.Builder
	cj, _ := json.MarshalIndent(r.Config, "", " ")
	fmt.Fprintf(&b, "config %s\n", cj)
	ks := make([]string, len(r.Config.LayerKinds))
	for i, k := range r.Config.LayerKinds {
		ks[i] = string(k)
	}
	fmt.Fprintf(&b, "layer_kinds %s\n", strings.Join(ks, ","))
	for _, t := range r.Tensors {
		fmt.Fprintf(&b, "tensor %s %s %v %08x\n", t.Name, t.DType, t.Shape, t.CRC32C)
	}
	return b.String()
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s: first difference at line %d:\n got: %s\nwant: %s", path, i+1, g, w)
		}
	}
}

func TestGolden(t *testing.T) {
	for _, fx := range fixtureNames {
		cases := []struct {
			tag  string
			keep *float64
		}{{"keep1", Keep(1)}, {"keep0.5", Keep(0.5)}}
		if fx == "mamba2-hybrid-tiny" {
			cases[0] = struct {
				tag  string
				keep *float64
			}{"asis", nil} // layers 0, 2 are Mamba: 1 is not possible
		}
		for _, c := range cases {
			t.Run(fx+"/"+c.tag, func(t *testing.T) {
				f, _ := convertT(t, Options{Input: fixture(t, fx), KeepAttention: c.keep})
				checkGolden(t, fx+"."+c.tag, goldenText(f))
			})
		}
	}
}

// srcFloats reads a source tensor as float32 (exact for F32/F16/BF16).
func srcTensor(t *testing.T, ck *safetensors.Checkpoint, name string) (format.DType, []byte) {
	t.Helper()
	f, ti, ok := ck.Tensor(name)
	if !ok {
		t.Fatalf("source has no %s", name)
	}
	b, err := f.Data(ti)
	if err != nil {
		t.Fatal(err)
	}
	dt, _ := stDType(ti.DType)
	return dt, b
}

func widen(dt format.DType, b []byte) []float32 {
	v := make([]float32, len(b)/elemSize(dt))
	decode(v, dt, b)
	return v
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	encode(b, format.F32, v)
	return b
}

// TestKeepAllBitIdentical: with every attention layer kept, each source
// tensor is in the output with the same bytes (large matrices in the source
// dtype; norms widened to F32, which is exact), and nothing else is there
// but the tokenizer files.
func TestKeepAllBitIdentical(t *testing.T) {
	for _, fx := range fixtureNames[:3] {
		t.Run(fx, func(t *testing.T) {
			dir := fixture(t, fx)
			f, _ := convertT(t, Options{Input: dir, KeepAttention: Keep(1)})
			ck, err := safetensors.OpenCheckpoint(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ck.Close()
			r := f.Latest()
			n := 0
			for _, name := range ck.Names() {
				if name == "lm_head.weight" && r.Config.TieEmbeddings {
					continue
				}
				ot, ok := r.Tensor(name)
				if !ok {
					t.Fatalf("output lacks %s", name)
				}
				n++
				sdt, sb := srcTensor(t, ck, name)
				got, _ := f.Data(ot)
				want := sb
				if ot.DType == format.F32 && sdt != format.F32 {
					if !strings.HasSuffix(name, "norm.weight") {
						t.Fatalf("%s: large matrix widened to F32", name)
					}
					want = f32Bytes(widen(sdt, sb))
				} else if ot.DType != sdt {
					t.Fatalf("%s: dtype %s, source %s", name, ot.DType, sdt)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%s: bytes differ from the source", name)
				}
			}
			extra := len(r.Tensors) - n
			if _, ok := r.Tensor(format.TokenizerJSONTensor); !ok {
				t.Fatal("no tokenizer.json tensor")
			}
			if extra != 3 { // tokenizer.json, tokenizer_config.json, generation_config.json
				t.Fatalf("%d tensors beyond the source's, want 3 tokenizer/generation files", extra)
			}
			tok, _ := r.Tensor(format.TokenizerJSONTensor)
			tb, _ := f.Data(tok)
			want, _ := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
			if !bytes.Equal(tb, want) {
				t.Fatal("tokenizer.json tensor differs from the file")
			}
			if r.Metadata["tokenizer.eos_token"] == "" || r.Metadata[MetaVersion] == "" {
				t.Fatalf("metadata lacks tokens or version: %v", r.Metadata)
			}
			if p := r.Provenance; p == nil || len(p.Sources) < 2 || len(p.Sources[0].SHA256) != 64 {
				t.Fatalf("provenance incomplete: %+v", p)
			}
		})
	}
}

// TestDTypeConversion: --dtype converts the large matrices with
// round-to-nearest-even (checked against format's conversions element by
// element), leaves the small tensors F32, and Q8_0 dequantises to within half
// a quantisation step of the source.
func TestDTypeConversion(t *testing.T) {
	dir := fixture(t, "llama-tiny-f32")
	ck, err := safetensors.OpenCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	for _, dt := range []format.DType{format.F16, format.BF16, format.Q8_0} {
		t.Run(dt.String(), func(t *testing.T) {
			f, sum := convertT(t, Options{Input: dir, KeepAttention: Keep(0.5), DType: dt})
			r := f.Latest()
			name := "model.layers.1.self_attn.q_proj.weight"
			ot, _ := r.Tensor(name)
			if ot.DType != dt {
				t.Fatalf("%s stored as %s", name, ot.DType)
			}
			if nt, _ := r.Tensor("model.layers.0.input_layernorm.weight"); nt.DType != format.F32 {
				t.Fatalf("norm stored as %s", nt.DType)
			}
			if at, _ := r.Tensor("model.layers.0.mamba.A_log"); at.DType != format.F32 {
				t.Fatalf("A_log stored as %s", at.DType)
			}
			_, sb := srcTensor(t, ck, name)
			src := widen(format.F32, sb)
			got, _ := f.Float32(ot)
			for i, v := range src {
				switch dt {
				case format.F16:
					if w := format.F16ToF32(format.F32ToF16(v)); got[i] != w {
						t.Fatalf("%s[%d]: %g, want %g", name, i, got[i], w)
					}
				case format.BF16:
					if w := format.BF16ToF32(format.F32ToBF16(v)); got[i] != w {
						t.Fatalf("%s[%d]: %g, want %g", name, i, got[i], w)
					}
				case format.Q8_0:
					blk := src[i/32*32 : i/32*32+32]
					var amax float64
					for _, x := range blk {
						amax = math.Max(amax, math.Abs(float64(x)))
					}
					// scale = amax/127 rounded to f16 (relative error ≤ 2^-11);
					// the rounding of q adds at most half a step.
					step := amax / 127 * (1 + 1.0/2048)
					if d := math.Abs(float64(got[i] - v)); d > step/2*1.0001 {
						t.Fatalf("%s[%d]: %g, source %g, error %g above half step %g", name, i, got[i], v, d, step/2)
					}
				}
			}
			if dt == format.Q8_0 {
				// down_proj rows have 176 values, not a multiple of 32.
				if dp, _ := r.Tensor("model.layers.0.mlp.down_proj.weight"); dp.DType != format.F32 || len(sum.Fallbacks) != 4 {
					t.Fatalf("down_proj %s, fallbacks %q", dp.DType, sum.Fallbacks)
				}
			}
		})
	}
}

func TestQuantQ8(t *testing.T) {
	x := make([]float32, 32)
	for i := range x {
		x[i] = float32(i-16) / 4 // -4 … 3.75
	}
	x[5] = float32(math.NaN())
	var b [34]byte
	quantQ8(b[:], x)
	s := format.F16ToF32(binary.LittleEndian.Uint16(b[:]))
	if want := format.F16ToF32(format.F32ToF16(4.0 / 127)); s != want {
		t.Fatalf("scale %g, want %g", s, want)
	}
	for i, v := range x {
		q := int8(b[2+i])
		if i == 5 {
			if q != 0 {
				t.Fatalf("NaN quantised to %d", q)
			}
			continue
		}
		if want := math.Round(float64(v) / float64(s)); float64(q) != math.Max(-127, math.Min(127, want)) {
			t.Fatalf("q[%d] = %d, want %g", i, q, want)
		}
	}
	if int8(b[2]) != -127 {
		t.Fatalf("max |x| quantises to %d, want -127", int8(b[2]))
	}
	var z [34]byte
	quantQ8(z[:], make([]float32, 32))
	if !bytes.Equal(z[:], make([]byte, 34)) {
		t.Fatal("zero block not all zero")
	}
	// Half-way values round away from zero: x/s = 2.5 → 3.
	y := make([]float32, 32)
	y[0] = 127
	y[1] = 2.5
	y[2] = -2.5
	quantQ8(b[:], y)
	if s := format.F16ToF32(binary.LittleEndian.Uint16(b[:])); s != 1 {
		t.Fatalf("scale %g, want 1", s)
	}
	if int8(b[3]) != 3 || int8(b[4]) != -3 {
		t.Fatalf("2.5 → %d, -2.5 → %d; want 3, -3", int8(b[3]), int8(b[4]))
	}
}

// TestTensorReaderSmallReads: reading through buffers of any size, including
// smaller than one Q8_0 block, gives the same bytes as one big read.
func TestTensorReaderSmallReads(t *testing.T) {
	src := make([]float32, 32*7)
	for i := range src {
		src[i] = float32(math.Sin(float64(i)))
	}
	raw := f32Bytes(src)
	for _, out := range []format.DType{format.F32, format.F16, format.BF16, format.Q8_0} {
		mk := func() *tensorReader {
			return newTensorReader(out, []segment{{src: raw[:32*3*4], srcDT: format.F32, n: 96},
				{gen: func(d []float32) { copy(d, src[96:96+len(d)]) }, n: 0}, // empty segment
				{src: raw[32*3*4:], srcDT: format.F32, n: 128}}, nil)
		}
		var all bytes.Buffer
		if _, err := all.ReadFrom(mk()); err != nil {
			t.Fatal(err)
		}
		for _, sz := range []int{1, 3, 7, 33, 35, 1000} {
			if got := readBy(t, mk(), sz); !bytes.Equal(got, all.Bytes()) {
				t.Fatalf("%s: reads of %d bytes differ from one read", out, sz)
			}
		}
		n, _ := out.NBytes([]int64{int64(len(src))})
		if int64(all.Len()) != n {
			t.Fatalf("%s: %d bytes, want %d", out, all.Len(), n)
		}
	}
}

// TestTensorReaderParallel: segments large enough to be converted on several
// goroutines give exactly the bytes of encoding the whole tensor serially,
// whatever the read size, with a stateful generator still called in order.
func TestTensorReaderParallel(t *testing.T) {
	n1 := parallelMin + jobElems/2 + 32*5 // a partial last job
	want := make([]float32, 0, 2*n1+64)
	for i := 0; i < n1; i++ {
		want = append(want, float32(math.Sin(float64(i)*0.37))*float32(1+i%97))
	}
	f16src := make([]byte, 2*n1) // f16 of the first part, as a checkpoint would hold it
	for i, v := range want[:n1] {
		binary.LittleEndian.PutUint16(f16src[2*i:], format.F32ToF16(v))
		want[i] = format.F16ToF32(format.F32ToF16(v))
	}
	for i := 0; i < n1; i++ {
		want = append(want, float32(i%1001)/37-13)
	}
	small := []float32{1, -2, 3.5, 1e-3}
	for len(small) < 64 {
		small = append(small, small[len(small)-4]*0.5)
	}
	want = append(want, small...)
	for _, out := range []format.DType{format.F32, format.F16, format.BF16, format.Q8_0} {
		mk := func() *tensorReader {
			next := 0 // the generator's state: values must come out in order
			return newTensorReader(out, []segment{
				{src: f16src, srcDT: format.F16, n: int64(n1)},
				{gen: func(d []float32) {
					for i := range d {
						d[i] = float32(next%1001)/37 - 13
						next++
					}
				}, n: int64(n1)},
				{src: f32Bytes(small), srcDT: format.F32, n: int64(len(small))}}, nil)
		}
		nb, _ := out.NBytes([]int64{int64(len(want))})
		exp := make([]byte, nb)
		encode(exp, out, want)
		for _, sz := range []int{7, 1000, 1 << 20} {
			r := mk()
			got := readBy(t, r, sz)
			if i := firstDiff(got, exp); i >= 0 {
				t.Fatalf("%s, reads of %d: %d bytes, want %d; first difference at byte %d", out, sz, len(got), len(exp), i)
			}
			if len(r.free) > maxInFlight() {
				t.Fatalf("%s: %d job buffers, want at most %d", out, len(r.free), maxInFlight())
			}
		}
	}
	// A tail shorter than a Q8_0 block is an error after the whole blocks.
	r := newTensorReader(format.Q8_0, []segment{{src: f16src[:2*(parallelMin+40)], srcDT: format.F16, n: parallelMin + 40}}, nil)
	n, err := io.Copy(io.Discard, r)
	if err == nil || n != parallelMin/32*34+34 {
		t.Fatalf("misaligned tail: %d bytes, err %v; want %d bytes and an error", n, err, parallelMin/32*34+34)
	}
}

// readBy reads r to the end through a buffer of size bytes.
func readBy(t *testing.T, r io.Reader, size int) []byte {
	t.Helper()
	var got []byte
	p := make([]byte, size)
	for {
		n, err := r.Read(p)
		got = append(got, p[:n]...)
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// TestMambaInit: with 0.5, each replaced layer's in_proj holds v, k, q row
// for row, bit-identical, between fresh z and dt rows; out_proj is o_proj;
// the fresh parameters lie in their stated ranges.
func TestMambaInit(t *testing.T) {
	for _, fx := range fixtureNames[:3] {
		t.Run(fx, func(t *testing.T) {
			dir := fixture(t, fx)
			f, _ := convertT(t, Options{Input: dir, KeepAttention: Keep(0.5), Seed: 7})
			ck, err := safetensors.OpenCheckpoint(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ck.Close()
			r := f.Latest()
			c := r.Config
			m := c.Mamba
			D := c.HiddenSize
			if m == nil || m.DState != c.HeadDim || m.DInner != c.NumHeads*c.HeadDim || m.DXB != c.NumKVHeads*c.HeadDim || m.Heads != c.NumHeads || m.KVHeads != c.NumKVHeads || m.DConv != 4 || m.NormEps != 1e-5 {
				t.Fatalf("mamba config %+v for %+v", m, c)
			}
			for i, k := range c.LayerKinds {
				if (i%2 == 1) != (k == format.Attention) {
					t.Fatalf("layer %d is %s", i, k)
				}
				if k == format.Attention {
					continue
				}
				mp := fmt.Sprintf("model.layers.%d.mamba.", i)
				ap := fmt.Sprintf("model.layers.%d.self_attn.", i)
				if _, ok := r.Tensor(ap + "q_proj.weight"); ok {
					t.Fatalf("layer %d keeps q_proj", i)
				}
				in, _ := r.Tensor(mp + "in_proj.weight")
				ib, _ := f.Data(in)
				es := int64(elemSize(in.DType))
				row := int64(D) * es
				di, dxb, H := int64(m.DInner), int64(m.DXB), int64(m.Heads)
				if in.Shape[0] != 2*di+2*dxb+H || in.Shape[1] != int64(D) {
					t.Fatalf("in_proj shape %v", in.Shape)
				}
				for _, s := range []struct {
					src   string
					first int64
					rows  int64
				}{{"v_proj", di, dxb}, {"k_proj", di + dxb, dxb}, {"q_proj", di + 2*dxb, di}} {
					_, sb := srcTensor(t, ck, ap+s.src+".weight")
					if !bytes.Equal(ib[s.first*row:(s.first+s.rows)*row], sb) {
						t.Fatalf("layer %d: in_proj rows %d..%d differ from %s", i, s.first, s.first+s.rows, s.src)
					}
				}
				iv, _ := f.Float32(in)
				b := roundUp(in.DType, 1/math.Sqrt(float64(D)))
				checkRange(t, "z rows", iv[:di*int64(D)], -b, b)
				checkRange(t, "dt rows", iv[(2*di+2*dxb)*int64(D):], -b, b)
				out, _ := r.Tensor(mp + "out_proj.weight")
				ob, _ := f.Data(out)
				_, sb := srcTensor(t, ck, ap+"o_proj.weight")
				if !bytes.Equal(ob, sb) {
					t.Fatalf("layer %d: out_proj differs from o_proj", i)
				}
				get := func(n string) []float32 {
					ti, ok := r.Tensor(mp + n)
					if !ok || ti.DType != format.F32 {
						t.Fatalf("%s%s missing or not F32", mp, n)
					}
					v, _ := f.Float32(ti)
					return v
				}
				cw := get("conv1d.weight")
				if len(cw) != int(di+2*dxb)*4 {
					t.Fatalf("conv1d.weight has %d values", len(cw))
				}
				checkRange(t, "conv1d.weight", cw, -0.5, 0.5)
				checkRange(t, "conv1d.bias", get("conv1d.bias"), -0.5, 0.5)
				for _, v := range get("dt_bias") {
					// softplus(dt_bias) recovers dt0 ∈ [1e-3, 1e-1]; float32
					// storage of the bias moves it by ~1e-7 relative.
					dt := math.Log1p(math.Exp(float64(v)))
					if dt < 1e-3*(1-1e-5) || dt > 1e-1*(1+1e-5) {
						t.Fatalf("dt0 = softplus(%g) = %g outside [1e-3, 1e-1]", v, dt)
					}
				}
				checkRange(t, "A_log", get("A_log"), 0, float32(math.Log(16)))
				for _, n := range []string{"D", "norm.weight"} {
					for _, v := range get(n) {
						if v != 1 {
							t.Fatalf("%s = %g, want 1", n, v)
						}
					}
				}
			}
		})
	}
}

// roundUp gives the bound b as stored in dt: round-to-nearest of a value
// within [-b, b] stays within [-RN(b), RN(b)].
func roundUp(dt format.DType, b float64) float32 {
	switch dt {
	case format.F16:
		return format.F16ToF32(format.F32ToF16(float32(b)))
	case format.BF16:
		return format.BF16ToF32(format.F32ToBF16(float32(b)))
	}
	return float32(b)
}

// checkRange asserts every value lies in [lo, hi] and that the values spread
// over most of the range (not a constant or a narrow band).
func checkRange[T float32 | float64](t *testing.T, what string, v []float32, lo, hi T) {
	t.Helper()
	mn, mx := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, x := range v {
		if !(x >= float32(lo) && x <= float32(hi)) {
			t.Fatalf("%s: %g outside [%g, %g]", what, x, lo, hi)
		}
		mn, mx = min(mn, x), max(mx, x)
	}
	if len(v) >= 64 && float64(mx-mn) < 0.8*float64(hi-lo) {
		t.Fatalf("%s: values span only [%g, %g] of [%g, %g]", what, mn, mx, lo, hi)
	}
}

// TestDeterministic: same input and options give the same bytes; another
// seed changes the fresh parameters.
func TestDeterministic(t *testing.T) {
	dir := fixture(t, "llama-tiny-bf16-tied-sharded")
	tmp := t.TempDir()
	read := func(name string, seed uint64) []byte {
		p := filepath.Join(tmp, name)
		if _, err := Convert(context.Background(), Options{Input: dir, Output: p, KeepAttention: Keep(0.5), Seed: seed, Command: "x"}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := read("a.mmb", 3), read("b.mmb", 3), read("c.mmb", 4)
	if !bytes.Equal(a, b) {
		t.Fatal("two conversions with the same options differ")
	}
	if bytes.Equal(a, c) {
		t.Fatal("a different seed gave the same file")
	}
}

func TestHybridAsIs(t *testing.T) {
	dir := fixture(t, "mamba2-hybrid-tiny")
	f, _ := convertT(t, Options{Input: dir})
	r := f.Latest()
	want := []format.LayerKind{format.Mamba2, format.Attention, format.Mamba2, format.Attention}
	for i, k := range r.Config.LayerKinds {
		if k != want[i] {
			t.Fatalf("layer kinds %v, want %v", r.Config.LayerKinds, want)
		}
	}
	if m := r.Config.Mamba; m == nil || m.DInner != 64 || m.DXB != 32 || m.Heads != 4 || m.KVHeads != 2 || m.DState != 16 {
		t.Fatalf("mamba %+v", m)
	}
	ck, err := safetensors.OpenCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	for _, n := range ck.Names() {
		ot, ok := r.Tensor(n)
		if !ok {
			t.Fatalf("output lacks %s", n)
		}
		_, sb := srcTensor(t, ck, n)
		if got, _ := f.Data(ot); !bytes.Equal(got, sb) {
			t.Fatalf("%s differs from the source", n)
		}
	}
	if _, err := Convert(context.Background(), Options{Input: dir, Output: filepath.Join(t.TempDir(), "x.mmb"), KeepAttention: Keep(1)}); err == nil || !strings.Contains(err.Error(), "cannot be kept as attention") {
		t.Fatalf("keep 1 on a hybrid: %v", err)
	}
	// All Mamba from the hybrid: the attention layers 1 and 3 are replaced
	// and the Mamba layers 0 and 2 stay bit-identical.
	f2, _ := convertT(t, Options{Input: dir, KeepAttention: Keep(0)})
	for _, n := range []string{"model.layers.0.mamba.in_proj.weight", "model.layers.2.mamba.D"} {
		a, _ := f2.Latest().Tensor(n)
		ab, _ := f2.Data(a)
		_, sb := srcTensor(t, ck, n)
		if !bytes.Equal(ab, sb) {
			t.Fatalf("%s changed", n)
		}
	}
	if _, ok := f2.Latest().Tensor("model.layers.3.mamba.in_proj.weight"); !ok {
		t.Fatal("layer 3 not replaced")
	}
}

func TestChooseAttention(t *testing.T) {
	str := func(a []bool) string {
		var l []string
		for i, x := range a {
			if x {
				l = append(l, fmt.Sprint(i))
			}
		}
		return strings.Join(l, ",")
	}
	for _, c := range []struct {
		r    float64
		want string
	}{{1, "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15"}, {0.5, "1,3,5,7,9,11,13,15"}, {0.25, "3,7,11,15"}, {0.125, "7,15"}, {0, ""}} {
		a, err := chooseAttention(16, Keep(c.r), nil)
		if err != nil || str(a) != c.want {
			t.Fatalf("R=%g: %s %v, want %s", c.r, str(a), err, c.want)
		}
	}
	for _, r := range []float64{0.3, 2, -1, 1.0 / 32} {
		if _, err := chooseAttention(16, Keep(r), nil); err == nil {
			t.Fatalf("R=%g accepted", r)
		}
	}
	if a, err := chooseAttention(4, nil, []int{0, 2}); err != nil || str(a) != "0,2" {
		t.Fatal(str(a), err)
	}
	for _, l := range [][]int{{4}, {-1}, {1, 1}} {
		if _, err := chooseAttention(4, nil, l); err == nil {
			t.Fatalf("list %v accepted", l)
		}
	}
}
