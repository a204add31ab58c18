//go:build cgo

package vulkan

import (
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
