package cpu

import (
	"fmt"
	"math"

	mrt "github.com/mmbformat/mmb/runtime"
)

// softplus as torch.nn.functional.softplus (beta 1, threshold 20).
func softplus(x float32) float32 {
	if x > 20 {
		return x
	}
	return float32(math.Log1p(math.Exp(float64(x))))
}

// scanJob runs the Mamba-2 recurrence for heads [lo, hi).
type scanJob struct {
	b                     *Backend
	y, xbc, dt, state     []float32
	a, dtBias, dSkip      []float32
	rows, heads, group, p int
	width, dxb            int
	chunked               bool
	chunk                 int
}

func (j *scanJob) run(wk, lo, hi int) {
	for h := lo; h < hi; h++ {
		if j.chunked {
			j.chunkedHead(wk, h)
		} else {
			j.sequentialHead(h)
		}
	}
}

// sequentialHead is the exact per-token recurrence:
// S = exp(d·A)·S + d·x⊗B; y = S·C + D·x.
func (j *scanJob) sequentialHead(h int) {
	p, n, g := j.p, j.p, h/j.group
	S := j.state[h*p*n : (h+1)*p*n]
	for t := 0; t < j.rows; t++ {
		row := j.xbc[t*j.width:]
		x := row[g*p : (g+1)*p]
		B := row[j.dxb+g*n : j.dxb+(g+1)*n]
		C := row[2*j.dxb+h*n : 2*j.dxb+(h+1)*n]
		d := softplus(j.dt[t*j.heads+h] + j.dtBias[h])
		a := float32(math.Exp(float64(d * j.a[h])))
		y := j.y[t*j.heads*p+h*p : t*j.heads*p+(h+1)*p]
		for i := 0; i < p; i++ {
			y[i] = ssmRow(S[i*n:(i+1)*n], B, C, a, d*x[i]) + j.dSkip[h]*x[i]
		}
	}
}

// chunkedHead is the chunked form (DESIGN.md §4 "Prefill"): within a chunk,
// with Λ the running sum of d·A,
//
//	y_t = Σ_{s≤t} (C_t·B_s)·exp(Λ_t−Λ_s)·d_s·x_s + exp(Λ_t)·(S_prev·C_t) + D·x_t
//	S   = exp(Λ_end)·S_prev + Σ_s exp(Λ_end−Λ_s)·d_s·x_s⊗B_s.
//
// Λ is summed in float64: differences Λ_t−Λ_s of a long chunk would otherwise
// lose digits to cancellation that the sequential product never loses.
func (j *scanJob) chunkedHead(wk, h int) {
	p, n, g, Q := j.p, j.p, h/j.group, j.chunk
	S := j.state[h*p*n : (h+1)*p*n]
	// Worker scratch: d_s (Q), the weights (Q·Q), the chunk state (p·n), a
	// row of d·x (p). Λ lives on the stack in float64.
	sc := j.b.workerScratch(wk, Q+Q*Q+p*n+p)
	ds, wts, sl, tmp := sc[:Q], sc[Q:Q+Q*Q], sc[Q+Q*Q:Q+Q*Q+p*n], sc[Q+Q*Q+p*n:]
	var lam [maxChunk]float64
	for c0 := 0; c0 < j.rows; c0 += Q {
		L := min(Q, j.rows-c0)
		acc := 0.0
		for s := 0; s < L; s++ {
			d := softplus(j.dt[(c0+s)*j.heads+h] + j.dtBias[h])
			ds[s] = d
			acc += float64(d * j.a[h])
			lam[s] = acc
		}
		row := func(t int) []float32 { return j.xbc[(c0+t)*j.width:] }
		// wts[t,s] = (C_t·B_s)·exp(Λ_t−Λ_s)·d_s for s ≤ t.
		for t := 0; t < L; t++ {
			C := row(t)[2*j.dxb+h*n : 2*j.dxb+(h+1)*n]
			for s := 0; s <= t; s++ {
				B := row(s)[j.dxb+g*n : j.dxb+(g+1)*n]
				wts[t*Q+s] = dotF32(C, B) * float32(math.Exp(lam[t]-lam[s])) * ds[s]
			}
		}
		for t := 0; t < L; t++ {
			C := row(t)[2*j.dxb+h*n : 2*j.dxb+(h+1)*n]
			y := j.y[(c0+t)*j.heads*p+h*p : (c0+t)*j.heads*p+(h+1)*p]
			decay := float32(math.Exp(lam[t]))
			x := row(t)[g*p : (g+1)*p]
			for i := 0; i < p; i++ {
				y[i] = decay*dotF32(S[i*n:(i+1)*n], C) + j.dSkip[h]*x[i]
			}
			for s := 0; s <= t; s++ {
				axpy(y, wts[t*Q+s], row(s)[g*p:(g+1)*p])
			}
		}
		// Chunk-local state, then carry.
		clear(sl)
		for s := 0; s < L; s++ {
			f := float32(math.Exp(lam[L-1]-lam[s])) * ds[s]
			x := row(s)[g*p : (g+1)*p]
			B := row(s)[j.dxb+g*n : j.dxb+(g+1)*n]
			for i := 0; i < p; i++ {
				tmp[i] = f * x[i]
			}
			for i := 0; i < p; i++ {
				axpy(sl[i*n:(i+1)*n], tmp[i], B)
			}
		}
		decay := float32(math.Exp(lam[L-1]))
		for i := range S {
			S[i] = decay*S[i] + sl[i]
		}
	}
}

// maxChunk bounds the chunk length (Λ lives on the stack).
const maxChunk = 256

func (b *Backend) SSMScan(y, xbc, dt, state mrt.Buffer, aNeg, dtBias, dSkip mrt.Weight, rows, heads, kvHeads, headDim int) error {
	var bs [4][]float32
	for i, x := range []mrt.Buffer{y, xbc, dt, state} {
		d, err := buf(x)
		if err != nil {
			return err
		}
		bs[i] = d
	}
	var ws [3][]float32
	for i, x := range []mrt.Weight{aNeg, dtBias, dSkip} {
		w, err := wt(x)
		if err != nil {
			return err
		}
		if w.rows*w.cols != heads || w.small == nil {
			return fmt.Errorf("cpu: SSMScan: weight %s is [%d, %d], want [1, %d]", w.name, w.rows, w.cols, heads)
		}
		ws[i] = w.small
	}
	if rows <= 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0 || heads%kvHeads != 0 {
		return fmt.Errorf("cpu: SSMScan: bad sizes rows %d heads %d kvHeads %d headDim %d", rows, heads, kvHeads, headDim)
	}
	p := headDim
	dxb := kvHeads * p
	width := 2*dxb + heads*p
	var err error
	for i, c := range []struct {
		name string
		n    int
	}{{"y", rows * heads * p}, {"xbc", rows * width}, {"dt", rows * heads}, {"state", heads * p * p}} {
		if bs[i], err = span("SSMScan", c.name, bs[i], 0, c.n); err != nil {
			return err
		}
	}
	chunk := min(b.chunk, maxChunk)
	b.scan = scanJob{b: b, y: bs[0], xbc: bs[1], dt: bs[2], state: bs[3], a: ws[0], dtBias: ws[1], dSkip: ws[2],
		rows: rows, heads: heads, group: heads / kvHeads, p: p, width: width, dxb: dxb,
		chunked: b.chunkRows > 0 && rows >= b.chunkRows, chunk: chunk}
	b.pool.parallel(heads, 1, &b.scan)
	b.scan = scanJob{}
	return nil
}
