package sample

import (
	"math"
	"testing"
)

func logitsFixture() []float32 {
	l := make([]float32, 50)
	for i := range l {
		l[i] = float32(math.Sin(float64(i)*1.7)) * 3
	}
	return l
}

func draw(p Params, n int) []int {
	s := New(p)
	out := make([]int, n)
	for i := range out {
		out[i] = s.Pick(logitsFixture(), nil)
	}
	return out
}

func TestSeedReproducible(t *testing.T) {
	p := Params{Temperature: 1.3, TopP: 0.95, Seed: 7}
	a, b := draw(p, 200), draw(p, 200)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("draw %d differs: %d vs %d", i, a[i], b[i])
		}
	}
	p.Seed = 8
	c := draw(p, 200)
	same := 0
	for i := range a {
		if a[i] == c[i] {
			same++
		}
	}
	if same == len(a) {
		t.Fatal("another seed gave the same 200 draws")
	}
}

func TestTopK1IsGreedy(t *testing.T) {
	l := logitsFixture()
	g := Greedy(l)
	for seed := uint64(0); seed < 20; seed++ {
		if got := New(Params{Temperature: 2, TopK: 1, Seed: seed}).Pick(logitsFixture(), nil); got != g {
			t.Fatalf("top-k 1 picked %d, greedy %d", got, g)
		}
	}
	if got := New(Params{}).Pick(logitsFixture(), nil); got != g {
		t.Fatalf("temp 0 picked %d, greedy %d", got, g)
	}
}

// Sampling frequencies follow softmax(l/T) restricted to the kept set.
func TestDistribution(t *testing.T) {
	l := []float32{2, 1, 0, -1, -30}
	p := Params{Temperature: 0.8, TopK: 3, Seed: 1}
	s := New(p)
	const n = 200000
	counts := make([]int, len(l))
	for i := 0; i < n; i++ {
		counts[s.Pick(append([]float32(nil), l...), nil)]++
	}
	var z float64
	for i := 0; i < 3; i++ {
		z += math.Exp(float64(l[i]) / 0.8)
	}
	for i := 0; i < 3; i++ {
		want := math.Exp(float64(l[i])/0.8) / z
		got := float64(counts[i]) / n
		// 5 standard errors of a binomial proportion at n = 200000
		if se := math.Sqrt(want * (1 - want) / n); math.Abs(got-want) > 5*se {
			t.Errorf("token %d: frequency %.4f, want %.4f", i, got, want)
		}
	}
	if counts[3] != 0 || counts[4] != 0 {
		t.Errorf("top-k 3 sampled outside the top 3: %v", counts)
	}
}

func TestTopPAndMinP(t *testing.T) {
	// probs at T=1: softmax of {3, 2, 0, -2}: 0.705, 0.259, 0.035, 0.005
	l := []float32{3, 2, 0, -2}
	for seed := uint64(0); seed < 300; seed++ {
		if got := New(Params{Temperature: 1, TopP: 0.9, Seed: seed}).Pick(append([]float32(nil), l...), nil); got > 1 {
			t.Fatalf("top-p 0.9 picked %d", got)
		}
		if got := New(Params{Temperature: 1, MinP: 0.1, Seed: seed}).Pick(append([]float32(nil), l...), nil); got > 1 {
			t.Fatalf("min-p 0.1 picked %d (0.035 < 0.1·0.705)", got)
		}
	}
}

func TestRepetitionPenalty(t *testing.T) {
	l := []float32{2, 1.9, -1, 0.5}
	s := New(Params{RepetitionPenalty: 1.5})
	// token 0 seen twice: penalised once, 2/1.5 = 1.33 < 1.9
	if got := s.Pick(l, []int{0, 0, 2}); got != 1 {
		t.Fatalf("picked %d, want 1", got)
	}
	if l[0] != 2/1.5 || l[2] != -1.5 || l[3] != 0.5 {
		t.Fatalf("penalised logits %v", l)
	}
}

func TestPickAllocatesNothing(t *testing.T) {
	s := New(Params{Temperature: 1, TopP: 0.9, RepetitionPenalty: 1.1, Seed: 3})
	l := logitsFixture()
	h := []int{1, 2, 3}
	s.Pick(append([]float32(nil), l...), h)
	buf := make([]float32, len(l))
	if a := testing.AllocsPerRun(100, func() { copy(buf, l); s.Pick(buf, h) }); a != 0 {
		t.Fatalf("%v allocations per pick", a)
	}
}
