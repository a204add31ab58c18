package cpu

import (
	"fmt"
	"math"

	mrt "github.com/mmbformat/mmb/runtime"
)

func silu(x float32) float32 { return x / (1 + float32(math.Exp(float64(-x)))) }

func (b *Backend) Embed(dst mrt.Buffer, table mrt.Weight, ids []int32) error {
	d, err := buf(dst)
	if err != nil {
		return err
	}
	w, err := wt(table)
	if err != nil {
		return err
	}
	out, err := span("Embed", "dst", d, 0, len(ids)*w.cols)
	if err != nil {
		return err
	}
	for r, id := range ids {
		if id < 0 || int(id) >= w.rows {
			return fmt.Errorf("cpu: Embed: token id %d outside the table of %d rows", id, w.rows)
		}
		row := out[r*w.cols : (r+1)*w.cols]
		if src := w.row(row, int(id)); &src[0] != &row[0] {
			copy(row, src)
		}
	}
	return nil
}

// matmulJob computes dst[r, o] = x[r] · w[o] for output columns o in [lo, hi).
type matmulJob struct {
	b       *Backend
	dst, x  []float32
	w       *Weight
	rows    int
	outCols int
}

// mmBlock is how many weight rows the prefill path converts to float32 at
// once: converted once, they are reused by every activation row while they
// sit in the L2 cache.
const mmBlock = 16

func (j *matmulJob) run(wk, lo, hi int) {
	w, c := j.w, j.w.cols
	if j.rows == 1 {
		// Decode: each weight row is read once, straight from its bytes,
		// four rows at a time.
		x := j.x[:c]
		var four [4]float32
		o := lo
		for ; o+4 <= hi; o += 4 {
			w.dot4(o, x, &four)
			j.dst[o], j.dst[o+1], j.dst[o+2], j.dst[o+3] = four[0], four[1], four[2], four[3]
		}
		for ; o < hi; o++ {
			j.dst[o] = w.dot(o, x)
		}
		return
	}
	sc := j.b.workerScratch(wk, mmBlock*c)
	var four [4]float32
	for o0 := lo; o0 < hi; o0 += mmBlock {
		o1 := min(o0+mmBlock, hi)
		// The block's rows as float32 with a fixed stride: F32 rows are the
		// stored ones, others are converted once into scratch.
		blk := sc
		if w.f32 != nil {
			blk = w.f32[o0*c : o1*c]
		} else {
			for o := o0; o < o1; o++ {
				w.row(sc[(o-o0)*c:(o-o0+1)*c], o)
			}
		}
		for r := 0; r < j.rows; r++ {
			x := j.x[r*c : (r+1)*c]
			out := j.dst[r*j.outCols:]
			o := o0
			for ; o+4 <= o1; o += 4 {
				dot4F32(x, blk[(o-o0)*c:], c, &four)
				out[o], out[o+1], out[o+2], out[o+3] = four[0], four[1], four[2], four[3]
			}
			for ; o < o1; o++ {
				out[o] = dotF32(blk[(o-o0)*c:(o-o0+1)*c], x)
			}
		}
	}
}

func (b *Backend) MatMul(dst, x mrt.Buffer, w mrt.Weight, rows int) error {
	d, err := buf(dst)
	if err != nil {
		return err
	}
	xs, err := buf(x)
	if err != nil {
		return err
	}
	ww, err := wt(w)
	if err != nil {
		return err
	}
	if rows <= 0 {
		return fmt.Errorf("cpu: MatMul: rows %d", rows)
	}
	if d, err = span("MatMul", "dst", d, 0, rows*ww.rows); err != nil {
		return err
	}
	if xs, err = span("MatMul", "x", xs, 0, rows*ww.cols); err != nil {
		return err
	}
	b.mm = matmulJob{b: b, dst: d, x: xs, w: ww, rows: rows, outCols: ww.rows}
	// Grain: enough weight rows per worker that dispatch cost is noise.
	b.pool.parallel(ww.rows, max(1, 16384/max(ww.cols, 1)/max(rows, 1)), &b.mm)
	b.mm = matmulJob{}
	return nil
}

func (b *Backend) RMSNorm(dst, x mrt.Buffer, w mrt.Weight, rows, dim int, eps float32) error {
	d, err := buf(dst)
	if err != nil {
		return err
	}
	xs, err := buf(x)
	if err != nil {
		return err
	}
	ww, err := wt(w)
	if err != nil {
		return err
	}
	if ww.rows*ww.cols != dim || ww.small == nil {
		return fmt.Errorf("cpu: RMSNorm: weight %s is [%d, %d], want [1, %d]", ww.name, ww.rows, ww.cols, dim)
	}
	if d, err = span("RMSNorm", "dst", d, 0, rows*dim); err != nil {
		return err
	}
	if xs, err = span("RMSNorm", "x", xs, 0, rows*dim); err != nil {
		return err
	}
	g := ww.small
	for r := 0; r < rows; r++ {
		xr, dr := xs[r*dim:(r+1)*dim], d[r*dim:(r+1)*dim]
		ss := dotF32(xr, xr)
		inv := float32(1 / math.Sqrt(float64(ss/float32(dim)+eps)))
		for i := range dr {
			// HF: weight * (x * rsqrt(mean + eps)), in that order.
			dr[i] = g[i] * (xr[i] * inv)
		}
	}
	return nil
}

func (b *Backend) Copy(dst mrt.Buffer, dstOff int, src mrt.Buffer, srcOff, n int) error {
	d, err := buf(dst)
	if err != nil {
		return err
	}
	s, err := buf(src)
	if err != nil {
		return err
	}
	if d, err = span("Copy", "dst", d, dstOff, n); err != nil {
		return err
	}
	if s, err = span("Copy", "src", s, srcOff, n); err != nil {
		return err
	}
	copy(d, s)
	return nil
}

func (b *Backend) Add(dst, src mrt.Buffer, n int) error {
	d, err := buf(dst)
	if err != nil {
		return err
	}
	s, err := buf(src)
	if err != nil {
		return err
	}
	if d, err = span("Add", "dst", d, 0, n); err != nil {
		return err
	}
	if s, err = span("Add", "src", s, 0, n); err != nil {
		return err
	}
	for i := range d {
		d[i] += s[i]
	}
	return nil
}

func (b *Backend) SwiGLU(dst, gate, up mrt.Buffer, n int) error {
	d, err := buf(dst)
	if err != nil {
		return err
	}
	g, err := buf(gate)
	if err != nil {
		return err
	}
	u, err := buf(up)
	if err != nil {
		return err
	}
	if d, err = span("SwiGLU", "dst", d, 0, n); err != nil {
		return err
	}
	if g, err = span("SwiGLU", "gate", g, 0, n); err != nil {
		return err
	}
	if u, err = span("SwiGLU", "up", u, 0, n); err != nil {
		return err
	}
	for i := range d {
		d[i] = silu(g[i]) * u[i]
	}
	return nil
}

func (b *Backend) RoPE(x mrt.Buffer, rows, heads, headDim, pos0 int, invFreq mrt.Buffer) error {
	xs, err := buf(x)
	if err != nil {
		return err
	}
	f, err := buf(invFreq)
	if err != nil {
		return err
	}
	if headDim <= 0 || headDim%2 != 0 || heads <= 0 || rows < 0 || pos0 < 0 {
		return fmt.Errorf("cpu: RoPE: bad sizes rows %d heads %d headDim %d pos0 %d", rows, heads, headDim, pos0)
	}
	half := headDim / 2
	if xs, err = span("RoPE", "x", xs, 0, rows*heads*headDim); err != nil {
		return err
	}
	if f, err = span("RoPE", "invFreq", f, 0, half); err != nil {
		return err
	}
	for r := 0; r < rows; r++ {
		pos := float32(pos0 + r)
		for i := 0; i < half; i++ {
			// HF computes the angle as a float32 product, then cos/sin of it.
			ang := float64(pos * f[i])
			c, s := float32(math.Cos(ang)), float32(math.Sin(ang))
			for h := 0; h < heads; h++ {
				v := xs[(r*heads+h)*headDim:]
				a, bb := v[i], v[i+half]
				v[i] = a*c - bb*s
				v[i+half] = bb*c + a*s
			}
		}
	}
	return nil
}

// attentionJob handles (row, head) pairs: items are r·heads + h.
type attentionJob struct {
	b                             *Backend
	out, q, kc, vc                []float32
	pos0, heads, kvHeads, headDim int
	maxPos                        int
	scale                         float32
}

func (j *attentionJob) run(wk, lo, hi int) {
	hd, kvw, qw := j.headDim, j.kvHeads*j.headDim, j.heads*j.headDim
	group := j.heads / j.kvHeads
	for it := lo; it < hi; it++ {
		r, h := it/j.heads, it%j.heads
		n := j.pos0 + r + 1 // causal: positions 0..pos0+r
		g := h / group
		q := j.q[r*qw+h*hd : r*qw+(h+1)*hd]
		// Sized for the whole cache so that growing sequences never reallocate.
		sc := j.b.workerScratch(wk, j.maxPos)[:n]
		m := float32(math.Inf(-1))
		for s := 0; s < n; s++ {
			v := dotF32(q, j.kc[s*kvw+g*hd:s*kvw+(g+1)*hd]) * j.scale
			sc[s] = v
			m = max(m, v)
		}
		var sum float32
		for s := range sc {
			e := float32(math.Exp(float64(sc[s] - m)))
			sc[s] = e
			sum += e
		}
		o := j.out[r*qw+h*hd : r*qw+(h+1)*hd]
		clear(o)
		for s := 0; s < n; s++ {
			axpy(o, sc[s], j.vc[s*kvw+g*hd:s*kvw+(g+1)*hd])
		}
		inv := 1 / sum
		for i := range o {
			o[i] *= inv
		}
	}
}

func (b *Backend) Attention(out, q, k, v, kCache, vCache mrt.Buffer, rows, pos0, heads, kvHeads, headDim int) error {
	var bs [6][]float32
	for i, x := range []mrt.Buffer{out, q, k, v, kCache, vCache} {
		d, err := buf(x)
		if err != nil {
			return err
		}
		bs[i] = d
	}
	if rows <= 0 || pos0 < 0 || heads <= 0 || kvHeads <= 0 || headDim <= 0 || heads%kvHeads != 0 {
		return fmt.Errorf("cpu: Attention: bad sizes rows %d pos0 %d heads %d kvHeads %d headDim %d", rows, pos0, heads, kvHeads, headDim)
	}
	kvw, qw := kvHeads*headDim, heads*headDim
	maxPos := len(bs[4]) / kvw
	if pos0+rows > maxPos || len(bs[5]) < maxPos*kvw {
		return fmt.Errorf("cpu: Attention: positions %d..%d past the cache of %d positions", pos0, pos0+rows-1, maxPos)
	}
	var err error
	for i, name := range []string{"out", "q", "k", "v"} {
		w := qw
		if i >= 2 {
			w = kvw
		}
		if bs[i], err = span("Attention", name, bs[i], 0, rows*w); err != nil {
			return err
		}
	}
	copy(bs[4][pos0*kvw:], bs[2])
	copy(bs[5][pos0*kvw:], bs[3])
	b.att = attentionJob{b: b, out: bs[0], q: bs[1], kc: bs[4], vc: bs[5], pos0: pos0, heads: heads, kvHeads: kvHeads,
		headDim: headDim, maxPos: maxPos, scale: float32(1 / math.Sqrt(float64(headDim)))}
	b.pool.parallel(rows*heads, max(1, 4096/((pos0+rows)*headDim)), &b.att)
	b.att = attentionJob{}
	return nil
}

func (b *Backend) Conv1D(dst, x, state mrt.Buffer, w, bias mrt.Weight, rows, ch int) error {
	d, err := buf(dst)
	if err != nil {
		return err
	}
	xs, err := buf(x)
	if err != nil {
		return err
	}
	st, err := buf(state)
	if err != nil {
		return err
	}
	ww, err := wt(w)
	if err != nil {
		return err
	}
	bw, err := wt(bias)
	if err != nil {
		return err
	}
	if ww.rows != ch || ww.cols != 4 || ww.small == nil {
		return fmt.Errorf("cpu: Conv1D: weight %s is [%d, %d], want [%d, 4]", ww.name, ww.rows, ww.cols, ch)
	}
	if bw.rows*bw.cols != ch || bw.small == nil {
		return fmt.Errorf("cpu: Conv1D: bias %s is [%d, %d], want [1, %d]", bw.name, bw.rows, bw.cols, ch)
	}
	if d, err = span("Conv1D", "dst", d, 0, rows*ch); err != nil {
		return err
	}
	if xs, err = span("Conv1D", "x", xs, 0, rows*ch); err != nil {
		return err
	}
	if st, err = span("Conv1D", "state", st, 0, 3*ch); err != nil {
		return err
	}
	if len(d) > 0 && &d[0] == &xs[0] {
		return fmt.Errorf("cpu: Conv1D: dst and x must not be the same buffer")
	}
	wf, bf := ww.small, bw.small
	// in(t-k) is x[t-k] for t-k >= 0, else state[3+t-k].
	for t := 0; t < rows; t++ {
		for c := 0; c < ch; c++ {
			acc := bf[c]
			for k := 0; k < 4; k++ {
				s := t - 3 + k
				var v float32
				if s >= 0 {
					v = xs[s*ch+c]
				} else {
					v = st[(3+s)*ch+c]
				}
				acc += wf[c*4+k] * v
			}
			d[t*ch+c] = silu(acc)
		}
	}
	// New state: the last three inputs of the sequence state ++ x.
	for k := 0; k < 3; k++ {
		s := rows - 3 + k
		if s >= 0 {
			copy(st[k*ch:(k+1)*ch], xs[s*ch:(s+1)*ch])
		} else {
			copy(st[k*ch:(k+1)*ch], st[(3+s)*ch:(4+s)*ch]) // s+3 >= k: shifting down is safe in order
		}
	}
	return nil
}

func (b *Backend) GatedRMSNorm(dst, y, z mrt.Buffer, w mrt.Weight, rows, heads, headDim int, eps float32) error {
	d, err := buf(dst)
	if err != nil {
		return err
	}
	ys, err := buf(y)
	if err != nil {
		return err
	}
	zs, err := buf(z)
	if err != nil {
		return err
	}
	ww, err := wt(w)
	if err != nil {
		return err
	}
	n := heads * headDim
	if ww.rows*ww.cols != n || ww.small == nil {
		return fmt.Errorf("cpu: GatedRMSNorm: weight %s is [%d, %d], want [1, %d]", ww.name, ww.rows, ww.cols, n)
	}
	if d, err = span("GatedRMSNorm", "dst", d, 0, rows*n); err != nil {
		return err
	}
	if ys, err = span("GatedRMSNorm", "y", ys, 0, rows*n); err != nil {
		return err
	}
	if zs, err = span("GatedRMSNorm", "z", zs, 0, rows*n); err != nil {
		return err
	}
	g := ww.small
	for r := 0; r < rows; r++ {
		for h := 0; h < heads; h++ {
			o := r*n + h*headDim
			dh := d[o : o+headDim]
			for i := range dh {
				dh[i] = ys[o+i] * silu(zs[o+i])
			}
			ss := dotF32(dh, dh)
			inv := float32(1 / math.Sqrt(float64(ss/float32(headDim)+eps)))
			for i := range dh {
				dh[i] = dh[i] * inv * g[h*headDim+i]
			}
		}
	}
	return nil
}

func (b *Backend) Argmax(dst, x mrt.Buffer, rows, n int) error {
	d, err := buf(dst)
	if err != nil {
		return err
	}
	xs, err := buf(x)
	if err != nil {
		return err
	}
	if n <= 0 {
		return fmt.Errorf("cpu: Argmax: n %d", n)
	}
	if d, err = span("Argmax", "dst", d, 0, rows); err != nil {
		return err
	}
	if xs, err = span("Argmax", "x", xs, 0, rows*n); err != nil {
		return err
	}
	for r := 0; r < rows; r++ {
		row := xs[r*n : (r+1)*n]
		best := 0
		for i, v := range row {
			if v > row[best] {
				best = i
			}
		}
		d[r] = float32(best)
	}
	return nil
}
