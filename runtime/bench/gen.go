package bench

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	goruntime "runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/mmbformat/mmb/format"
	"github.com/mmbformat/mmb/runtime/internal/testmodel"
)

// GenOptions describe a random-weight model. The zero values of the sizes
// are filled by Llama1B: Llama-3.2-1B's shape.
type GenOptions struct {
	Hidden, Intermediate, Layers   int
	Heads, KVHeads, HeadDim        int
	Vocab, MaxPositions            int
	Untied                         bool   // separate lm_head (default: tied, as Llama-3.2-1B)
	DType                          string // f32, f16, bf16, q8_0 for the matrices
	MambaLayers                    string // all, half, none, or a count spread evenly
	Seed                           uint64
	TokenizerJSON, TokenizerConfig string // optional files stored with the model
}

// Llama1B fills zero sizes with Llama-3.2-1B's.
func (o *GenOptions) Llama1B() {
	set := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	set(&o.Hidden, 2048)
	set(&o.Intermediate, 8192)
	set(&o.Layers, 16)
	set(&o.Heads, 32)
	set(&o.KVHeads, 8)
	set(&o.HeadDim, 64)
	set(&o.Vocab, 128256)
	set(&o.MaxPositions, 131072)
	if o.DType == "" {
		o.DType = "f16"
	}
	if o.MambaLayers == "" {
		o.MambaLayers = "none"
	}
}

// GenConfig returns the model config o describes. Layer i is Mamba-2 when
// the count of Mamba layers up to i steps up, which spreads them evenly
// (half of an even count: the odd layers).
func GenConfig(o GenOptions) (*format.Config, error) {
	o.Llama1B()
	L := o.Layers
	var n int
	switch o.MambaLayers {
	case "all":
		n = L
	case "half":
		n = L / 2
	case "none":
	default:
		v, err := strconv.Atoi(o.MambaLayers)
		if err != nil || v < 0 || v > L {
			return nil, fmt.Errorf("--mamba-layers %q: want all, half, none or a count in [0, %d]", o.MambaLayers, L)
		}
		n = v
	}
	kinds := make([]format.LayerKind, L)
	for i := range kinds {
		kinds[i] = format.Attention
		if (i+1)*n/L > i*n/L {
			kinds[i] = format.Mamba2
		}
	}
	c := &format.Config{Architecture: "llama", HiddenSize: o.Hidden, IntermediateSize: o.Intermediate, NumLayers: L,
		NumHeads: o.Heads, NumKVHeads: o.KVHeads, HeadDim: o.HeadDim, VocabSize: o.Vocab, MaxPositions: o.MaxPositions,
		RMSNormEps: 1e-5, TieEmbeddings: !o.Untied, LayerKinds: kinds, BOSTokenID: 0, EOSTokenIDs: []int{1},
		// Llama-3.2's RoPE, so that the attention layers do what the real model's do.
		Rope: format.Rope{Theta: 500000, Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 8192}}
	if n > 0 {
		c.Mamba = &format.Mamba{DState: o.HeadDim, DConv: 4, DInner: o.Heads * o.HeadDim, DXB: o.KVHeads * o.HeadDim,
			Heads: o.Heads, KVHeads: o.KVHeads, HeadDim: o.HeadDim, NormEps: 1e-5}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Generate writes a model with random weights to path: matrices uniform in
// ±0.02 in o.DType, norms 1, Mamba parameters as the converter initialises
// them (A_log = log(1..16), dt_bias from dt in [1e-3, 0.1], D = 1). Tensors
// are generated and encoded in pieces as they are written, so a model of any
// size needs little memory. Speed is what it is for: the outputs mean nothing.
func Generate(path string, o GenOptions) (*format.Config, error) {
	c, err := GenConfig(o)
	if err != nil {
		return nil, err
	}
	o.Llama1B()
	dt, err := format.ParseDType(o.DType)
	if err != nil {
		return nil, fmt.Errorf("--dtype: %w", err)
	}
	switch dt {
	case format.F32, format.F16, format.BF16, format.Q8_0:
	default:
		return nil, fmt.Errorf("--dtype %s: want f32, f16, bf16 or q8_0", dt)
	}
	if dt == format.Q8_0 && (c.HiddenSize%format.Q8Block != 0 || c.IntermediateSize%format.Q8Block != 0 || c.NumHeads*c.HeadDim%format.Q8Block != 0) {
		return nil, fmt.Errorf("--dtype q8_0: hidden %d, intermediate %d and heads·head_dim %d must be multiples of %d",
			c.HiddenSize, c.IntermediateSize, c.NumHeads*c.HeadDim, format.Q8Block)
	}
	var extra [][2]string
	for _, t := range [][2]string{{format.TokenizerJSONTensor, o.TokenizerJSON}, {format.TokenizerConfigTensor, o.TokenizerConfig}} {
		if t[1] == "" {
			continue
		}
		b, err := os.ReadFile(t[1])
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
		extra = append(extra, [2]string{t[0], string(b)})
	}
	w, err := format.Create(path)
	if err != nil {
		return nil, err
	}
	seed := o.Seed
	add := func(name string, dt format.DType, gen func(r *rand.Rand) float32, shape ...int) error {
		seed++
		sh := make([]int64, len(shape))
		n := 1
		for i, d := range shape {
			sh[i], n = int64(d), n*d
		}
		return w.AddTensor(name, dt, sh, &genReader{dt: dt, left: n, gen: gen, seed: seed})
	}
	uni := func(r *rand.Rand) float32 { return 0.02 * (2*r.Float32() - 1) }
	one := func(*rand.Rand) float32 { return 1 }
	mat := func(name string, rows, cols int) error { return add(name, dt, uni, rows, cols) }
	vec := func(name string, n int, gen func(r *rand.Rand) float32) error { return add(name, format.F32, gen, n) }
	D, I, V := c.HiddenSize, c.IntermediateSize, c.VocabSize
	H, KV, hd := c.NumHeads, c.NumKVHeads, c.HeadDim
	errs := []error{mat("model.embed_tokens.weight", V, D), vec("model.norm.weight", D, one)}
	if !c.TieEmbeddings {
		errs = append(errs, mat("lm_head.weight", V, D))
	}
	for i, k := range c.LayerKinds {
		p := fmt.Sprintf("model.layers.%d.", i)
		errs = append(errs, vec(p+"input_layernorm.weight", D, one), vec(p+"post_attention_layernorm.weight", D, one),
			mat(p+"mlp.gate_proj.weight", I, D), mat(p+"mlp.up_proj.weight", I, D), mat(p+"mlp.down_proj.weight", D, I))
		if k == format.Attention {
			errs = append(errs, mat(p+"self_attn.q_proj.weight", H*hd, D), mat(p+"self_attn.k_proj.weight", KV*hd, D),
				mat(p+"self_attn.v_proj.weight", KV*hd, D), mat(p+"self_attn.o_proj.weight", D, H*hd))
			continue
		}
		m := c.Mamba
		cd := m.DInner + 2*m.DXB
		errs = append(errs, mat(p+"mamba.in_proj.weight", 2*m.DInner+2*m.DXB+m.Heads, D),
			add(p+"mamba.conv1d.weight", format.F32, uni, cd, 1, 4),
			vec(p+"mamba.conv1d.bias", cd, uni),
			vec(p+"mamba.dt_bias", m.Heads, func(r *rand.Rand) float32 {
				dt0 := math.Exp(math.Log(1e-3) + r.Float64()*(math.Log(0.1)-math.Log(1e-3)))
				return float32(dt0 + math.Log(-math.Expm1(-dt0))) // inverse softplus
			}),
			vec(p+"mamba.A_log", m.Heads, func(r *rand.Rand) float32 { return float32(math.Log(1 + 15*r.Float64())) }),
			vec(p+"mamba.D", m.Heads, one),
			vec(p+"mamba.norm.weight", m.DInner, one),
			mat(p+"mamba.out_proj.weight", D, m.DInner))
	}
	for _, t := range extra {
		errs = append(errs, w.AddTensorBytes(t[0], format.U8, []int64{int64(len(t[1]))}, []byte(t[1])))
	}
	for _, e := range errs {
		if e != nil {
			w.Abort()
			return nil, fmt.Errorf("generate %s: %w", path, e)
		}
	}
	// A fixed time: the same flags give the same bytes.
	meta := format.Meta{Stage: "convert", Time: time.Unix(0, 0),
		Metadata: map[string]string{"mmbbench.gen": fmt.Sprintf("random weights, uniform ±0.02, %s, mamba layers %s, seed %d", dt, o.MambaLayers, o.Seed)},
		Config:   c}
	if _, err := w.Commit(meta); err != nil {
		return nil, fmt.Errorf("generate %s: %w", path, err)
	}
	return c, nil
}

// genReader yields left values from gen encoded as dt. Values come in
// blocks of genBlock (a multiple of the Q8_0 block; Generate's shapes are
// multiples of 32 too), each from its own generator seeded by the tensor's
// seed and the block's index, so that blocks are made in parallel and the
// file does not depend on the number of cores.
type genReader struct {
	dt    format.DType
	left  int
	gen   func(*rand.Rand) float32
	seed  uint64
	block uint64 // index of the next block
	buf   []byte
}

const genBlock = 1 << 16

func (g *genReader) Read(p []byte) (int, error) {
	if len(g.buf) == 0 {
		if g.left == 0 {
			return 0, io.EOF
		}
		workers := goruntime.GOMAXPROCS(0)
		n := min(g.left, genBlock*4*workers)
		nb := (n + genBlock - 1) / genBlock
		parts := make([][]byte, nb)
		errs := make([]error, nb)
		var wg sync.WaitGroup
		next := make(chan int, nb)
		for i := 0; i < nb; i++ {
			next <- i
		}
		close(next)
		for w := 0; w < min(workers, nb); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				vals := make([]float32, 0, genBlock)
				for i := range next {
					r := rand.New(rand.NewPCG(g.seed, g.block+uint64(i)))
					vals = vals[:0]
					for j := i * genBlock; j < min(n, (i+1)*genBlock); j++ {
						vals = append(vals, g.gen(r))
					}
					parts[i], errs[i] = testmodel.Encode(g.dt, vals)
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return 0, err
			}
		}
		g.left -= n
		g.block += uint64(nb)
		g.buf = slices.Concat(parts...)
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}
