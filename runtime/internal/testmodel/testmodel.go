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

// Write creates path with random weights for c: matrices in dt (scaled like a
// trained model, std ≈ 1/√fan-in), norms near 1, Mamba parameters as the
// converter initialises them.
func Write(path string, c *format.Config, dt format.DType, seed uint64) error {
	w, err := format.Create(path)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(seed, 1))
	add := func(name string, dt format.DType, shape []int64, gen func(i int) float32) error {
		n := 1
		for _, d := range shape {
			n *= int(d)
		}
		vals := make([]float32, n)
		for i := range vals {
			vals[i] = gen(i)
		}
		b, err := Encode(dt, vals)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return w.AddTensorBytes(name, dt, shape, b)
	}
	mat := func(name string, rows, cols int) error {
		s := float32(1 / math.Sqrt(float64(cols)))
		return add(name, dt, []int64{int64(rows), int64(cols)}, func(int) float32 { return s * float32(r.NormFloat64()) })
	}
	vec := func(name string, n int, gen func(i int) float32) error {
		return add(name, format.F32, []int64{int64(n)}, gen)
	}
	near1 := func(int) float32 { return 1 + 0.1*float32(r.NormFloat64()) }
	D, I, V := c.HiddenSize, c.IntermediateSize, c.VocabSize
	H, KV, hd := c.NumHeads, c.NumKVHeads, c.HeadDim
	errs := []error{mat("model.embed_tokens.weight", V, D), vec("model.norm.weight", D, near1)}
	if !c.TieEmbeddings {
		errs = append(errs, mat("lm_head.weight", V, D))
	}
	for i, k := range c.LayerKinds {
		p := fmt.Sprintf("model.layers.%d.", i)
		errs = append(errs, vec(p+"input_layernorm.weight", D, near1), vec(p+"post_attention_layernorm.weight", D, near1),
			mat(p+"mlp.gate_proj.weight", I, D), mat(p+"mlp.up_proj.weight", I, D), mat(p+"mlp.down_proj.weight", D, I))
		switch k {
		case format.Attention:
			errs = append(errs, mat(p+"self_attn.q_proj.weight", H*hd, D), mat(p+"self_attn.k_proj.weight", KV*hd, D),
				mat(p+"self_attn.v_proj.weight", KV*hd, D), mat(p+"self_attn.o_proj.weight", D, H*hd))
		default:
			m := c.Mamba
			cd := m.DInner + 2*m.DXB
			errs = append(errs, mat(p+"mamba.in_proj.weight", 2*m.DInner+2*m.DXB+m.Heads, D),
				add(p+"mamba.conv1d.weight", format.F32, []int64{int64(cd), 1, 4}, func(int) float32 { return float32(r.Float64() - 0.5) }),
				vec(p+"mamba.conv1d.bias", cd, func(int) float32 { return float32(r.Float64() - 0.5) }),
				vec(p+"mamba.dt_bias", m.Heads, func(int) float32 {
					dt0 := math.Exp(math.Log(1e-3) + r.Float64()*(math.Log(0.1)-math.Log(1e-3)))
					return float32(dt0 + math.Log(-math.Expm1(-dt0)))
				}),
				vec(p+"mamba.A_log", m.Heads, func(int) float32 { return float32(math.Log(1 + 15*r.Float64())) }),
				vec(p+"mamba.D", m.Heads, func(int) float32 { return 1 }),
				vec(p+"mamba.norm.weight", m.DInner, near1),
				mat(p+"mamba.out_proj.weight", D, m.DInner))
		}
	}
	for _, e := range errs {
		if e != nil {
			w.Abort()
			return e
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
