//go:build cgo

package vulkan

import (
	"cmp"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	rt "github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/internal/hfref"
)

// TopK against a sort on the host: values with many ties (the rank order
// then rests on the indices), vocabularies that take one, two and three
// passes, and a device with little shared memory (smaller sorts, more
// passes).
func TestTopK(t *testing.T) {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer b.Close()
	r := rand.New(rand.NewPCG(5, 6))
	for _, shared := range []int{b.maxShared, 4096} {
		b.maxShared = shared
		for _, n := range []int{1, 7, 300, 2048, 2049, 128256, 300000} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(r.IntN(1000)) / 8
			}
			xb, err := b.Alloc(n)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Write(xb, 0, x); err != nil {
				t.Fatal(err)
			}
			order := make([]int, n)
			for i := range order {
				order[i] = i
			}
			slices.SortStableFunc(order, func(a, c int) int { return cmp.Compare(x[c], x[a]) })
			for _, k := range []int{1, 2, 41, 256} {
				if k > n {
					continue
				}
				dst, err := b.Alloc(2 * k)
				if err != nil {
					t.Fatal(err)
				}
				if err := b.TopK(dst, xb, n, k); err != nil {
					t.Fatalf("n %d, k %d: %v", n, k, err)
				}
				got := make([]float32, 2*k)
				if err := b.Read(got, dst, 0); err != nil {
					t.Fatal(err)
				}
				for i := 0; i < k; i++ {
					if want := order[i]; got[k+i] != float32(want) || got[i] != x[want] {
						t.Fatalf("shared %d, n %d, k %d: rank %d is (%v, index %v), want (%v, %d)", shared, n, k, i, got[i], got[k+i], x[want], want)
					}
				}
			}
		}
	}
	x, _ := b.Alloc(300)
	d, _ := b.Alloc(600)
	for _, c := range [][2]int{{300, 0}, {300, 257}, {10, 11}} {
		if err := b.TopK(d, x, c[0], c[1]); err == nil {
			t.Errorf("TopK of %d values, k %d: no error", c[0], c[1])
		}
	}
}

// StepTopK ranks on the device what Step returns: the same logits, in rank
// order, at the same ids. (Without the blocks that add into h with float
// atomics, whose order varies, so that two sessions' logits are equal.)
func TestStepTopK(t *testing.T) {
	path := hfref.Convert(t, filepath.Join(fixtures, "mamba2-hybrid-tiny"), 0)
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	b.mlpF, b.noAttnO, b.noSSMO = 0, true, true
	m := openOn(t, path, b, rt.Options{})
	var ss [2]*rt.Session
	for i := range ss {
		var err error
		if ss[i], err = m.NewSession(); err != nil {
			t.Fatal(err)
		}
		if _, err := ss[i].Prefill([]int{1, 2, 3}); err != nil {
			t.Fatal(err)
		}
	}
	for step, k := range []int{1, 41, 256} {
		id := 4 + step
		logits, err := ss[0].Step(id)
		if err != nil {
			t.Fatal(err)
		}
		vals, ids, err := ss[1].StepTopK(id, k)
		if err != nil {
			t.Fatal(err)
		}
		order := make([]int, len(logits))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, c int) int { return cmp.Compare(logits[c], logits[a]) })
		if !slices.Equal(ids, order[:k]) {
			t.Fatalf("step %d, top %d: ids %v, want %v", step, k, ids, order[:k])
		}
		for i, id := range ids {
			if vals[i] != logits[id] {
				t.Fatalf("step %d: value %d is %v, Step's logit %v", step, i, vals[i], logits[id])
			}
		}
	}
}
