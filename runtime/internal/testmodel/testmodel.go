// Package testmodel writes .mmb files with random weights for tests and
// benchmarks of the runtime (any size, any weight dtype, any layer mix).
package testmodel

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/mmbformat/mmb/format"
)

// Config returns a Llama-shaped config with the given layer kinds.
func Config(hidden, inter, heads, kvHeads, headDim, vocab int, kinds []format.LayerKind) *format.Config {
	c := &format.Config{Architecture: "llama", HiddenSize: hidden, IntermediateSize: inter, NumLayers: len(kinds),
		NumHeads: heads, NumKVHeads: kvHeads, HeadDim: headDim, VocabSize: vocab, MaxPositions: 4096,
		RMSNormEps: 1e-5, Rope: format.Rope{Theta: 10000, Type: "default"}, TieEmbeddings: true, LayerKinds: kinds}
	for _, k := range kinds {
		if k != format.Attention {
			c.Mamba = &format.Mamba{DState: headDim, DConv: 4, DInner: heads * headDim, DXB: kvHeads * headDim,
				Heads: heads, KVHeads: kvHeads, HeadDim: headDim, NormEps: 1e-5}
		}
	}
	return c
}

// Role says what a tensor holds, for the generators that fill it.
type Role int

const (
	Matrix Role = iota // a weight matrix [rows, cols], stored in the model's dtype
	Norm               // an RMSNorm weight
	Conv               // Mamba conv1d weight or bias
	DTBias             // Mamba dt_bias
	ALog               // Mamba A_log
	DSkip              // Mamba D
)

// Tensor is one tensor of a model; all but matrices are stored as f32.
type Tensor struct {
	Name  string
	Shape []int64
	Role  Role
}

// Tensors lists the tensors of a model with config c in the order they are
// written.
func Tensors(c *format.Config) []Tensor {
	var ts []Tensor
	add := func(name string, r Role, shape ...int) {
		sh := make([]int64, len(shape))
		for i, d := range shape {
			sh[i] = int64(d)
		}
		ts = append(ts, Tensor{name, sh, r})
	}
	D, I, V := c.HiddenSize, c.IntermediateSize, c.VocabSize
	H, KV, hd := c.NumHeads, c.NumKVHeads, c.HeadDim
	add("model.embed_tokens.weight", Matrix, V, D)
	add("model.norm.weight", Norm, D)
	if !c.TieEmbeddings {
		add("lm_head.weight", Matrix, V, D)
	}
	for i, k := range c.LayerKinds {
		p := fmt.Sprintf("model.layers.%d.", i)
		add(p+"input_layernorm.weight", Norm, D)
		add(p+"post_attention_layernorm.weight", Norm, D)
		add(p+"mlp.gate_proj.weight", Matrix, I, D)
		add(p+"mlp.up_proj.weight", Matrix, I, D)
		add(p+"mlp.down_proj.weight", Matrix, D, I)
		if k == format.Attention {
			add(p+"self_attn.q_proj.weight", Matrix, H*hd, D)
			add(p+"self_attn.k_proj.weight", Matrix, KV*hd, D)
			add(p+"self_attn.v_proj.weight", Matrix, KV*hd, D)
			add(p+"self_attn.o_proj.weight", Matrix, D, H*hd)
			continue
		}
		m := c.Mamba
		cd := m.DInner + 2*m.DXB
		add(p+"mamba.in_proj.weight", Matrix, 2*m.DInner+2*m.DXB+m.Heads, D)
		add(p+"mamba.conv1d.weight", Conv, cd, 1, 4)
		add(p+"mamba.conv1d.bias", Conv, cd)
		add(p+"mamba.dt_bias", DTBias, m.Heads)
		add(p+"mamba.A_log", ALog, m.Heads)
		add(p+"mamba.D", DSkip, m.Heads)
		add(p+"mamba.norm.weight", Norm, m.DInner)
		add(p+"mamba.out_proj.weight", Matrix, D, m.DInner)
	}
	return ts
}

// InitDTBias draws dt_bias as the converter initialises it: the inverse
// softplus of dt log-uniform in [1e-3, 0.1].
func InitDTBias(r *rand.Rand) float32 {
	dt0 := math.Exp(math.Log(1e-3) + r.Float64()*(math.Log(0.1)-math.Log(1e-3)))
	return float32(dt0 + math.Log(-math.Expm1(-dt0)))
}

// InitALog draws A_log as the converter initialises it: log of A uniform in
// [1, 16].
func InitALog(r *rand.Rand) float32 { return float32(math.Log(1 + 15*r.Float64())) }

// Write creates path with random weights for c: matrices in dt (scaled like a
// trained model, std ≈ 1/√fan-in), norms near 1, Mamba parameters as the
// converter initialises them.
func Write(path string, c *format.Config, dt format.DType, seed uint64) error {
	w, err := format.Create(path)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(seed, 1))
	for _, t := range Tensors(c) {
		tdt, gen := format.F32, func() float32 { return 1 }
		switch t.Role {
		case Matrix:
			s := float32(1 / math.Sqrt(float64(t.Shape[1])))
			tdt, gen = dt, func() float32 { return s * float32(r.NormFloat64()) }
		case Norm:
			gen = func() float32 { return 1 + 0.1*float32(r.NormFloat64()) }
		case Conv:
			gen = func() float32 { return float32(r.Float64() - 0.5) }
		case DTBias:
			gen = func() float32 { return InitDTBias(r) }
		case ALog:
			gen = func() float32 { return InitALog(r) }
		}
		n, _ := format.ElemCount(t.Shape)
		vals := make([]float32, n)
		for i := range vals {
			vals[i] = gen()
		}
		b, err := Encode(tdt, vals)
		if err == nil {
			err = w.AddTensorBytes(t.Name, tdt, t.Shape, b)
		}
		if err != nil {
			w.Abort()
			return fmt.Errorf("%s: %w", t.Name, err)
		}
	}
	_, err = w.Commit(format.Meta{Stage: "convert", Time: time.Unix(0, 0), Config: c})
	return err
}

// Encode stores vals as dt (Q8_0: per block of 32, scale max|v|/127 in f16).
func Encode(dt format.DType, vals []float32) ([]byte, error) {
	switch dt {
	case format.F32:
		b := make([]byte, 4*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b, nil
	case format.F16, format.BF16:
		b := make([]byte, 2*len(vals))
		for i, v := range vals {
			h := format.F32ToBF16(v)
			if dt == format.F16 {
				h = format.F32ToF16(v)
			}
			binary.LittleEndian.PutUint16(b[2*i:], h)
		}
		return b, nil
	case format.Q8_0:
		if len(vals)%format.Q8Block != 0 {
			return nil, fmt.Errorf("Q8_0: %d values", len(vals))
		}
		b := make([]byte, len(vals)/format.Q8Block*format.Q8BlockBytes)
		for blk := 0; blk < len(vals)/format.Q8Block; blk++ {
			v := vals[blk*format.Q8Block : (blk+1)*format.Q8Block]
			m := float32(0)
			for _, x := range v {
				m = max(m, float32(math.Abs(float64(x))))
			}
			h := format.F32ToF16(m / 127)
			d := format.F16ToF32(h)
			p := b[blk*format.Q8BlockBytes:]
			binary.LittleEndian.PutUint16(p, h)
			for i, x := range v {
				if d != 0 {
					p[2+i] = byte(int8(math.Max(-127, math.Min(127, math.Round(float64(x/d))))))
				}
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("dtype %s not supported", dt)
}
