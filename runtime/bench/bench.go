// Package bench is mmbbench: one run that measures, on one backend and
// device, the memory bandwidth (the reference), batch-1 decode speed and the
// fraction of the bandwidth limit it reaches, prefill speed, decode speed at
// long contexts, and optionally where the time goes per op. It also writes
// random-weight models (Generate) so that it runs without a checkpoint.
// tools/mmbbench only parses flags.
package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mmbformat/mmb/format"
	"github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/runcmd"
	"github.com/mmbformat/mmb/runtime/vulkan"
)

// Options are mmbbench's flags.
type Options struct {
	Model   string
	Rev     int    // -1: the newest
	Backend string // auto, cpu, vulkan
	Device  int    // Vulkan device index; -1: best
	Threads int    // CPU backend threads; 0: all

	PromptTokens  int   // the short prompt before the decode run (default 16)
	DecodeTokens  int   // tokens decoded for the headline figure (default 128)
	Prefill       []int // prompt lengths timed for prefill (default 512, 4096)
	Contexts      []int // contexts at which decode is timed (default 1024, 8192, 32768)
	ContextTokens int   // tokens decoded at each context (default 32)
	PrefillChunk  int   // rows per forward pass of a prefill; 0: the runtime's default
	SubmitLayers  int   // runtime.Options.SubmitLayers (0: default, negative: off)
	SubmitFirst   int   // runtime.Options.SubmitFirst (0: default, 1)
	HostFeed      bool  // runtime.Options.HostFeed
	MatvecSplit   int   // vulkan.Options.MatvecSplit (0: default, 1: never)
	MLPFeatures   int   // vulkan.Options.MLPFeatures (0: default, -1: no one-dispatch MLP block)
	RowPairs      int   // vulkan.Options.MatvecRowPairs (0: default, 1: all, -1: none)
	NoAttnBlock   bool  // vulkan.Options.NoAttentionBlock
	NoSSMBlock    bool  // vulkan.Options.NoSSMBlock
	Reps          int   // repetitions of the decode and prefill timings; the median counts (default 3)
	BandwidthMiB  int   // size of the bandwidth probe (default 1024)
	Profile       bool
	ProfileTokens int // decode steps profiled (default 16)

	JSON    bool   // print JSON instead of the table
	JSONOut string // also write the JSON to this file
}

func (o *Options) defaults() {
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&o.PromptTokens, 16)
	def(&o.DecodeTokens, 128)
	def(&o.ContextTokens, 32)
	def(&o.Reps, 3)
	def(&o.BandwidthMiB, 1024)
	def(&o.ProfileTokens, 16)
	if o.Prefill == nil {
		o.Prefill = []int{512, 4096}
	}
	if o.Contexts == nil {
		o.Contexts = []int{1024, 8192, 32768}
	}
}

// Result is what one run measured. Rates are per second; bytes are bytes.
type Result struct {
	Model     string    `json:"model"`
	Revision  int       `json:"revision"`
	Backend   string    `json:"backend"`
	Device    string    `json:"device"`
	Shape     Shape     `json:"shape"`
	Weights   Weights   `json:"weights"`
	Bandwidth Bandwidth `json:"bandwidth"`
	Decode    Decode    `json:"decode"`
	Prefill   []Prefill `json:"prefill"`
	Context   []Context `json:"context"`
	Profile   []Profile `json:"profile,omitempty"`
	// MaxContext is the session's context (KV cache) size for the run.
	MaxContext int `json:"max_context"`
	// PrefillChunk is the rows per forward pass the prefills ran with.
	PrefillChunk int      `json:"prefill_chunk"`
	Notes        []string `json:"notes,omitempty"`
}

// Shape summarises the model.
type Shape struct {
	Hidden          int    `json:"hidden"`
	Intermediate    int    `json:"intermediate"`
	Layers          int    `json:"layers"`
	AttentionLayers int    `json:"attention_layers"`
	MambaLayers     int    `json:"mamba_layers"`
	Vocab           int    `json:"vocab"`
	DType           string `json:"dtype"` // of the matrices ("mixed" if they differ)
	Params          int64  `json:"params"`
}

// Weights is what one decode step reads of the weights.
type Weights struct {
	BytesPerToken int64  `json:"bytes_per_token"`
	Counted       string `json:"counted"`
}

// Bandwidth is the reference memory bandwidth.
type Bandwidth struct {
	BytesPerSec float64 `json:"bytes_per_sec"`
	Bytes       int64   `json:"probe_bytes"`
	Method      string  `json:"method"`
}

// Decode is the headline batch-1 greedy decode figure.
type Decode struct {
	PromptTokens int     `json:"prompt_tokens"`
	Tokens       int     `json:"tokens"`
	TokensPerSec float64 `json:"tokens_per_sec"`
	MsPerToken   float64 `json:"ms_per_token"`
	// LimitTokensPerSec is bandwidth ÷ weight bytes: decode if it did
	// nothing but read the weights at the probe's rate.
	LimitTokensPerSec float64 `json:"limit_tokens_per_sec"`
	// BandwidthFraction is weight bytes × tokens/s ÷ bandwidth.
	BandwidthFraction float64 `json:"bandwidth_fraction"`
	// Feed says how a step's greedy token reaches the next step: "device"
	// (the steps are queued ahead of the host, runtime.TokenFeeder) or
	// "host" (read back before the next step is recorded).
	Feed string `json:"feed"`
}

// Prefill is prompt processing of one length from an empty context.
type Prefill struct {
	Tokens           int     `json:"tokens"`
	TokensPerSec     float64 `json:"tokens_per_sec"`
	BestTokensPerSec float64 `json:"best_tokens_per_sec"`
	Seconds          float64 `json:"seconds"`
}

// Context is decode speed after a prompt of Context tokens.
type Context struct {
	Context      int     `json:"context"`
	Tokens       int     `json:"tokens"`
	TokensPerSec float64 `json:"tokens_per_sec"`
	// StateBytesPerToken is what a step reads besides the weights: the KV
	// caches of attention layers up to the context (float32), the SSM states
	// of Mamba layers (read and written).
	StateBytesPerToken int64 `json:"state_bytes_per_token"`
	// BandwidthFraction is (weight + state bytes) × tokens/s ÷ bandwidth.
	BandwidthFraction float64 `json:"bandwidth_fraction"`
	// RelativeToFirst is tokens/s over that of the shortest context.
	RelativeToFirst float64 `json:"relative_to_first"`
}

// Profile is the time per op kind over a phase.
type Profile struct {
	Phase       string  `json:"phase"` // "decode" or "prefill N"
	Method      string  `json:"method"`
	Tokens      int     `json:"tokens"`
	WallSeconds float64 `json:"wall_seconds"` // of the profiled run (inflated by the profiling itself)
	OpSeconds   float64 `json:"op_seconds"`
	Ops         []Op    `json:"ops"`
}

// Op is one kind of op in a profile.
type Op struct {
	Op      string  `json:"op"`
	Count   int     `json:"count"`
	Seconds float64 `json:"seconds"`
	Share   float64 `json:"share"` // of the phase's op time
}

// Run does what the options ask, writing the report to stdout and progress
// to stderr.
func Run(o Options, stdout, stderr io.Writer) error {
	if o.Model == "" {
		return errors.New("no model file given (usage: mmbbench [flags] MODEL.mmb, or mmbbench gen [flags] OUT.mmb)")
	}
	f, err := format.Open(o.Model)
	if err != nil {
		return fmt.Errorf("open model: %w", err)
	}
	defer f.Close()
	rev := f.Latest()
	if o.Rev >= 0 {
		if rev, err = f.Revision(o.Rev); err != nil {
			return err
		}
	}
	open := func() (runtime.Backend, error) {
		return runcmd.OpenBackend("mmbbench", o.Backend, vulkan.Options{Device: o.Device, MatvecSplit: o.MatvecSplit, MLPFeatures: o.MLPFeatures, MatvecRowPairs: o.RowPairs, NoAttentionBlock: o.NoAttnBlock, NoSSMBlock: o.NoSSMBlock}, o.Threads, stderr)
	}
	res, err := Measure(f, rev, open, o, stderr)
	if err != nil {
		return err
	}
	res.Model = o.Model
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	js = append(js, '\n')
	if o.JSONOut != "" {
		if err := os.WriteFile(o.JSONOut, js, 0o644); err != nil {
			return fmt.Errorf("--json-out: %w", err)
		}
	}
	if o.JSON {
		_, err = stdout.Write(js)
		return err
	}
	return WriteTable(stdout, res)
}

// Measure runs the benchmarks of o on revision rev of f, on a backend from
// open (called once, and once more for the profile, so that the timed runs
// see the backend itself, not a wrapper). Progress goes to log.
func Measure(f *format.File, rev *format.Revision, open func() (runtime.Backend, error), o Options, log io.Writer) (*Result, error) {
	o.defaults()
	c := rev.Config
	if c == nil {
		return nil, fmt.Errorf("revision %d has no config", rev.Number)
	}
	res := &Result{Revision: rev.Number, Shape: shape(c, rev)}
	res.Weights.BytesPerToken, res.Weights.Counted = weightBytes(c, rev)

	// Lengths past the model's positions are capped, and the session is sized
	// for the longest run.
	need := o.PromptTokens + o.DecodeTokens
	capLen := func(what string, n, room int) int {
		if lim := c.MaxPositions - room; n > lim {
			res.Notes = append(res.Notes, fmt.Sprintf("%s %d capped to %d (max_position_embeddings %d)", what, n, lim, c.MaxPositions))
			return lim
		}
		return n
	}
	if need > c.MaxPositions {
		return nil, fmt.Errorf("a prompt of %d and %d decoded tokens do not fit in the model's %d positions", o.PromptTokens, o.DecodeTokens, c.MaxPositions)
	}
	var pre, ctxs []int
	for _, n := range o.Prefill {
		if n > 0 {
			pre = append(pre, capLen("prefill", n, 0))
		}
	}
	for _, n := range o.Contexts {
		if n > 0 {
			ctxs = append(ctxs, capLen("context", n, o.ContextTokens))
		}
	}
	slices.Sort(pre)
	slices.Sort(ctxs)
	pre, ctxs = slices.Compact(pre), slices.Compact(ctxs)
	for _, n := range pre {
		need = max(need, n)
	}
	for _, n := range ctxs {
		need = max(need, n+o.ContextTokens)
	}
	res.MaxContext = need
	ropts := runtime.Options{MaxContext: need, PrefillChunk: o.PrefillChunk, SubmitLayers: o.SubmitLayers, SubmitFirst: o.SubmitFirst, HostFeed: o.HostFeed}

	b, err := open()
	if err != nil {
		return nil, err
	}
	defer func() {
		if b != nil {
			b.Close()
		}
	}()
	res.Backend, res.Device = describe(b)
	logf := func(format string, a ...any) { fmt.Fprintf(log, "mmbbench: "+format+"\n", a...) }
	logf("%s on %s", res.Backend, res.Device)

	if p, ok := b.(runtime.BandwidthProber); ok {
		bw, err := p.CopyBandwidth(o.BandwidthMiB << 20)
		if err != nil {
			return nil, fmt.Errorf("bandwidth: %w", err)
		}
		res.Bandwidth = Bandwidth{BytesPerSec: bw.BytesPerSec, Bytes: bw.Bytes, Method: bw.Method}
		logf("bandwidth %.1f GB/s (%s)", bw.BytesPerSec/1e9, bw.Method)
	} else {
		res.Notes = append(res.Notes, "the backend cannot measure its bandwidth: no fractions")
	}

	t0 := time.Now()
	m, err := runtime.Load(f, rev, b, ropts)
	if err != nil {
		return nil, err
	}
	s, err := m.NewSession()
	if err != nil {
		return nil, err
	}
	logf("loaded in %.1f s; context %d", time.Since(t0).Seconds(), need)
	res.PrefillChunk = m.PrefillChunk()

	// Warm-up: pipelines, scratch at the largest prefill chunk, page cache.
	warm := 8
	if len(pre) > 0 {
		warm = min(pre[len(pre)-1], max(m.PrefillChunk(), 512))
	}
	if err := warmUp(s, c.VocabSize, warm, o.PromptTokens, 3); err != nil {
		return nil, err
	}

	// Decode: a short prompt, then greedy steps; the median of Reps runs.
	var rates []float64
	for r := 0; r < o.Reps; r++ {
		if err := s.Reset(); err != nil {
			return nil, err
		}
		if _, err := s.Prefill(ids(o.PromptTokens, c.VocabSize, r)); err != nil {
			return nil, err
		}
		t0 := time.Now()
		if err := decode(s, o.DecodeTokens); err != nil {
			return nil, err
		}
		rates = append(rates, float64(o.DecodeTokens)/time.Since(t0).Seconds())
	}
	d := &res.Decode
	d.PromptTokens, d.Tokens, d.TokensPerSec = o.PromptTokens, o.DecodeTokens, median(rates)
	d.Feed = "host"
	if m.DeviceFeed() {
		d.Feed = "device"
	}
	d.MsPerToken = 1e3 / d.TokensPerSec
	if bw := res.Bandwidth.BytesPerSec; bw > 0 {
		d.LimitTokensPerSec = bw / float64(res.Weights.BytesPerToken)
		d.BandwidthFraction = d.TokensPerSec / d.LimitTokensPerSec
	}
	logf("decode %.1f tok/s (%.3f ms/token), %.2f of the bandwidth limit", d.TokensPerSec, d.MsPerToken, d.BandwidthFraction)

	for _, n := range pre {
		p := Prefill{Tokens: n}
		var rates []float64
		for r := 0; r < o.Reps; r++ {
			if err := s.Reset(); err != nil {
				return nil, err
			}
			in := ids(n, c.VocabSize, r)
			t0 := time.Now()
			if _, err := s.Prefill(in); err != nil {
				return nil, err
			}
			sec := time.Since(t0).Seconds()
			rates = append(rates, float64(n)/sec)
			p.Seconds += sec
		}
		p.TokensPerSec, p.BestTokensPerSec = median(rates), slices.Max(rates)
		p.Seconds /= float64(o.Reps)
		res.Prefill = append(res.Prefill, p)
		logf("prefill %d: %.0f tok/s", n, p.TokensPerSec)
	}

	for _, n := range ctxs {
		if err := s.Reset(); err != nil {
			return nil, err
		}
		// n−1 prompt tokens and one untimed step: the first step at a new
		// context length may set things up once (e.g. a GPU backend's first
		// split-context attention), which is not the steady rate.
		warm := min(n-1, 1)
		if _, err := s.Prefill(ids(n-warm, c.VocabSize, 1)); err != nil {
			return nil, err
		}
		if err := decode(s, warm); err != nil {
			return nil, err
		}
		t0 := time.Now()
		if err := decode(s, o.ContextTokens); err != nil {
			return nil, err
		}
		x := Context{Context: n, Tokens: o.ContextTokens, TokensPerSec: float64(o.ContextTokens) / time.Since(t0).Seconds(),
			StateBytesPerToken: stateBytes(c, n)}
		if bw := res.Bandwidth.BytesPerSec; bw > 0 {
			x.BandwidthFraction = float64(res.Weights.BytesPerToken+x.StateBytesPerToken) * x.TokensPerSec / bw
		}
		res.Context = append(res.Context, x)
		logf("decode at context %d: %.1f tok/s", n, x.TokensPerSec)
	}
	for i := range res.Context {
		res.Context[i].RelativeToFirst = res.Context[i].TokensPerSec / res.Context[0].TokensPerSec
	}

	if !o.Profile {
		return res, nil
	}
	// The profile runs on a fresh backend through the timing wrapper; the
	// first backend's memory is given back first.
	s, m = nil, nil
	err = b.Close()
	b = nil
	if err != nil {
		return nil, err
	}
	if b, err = open(); err != nil {
		return nil, err
	}
	pb := newProfBackend(b)
	if m, err = runtime.Load(f, rev, pb, ropts); err != nil {
		return nil, err
	}
	if s, err = m.NewSession(); err != nil {
		return nil, err
	}
	if err := warmUp(s, c.VocabSize, warm, o.PromptTokens, 2); err != nil {
		return nil, err
	}
	prof, err := profile(pb, "decode", o.ProfileTokens, func() error { return decode(s, o.ProfileTokens) })
	if err != nil {
		return nil, err
	}
	res.Profile = append(res.Profile, prof)
	if len(pre) > 0 {
		n := pre[len(pre)-1]
		if err := s.Reset(); err != nil {
			return nil, err
		}
		prof, err := profile(pb, fmt.Sprintf("prefill %d", n), n, func() error {
			_, err := s.Prefill(ids(n, c.VocabSize, 0))
			return err
		})
		if err != nil {
			return nil, err
		}
		res.Profile = append(res.Profile, prof)
	}
	return res, nil
}

func profile(pb *profBackend, phase string, tokens int, run func() error) (Profile, error) {
	p := Profile{Phase: phase, Method: pb.method(), Tokens: tokens}
	if err := pb.start(); err != nil {
		return p, err
	}
	t0 := time.Now()
	err := run()
	p.WallSeconds = time.Since(t0).Seconds()
	ts, serr := pb.stop()
	if err != nil {
		return p, err
	}
	if serr != nil {
		return p, serr
	}
	for _, t := range ts {
		p.OpSeconds += t.Seconds
	}
	for _, t := range ts {
		op := Op{Op: t.Op, Count: t.Count, Seconds: t.Seconds}
		if p.OpSeconds > 0 {
			op.Share = t.Seconds / p.OpSeconds
		}
		p.Ops = append(p.Ops, op)
	}
	return p, nil
}

// decode runs n greedy steps from the session's last prompt token.
// warmUp prefills warm tokens, then from a reset session a prompt of
// prompt tokens and steps decode steps, leaving the session there.
func warmUp(s *runtime.Session, vocab, warm, prompt, steps int) error {
	if _, err := s.Prefill(ids(warm, vocab, 0)); err != nil {
		return err
	}
	if err := s.Reset(); err != nil {
		return err
	}
	if _, err := s.Prefill(ids(prompt, vocab, 0)); err != nil {
		return err
	}
	return decode(s, steps)
}

func decode(s *runtime.Session, n int) error {
	return s.Greedy(1, n, func(int) bool { return true })
}

// ids is a reproducible prompt of n tokens spread over the vocabulary.
func ids(n, vocab, seed int) []int {
	v := make([]int, n)
	for i := range v {
		v[i] = int((uint64(i)*7919 + uint64(seed)*104729 + 13) % uint64(vocab))
	}
	return v
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func describe(b runtime.Backend) (name, device string) {
	name = b.Name()
	device = "host CPU"
	if v, ok := b.(*vulkan.Backend); ok {
		device = v.Device().String()
	}
	return name, device
}

func shape(c *format.Config, rev *format.Revision) Shape {
	s := Shape{Hidden: c.HiddenSize, Intermediate: c.IntermediateSize, Layers: c.NumLayers, Vocab: c.VocabSize}
	for _, k := range c.LayerKinds {
		if k == format.Attention {
			s.AttentionLayers++
		} else {
			s.MambaLayers++
		}
	}
	for _, t := range rev.Tensors {
		if t.DType == format.U8 {
			continue
		}
		n, _ := format.ElemCount(t.Shape)
		s.Params += n
		if len(t.Shape) == 2 {
			switch {
			case s.DType == "":
				s.DType = t.DType.String()
			case s.DType != t.DType.String():
				s.DType = "mixed"
			}
		}
	}
	return s
}

// weightBytes is what one decode step reads of the weights: every numeric
// tensor of the revision once, at its stored size. The embedding table is
// the exception when untied: a lookup reads one row of it (a tied table is
// read whole, as lm_head). Tokenizer and other byte tensors are not weights.
func weightBytes(c *format.Config, rev *format.Revision) (int64, string) {
	var n int64
	for _, t := range rev.Tensors {
		if t.DType == format.U8 {
			continue
		}
		if t.Name == "model.embed_tokens.weight" && !c.TieEmbeddings && len(t.Shape) == 2 && t.Shape[0] > 0 {
			n += t.NBytes / t.Shape[0]
			continue
		}
		n += t.NBytes
	}
	how := "all numeric tensors at their stored size, once per token"
	if c.TieEmbeddings {
		how += " (tied embedding read whole as lm_head)"
	} else {
		how += " (embedding: one row; lm_head whole)"
	}
	return n, how
}

// stateBytes is what a decode step at position ctx reads besides weights:
// the float32 K and V caches of each attention layer up to ctx, and each
// Mamba layer's float32 SSM state, read and written.
func stateBytes(c *format.Config, ctx int) int64 {
	var n int64
	for _, k := range c.LayerKinds {
		if k == format.Attention {
			n += 2 * int64(ctx) * int64(c.NumKVHeads*c.HeadDim) * 4
		} else if m := c.Mamba; m != nil {
			n += 2 * int64(m.Heads*m.HeadDim*m.DState) * 4
		}
	}
	return n
}

// Lengths is a flag value: token counts separated by commas, with k for
// 1024 ("512,4k", "1k,8k,32k"); "none" or "" is an empty list.
type Lengths []int

func (l *Lengths) String() string {
	var s []string
	for _, n := range *l {
		s = append(s, strconv.Itoa(n))
	}
	return strings.Join(s, ",")
}

func (l *Lengths) Set(v string) error {
	*l = Lengths{}
	if v == "" || v == "none" {
		return nil
	}
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		mul := 1
		if q, ok := strings.CutSuffix(strings.ToLower(p), "k"); ok {
			p, mul = q, 1024
		}
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 1<<24/mul {
			return fmt.Errorf("%q is not a token count", p)
		}
		*l = append(*l, n*mul)
	}
	return nil
}
