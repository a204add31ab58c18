package bench

import (
	"slices"
	"strings"
	"time"

	"github.com/mmbformat/mmb/format"
	"github.com/mmbformat/mmb/runtime"
)

// profBackend passes every call through to a backend and, while on, times
// each op. With a runtime.Profiler the device times the op (timestamps
// around it, no extra waits); otherwise the op is followed by a Sync and
// timed on the wall clock, less the measured cost of an empty-ish Sync
// (which on a GPU is the submit round trip). MatMuls are labelled with the
// role of their weight, so that the table says which projection costs what.
//
// The benchmarks proper never run through this wrapper: it would hide the
// optional interfaces the runtime looks for on the backend (all but
// runtime.MLPBlock, which it forwards).
type profBackend struct {
	in       runtime.Backend
	dev      runtime.Profiler // nil: wall clock
	on       bool
	overhead time.Duration // wall-clock mode: the cost of a Sync after a trivial op
	times    map[string]*runtime.OpTime
}

// profWeight is a weight with the name it was uploaded under.
type profWeight struct {
	runtime.Weight
	label string
}

func newProfBackend(in runtime.Backend) *profBackend {
	p := &profBackend{in: in, times: map[string]*runtime.OpTime{}}
	p.dev, _ = in.(runtime.Profiler)
	return p
}

func (p *profBackend) method() string {
	if p.dev != nil {
		return "device timestamps around each op"
	}
	return "wall clock, Sync after each op, minus the cost of a Sync after a 1-element Copy"
}

// start turns timing on; calibrate first in wall-clock mode.
func (p *profBackend) start() error {
	clear(p.times)
	if p.dev != nil {
		p.on = true
		return p.dev.ProfileStart()
	}
	a, err := p.in.Alloc(1)
	if err != nil {
		return err
	}
	var d []time.Duration
	for i := 0; i < 21; i++ {
		t0 := time.Now()
		if err := firstErr(p.in.Copy(a, 0, a, 0, 1), p.in.Sync()); err != nil {
			return err
		}
		d = append(d, time.Since(t0))
	}
	slices.Sort(d)
	p.overhead = d[len(d)/2]
	p.on = true
	return nil
}

// stop turns timing off and returns the times per op, largest first.
func (p *profBackend) stop() ([]runtime.OpTime, error) {
	p.on = false
	var out []runtime.OpTime
	if p.dev != nil {
		ts, err := p.dev.ProfileStop()
		if err != nil {
			return nil, err
		}
		// Merge by label: the device's marks carry the labels given here.
		m := map[string]*runtime.OpTime{}
		for _, t := range ts {
			if t.Op == "" {
				continue
			}
			if e, ok := m[t.Op]; ok {
				e.Count += t.Count
				e.Seconds += t.Seconds
			} else {
				t := t
				m[t.Op] = &t
			}
		}
		for _, t := range m {
			out = append(out, *t)
		}
	} else {
		for _, t := range p.times {
			out = append(out, *t)
		}
	}
	slices.SortFunc(out, func(a, b runtime.OpTime) int {
		if a.Seconds != b.Seconds {
			if a.Seconds > b.Seconds {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Op, b.Op)
	})
	return out, nil
}

// op runs f, timing it under label when profiling is on.
func (p *profBackend) op(label string, f func() error) error {
	_, err := p.opIf(label, func() (bool, error) { return true, f() })
	return err
}

// opIf runs f, which reports whether it ran anything, and times it under
// label when profiling is on and it did (a declined call is not counted).
func (p *profBackend) opIf(label string, f func() (bool, error)) (bool, error) {
	if !p.on {
		return f()
	}
	if p.dev != nil {
		if err := p.dev.ProfileMark(""); err != nil {
			return false, err
		}
		ran, err := f()
		if err != nil {
			return false, err
		}
		if !ran {
			label = "" // an empty interval: not charged
		}
		return ran, p.dev.ProfileMark(label)
	}
	t0 := time.Now()
	ran, err := f()
	if err == nil && ran {
		err = p.in.Sync()
	}
	if err != nil || !ran {
		return ran, err
	}
	d := max(time.Since(t0)-p.overhead, 0)
	t := p.times[label]
	if t == nil {
		t = &runtime.OpTime{Op: label}
		p.times[label] = t
	}
	t.Count++
	t.Seconds += d.Seconds()
	return true, nil
}

func uw(w runtime.Weight) runtime.Weight {
	if pw, ok := w.(*profWeight); ok {
		return pw.Weight
	}
	return w
}

// role turns a tensor name into a label shared by all layers:
// model.layers.3.mlp.up_proj.weight → mlp.up_proj.
func role(name string) string {
	if rest, ok := strings.CutPrefix(name, "model.layers."); ok {
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			name = rest[i+1:]
		}
	}
	name = strings.TrimPrefix(name, "model.")
	return strings.Replace(name, ".weight", "", 1)
}

func label(op string, w runtime.Weight) string {
	pw, ok := w.(*profWeight)
	if !ok {
		return op
	}
	l := pw.label
	if op == "MatMul" && l == "embed_tokens" {
		l = "lm_head (tied embed_tokens)"
	}
	return op + " " + l
}

func (p *profBackend) Name() string                        { return p.in.Name() }
func (p *profBackend) Alloc(n int) (runtime.Buffer, error) { return p.in.Alloc(n) }
func (p *profBackend) Write(dst runtime.Buffer, off int, src []float32) error {
	return p.in.Write(dst, off, src)
}
func (p *profBackend) Read(dst []float32, src runtime.Buffer, off int) error {
	return p.in.Read(dst, src, off)
}
func (p *profBackend) Sync() error  { return p.in.Sync() }
func (p *profBackend) Close() error { return p.in.Close() }

func (p *profBackend) Upload(name string, dt format.DType, rows, cols int, data []byte) (runtime.Weight, error) {
	w, err := p.in.Upload(name, dt, rows, cols, data)
	if err != nil {
		return nil, err
	}
	return &profWeight{Weight: w, label: role(name)}, nil
}

func (p *profBackend) Embed(dst runtime.Buffer, table runtime.Weight, ids []int32) error {
	return p.op("Embed", func() error { return p.in.Embed(dst, uw(table), ids) })
}
func (p *profBackend) MatMul(dst, x runtime.Buffer, w runtime.Weight, rows int) error {
	return p.op(label("MatMul", w), func() error { return p.in.MatMul(dst, x, uw(w), rows) })
}
func (p *profBackend) RMSNorm(dst, x runtime.Buffer, w runtime.Weight, rows, dim int, eps float32) error {
	return p.op("RMSNorm", func() error { return p.in.RMSNorm(dst, x, uw(w), rows, dim, eps) })
}
func (p *profBackend) Copy(dst runtime.Buffer, dstOff int, src runtime.Buffer, srcOff, n int) error {
	return p.op("Copy", func() error { return p.in.Copy(dst, dstOff, src, srcOff, n) })
}
func (p *profBackend) Add(dst, src runtime.Buffer, n int) error {
	return p.op("Add", func() error { return p.in.Add(dst, src, n) })
}
func (p *profBackend) SwiGLU(dst, gate, up runtime.Buffer, n int) error {
	return p.op("SwiGLU", func() error { return p.in.SwiGLU(dst, gate, up, n) })
}
func (p *profBackend) RoPE(x runtime.Buffer, rows, heads, headDim, pos0 int, invFreq runtime.Buffer) error {
	return p.op("RoPE", func() error { return p.in.RoPE(x, rows, heads, headDim, pos0, invFreq) })
}
func (p *profBackend) Attention(out, q, k, v, kCache, vCache runtime.Buffer, rows, pos0, heads, kvHeads, headDim int) error {
	return p.op("Attention", func() error {
		return p.in.Attention(out, q, k, v, kCache, vCache, rows, pos0, heads, kvHeads, headDim)
	})
}
func (p *profBackend) Conv1D(dst, x, state runtime.Buffer, w, bias runtime.Weight, rows, ch int) error {
	return p.op("Conv1D", func() error { return p.in.Conv1D(dst, x, state, uw(w), uw(bias), rows, ch) })
}
func (p *profBackend) SSMScan(y, xbc, dt, state runtime.Buffer, aNeg, dtBias, dSkip runtime.Weight, rows, heads, kvHeads, headDim int) error {
	return p.op("SSMScan", func() error {
		return p.in.SSMScan(y, xbc, dt, state, uw(aNeg), uw(dtBias), uw(dSkip), rows, heads, kvHeads, headDim)
	})
}
func (p *profBackend) GatedRMSNorm(dst, y, z runtime.Buffer, w runtime.Weight, rows, heads, headDim int, eps float32) error {
	return p.op("GatedRMSNorm", func() error { return p.in.GatedRMSNorm(dst, y, z, uw(w), rows, heads, headDim, eps) })
}
func (p *profBackend) Argmax(dst, x runtime.Buffer, rows, n int) error {
	return p.op("Argmax", func() error { return p.in.Argmax(dst, x, rows, n) })
}

// MLP forwards runtime.MLPBlock, so that a profile shows the decode MLP
// as the runtime runs it where the backend fuses it (one "MLP block" op);
// a declined call (prefill rows, a backend without it) is not counted.
func (p *profBackend) MLP(h runtime.Buffer, norm, gate, up, down runtime.Weight, rows int, eps float32) (bool, error) {
	mb, ok := p.in.(runtime.MLPBlock)
	if !ok {
		return false, nil
	}
	return p.opIf("MLP block", func() (bool, error) { return mb.MLP(h, uw(norm), uw(gate), uw(up), uw(down), rows, eps) })
}

// AttentionOut, SSMOut and MatMulNormed forward the runtime's other fused
// decode forms likewise: one "Attention block" or "SSM block" op, and a
// projection that folds its input's norm under its weight's MatMul label.
func (p *profBackend) AttentionOut(h, q, k, v, kCache, vCache runtime.Buffer, o runtime.Weight, rows, pos0, heads, kvHeads, headDim int) (bool, error) {
	ab, ok := p.in.(runtime.AttentionBlock)
	if !ok {
		return false, nil
	}
	return p.opIf("Attention block", func() (bool, error) {
		return ab.AttentionOut(h, q, k, v, kCache, vCache, uw(o), rows, pos0, heads, kvHeads, headDim)
	})
}
func (p *profBackend) SSMOut(h, xbc, dt, z, state runtime.Buffer, aNeg, dtBias, dSkip, gnorm, out runtime.Weight, rows, heads, kvHeads, headDim int, eps float32) (bool, error) {
	sb, ok := p.in.(runtime.SSMBlock)
	if !ok {
		return false, nil
	}
	return p.opIf("SSM block", func() (bool, error) {
		return sb.SSMOut(h, xbc, dt, z, state, uw(aNeg), uw(dtBias), uw(dSkip), uw(gnorm), uw(out), rows, heads, kvHeads, headDim, eps)
	})
}
func (p *profBackend) MatMulNormed(dst, x runtime.Buffer, norm runtime.Weight, eps float32, w runtime.Weight, rows int) (bool, error) {
	nm, ok := p.in.(runtime.NormedMatMul)
	if !ok {
		return false, nil
	}
	return p.opIf(label("MatMul", w), func() (bool, error) { return nm.MatMulNormed(dst, x, uw(norm), eps, uw(w), rows) })
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
