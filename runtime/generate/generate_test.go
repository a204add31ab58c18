package generate

import (
	"slices"
	"testing"

	"github.com/mmbformat/mmb/format"
	"github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/runtime/cpu"
	"github.com/mmbformat/mmb/runtime/internal/hfref"
	"github.com/mmbformat/mmb/runtime/sample"
	"github.com/mmbformat/mmb/runtime/vulkan"
)

const gocoder = "../../testdata/models/gocoder-4m"

// stepOnly hides a session's Greedy, so that Run takes its step-by-step
// loop: the reference the greedy path must reproduce.
type stepOnly struct{ LM }

// With greedy sampling Run hands the loop to Session.Greedy (on Vulkan,
// steps queued ahead with the tokens fed on the device), with top-k
// sampling it reads each step's top k+1 logits (Session.StepTopK, ranked on
// the GPU); its results, stop reasons included, equal the step-by-step
// loop's over every logit, and its greedy tokens HF's greedy continuation
// of gocoder-4m's prompts.
func TestRunSessionLoops(t *testing.T) {
	path := hfref.Convert(t, gocoder, 0)
	cases := hfref.Gocoder(t, gocoder+"/reference_logits.npz")
	backends := map[string]func() (runtime.Backend, error){
		"cpu": func() (runtime.Backend, error) { return cpu.New(cpu.Options{Threads: 1}), nil },
		"vulkan": func() (runtime.Backend, error) {
			return vulkan.New(vulkan.Options{Device: vulkan.AutoDevice, CacheDir: "-"})
		},
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			f, err := format.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			b, err := open()
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			c := cases[0]
			T, newTok := len(c.IDs), len(c.Greedy)-len(c.IDs)
			for _, tc := range []struct {
				name   string
				ctx    int // session context; 0: the default
				maxNew int
				stop   []int
				reason string
				samp   sample.Params // HF's tokens only where greedy
			}{
				{"length", 0, newTok, nil, "length", sample.Params{}},
				{"stop_id", 0, newTok, []int{c.Greedy[T+4]}, "stop_id", sample.Params{}},
				{"context", T + 5, newTok, nil, "context", sample.Params{}},
				{"one token", 0, 1, nil, "length", sample.Params{}},
				{"top-k 1", 0, newTok, nil, "length", sample.Params{Temperature: 1, TopK: 1}},
				{"penalty", 0, newTok, nil, "length", sample.Params{RepetitionPenalty: 5}},
				// Sampling: mmbrun's defaults (top-k, so the steps return
				// their top k+1 logits), a penalty (every logit), no top-k.
				{"top-k sampling", 0, 16, nil, "length", sample.Params{Temperature: 0.8, TopK: 40, TopP: 0.95, MinP: 0.05, Seed: 5}},
				{"top-k 2 sampling", 0, 16, nil, "length", sample.Params{Temperature: 3, TopK: 2, Seed: 6}},
				{"sampling with a penalty", 0, 16, nil, "length", sample.Params{Temperature: 1.5, TopK: 20, RepetitionPenalty: 1.3, Seed: 7}},
				{"sampling without top-k", 0, 16, nil, "length", sample.Params{Temperature: 1.5, Seed: 8}},
			} {
				m, err := runtime.Load(f, nil, b, runtime.Options{MaxContext: tc.ctx})
				if err != nil {
					t.Fatal(err)
				}
				var res [2]*Result
				for i, wrap := range []func(*runtime.Session) LM{
					func(s *runtime.Session) LM { return s },
					func(s *runtime.Session) LM { return stepOnly{s} },
				} {
					s, err := m.NewSession()
					if err != nil {
						t.Fatal(err)
					}
					lm := wrap(s)
					if _, ok := lm.(GreedyLM); ok != (i == 0) {
						t.Fatalf("%s: the session is a GreedyLM: %v", tc.name, ok)
					}
					if res[i], err = Run(lm, c.IDs, Options{MaxNew: tc.maxNew, StopIDs: tc.stop, Sampling: tc.samp}); err != nil {
						t.Fatal(err)
					}
				}
				g, st := res[0], res[1]
				if !slices.Equal(g.IDs, st.IDs) || g.StopReason != st.StopReason || g.NewTokens != st.NewTokens {
					t.Errorf("%s: the session's own loop %v (%s, %d new), the step loop %v (%s, %d new)", tc.name,
						g.IDs[T:], g.StopReason, g.NewTokens, st.IDs[T:], st.StopReason, st.NewTokens)
				}
				if g.StopReason != tc.reason {
					t.Errorf("%s: stop reason %q, want %q", tc.name, g.StopReason, tc.reason)
				}
				if want := c.Greedy[:len(g.IDs)]; greedy(tc.samp) && !slices.Equal(g.IDs, want) {
					t.Errorf("%s: ids %v, HF's greedy %v", tc.name, g.IDs[T:], want[T:])
				}
			}
			// Sampling that is not greedy takes the step loop: seeded runs agree.
			m, err := runtime.Load(f, nil, b, runtime.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var ids [2][]int
			for i := range ids {
				s, err := m.NewSession()
				if err != nil {
					t.Fatal(err)
				}
				r, err := Run(s, c.IDs, Options{MaxNew: 8, Sampling: sample.Params{Temperature: 0.8, Seed: 3}})
				if err != nil {
					t.Fatal(err)
				}
				ids[i] = r.IDs
			}
			if !slices.Equal(ids[0], ids[1]) {
				t.Errorf("seeded sampling differs between runs: %v, %v", ids[0], ids[1])
			}
		})
	}
}
