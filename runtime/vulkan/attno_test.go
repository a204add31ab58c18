//go:build cgo

package vulkan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/backendtest"
	"github.com/mmbformat/mmb/runtime/internal/hfref"
)

// TestAttentionOut: the attention block (attention, output projection and
// residual add in one dispatch) matches a float64 reference within float32
// rounding — attnRef's bound carried through Σ|o| plus the projection's
// own — for every weight dtype, head dims 32 and 64, contexts from 1 to the
// one-pass limit, hidden sizes that leave the last row chunk short; the
// caches hold the new key and value, and the MLP block's copy of h is
// within the same bound (its atomic sums come in another order). Past the one-pass limit, or for 2 rows, it declines with nothing
// recorded.
func TestAttentionOut(t *testing.T) {
	b := blockBackend(t, "attention block")
	r := rand.New(rand.NewPCG(31, 32))
	const heads, kvHeads = 4, 2
	for _, dt := range []format.DType{format.F32, format.F16, format.BF16, format.Q8_0} {
		for _, c := range []struct{ hd, ctx, D, rows int }{{32, 1, 64, 0}, {64, 144, 96, 0}, {32, 256, 300, 100}, {64, 37, 64, 0}} {
			if dt == format.F32 && c.hd/4 > b.dev.SubgroupSize {
				continue // a row's words would span subgroups: declined (below)
			}
			t.Run(fmt.Sprintf("%s hd %d ctx %d D %d rows/wg %d", dt, c.hd, c.ctx, c.D, c.rows), func(t *testing.T) {
				b.attnORows = c.rows
				defer func() { b.attnORows = 0 }()
				kvw, qw, pos0 := kvHeads*c.hd, heads*c.hd, c.ctx-1
				cacheK, cacheV := uniformVals(r, c.ctx*kvw, 1.5), uniformVals(r, c.ctx*kvw, 2)
				q, k, v := uniformVals(r, qw, 1.5), cacheK[pos0*kvw:], cacheV[pos0*kvw:]
				data, ow := backendtest.EncodeWeight(dt, c.D, qw, uniformVals(r, c.D*qw, 1))
				o, err := b.Upload("o", dt, c.D, qw, data)
				mustOK(t, err)
				hv := uniformVals(r, c.D, 2)
				h := bufOf(t, b, hv)
				kc := bufOf(t, b, append(cacheK[:pos0*kvw:pos0*kvw], make([]float32, kvw)...))
				vc := bufOf(t, b, append(cacheV[:pos0*kvw:pos0*kvw], make([]float32, kvw)...))
				qb, kb, vb := bufOf(t, b, q), bufOf(t, b, k), bufOf(t, b, v)
				mustOK(t, b.Sync())
				ok, err := b.AttentionOut(h, qb, kb, vb, kc, vc, o, 1, pos0, heads, kvHeads, c.hd)
				mustOK(t, err)
				if !ok {
					t.Fatal("declined")
				}
				cmds := b.recorded()
				if want := []string{"copyf", "|", attnONames[dt]}; !slices.Equal(cmds, want) {
					t.Errorf("commands %v, want %v", cmds, want)
				}
				got, snap := make([]float32, c.D), make([]float32, c.D)
				mustOK(t, b.Read(got, h, 0))
				mustOK(t, b.Read(snap, &buffer{b: b, devBuf: b.mlpSnap, n: c.D}, 0))
				att := attnRef(q, cacheK, cacheV, 1, pos0, heads, kvHeads, c.hd)
				want := bounded{Want: make([]float64, c.D), Bound: make([]float64, c.D)}
				for i := 0; i < c.D; i++ {
					var s, abs, carried float64
					for j := 0; j < qw; j++ {
						s += ow[i*qw+j] * att.Want[j]
						abs += math.Abs(ow[i*qw+j] * att.Want[j])
						carried += math.Abs(ow[i*qw+j]) * att.Bound[j]
					}
					want.Want[i] = float64(hv[i]) + s
					// The projection's K-term sum (heads' partial sums added
					// in any order), the carried attention error, the add.
					want.Bound[i] = float64(qw+4+heads)*f32u*abs + carried + f32u*math.Abs(want.Want[i])
				}
				checkBounded(t, "h", got, want)
				// The copy gets the same heads' sums in another order (atomics):
				// within the same bound, not bit for bit.
				checkBounded(t, "the MLP block's copy of h", snap, want)
				kcv, vcv := make([]float32, kvw), make([]float32, kvw)
				mustOK(t, b.Read(kcv, kc, pos0*kvw))
				mustOK(t, b.Read(vcv, vc, pos0*kvw))
				for i := range kcv {
					if kcv[i] != k[i] || vcv[i] != v[i] {
						t.Fatalf("cache at the new position, value %d: k %v v %v, want %v %v", i, kcv[i], vcv[i], k[i], v[i])
					}
				}
			})
		}
	}
	// Declined: a context past the one-pass limit, 2 rows.
	data, _ := backendtest.EncodeWeight(format.F16, 64, 4*32, uniformVals(r, 64*4*32, 1))
	o, err := b.Upload("o", format.F16, 64, 4*32, data)
	mustOK(t, err)
	h, q, kv := bufOf(t, b, make([]float32, 2*64)), bufOf(t, b, make([]float32, 2*4*32)), bufOf(t, b, make([]float32, 300*2*32))
	mustOK(t, b.Sync())
	for _, c := range []struct{ rows, pos0 int }{{1, attnOnePassMax}, {2, 10}} {
		ok, err := b.AttentionOut(h, q, kv, kv, kv, kv, o, c.rows, c.pos0, heads, kvHeads, 32)
		if ok || err != nil || len(b.recorded()) != 0 {
			t.Errorf("rows %d pos0 %d: ok %v err %v commands %v; want declined", c.rows, c.pos0, ok, err, b.recorded())
		}
	}
}

// TestDecodeStepAttnBlock runs one decode step of each fixture at context
// 101 with the attention block and without it: every attention layer is one
// attno dispatch in place of attndec and the residual o_proj (one barrier
// fewer per attention layer), and the logits agree within hfref.SelfTol.
func TestDecodeStepAttnBlock(t *testing.T) {
	for _, name := range hfref.Fixtures {
		t.Run(name, func(t *testing.T) {
			logits, cmds, cfg, b := blockStepOnOff(t, name, func(b *Backend, off bool) {
				b.noAttnO = off
			})
			fits := attnBlockFits(b, cmds[0], cfg.HeadDim)
			now, old := cmds[0], cmds[1]
			blocks, attn := countPrefix(now, "attno_"), countCmd(old, "attndec")
			if !fits {
				// e.g. head dim 24 in bf16: 3 words a head, no power of two.
				if blocks != 0 || !slices.Equal(now, old) {
					t.Errorf("the block does not fit this model, yet %d attno dispatches:\n%v", blocks, now)
				}
				return
			}
			t.Logf("%d attention layers: %d commands, %d barriers; without the block: %d commands, %d barriers",
				attn, len(now), countCmd(now, "|"), len(old), countCmd(old, "|"))
			if blocks != attn || countCmd(now, "attndec") != 0 {
				t.Errorf("%d attno and %d attndec dispatches for %d attention layers:\n%v", blocks, countCmd(now, "attndec"), attn, now)
			}
			checkStageSaved(t, "the attention block", logits, cmds, attn)
		})
	}
}

// attnBlockFits reports whether the attention block serves the model whose
// decode step recorded cmds: its weight dtype (from the q projection's
// shader) and head dim suit it (attnOFits).
func attnBlockFits(b *Backend, cmds []string, headDim int) bool {
	for _, c := range cmds {
		if name, ok := strings.CutPrefix(c, "matvec4np_"); ok {
			for dt, sfx := range dtSuffix {
				if sfx == name {
					return b.attnOFits(dt, headDim)
				}
			}
		}
	}
	return false
}

var _ rt.Buffer = (*buffer)(nil)
