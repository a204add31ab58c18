package backendtest

import (
	"cmp"
	"slices"
	"testing"

	"github.com/mmbformat/mmb/runtime"
)

// topK checks runtime.TopKer where the backend has it: the k largest in
// rank order (the larger first, the lower index on ties) with their
// indices, on values with many ties, for k from 1 to 256.
func (s *suite) topK(t *testing.T) {
	tk, ok := s.b.(runtime.TopKer)
	if !ok {
		t.Skipf("%s does not implement runtime.TopKer", s.b.Name())
	}
	r := newRNG(15)
	for _, n := range []int{1, 9, 3001} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.IntN(200)) / 4
		}
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(x[b], x[a]) })
		xb := s.buffer(t, x)
		for _, k := range []int{1, 5, 256} {
			if k > n {
				continue
			}
			dst := s.sentinel(t, 2*k)
			must(t, "TopK", tk.TopK(dst, xb, n, k))
			want := make([]float64, 2*k)
			for i, id := range order[:k] {
				want[i], want[k+i] = float64(x[id]), float64(id)
			}
			check(t, "TopK", s.read(t, dst, 0, 2*k), want, exactBound(2*k))
		}
	}
}

// tokenFeeder checks runtime.TokenFeeder where the backend has it: an
// Argmax result read back through SubmitRead and Await, and embedded by
// EmbedFed as Embed embeds that id, for every table dtype.
func (s *suite) tokenFeeder(t *testing.T) {
	tf, ok := s.b.(runtime.TokenFeeder)
	if !ok {
		t.Skipf("%s does not implement runtime.TokenFeeder", s.b.Name())
	}
	r := newRNG(16)
	const rows, cols = 37, 64
	for i, dt := range allDTypes {
		table := uniform(r, rows*cols, -2, 2)
		w, _ := s.weight(t, "embed", dt, rows, cols, table)
		x := uniform(r, rows, -1, 1)
		best := 29 - i
		x[best] = 5
		arg := s.sentinel(t, 2)
		must(t, "Argmax", s.b.Argmax(arg, s.buffer(t, x), 1, rows))
		ticket, err := tf.SubmitRead(arg, 0)
		must(t, "SubmitRead", err)
		fed, host := s.sentinel(t, cols), s.sentinel(t, cols)
		must(t, "EmbedFed", tf.EmbedFed(fed, w, arg, 0))
		must(t, "Embed", s.b.Embed(host, w, []int32{int32(best)}))
		v, err := tf.Await(ticket)
		must(t, "Await", err)
		if v != float32(best) {
			t.Errorf("%v: Await: %v, want %d", dt, v, best)
		}
		check(t, "EmbedFed "+dt.String(), s.read(t, fed, 0, cols), f64(s.read(t, host, 0, cols)), exactBound(cols))
	}
}
