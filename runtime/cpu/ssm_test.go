package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mmbformat/mmb/format"
	mrt "github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/backendtest"
)

// The chunked scan equals the sequential one on the model's shapes (head
// dim 64, GQA 3:1), over several chunks and a partial one, from a non-zero
// state. Bound: both are float32 evaluations of the same sums; the state
// carries a relative error of a few u per step, so 1e-5 relative to the
// largest output is generous yet far below what a wrong decay or a missed
// term produces (≥ 1e-3).
func TestChunkedEqualsSequential(t *testing.T) {
	const H, KV, P, rows = 6, 2, 64, 150
	r := rand.New(rand.NewPCG(5, 6))
	width := 2*KV*P + H*P
	xbc := make([]float32, rows*width)
	dt := make([]float32, rows*H)
	state := make([]float32, H*P*P)
	for i := range xbc {
		xbc[i] = float32(r.NormFloat64())
	}
	for i := range dt {
		dt[i] = float32(r.Float64()*6 - 4)
	}
	for i := range state {
		state[i] = float32(r.NormFloat64() * 0.1)
	}
	a, bias, d := make([]float32, H), make([]float32, H), make([]float32, H)
	for h := range a {
		a[h], bias[h], d[h] = -float32(1+15*r.Float64()), float32(-3+r.Float64()), 1
	}
	run := func(o Options) ([]float32, []float32) {
		b := New(o)
		defer b.Close()
		up := func(v []float32) mrt.Weight {
			data, _ := backendtest.EncodeWeight(format.F32, 1, len(v), v)
			w, err := b.Upload("v", format.F32, 1, len(v), data)
			if err != nil {
				t.Fatal(err)
			}
			return w
		}
		buf := func(v []float32) mrt.Buffer {
			x, _ := b.Alloc(len(v))
			b.Write(x, 0, v)
			return x
		}
		y, st := buf(make([]float32, rows*H*P)), buf(state)
		if err := b.SSMScan(y, buf(xbc), buf(dt), st, up(a), up(bias), up(d), rows, H, KV, P); err != nil {
			t.Fatal(err)
		}
		return y.(*Buffer).d, st.(*Buffer).d
	}
	ys, ss := run(Options{Threads: 2, ChunkRows: -1})
	yc, sc := run(Options{Threads: 2, ChunkRows: 1, Chunk: 32})
	cmp := func(what string, a, b []float32) {
		m := 0.0
		for _, v := range a {
			m = max(m, math.Abs(float64(v)))
		}
		for i := range a {
			if d := math.Abs(float64(a[i] - b[i])); d > 1e-5*m {
				t.Fatalf("%s[%d]: sequential %v, chunked %v (bound %.3g)", what, i, a[i], b[i], 1e-5*m)
			}
		}
	}
	cmp("y", ys, yc)
	cmp("state", ss, sc)
}

// Prefill-sized scan (512 tokens, 12 heads of 64): sequential vs chunked.
func BenchmarkSSMScan512(b *testing.B) {
	const H, KV, P, rows = 12, 4, 64, 512
	width := 2*KV*P + H*P
	r := rand.New(rand.NewPCG(1, 1))
	xbc, dt := make([]float32, rows*width), make([]float32, rows*H)
	for i := range xbc {
		xbc[i] = float32(r.NormFloat64())
	}
	for i := range dt {
		dt[i] = float32(r.Float64() - 3)
	}
	ones := make([]float32, H)
	for i := range ones {
		ones[i] = -1
	}
	for _, c := range []struct {
		name string
		o    Options
	}{{"sequential", Options{ChunkRows: -1}}, {"chunked32", Options{Chunk: 32}}, {"chunked64", Options{Chunk: 64}}} {
		b.Run(c.name, func(b *testing.B) {
			be := New(c.o)
			defer be.Close()
			data, _ := backendtest.EncodeWeight(format.F32, 1, H, ones)
			w, _ := be.Upload("v", format.F32, 1, H, data)
			buf := func(v []float32) mrt.Buffer { x, _ := be.Alloc(len(v)); be.Write(x, 0, v); return x }
			y, st, xb, db := buf(make([]float32, rows*H*P)), buf(make([]float32, H*P*P)), buf(xbc), buf(dt)
			for i := 0; i < b.N; i++ {
				if err := be.SSMScan(y, xb, db, st, w, w, w, rows, H, KV, P); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
