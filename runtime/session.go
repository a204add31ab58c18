package runtime

import (
	"fmt"

	"github.com/mmbformat/mmb/runtime/sample"

	"github.com/mmbformat/mmb/format"
)

// Session is one sequence's state: KV caches of attention layers, conv and
// SSM states of Mamba layers, and scratch buffers. It is not safe for
// concurrent use. Logits slices it returns are reused by the next call.
type Session struct {
	m   *Model
	pos int

	kc, vc    []Buffer // per layer (attention)
	convState []Buffer // per layer (Mamba-2)
	ssmState  []Buffer // per layer (Mamba-2)

	rows int // capacity of the scratch buffers in rows
	sc   scratch
	ids  []int32

	logits  []float32 // host logits of the last call
	all     []float32 // host logits of every position (PrefillAll)
	argmax  []float32
	capture bool
	hidden  [][]float32

	// While Greedy feeds tokens on the device, fed makes a step embed the
	// token the step before left in sc.argmax; ticket is the read of the
	// last queued step's token.
	fed    bool
	ticket Ticket

	// StepTopK's values then ids (read from sc.topk), its ids as ints, and
	// the host's ranking scratch where the backend cannot rank.
	top     []float32
	topIDs  []int
	topKeys []uint64
}

// tail is what a forward pass ends with once the last row's logits are on
// the backend.
type tail int

const (
	readLogits  tail = iota // copy them to the host (s.logits)
	readArgmax              // argmax on the backend, read back (s.argmax)
	queueArgmax             // argmax on the backend, submitted with a read of it into s.ticket, not waited for
	readTopK                // the top len(s.topIDs) ranked on the backend, read back (s.top)
)

type scratch struct {
	h, xn, tmp, last    Buffer
	q, k, v, att        Buffer
	z, xbc, xbcC, dt, y Buffer
	g                   Buffer
	gate, up, act       Buffer
	logits, lastLogits  Buffer
	argmax              Buffer
	topk                Buffer // StepTopK's values and ids
}

// NewSession allocates a session's state for the model's context length.
func (m *Model) NewSession() (*Session, error) {
	c := m.Config
	s := &Session{m: m}
	n := len(m.layers)
	s.kc, s.vc = make([]Buffer, n), make([]Buffer, n)
	s.convState, s.ssmState = make([]Buffer, n), make([]Buffer, n)
	var err error
	for i, ly := range m.layers {
		switch ly.kind {
		case format.Attention:
			kvw := c.NumKVHeads * c.HeadDim
			if s.kc[i], err = m.b.Alloc(m.maxCtx * kvw); err != nil {
				return nil, err
			}
			if s.vc[i], err = m.b.Alloc(m.maxCtx * kvw); err != nil {
				return nil, err
			}
		case format.Mamba2:
			mc := c.Mamba
			if s.convState[i], err = m.b.Alloc(3 * (mc.DInner + 2*mc.DXB)); err != nil {
				return nil, err
			}
			if s.ssmState[i], err = m.b.Alloc(mc.Heads * mc.HeadDim * mc.HeadDim); err != nil {
				return nil, err
			}
		}
	}
	if err := s.grow(1); err != nil {
		return nil, err
	}
	s.logits = make([]float32, c.VocabSize)
	if s.sc.lastLogits, err = m.b.Alloc(c.VocabSize); err != nil {
		return nil, err
	}
	if s.sc.last, err = m.b.Alloc(c.HiddenSize); err != nil {
		return nil, err
	}
	if s.sc.argmax, err = m.b.Alloc(1); err != nil {
		return nil, err
	}
	s.argmax = make([]float32, 1)
	return s, nil
}

// grow makes the scratch buffers hold at least rows rows.
func (s *Session) grow(rows int) error {
	if rows <= s.rows {
		return nil
	}
	c := s.m.Config
	D, I := c.HiddenSize, c.IntermediateSize
	qw, kvw := c.NumHeads*c.HeadDim, c.NumKVHeads*c.HeadDim
	var di, convDim, mh int
	if c.Mamba != nil {
		di, convDim, mh = c.Mamba.DInner, c.Mamba.DInner+2*c.Mamba.DXB, c.Mamba.Heads
	}
	var sc scratch
	sc.last, sc.lastLogits, sc.argmax, sc.topk = s.sc.last, s.sc.lastLogits, s.sc.argmax, s.sc.topk
	for _, b := range []struct {
		p *Buffer
		n int
	}{
		{&sc.h, D}, {&sc.xn, D}, {&sc.tmp, D}, {&sc.q, qw}, {&sc.k, kvw}, {&sc.v, kvw}, {&sc.att, qw},
		{&sc.z, di}, {&sc.xbc, convDim}, {&sc.xbcC, convDim}, {&sc.dt, mh}, {&sc.y, di}, {&sc.g, di},
		{&sc.gate, I}, {&sc.up, I}, {&sc.act, I},
	} {
		if b.n == 0 {
			continue
		}
		var err error
		if *b.p, err = s.m.b.Alloc(rows * b.n); err != nil {
			return err
		}
	}
	s.sc, s.rows = sc, rows
	return nil
}

// Pos is the number of tokens the session has seen.
func (s *Session) Pos() int { return s.pos }

// MaxPositions is the session's context length.
func (s *Session) MaxPositions() int { return s.m.maxCtx }

// Reset forgets the sequence: position 0, zero conv and SSM states (KV
// entries past the position are never read, so they are left as they are).
func (s *Session) Reset() error {
	s.pos = 0
	for i := range s.m.layers {
		for _, st := range []Buffer{s.convState[i], s.ssmState[i]} {
			if st == nil {
				continue
			}
			if err := s.m.b.Write(st, 0, make([]float32, st.Len())); err != nil {
				return err
			}
		}
	}
	return nil
}

// CaptureHidden turns on recording of hidden states for later calls: what
// HF reports as hidden_states (the embedding output, each layer's output, the
// last one after the final norm), for every row of the call.
func (s *Session) CaptureHidden(on bool) { s.capture = on }

// Hidden returns the hidden states of the last call while capture is on:
// [layers+1][rows·hidden].
func (s *Session) Hidden() [][]float32 { return s.hidden }

func (s *Session) check(n int) error {
	if n == 0 {
		return fmt.Errorf("runtime: no tokens")
	}
	if s.pos+n > s.m.maxCtx {
		return fmt.Errorf("%w: %d tokens at position %d go past the context of %d", ErrContext, n, s.pos, s.m.maxCtx)
	}
	return nil
}

// Prefill runs ids from the current position and returns the logits of the
// last one.
func (s *Session) Prefill(ids []int) ([]float32, error) {
	if err := s.run(ids, false); err != nil {
		return nil, err
	}
	return s.logits, nil
}

// PrefillAll runs ids from the current position and returns the logits of
// every one, [len(ids)·vocab].
func (s *Session) PrefillAll(ids []int) ([]float32, error) {
	if err := s.run(ids, true); err != nil {
		return nil, err
	}
	return s.all, nil
}

// Step feeds one token and returns the next logits. It allocates nothing.
func (s *Session) Step(id int) ([]float32, error) {
	var one [1]int
	one[0] = id
	if err := s.run(one[:], false); err != nil {
		return nil, err
	}
	return s.logits, nil
}

// StepArgmax feeds one token and returns the index of the largest logit,
// computed on the backend (no logits copied to the host).
func (s *Session) StepArgmax(id int) (int, error) {
	var one [1]int
	one[0] = id
	if err := s.forward(one[:], false, readArgmax); err != nil {
		return 0, err
	}
	return int(s.argmax[0]), nil
}

// StepTopK feeds one token and returns the k largest next logits in rank
// order (the larger first, the lower id on ties) and their ids: what a
// top-k sampler needs, without copying the whole vocabulary's logits to
// the host where the backend ranks them itself (TopKer). The slices are
// reused by the next call.
func (s *Session) StepTopK(id, k int) ([]float32, []int, error) {
	V := s.m.Config.VocabSize
	if k < 1 || k > V {
		return nil, nil, fmt.Errorf("runtime: top %d of a vocabulary of %d", k, V)
	}
	if cap(s.top) < 2*k {
		s.top, s.topIDs = make([]float32, 2*k), make([]int, k)
	}
	s.top, s.topIDs = s.top[:2*k], s.topIDs[:k]
	if _, ok := s.m.b.(TopKer); !ok || k > topKMax {
		logits, err := s.Step(id)
		if err != nil {
			return nil, nil, err
		}
		if cap(s.topKeys) < V {
			s.topKeys = make([]uint64, V)
		}
		sample.Top(logits, s.top[:k], s.topIDs, s.topKeys)
		return s.top[:k], s.topIDs, nil
	}
	if s.sc.topk == nil || s.sc.topk.Len() < 2*k {
		var err error
		if s.sc.topk, err = s.m.b.Alloc(2 * max(k, 64)); err != nil {
			return nil, nil, err
		}
	}
	var one [1]int
	one[0] = id
	if err := s.forward(one[:], false, readTopK); err != nil {
		return nil, nil, err
	}
	for i := range s.topIDs {
		s.topIDs[i] = int(s.top[k+i])
	}
	return s.top[:k], s.topIDs, nil
}

// topKMax is the largest k StepTopK asks a backend's TopK for (TopKer
// promises at least 256).
const topKMax = 256

// Greedy runs greedy decode steps: the first feeds id, each later one the
// token the step before chose (the argmax of its logits, first on ties),
// and emit receives each step's choice in order. It runs n steps, or stops
// after the step whose choice emit refuses (returns false); that refused
// token is fed too (one more step), whatever the backend: on one that feeds
// the choices on the device (TokenFeeder) that step is already running when
// emit sees the token. Pos counts every token fed.
func (s *Session) Greedy(id, n int, emit func(int) bool) error {
	if n <= 0 {
		return nil
	}
	if err := s.check(n); err != nil {
		return err
	}
	if s.m.feed == nil || s.capture {
		for i := 0; i < n; i++ {
			next, err := s.StepArgmax(id)
			if err != nil {
				return err
			}
			if !emit(next) {
				if i < n-1 {
					_, err = s.StepArgmax(next)
				}
				return err
			}
			id = next
		}
		return nil
	}
	if err := s.greedyFed(id, n, emit); err != nil {
		return fmt.Errorf("runtime: greedy decode at position %d: %w (session must be Reset)", s.pos, err)
	}
	return nil
}

// greedyFed is Greedy on a TokenFeeder: step i+1 is queued before step i's
// token is read.
func (s *Session) greedyFed(id, n int, emit func(int) bool) error {
	defer func() { s.fed = false }()
	var one [1]int
	one[0] = id
	if err := s.forward(one[:], false, queueArgmax); err != nil {
		return err
	}
	s.fed = true
	V := s.m.Config.VocabSize
	for i := 0; i < n; i++ {
		t := s.ticket
		if i < n-1 {
			if err := s.chunk(one[:], false, true, queueArgmax, 0); err != nil {
				return err
			}
		}
		v, err := s.m.feed.Await(t)
		if err != nil {
			return err
		}
		tok := int(v)
		if tok < 0 || tok >= V || float32(tok) != v {
			return fmt.Errorf("the device chose token %v, outside the vocabulary of %d", v, V)
		}
		if !emit(tok) {
			break
		}
	}
	// The step after a refused token may still run: wait for it, so that
	// the session's state is settled when Greedy returns.
	return s.m.b.Sync()
}

func (s *Session) run(ids []int, all bool) error {
	return s.forward(ids, all, readLogits)
}

func (s *Session) forward(ids []int, all bool, t tail) error {
	if err := s.check(len(ids)); err != nil {
		return err
	}
	V := s.m.Config.VocabSize
	for _, id := range ids {
		if id < 0 || id >= V {
			return fmt.Errorf("runtime: token id %d outside the vocabulary of %d", id, V)
		}
	}
	if all {
		if cap(s.all) < len(ids)*V {
			s.all = make([]float32, len(ids)*V)
		}
		s.all = s.all[:len(ids)*V]
	}
	if s.capture {
		s.hidden = s.hidden[:0]
		for i := 0; i <= len(s.m.layers); i++ {
			s.hidden = append(s.hidden, make([]float32, 0, len(ids)*s.m.Config.HiddenSize))
		}
	}
	for done := 0; done < len(ids); {
		n := min(s.m.chunk, len(ids)-done)
		last := done+n == len(ids)
		if err := s.chunk(ids[done:done+n], all, last, t, done); err != nil {
			// The state is partly updated: the sequence cannot continue.
			return fmt.Errorf("runtime: forward at position %d: %w (session must be Reset)", s.pos, err)
		}
		done += n
	}
	return nil
}

// defaultSubmitLayers: a queueing backend starts the work of every this many
// layers while the rest is recorded (Submitter). Recording a layer of a
// decode step takes the host a few µs per op, and each submission costs the
// device a few µs too: on the H200 (bench/RESULTS.md, session 6) the 1B
// models decoded fastest submitting every 4 layers (pure attention 783 and
// 805 tok/s against 765 and 769 every 2 layers, 790 and 770 every 8, 700
// and 728 in one submission; 50 % Mamba 739 and 736 against 721 and 722).
const defaultSubmitLayers = 4

// defaultSubmitFirst: the first early submission of a forward pass comes
// after this many layers, so that the device starts while the host records
// the rest of the first group. On the H200, host-fed decode steps (those
// whose token or logits the host reads before the next step) ran 1.6–2.5 %
// faster than with the first submission after 4 layers, in process (50 %
// Mamba 762.5 against 750.3 tok/s, 100 % Mamba 754.2 against 737.6, pure
// attention 809.0 against 789.5; bench/RESULTS.md, session 7). Greedy's
// queued steps make no early submissions.
const defaultSubmitFirst = 1

// normed runs the three projections of a layer's input, dst_i =
// RMSNorm(h)·w_iᵀ for R rows: folded into the projections where the
// backend can (NormedMatMul), else through RMSNorm into xn once, from the
// first that does not fold on. Three pairs, not a slice: nothing allocates
// per token.
func (s *Session) normed(norm Weight, R int, eps float32, d0 Buffer, w0 Weight, d1 Buffer, w1 Weight, d2 Buffer, w2 Weight) error {
	b, sc := s.m.b, &s.sc
	nm, fold := b.(NormedMatMul)
	xn := false // RMSNorm(h) is in sc.xn
	for _, p := range [3]struct {
		dst Buffer
		w   Weight
	}{{d0, w0}, {d1, w1}, {d2, w2}} {
		if fold {
			done, err := nm.MatMulNormed(p.dst, sc.h, norm, eps, p.w, R)
			if err != nil {
				return err
			}
			if done {
				continue
			}
			fold = false
		}
		if !xn {
			if err := b.RMSNorm(sc.xn, sc.h, norm, R, s.m.Config.HiddenSize, eps); err != nil {
				return err
			}
			xn = true
		}
		if err := b.MatMul(p.dst, sc.xn, p.w, R); err != nil {
			return err
		}
	}
	return nil
}

// chunk runs rows tokens at s.pos through the model.
func (s *Session) chunk(ids []int, all, last bool, t tail, done int) error {
	m, b, c := s.m, s.m.b, s.m.Config
	R := len(ids)
	if err := s.grow(R); err != nil {
		return err
	}
	if cap(s.ids) < R {
		s.ids = make([]int32, R)
	}
	s.ids = s.ids[:R]
	for i, id := range ids {
		s.ids[i] = int32(id)
	}
	sc := &s.sc
	D, I := c.HiddenSize, c.IntermediateSize
	eps := float32(c.RMSNormEps)
	pos0 := s.pos
	if s.fed {
		if err := m.feed.EmbedFed(sc.h, m.embed, sc.argmax, 0); err != nil {
			return err
		}
	} else if err := b.Embed(sc.h, m.embed, s.ids); err != nil {
		return err
	}
	if err := s.record(0, sc.h, R); err != nil {
		return err
	}
	for li := range m.layers {
		ly := &m.layers[li]
		added := false // the attention or SSM block added its output into h itself
		switch ly.kind {
		case format.Attention:
			H, KV, hd := c.NumHeads, c.NumKVHeads, c.HeadDim
			if err := firstErr(
				s.normed(ly.inNorm, R, eps, sc.q, ly.q, sc.k, ly.k, sc.v, ly.v),
				b.RoPE(sc.q, R, H, hd, pos0, m.invFreq),
				b.RoPE(sc.k, R, KV, hd, pos0, m.invFreq),
			); err != nil {
				return err
			}
			if ab, ok := b.(AttentionBlock); ok {
				var err error
				if added, err = ab.AttentionOut(sc.h, sc.q, sc.k, sc.v, s.kc[li], s.vc[li], ly.o, R, pos0, H, KV, hd); err != nil {
					return err
				}
			}
			if !added {
				if err := firstErr(
					b.Attention(sc.att, sc.q, sc.k, sc.v, s.kc[li], s.vc[li], R, pos0, H, KV, hd),
					b.MatMul(sc.tmp, sc.att, ly.o, R),
				); err != nil {
					return err
				}
			}
		case format.Mamba2:
			mc := c.Mamba
			if err := firstErr(
				s.normed(ly.inNorm, R, eps, sc.z, ly.inZ, sc.xbc, ly.inXBC, sc.dt, ly.inDT),
				b.Conv1D(sc.xbcC, sc.xbc, s.convState[li], ly.conv, ly.convBias, R, mc.DInner+2*mc.DXB),
			); err != nil {
				return err
			}
			if sb, ok := b.(SSMBlock); ok {
				var err error
				if added, err = sb.SSMOut(sc.h, sc.xbcC, sc.dt, sc.z, s.ssmState[li], ly.aNeg, ly.dtBias, ly.dSkip, ly.gnorm, ly.out,
					R, mc.Heads, mc.KVHeads, mc.HeadDim, float32(mc.NormEps)); err != nil {
					return err
				}
			}
			if !added {
				if err := firstErr(
					b.SSMScan(sc.y, sc.xbcC, sc.dt, s.ssmState[li], ly.aNeg, ly.dtBias, ly.dSkip, R, mc.Heads, mc.KVHeads, mc.HeadDim),
					b.GatedRMSNorm(sc.g, sc.y, sc.z, ly.gnorm, R, mc.Heads, mc.HeadDim, float32(mc.NormEps)),
					b.MatMul(sc.tmp, sc.g, ly.out, R),
				); err != nil {
					return err
				}
			}
		}
		if !added {
			if err := b.Add(sc.h, sc.tmp, R*D); err != nil {
				return err
			}
		}
		fused := false
		if mb, ok := b.(MLPBlock); ok {
			var err error
			if fused, err = mb.MLP(sc.h, ly.postNorm, ly.gate, ly.up, ly.down, R, eps); err != nil {
				return err
			}
		}
		if !fused {
			if err := firstErr(
				b.RMSNorm(sc.xn, sc.h, ly.postNorm, R, D, eps),
				b.MatMul(sc.gate, sc.xn, ly.gate, R),
				b.MatMul(sc.up, sc.xn, ly.up, R),
				b.SwiGLU(sc.act, sc.gate, sc.up, R*I),
				b.MatMul(sc.tmp, sc.act, ly.down, R),
				b.Add(sc.h, sc.tmp, R*D),
			); err != nil {
				return err
			}
		}
		if li < len(m.layers)-1 {
			if err := s.record(li+1, sc.h, R); err != nil {
				return err
			}
			// A queued step is recorded while the one before runs: starting
			// it early would gain nothing and cost submissions.
			if ran := li + 1; m.submit > 0 && t != queueArgmax && ran >= m.first && (ran-m.first)%m.submit == 0 {
				if err := b.(Submitter).Submit(); err != nil {
					return err
				}
			}
		}
	}
	if err := b.RMSNorm(sc.xn, sc.h, m.norm, R, D, eps); err != nil {
		return err
	}
	if err := s.record(len(m.layers), sc.xn, R); err != nil {
		return err
	}
	s.pos += R
	V := c.VocabSize
	if all {
		// Prefill path for every position: the head over all rows, in pieces
		// that reuse the gate buffer when it is large enough.
		lg, err := s.logitsBuf(R)
		if err != nil {
			return err
		}
		if err := b.MatMul(lg, sc.xn, m.head, R); err != nil {
			return err
		}
		if err := b.Read(s.all[done*V:(done+R)*V], lg, 0); err != nil {
			return err
		}
		if last {
			copy(s.logits, s.all[(done+R-1)*V:])
		}
		return nil
	}
	if !last {
		return b.Sync()
	}
	// The head reads the last row; a decode step's one row is xn itself
	// (a copy would be a stage of its own before the head).
	head := sc.xn
	if R > 1 {
		if err := b.Copy(sc.last, 0, sc.xn, (R-1)*D, D); err != nil {
			return err
		}
		head = sc.last
	}
	if err := b.MatMul(sc.lastLogits, head, m.head, 1); err != nil {
		return err
	}
	switch t {
	case readTopK:
		if err := b.(TopKer).TopK(sc.topk, sc.lastLogits, V, len(s.topIDs)); err != nil {
			return err
		}
		return b.Read(s.top, sc.topk, 0)
	case readArgmax, queueArgmax:
		if err := b.Argmax(sc.argmax, sc.lastLogits, 1, V); err != nil {
			return err
		}
		if t == queueArgmax {
			var err error
			s.ticket, err = m.feed.SubmitRead(sc.argmax, 0)
			return err
		}
		return b.Read(s.argmax, sc.argmax, 0)
	}
	return b.Read(s.logits, sc.lastLogits, 0)
}

// logitsBuf returns a device buffer for rows·vocab logits.
func (s *Session) logitsBuf(rows int) (Buffer, error) {
	n := rows * s.m.Config.VocabSize
	if s.sc.logits == nil || s.sc.logits.Len() < n {
		var err error
		if s.sc.logits, err = s.m.b.Alloc(n); err != nil {
			return nil, err
		}
	}
	return s.sc.logits, nil
}

// record appends rows of a hidden state to capture slot i.
func (s *Session) record(i int, x Buffer, rows int) error {
	if !s.capture {
		return nil
	}
	n := rows * s.m.Config.HiddenSize
	h := s.hidden[i]
	h = append(h, make([]float32, n)...)
	if err := s.m.b.Read(h[len(h)-n:], x, 0); err != nil {
		return err
	}
	s.hidden[i] = h
	return nil
}

// firstErr returns the first non-nil error. Ops after a failed one have
// still been called; backends check their arguments, so they fail too or do
// harmless work, and the session reports the first error.
func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
