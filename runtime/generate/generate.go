// Package generate runs the decode loop: prefill the prompt, then pick and
// feed one token at a time until a stop condition, streaming text out.
package generate

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mmbformat/mmb/runtime/sample"
)

// LM is what the loop needs from a model session.
type LM interface {
	// Prefill runs the prompt from the session's current position and returns
	// the logits of its last position.
	Prefill(ids []int) ([]float32, error)
	// Step feeds one token and returns the next logits.
	Step(id int) ([]float32, error)
	// Pos is the number of tokens the session has seen.
	Pos() int
	// MaxPositions is the context limit.
	MaxPositions() int
}

// GreedyLM is an LM that runs greedy steps itself (runtime.Session): Run
// hands it the decode loop when the sampling is greedy, so that a GPU
// backend can queue each step before the host has read the token before.
type GreedyLM interface {
	LM
	// Greedy feeds id and then each step's greedy choice, n steps, passing
	// the choices to emit; it stops early after the step whose choice emit
	// refuses (that token is fed as well).
	Greedy(id, n int, emit func(int) bool) error
}

// TopKLM is an LM that can return just the k largest next logits and their
// ids (runtime.Session): Run uses it when the sampling keeps the top k, so
// that the backend ranks the vocabulary and the host reads k candidates.
type TopKLM interface {
	LM
	StepTopK(id, k int) ([]float32, []int, error)
}

// Detokenizer turns ids into text as they arrive.
type Detokenizer interface {
	Add(id int) string // complete UTF-8 text only
	Flush() string
}

// Options control one generation.
type Options struct {
	MaxNew      int // new tokens; 0: prefill only
	Sampling    sample.Params
	StopIDs     []int    // e.g. eos/eot ids: generation ends after such a token (it is not printed)
	StopStrings []string // generation ends once the text contains one (the text is cut before it)
	Out         io.Writer
	Detok       Detokenizer // needed when Out or StopStrings are set
}

// Result reports what happened and how fast.
type Result struct {
	IDs          []int // prompt + generated
	Text         string
	StopReason   string // "length", "stop_id", "stop_string", "context"
	PromptTokens int
	NewTokens    int
	PromptTime   time.Duration
	DecodeTime   time.Duration
}

// PromptTokensPerSec and DecodeTokensPerSec are throughput figures.
func (r *Result) PromptTokensPerSec() float64 { return rate(r.PromptTokens, r.PromptTime) }
func (r *Result) DecodeTokensPerSec() float64 { return rate(r.NewTokens, r.DecodeTime) }

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// ErrContext is returned when the prompt alone does not fit the context.
var ErrContext = errors.New("prompt longer than the context")

// Run generates from prompt ids.
func Run(lm LM, prompt []int, o Options) (*Result, error) {
	if len(prompt) == 0 {
		return nil, errors.New("generate: empty prompt")
	}
	if lm.Pos()+len(prompt) > lm.MaxPositions() {
		return nil, fmt.Errorf("%w: %d prompt tokens, context limit %d", ErrContext, len(prompt), lm.MaxPositions())
	}
	res := &Result{IDs: append(make([]int, 0, len(prompt)+o.MaxNew), prompt...), PromptTokens: len(prompt)}
	t0 := time.Now()
	logits, err := lm.Prefill(prompt)
	if err != nil {
		return nil, err
	}
	res.PromptTime = time.Since(t0)
	res.StopReason = "length"
	if o.MaxNew <= 0 {
		return res, nil
	}
	s := sample.New(o.Sampling)
	var text strings.Builder
	emitted := 0 // bytes of text already written to Out
	holdBack := 0
	for _, ss := range o.StopStrings {
		holdBack = max(holdBack, len(ss)-1)
	}
	flushText := func(final bool) error {
		if o.Out == nil {
			return nil
		}
		end := text.Len()
		if !final {
			end -= holdBack // a stop string may still be forming
		}
		if end > emitted {
			if _, err := io.WriteString(o.Out, text.String()[emitted:end]); err != nil {
				return err
			}
			emitted = end
		}
		return nil
	}
	// accept takes a chosen token and reports whether generation goes on.
	var werr error
	accept := func(id int) bool {
		res.NewTokens++
		res.IDs = append(res.IDs, id)
		if contains(o.StopIDs, id) {
			res.StopReason = "stop_id"
			return false
		}
		if o.Detok != nil {
			text.WriteString(o.Detok.Add(id))
			if cut, ok := stopAt(text.String(), o.StopStrings); ok {
				t := text.String()[:cut]
				text.Reset()
				text.WriteString(t)
				res.StopReason = "stop_string"
				return false
			}
			if werr = flushText(false); werr != nil {
				return false
			}
		}
		return res.NewTokens < o.MaxNew
	}
	t1 := time.Now()
	id := s.Pick(logits, res.IDs)
	if g, ok := lm.(GreedyLM); ok && greedy(o.Sampling) {
		// The steps after the first pick: as many as MaxNew still allows
		// and the context holds.
		n := min(o.MaxNew-1, lm.MaxPositions()-lm.Pos())
		if accept(id) && n > 0 {
			if err := g.Greedy(id, n, accept); err != nil {
				return nil, err
			}
		}
		if res.StopReason == "length" && res.NewTokens < o.MaxNew && werr == nil {
			res.StopReason = "context"
		}
	} else {
		// With top-k sampling the step returns its top k+1 logits only:
		// ranked the same way, and one more than k so that Pick takes its
		// top-k path, whose sums run in rank order, the same choices as
		// over the whole vocabulary.
		tl, topK := lm.(TopKLM)
		k := o.Sampling.TopK + 1
		topK = topK && topKFits(o.Sampling) && k <= len(logits)
		for accept(id) {
			if lm.Pos() >= lm.MaxPositions() {
				res.StopReason = "context"
				break
			}
			if topK {
				vals, ids, err := tl.StepTopK(id, k)
				if err != nil {
					return nil, err
				}
				id = ids[s.Pick(vals, nil)]
				continue
			}
			if logits, err = lm.Step(id); err != nil {
				return nil, err
			}
			id = s.Pick(logits, res.IDs)
		}
	}
	if werr != nil { // Out failed
		return nil, werr
	}
	res.DecodeTime = time.Since(t1)
	if o.Detok != nil && res.StopReason != "stop_string" {
		text.WriteString(o.Detok.Flush())
	}
	if err := flushText(true); err != nil {
		return nil, err
	}
	res.Text = text.String()
	return res, nil
}

// greedy reports whether p picks the largest logit as it is (no penalty),
// the choice a backend's Argmax makes.
func greedy(p sample.Params) bool {
	return (p.Temperature <= 0 || p.TopK == 1) && (p.RepetitionPenalty <= 0 || p.RepetitionPenalty == 1)
}

// topKFits reports whether p samples from the top k logits as they are
// (no penalty, which would need every logit), k small enough for a
// backend's TopK.
func topKFits(p sample.Params) bool {
	return p.Temperature > 0 && p.TopK >= 2 && p.TopK < 256 && (p.RepetitionPenalty <= 0 || p.RepetitionPenalty == 1)
}

func contains(ids []int, id int) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func stopAt(text string, stops []string) (int, bool) {
	best := -1
	for _, s := range stops {
		if s == "" {
			continue
		}
		if i := strings.Index(text, s); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	return best, best >= 0
}
