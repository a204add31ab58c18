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
	keys  []uint64 // rank keys of the candidates (Pick)
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
	if cap(s.keys) < n {
		s.keys = make([]uint64, n)
	}
	// The candidates in rank order (larger logit first, the lower id on
	// ties), but only as far as a choice can reach: sorting the whole
	// vocabulary took ~25 ms a token at 128k entries. A key packs a
	// candidate's rank (ascending) and its id.
	keys := s.keys[:n]
	best := 0
	for id, l := range logits {
		keys[id] = rankKey(l, id)
		if l > logits[best] {
			best = id
		}
	}
	maxL := float64(logits[best])
	k := n
	if p.TopK > 0 && p.TopK < k {
		k = p.TopK
	}
	var sum float64
	sorted := 0 // keys[:sorted] is in rank order
	if k < n {
		sortBest(keys, k)
		keys, sorted = keys[:k], k
		for _, key := range keys { // in rank order, as the probabilities below
			sum += math.Exp((float64(logits[keyID(key)]) - maxL) / p.Temperature)
		}
	} else {
		for _, l := range logits {
			sum += math.Exp((float64(l) - maxL) / p.Temperature)
		}
	}
	// prob is a candidate's probability among the k.
	prob := func(key uint64) float64 {
		return math.Exp((float64(logits[keyID(key)])-maxL)/p.Temperature) / sum
	}
	if p.MinP > 0 {
		// Tokens below the limit are dropped, the best one never; the
		// filter keeps rank order.
		limit := p.MinP * (1 / sum) // the best token's probability: exp(0) / sum
		kept := keys[:0]
		for _, key := range keys {
			if prob(key) >= limit || keyID(key) == best {
				kept = append(kept, key)
			}
		}
		keys, sorted = kept, min(sorted, len(kept))
	}
	// prefix puts the m best candidates in rank order at the front (m
	// growing eightfold, all of them once m is an eighth) until done
	// reports that they are enough.
	prefix := func(done func(front []uint64) bool) {
		for m := 64; sorted < len(keys); m *= 8 {
			if m >= len(keys)/8 {
				slices.Sort(keys)
				sorted = len(keys)
				return
			}
			sortBest(keys, m)
			sorted = m
			if done(keys[:m]) {
				return
			}
		}
	}
	if p.TopP > 0 && p.TopP < 1 {
		// The smallest rank-order prefix whose probability reaches TopP.
		cut := func(front []uint64) int {
			c := 0.0
			for i, key := range front {
				c += prob(key)
				if c >= p.TopP {
					return i + 1
				}
			}
			return 0
		}
		if cut(keys[:sorted]) == 0 {
			prefix(func(front []uint64) bool { return cut(front) > 0 })
		}
		if c := cut(keys[:sorted]); c > 0 {
			keys, sorted = keys[:c], c
		}
	}
	total := 0.0
	for _, key := range keys {
		total += prob(key)
	}
	u := s.rng.Float64() * total
	walk := func(front []uint64) int {
		v := u
		for i, key := range front {
			v -= prob(key)
			if v < 0 {
				return i
			}
		}
		return -1
	}
	if walk(keys[:sorted]) < 0 {
		prefix(func(front []uint64) bool { return walk(front) >= 0 })
	}
	if i := walk(keys[:sorted]); i >= 0 {
		return keyID(keys[i])
	}
	return keyID(keys[len(keys)-1])
}

// Top puts the len(vals) best of logits in rank order (the larger logit
// first, the lower id on ties) into vals and ids, with keys (at least
// len(logits) long) as scratch: what a backend's top-k gives a sampler.
func Top(logits []float32, vals []float32, ids []int, keys []uint64) {
	keys = keys[:len(logits)]
	for id, l := range logits {
		keys[id] = rankKey(l, id)
	}
	sortBest(keys, len(vals))
	for i, key := range keys[:len(vals)] {
		ids[i] = keyID(key)
		vals[i] = logits[ids[i]]
	}
}

// rankKey orders candidates by ascending key: the larger logit first, the
// lower id on ties (the float's bits mapped to an order-preserving uint32,
// inverted, above the id).
func rankKey(l float32, id int) uint64 {
	b := math.Float32bits(l)
	if b>>31 != 0 {
		b = ^b
	} else {
		b |= 1 << 31
	}
	return uint64(^b)<<32 | uint64(uint32(id))
}

func keyID(key uint64) int { return int(uint32(key)) }

// sortBest moves the m smallest keys to the front of keys in ascending
// order, leaving the rest after them: a heap of the m best seen so far,
// whose worst each later key must beat.
func sortBest(keys []uint64, m int) {
	h := keys[:m]
	down := func(i int) {
		for {
			w, c := i, 2*i+1
			if c < m && h[c] > h[w] {
				w = c
			}
			if c+1 < m && h[c+1] > h[w] {
				w = c + 1
			}
			if w == i {
				return
			}
			h[i], h[w] = h[w], h[i]
			i = w
		}
	}
	for i := m/2 - 1; i >= 0; i-- {
		down(i)
	}
	for j := m; j < len(keys); j++ {
		if keys[j] < h[0] {
			h[0], keys[j] = keys[j], h[0]
			down(0)
		}
	}
	slices.Sort(h)
}
