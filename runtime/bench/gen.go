package bench

import (
	"fmt"
	"io"
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

// Generate writes a model with random weights to path: the tensors of
// testmodel.Tensors, matrices uniform in ±0.02 in o.DType, norms 1, Mamba
// parameters as the converter initialises them (A_log = log(1..16), dt_bias
// from dt in [1e-3, 0.1], D = 1). Tensors
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
	uni := func(r *rand.Rand) float32 { return 0.02 * (2*r.Float32() - 1) }
	var errs []error
	for i, t := range testmodel.Tensors(c) {
		tdt, gen := format.F32, func(*rand.Rand) float32 { return 1 }
		switch t.Role {
		case testmodel.Matrix:
			tdt, gen = dt, uni
		case testmodel.Conv:
			gen = uni
		case testmodel.DTBias:
			gen = testmodel.InitDTBias
		case testmodel.ALog:
			gen = testmodel.InitALog
		}
		n, _ := format.ElemCount(t.Shape)
		errs = append(errs, w.AddTensor(t.Name, tdt, t.Shape, &genReader{dt: tdt, left: int(n), gen: gen, seed: o.Seed + uint64(i) + 1}))
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
