package backendtest

import (
	"fmt"
	"math"
	"testing"

	"github.com/mmbformat/mmb/format"
	"github.com/mmbformat/mmb/runtime"
)

// Bounded is an output's float64 reference and, per element, a bound on the
// error of any float32 evaluation of it.
type Bounded struct{ Want, Bound []float64 }

// MLPRef computes a SwiGLU MLP block of rows token rows in float64 from the
// exact stored weights: gate = wg·x, up = wu·x, act = silu(gate)·up, down =
// wd·act and h + down, where x = RMSNorm(h)·norm (eps) when norm is not nil
// and x itself otherwise; wg and wu are [n, k], wd is [k, n]. Each output
// comes with a bound on the error of any float32 evaluation of it: a K-term
// dot product (any order, products rounded) is within (K+4)·u·Σ|terms| (the
// MatMul bound); the norm's scale adds (K/2+8)·u relative (the RMSNorm
// bound); silu through exp and a division (16+4|g|)·u relative (the SwiGLU
// bound), and the errors of gate and up carry into act through
// |silu'(g)·up| and |silu(g)|, whose bound carries into down through
// Σ|wd|; the residual add rounds once more.
func MLPRef(h, x []float32, wg, wu, wd, norm []float64, rows, k, n int, eps float64) (gate, up, act, down, hOut Bounded) {
	mk := func(m int) Bounded { return Bounded{make([]float64, m), make([]float64, m)} }
	gate, up, act = mk(rows*n), mk(rows*n), mk(rows*n)
	down, hOut = mk(rows*k), mk(rows*k)
	for r := 0; r < rows; r++ {
		xr := make([]float64, k)
		scaleRel := 0.0
		if norm != nil {
			ss := 0.0
			for i := 0; i < k; i++ {
				hv := float64(h[r*k+i])
				ss += hv * hv
			}
			s := 1 / math.Sqrt(ss/float64(k)+eps)
			for i := range xr {
				xr[i] = float64(h[r*k+i]) * norm[i] * s
			}
			scaleRel = (float64(k)/2 + 8) * u
		} else {
			for i := range xr {
				xr[i] = float64(x[r*k+i])
			}
		}
		for o := 0; o < n; o++ {
			var g, uv, ag, au float64
			for i := 0; i < k; i++ {
				g += wg[o*k+i] * xr[i]
				uv += wu[o*k+i] * xr[i]
				ag += math.Abs(wg[o*k+i] * xr[i])
				au += math.Abs(wu[o*k+i] * xr[i])
			}
			j := r*n + o
			gate.Want[j], up.Want[j] = g, uv
			gate.Bound[j] = (float64(k+4)*u + scaleRel) * ag
			up.Bound[j] = (float64(k+4)*u + scaleRel) * au
			sig := sigmoid(g)
			act.Want[j] = g * sig * uv
			act.Bound[j] = siluRel(g)*math.Abs(act.Want[j]) +
				math.Abs(sig*(1+g*(1-sig))*uv)*gate.Bound[j] + math.Abs(g*sig)*up.Bound[j]
		}
		for i := 0; i < k; i++ {
			var d, ad, carried float64
			for o := 0; o < n; o++ {
				w := wd[i*n+o]
				d += w * act.Want[r*n+o]
				ad += math.Abs(w * act.Want[r*n+o])
				carried += math.Abs(w) * act.Bound[r*n+o]
			}
			j := r*k + i
			down.Want[j] = d
			down.Bound[j] = float64(n+4)*u*ad + carried
			hOut.Want[j] = float64(h[j]) + d
			hOut.Bound[j] = down.Bound[j] + u*math.Abs(hOut.Want[j])
		}
	}
	return
}

// mlpBlock checks runtime.MLPBlock where the backend has it: h += the
// block, within MLPRef's bound, for every weight dtype, 1 and 3 rows, and
// an ffn width that is no multiple of a GPU's feature blocks; where the
// backend declines, h must be untouched.
func (s *suite) mlpBlock(t *testing.T) {
	mb, ok := s.b.(runtime.MLPBlock)
	if !ok {
		t.Skipf("%s does not implement runtime.MLPBlock", s.b.Name())
	}
	r := newRNG(14)
	const k, eps = 64, 1e-5
	fused := 0
	for _, dt := range allDTypes {
		for _, rows := range []int{1, 3} {
			n := 72
			if dt == format.Q8_0 {
				n = 96
			}
			name := fmt.Sprintf("%s rows %d k %d n %d", dt, rows, k, n)
			wg, eg := s.weight(t, "gate", dt, n, k, uniform(r, n*k, -1, 1))
			wu, eu := s.weight(t, "up", dt, n, k, uniform(r, n*k, -1, 1))
			wd, ed := s.weight(t, "down", dt, k, n, uniform(r, k*n, -1, 1))
			gn, en := s.weight(t, "norm", format.F32, 1, k, uniform(r, k, 0.5, 1.5))
			hv := uniform(r, rows*k, -2, 2)
			h := s.buffer(t, hv)
			ok, err := mb.MLP(h, gn, wg, wu, wd, rows, eps)
			must(t, "MLP "+name, err)
			got := s.read(t, h, 0, rows*k)
			if !ok {
				check(t, "MLP declined "+name+": h", got, f64(hv), exactBound(rows*k))
				continue
			}
			fused++
			_, _, _, _, want := MLPRef(hv, nil, eg, eu, ed, en, rows, k, n, eps)
			check(t, "MLP "+name+": h", got, want.Want, want.Bound)
		}
	}
	t.Logf("%d of %d cases fused", fused, 2*len(allDTypes))
}
