package sample

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// pickSorted is Pick as it was before it ranked only the candidates a
// choice can reach: the whole vocabulary sorted, then the same rule. Pick
// must choose what it chooses, draw for draw.
func pickSorted(s *Sampler, logits []float32) int {
	p := s.p
	if p.Temperature <= 0 || p.TopK == 1 {
		return Greedy(logits)
	}
	n := len(logits)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
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
	probs := make([]float64, k)
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

// randLogits: peaked (a few tokens hold the mass), flat (the mass spread
// over thousands) or tied (few distinct values, so rank order rests on ids).
func randLogits(r *rand.Rand, n int, kind string) []float32 {
	l := make([]float32, n)
	for i := range l {
		switch kind {
		case "peaked":
			l[i] = float32(r.NormFloat64() * 4)
		case "flat":
			l[i] = float32(r.NormFloat64() * 0.05)
		case "tied":
			l[i] = float32(r.IntN(4))
		}
	}
	return l
}

func TestPickMatchesFullSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 5, 70, 3000, 40000} {
		for _, kind := range []string{"peaked", "flat", "tied"} {
			l := randLogits(r, n, kind)
			for _, p := range []Params{
				{Temperature: 0.8, TopK: 40, TopP: 0.95, MinP: 0.05}, // mmbrun's defaults
				{Temperature: 1},
				{Temperature: 1.7, TopP: 0.5},
				{Temperature: 0.5, MinP: 0.2},
				{Temperature: 1, TopK: 3},
				{Temperature: 1, TopK: 100, TopP: 0.99},
				{Temperature: 1, TopK: n + 5, MinP: 0.01},
				{Temperature: 1, TopP: 0.999, MinP: 0.0001},
				{Temperature: 1, MinP: 2}, // nothing reaches the limit: the best token
			} {
				for seed := range uint64(3) {
					p.Seed = seed
					a, b := New(p), New(p)
					for draw := range 4 {
						got, want := a.Pick(slices.Clone(l), nil), pickSorted(b, l)
						if got != want {
							t.Fatalf("%d %s logits, %+v, draw %d: Pick chose %d, the full sort %d", n, kind, p, draw, got, want)
						}
					}
				}
			}
		}
	}
}

// BenchmarkPick: a 128,256-token vocabulary (Llama 3) with mmbrun's default
// sampling and with top-k off; "full-sort" is the rule as it was, the
// baseline in the same run.
func BenchmarkPick(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, kind := range []string{"peaked", "flat"} {
		l := randLogits(r, 128256, kind)
		for _, p := range []Params{{Temperature: 0.8, TopK: 40, TopP: 0.95, MinP: 0.05}, {Temperature: 0.8, TopP: 0.95}} {
			for _, impl := range []string{"pick", "full-sort"} {
				name := fmt.Sprintf("%s/topk%d/%s", kind, p.TopK, impl)
				b.Run(name, func(b *testing.B) {
					s := New(p)
					buf := make([]float32, len(l))
					for b.Loop() {
						copy(buf, l)
						if impl == "pick" {
							s.Pick(buf, nil)
						} else {
							pickSorted(s, buf)
						}
					}
				})
			}
		}
	}
}
