// Package runtime builds the hybrid model (attention and Mamba-2 layers, DESIGN.md §4)
// from an .mmb revision and runs it on a Backend.
package runtime

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/mmbformat/mmb/format"
)

// Options configure Load.
type Options struct {
	// MaxContext is the number of positions a session holds (KV cache size).
	// 0 means the model's max_position_embeddings capped at DefaultMaxContext;
	// it may not exceed max_position_embeddings.
	MaxContext int
	// PrefillChunk bounds the rows one forward pass processes (and so the
	// scratch memory); longer prompts are run in pieces. 0 means the
	// backend's preference (PrefillChunker), else 512.
	PrefillChunk int
	// SubmitLayers: with a queueing backend (Submitter), the queued work
	// starts every this many layers while the rest is recorded. 0 means 4;
	// negative, never (one submission per forward pass).
	SubmitLayers int
	// SubmitFirst: with early submissions, the first comes after this many
	// layers (then every SubmitLayers), so that the device starts before a
	// whole group is recorded. 0 means 1.
	SubmitFirst int
	// HostFeed: Greedy reads each token back before it records the next
	// step, even on a backend that could feed it on the device
	// (TokenFeeder): the baseline against which the device feed is measured.
	HostFeed bool
}

// DefaultMaxContext caps the default KV cache so that a model with a 128k
// context does not allocate gigabytes before it is asked to.
const DefaultMaxContext = 8192

// ErrContext is returned when tokens would go past the session's context.
var ErrContext = errors.New("context length exceeded")

// Model holds the uploaded weights; sessions hold the per-sequence state.
type Model struct {
	Config  *format.Config
	b       Backend
	maxCtx  int
	chunk   int
	submit  int         // SubmitLayers resolved; 0: never
	first   int         // SubmitFirst resolved
	feed    TokenFeeder // nil: Greedy reads each token before the next step
	embed   Weight
	layers  []layer
	norm    Weight
	head    Weight
	invFreq Buffer
}

type layer struct {
	kind             format.LayerKind
	inNorm, postNorm Weight
	q, k, v, o       Weight // attention
	// Mamba-2: in_proj split by row ranges into its z, xBC and dt parts.
	inZ, inXBC, inDT           Weight
	conv, convBias             Weight
	aNeg, dtBias, dSkip, gnorm Weight
	out                        Weight
	gate, up, down             Weight
}

// loader reads and checks tensors of one revision.
type loader struct {
	f   *format.File
	rev *format.Revision
	b   Backend
}

func (l *loader) tensor(name string, shape ...int) (*format.TensorInfo, []byte, error) {
	t, ok := l.rev.Tensor(name)
	if !ok {
		return nil, nil, fmt.Errorf("load model: tensor %s missing in revision %d", name, l.rev.Number)
	}
	same := len(t.Shape) == len(shape)
	for i := 0; same && i < len(shape); i++ {
		same = t.Shape[i] == int64(shape[i])
	}
	if !same {
		return nil, nil, fmt.Errorf("load model: tensor %s has shape %v, want %v", name, t.Shape, shape)
	}
	data, err := l.f.Data(t)
	if err != nil {
		return nil, nil, fmt.Errorf("load model: %w", err)
	}
	return t, data, nil
}

// matrix uploads a [rows, cols] tensor (or a vector as [1, n]).
func (l *loader) matrix(name string, shape ...int) (Weight, error) {
	t, data, err := l.tensor(name, shape...)
	if err != nil {
		return nil, err
	}
	rows, cols := 1, shape[len(shape)-1]
	for _, d := range shape[:len(shape)-1] {
		rows *= d
	}
	w, err := l.b.Upload(name, t.DType, rows, cols, data)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	return w, nil
}

// f32 uploads host float32 values computed by the model (A = -exp(A_log)).
func (l *loader) f32(name string, v []float32) (Weight, error) {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	w, err := l.b.Upload(name, format.F32, 1, len(v), b)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	return w, nil
}

// Load builds the model of revision rev of f on backend b. f must stay open
// while the model is used: backends may keep views of its mapped bytes.
func Load(f *format.File, rev *format.Revision, b Backend, o Options) (*Model, error) {
	if rev == nil {
		rev = f.Latest()
	}
	c := rev.Config
	if c == nil {
		return nil, fmt.Errorf("load model: revision %d has no config", rev.Number)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	m := &Model{Config: c, b: b, chunk: o.PrefillChunk}
	if pc, ok := b.(PrefillChunker); ok && m.chunk <= 0 {
		m.chunk = pc.PrefillChunk()
	}
	if m.chunk <= 0 {
		m.chunk = 512
	}
	m.submit = o.SubmitLayers
	if m.submit == 0 {
		m.submit = defaultSubmitLayers
	}
	if _, ok := b.(Submitter); !ok || m.submit < 0 {
		m.submit = 0
	}
	if f, ok := b.(TokenFeeder); ok && !o.HostFeed {
		m.feed = f
	}
	m.first = cmp.Or(max(o.SubmitFirst, 0), defaultSubmitFirst)
	m.maxCtx = o.MaxContext
	if c.MaxPositions <= 0 {
		return nil, fmt.Errorf("load model: max_position_embeddings %d", c.MaxPositions)
	}
	if m.maxCtx <= 0 {
		m.maxCtx = min(c.MaxPositions, DefaultMaxContext)
	}
	if m.maxCtx > c.MaxPositions {
		return nil, fmt.Errorf("load model: context %d exceeds max_position_embeddings %d", m.maxCtx, c.MaxPositions)
	}
	l := &loader{f: f, rev: rev, b: b}
	D, V, I := c.HiddenSize, c.VocabSize, c.IntermediateSize
	H, KV, hd := c.NumHeads, c.NumKVHeads, c.HeadDim
	var err error
	if m.embed, err = l.matrix("model.embed_tokens.weight", V, D); err != nil {
		return nil, err
	}
	if m.norm, err = l.matrix("model.norm.weight", D); err != nil {
		return nil, err
	}
	if c.TieEmbeddings {
		m.head = m.embed
	} else if m.head, err = l.matrix("lm_head.weight", V, D); err != nil {
		return nil, err
	}
	hasAttn := false
	for i, kind := range c.LayerKinds {
		p := fmt.Sprintf("model.layers.%d.", i)
		ly := layer{kind: kind}
		if ly.inNorm, err = l.matrix(p+"input_layernorm.weight", D); err != nil {
			return nil, err
		}
		if ly.postNorm, err = l.matrix(p+"post_attention_layernorm.weight", D); err != nil {
			return nil, err
		}
		switch kind {
		case format.Attention:
			hasAttn = true
			for _, x := range []struct {
				w    *Weight
				name string
				rows int
			}{{&ly.q, "q_proj", H * hd}, {&ly.k, "k_proj", KV * hd}, {&ly.v, "v_proj", KV * hd}} {
				if *x.w, err = l.matrix(p+"self_attn."+x.name+".weight", x.rows, D); err != nil {
					return nil, err
				}
			}
			if ly.o, err = l.matrix(p+"self_attn.o_proj.weight", D, H*hd); err != nil {
				return nil, err
			}
		case format.Mamba2:
			if err := m.loadMamba2(l, &ly, p); err != nil {
				return nil, err
			}
		case format.Mamba1:
			return nil, fmt.Errorf("load model: layer %d is a Mamba-1 mixer, which this runtime does not support yet", i)
		default:
			return nil, fmt.Errorf("load model: layer %d has unknown kind %q", i, kind)
		}
		if ly.gate, err = l.matrix(p+"mlp.gate_proj.weight", I, D); err != nil {
			return nil, err
		}
		if ly.up, err = l.matrix(p+"mlp.up_proj.weight", I, D); err != nil {
			return nil, err
		}
		if ly.down, err = l.matrix(p+"mlp.down_proj.weight", D, I); err != nil {
			return nil, err
		}
		m.layers = append(m.layers, ly)
	}
	if hasAttn {
		inv, err := RopeInvFreq(c.Rope, hd)
		if err != nil {
			return nil, fmt.Errorf("load model: %w", err)
		}
		if m.invFreq, err = b.Alloc(len(inv)); err != nil {
			return nil, err
		}
		if err := b.Write(m.invFreq, 0, inv); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Model) loadMamba2(l *loader, ly *layer, p string) error {
	c, mc := m.Config, m.Config.Mamba
	D := c.HiddenSize
	H, KV, hd := mc.Heads, mc.KVHeads, mc.HeadDim
	switch {
	case H <= 0 || KV <= 0 || hd <= 0 || H%KV != 0:
		return fmt.Errorf("load model: mamba heads %d, kv heads %d, head dim %d are not usable", H, KV, hd)
	case mc.DInner != H*hd || mc.DXB != KV*hd:
		return fmt.Errorf("load model: mamba d_inner %d / d_xb %d do not match heads %d·%d / %d·%d", mc.DInner, mc.DXB, H, hd, KV, hd)
	case mc.DState != hd:
		return fmt.Errorf("load model: mamba d_state %d ≠ head_dim %d is not supported", mc.DState, hd)
	case mc.DConv != 4:
		return fmt.Errorf("load model: mamba d_conv %d is not supported (4)", mc.DConv)
	}
	di, dxb := mc.DInner, mc.DXB
	convDim := di + 2*dxb
	inRows := 2*di + 2*dxb + H
	name := p + "mamba.in_proj.weight"
	t, data, err := l.tensor(name, inRows, D)
	if err != nil {
		return err
	}
	rowBytes, err := t.DType.NBytes([]int64{1, int64(D)})
	if err != nil {
		return fmt.Errorf("load model: %s: %w", name, err)
	}
	// Rows z | x B C | dt, uploaded as three weights over the same bytes.
	for _, part := range []struct {
		w          *Weight
		suffix     string
		row0, rows int
	}{{&ly.inZ, "[z]", 0, di}, {&ly.inXBC, "[xBC]", di, convDim}, {&ly.inDT, "[dt]", di + convDim, H}} {
		b := data[int64(part.row0)*rowBytes : int64(part.row0+part.rows)*rowBytes]
		if *part.w, err = l.b.Upload(name+part.suffix, t.DType, part.rows, D, b); err != nil {
			return fmt.Errorf("load model: %w", err)
		}
	}
	if ly.conv, err = l.matrix(p+"mamba.conv1d.weight", convDim, 1, 4); err != nil {
		return err
	}
	if ly.convBias, err = l.matrix(p+"mamba.conv1d.bias", convDim); err != nil {
		return err
	}
	if ly.dtBias, err = l.matrix(p+"mamba.dt_bias", H); err != nil {
		return err
	}
	if ly.dSkip, err = l.matrix(p+"mamba.D", H); err != nil {
		return err
	}
	if ly.gnorm, err = l.matrix(p+"mamba.norm.weight", di); err != nil {
		return err
	}
	if ly.out, err = l.matrix(p+"mamba.out_proj.weight", D, di); err != nil {
		return err
	}
	at, _, err := l.tensor(p+"mamba.A_log", H)
	if err != nil {
		return err
	}
	alog, err := l.f.Float32(at)
	if err != nil {
		return fmt.Errorf("load model: %w", err)
	}
	a := make([]float32, H)
	for i, v := range alog {
		a[i] = -float32(math.Exp(float64(v)))
	}
	ly.aNeg, err = l.f32(p+"mamba.A", a)
	return err
}

// MaxContext is the number of positions a session holds.
func (m *Model) MaxContext() int { return m.maxCtx }

// PrefillChunk is the rows one forward pass of a prefill processes.
func (m *Model) PrefillChunk() int { return m.chunk }

// Backend is the backend the model runs on.
func (m *Model) Backend() Backend { return m.b }

// DeviceFeed reports whether Greedy feeds each step's token to the next on
// the backend, queueing steps ahead of the host (TokenFeeder, not HostFeed).
func (m *Model) DeviceFeed() bool { return m.feed != nil }
