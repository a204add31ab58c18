//go:build cgo

package vulkan

import (
	"cmp"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/cpu"
	"github.com/mmbformat/mmb/runtime/internal/hfref"
)

// Greedy with the tokens fed on the device (TokenFeeder) is checked against
// HF's greedy tokens by TestFixtures and TestGocoder (hfref.Greedy); these
// tests check what those cannot see: one submission per step, the state
// after an early stop and the tickets' bookkeeping (TestDecodeAllocs: no
// allocations).

// TestGreedyFed: n queued steps make n submissions (issue 6: one submit per
// decode step) and choose the tokens the host-fed steps choose; an early
// stop leaves the session where the CPU backend's Greedy leaves it (the
// refused token fed too), so that the next step's logits agree.
func TestGreedyFed(t *testing.T) {
	for _, name := range hfref.Fixtures {
		t.Run(name, func(t *testing.T) {
			path := hfref.Convert(t, filepath.Join(fixtures, name), 0)
			prompt := []int{1, 2, 3}
			greedy := func(b rt.Backend, o rt.Options, n, stopAt int) (*rt.Session, []int) {
				s, err := openOn(t, path, b, o).NewSession()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.Prefill(prompt); err != nil {
					t.Fatal(err)
				}
				var got []int
				if err := s.Greedy(4, n, func(id int) bool { got = append(got, id); return len(got) != stopAt }); err != nil {
					t.Fatal(err)
				}
				return s, got
			}
			vb := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
			_, host := greedy(newTest(t, Options{Device: AutoDevice, CacheDir: "-"}), rt.Options{HostFeed: true}, 12, 0)
			// Early submissions every layer: queued steps must skip them.
			s, err := openOn(t, path, vb, rt.Options{SubmitLayers: 1}).NewSession()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Prefill(prompt); err != nil {
				t.Fatal(err)
			}
			before := vb.submits
			var fed []int
			if err := s.Greedy(4, 12, func(id int) bool { fed = append(fed, id); return true }); err != nil {
				t.Fatal(err)
			}
			if n := vb.submits - before; n != 12 {
				t.Errorf("12 queued steps made %d submissions, want 12", n)
			}
			if !slices.Equal(fed, host) {
				t.Errorf("queued steps chose\n %v\nhost-fed steps\n %v", fed, host)
			}
			if s.Pos() != len(prompt)+12 {
				t.Errorf("Pos() = %d after 12 steps, want %d", s.Pos(), len(prompt)+12)
			}

			// Stop after the 5th of 12 tokens: six steps ran on either backend.
			sv, gv := greedy(newTest(t, Options{Device: AutoDevice, CacheDir: "-"}), rt.Options{}, 12, 5)
			sc, gc := greedy(cpu.New(cpu.Options{Threads: 1}), rt.Options{}, 12, 5)
			if !slices.Equal(gv, gc) || !slices.Equal(gv, host[:5]) {
				t.Errorf("stopped after 5: vulkan %v, cpu %v, want %v", gv, gc, host[:5])
			}
			if sv.Pos() != sc.Pos() || sv.Pos() != len(prompt)+6 {
				t.Errorf("Pos() after a stop at the 5th token: vulkan %d, cpu %d, want %d", sv.Pos(), sc.Pos(), len(prompt)+6)
			}
			lv, err := sv.Step(7)
			if err != nil {
				t.Fatal(err)
			}
			lc, err := sc.Step(7)
			if err != nil {
				t.Fatal(err)
			}
			hfref.CheckClose(t, "logits after the stopped Greedy", lv, lc, hfref.SelfTol)
		})
	}
}

// SubmitRead and Await on their own: each ticket reads the value its
// submission copied, in any order, until feedSlots later tickets reuse its
// place; an unknown ticket is an error, not a stale value.
func TestSubmitReadAwait(t *testing.T) {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer b.Close()
	x, err := b.Alloc(4)
	if err != nil {
		t.Fatal(err)
	}
	var tickets []rt.Ticket
	for i := range 3 * feedSlots {
		if err := b.Write(x, 2, []float32{float32(10 + i)}); err != nil {
			t.Fatal(err)
		}
		tk, err := b.SubmitRead(x, 2)
		if err != nil {
			t.Fatal(err)
		}
		tickets = append(tickets, tk)
		if i%3 == 2 { // Await some at once, others later, the newest first
			for j := i; j > i-3; j-- {
				if v, err := b.Await(tickets[j]); err != nil || v != float32(10+j) {
					t.Fatalf("Await(ticket %d) = %v, %v, want %d", j, v, err, 10+j)
				}
			}
		}
	}
	last := len(tickets) - 1
	for _, j := range []int{last, last - feedSlots + 1} {
		if v, err := b.Await(tickets[j]); err != nil || v != float32(10+j) {
			t.Errorf("Await(ticket %d) = %v, %v, want %d", j, v, err, 10+j)
		}
	}
	for _, tk := range []rt.Ticket{tickets[last-feedSlots], tickets[last] + 1} {
		if _, err := b.Await(tk); err == nil {
			t.Errorf("Await(%d) with %d tickets issued: no error", tk, len(tickets))
		}
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if v, err := b.Await(tickets[last]); err != nil || v != float32(10+last) {
		t.Errorf("Await after Sync = %v, %v", v, err)
	}
	if _, err := b.SubmitRead(x, 4); err == nil {
		t.Error("SubmitRead past the buffer: no error")
	}
	// While profiling, whose marks share one submission, SubmitRead runs
	// the work at once.
	if err := b.ProfileStart(); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(x, 1, []float32{42}); err != nil {
		t.Fatal(err)
	}
	tk, err := b.SubmitRead(x, 1)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := b.Await(tk); err != nil || v != 42 {
		t.Errorf("Await while profiling = %v, %v, want 42", v, err)
	}
	if _, err := b.ProfileStop(); err != nil {
		t.Fatal(err)
	}
}

// EmbedFed embeds the row an Argmax result names; ids outside the table
// (no Argmax writes them) are clamped to it rather than read past its end.
func TestEmbedFed(t *testing.T) {
	b := newTest(t, Options{Device: AutoDevice, CacheDir: "-"})
	defer b.Close()
	const rows, cols = 5, 6
	tab := make([]float32, rows*cols)
	for i := range tab {
		tab[i] = float32(i)
	}
	w, err := b.Upload("embed", format.F32, rows, cols, f32bytes(tab))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := b.Alloc(4)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := b.Alloc(cols)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Write(ids, 0, []float32{3, -2, 99, 4}); err != nil {
		t.Fatal(err)
	}
	for off, row := range []int{3, 0, 4, 4} {
		if err := b.EmbedFed(dst, w, ids, off); err != nil {
			t.Fatal(err)
		}
		got := make([]float32, cols)
		if err := b.Read(got, dst, 0); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tab[row*cols:(row+1)*cols]) {
			t.Errorf("EmbedFed of id %d: %v, want row %d", off, got, row)
		}
	}
	if err := b.EmbedFed(dst, w, ids, 4); err == nil {
		t.Error("EmbedFed reading past the ids buffer: no error")
	}
}

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
