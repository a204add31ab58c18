// Package sample picks the next token from logits: greedy, temperature,
// top-k, top-p, min-p and a repetition penalty, reproducibly from a seed.
package sample

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Params selects the sampling rule. Temperature 0 is greedy.
type Params struct {
	Temperature       float64
	TopK              int     // 0: off
	TopP              float64 // 0 or 1: off
	MinP              float64 // 0: off
	RepetitionPenalty float64 // 0 or 1: off; HF's rule: divide positive logits, multiply negative ones
	Seed              uint64
}

// Sampler holds the random stream and scratch space, so picking a token
// allocates nothing after the first call.
type Sampler struct {
	p     Params
	rng   *rand.Rand
	idx   []int
	probs []float64
	seen  []uint32 // stamp per id, so a repeated id is penalised once
	stamp uint32
}

// New makes a sampler; the same seed gives the same choices.
func New(p Params) *Sampler {
	return &Sampler{p: p, rng: rand.New(rand.NewPCG(p.Seed, 0x6d6d62))}
}

// Greedy returns the index of the largest logit (the first on ties).
func Greedy(logits []float32) int {
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	return best
}

// Pick chooses a token. history holds the ids seen so far (prompt and
// generated) for the repetition penalty. logits may be modified.
func (s *Sampler) Pick(logits []float32, history []int) int {
	p := s.p
	if p.RepetitionPenalty > 0 && p.RepetitionPenalty != 1 {
		pen := float32(p.RepetitionPenalty)
		if len(s.seen) < len(logits) {
			s.seen = make([]uint32, len(logits))
		}
		s.stamp++
		for _, id := range history {
			if id < 0 || id >= len(logits) || s.seen[id] == s.stamp {
				continue
			}
			s.seen[id] = s.stamp
			if logits[id] > 0 {
				logits[id] /= pen
			} else {
				logits[id] *= pen
			}
		}
	}
	if p.Temperature <= 0 || p.TopK == 1 {
		return Greedy(logits)
	}
	n := len(logits)
	if cap(s.idx) < n {
		s.idx = make([]int, n)
		s.probs = make([]float64, n)
	}
	idx := s.idx[:n]
	for i := range idx {
		idx[i] = i
	}
	// Sort candidates by logit, descending; ties by id for determinism.
	slices.SortFunc(idx, func(a, b int) int {
		la, lb := logits[a], logits[b]
		switch {
		case la > lb:
			return -1
		case la < lb:
			return 1
		}
		return a - b
	})
	k := n
	if p.TopK > 0 && p.TopK < k {
		k = p.TopK
	}
	idx = idx[:k]
	probs := s.probs[:k]
	maxL := float64(logits[idx[0]])
	sum := 0.0
	for i, id := range idx {
		e := math.Exp((float64(logits[id]) - maxL) / p.Temperature)
		probs[i] = e
		sum += e
	}
	for i := range probs {
		probs[i] /= sum
	}
	if p.MinP > 0 {
		limit := p.MinP * probs[0]
		for k > 1 && probs[k-1] < limit {
			k--
		}
	}
	if p.TopP > 0 && p.TopP < 1 {
		c := 0.0
		for i := 0; i < k; i++ {
			c += probs[i]
			if c >= p.TopP {
				k = i + 1
				break
			}
		}
	}
	total := 0.0
	for i := 0; i < k; i++ {
		total += probs[i]
	}
	u := s.rng.Float64() * total
	for i := 0; i < k; i++ {
		u -= probs[i]
		if u < 0 {
			return idx[i]
		}
	}
	return idx[k-1]
}
