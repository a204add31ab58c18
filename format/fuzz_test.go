package format

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the committed seed corpus in testdata/fuzz/FuzzOpen")

// FuzzOpen: NewFile on arbitrary bytes never panics and fails only with a
// FormatError; whatever opens can be verified and all its tensors read.
// Both read paths are exercised: a generic io.ReaderAt (copies) and the
// in-memory view that Open uses over the mapping.
//
//	go test ./format -run '^$' -fuzz FuzzOpen -fuzztime 3m -fuzzminimizetime 0
//
// -fuzzminimizetime 0: the inputs are ≥ 12 KiB (4 KiB alignment) and
// minimising each new one stalls the fuzzer at ~1 exec/s; without it, ~20k/s.
func FuzzOpen(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, ra := range []io.ReaderAt{bytes.NewReader(data), bytesReaderAt(data)} {
			g, err := NewFile(ra, int64(len(data)))
			if err != nil {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("error is not a FormatError: %v", err)
				}
				continue
			}
			if len(g.Revisions()) == 0 || g.Latest() == nil {
				t.Fatal("opened without a revision")
			}
			for _, r := range g.Revisions() {
				_ = g.Verify(r)
				for i := range r.Tensors {
					ti := &r.Tensors[i]
					if got, ok := r.Tensor(ti.Name); !ok || got != ti {
						t.Fatalf("Tensor(%s) does not find entry %d", Quote(ti.Name), i)
					}
					b, err := g.Data(ti)
					if err != nil || int64(len(b)) != ti.NBytes {
						t.Fatalf("Data(%s): %d bytes, %v", Quote(ti.Name), len(b), err)
					}
					if ti.DType == U8 {
						continue
					}
					if _, err := g.Float32(ti); err != nil {
						t.Fatalf("Float32(%s): %v", Quote(ti.Name), err)
					}
				}
			}
		}
	})
}

// writeDTypes makes a file with one tensor of every dtype.
func writeDTypes(t *testing.T) []byte {
	path := filepath.Join(t.TempDir(), "dtypes.mmb")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	q8 := make([]byte, Q8BlockBytes)
	le.PutUint16(q8, F32ToF16(0.5))
	for i := 0; i < Q8Block; i++ {
		q8[2+i] = byte(int8(i - 16))
	}
	adds := []struct {
		name  string
		dt    DType
		shape []int64
		b     []byte
	}{
		{"bf16", BF16, []int64{2}, []byte{0x80, 0x3f, 0xc0, 0x7f}},
		{"f16", F16, []int64{2}, []byte{0x00, 0x3c, 0x00, 0x7c}},
		{"f32", F32, []int64{1, 1, 1}, f32bytes(3)},
		{"i32", I32, []int64{2}, []byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}},
		{"q8", Q8_0, []int64{1, 32}, q8},
		{"scalar", F32, []int64{}, f32bytes(7)},
		{"empty", F32, []int64{0, 5}, nil},
		{TokenizerJSONTensor, U8, []int64{2}, []byte("{}")},
	}
	for _, a := range adds {
		if err := w.AddTensorBytes(a.name, a.dt, a.shape, a.b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Commit(Meta{Stage: "convert", Time: time.Unix(1, 0), Metadata: map[string]string{"general.name": "dtypes"}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fuzzSeeds(t *testing.T) map[string][]byte {
	one := writeOneRevision(t)
	two := readTwoRevisions(t)
	seeds := map[string][]byte{
		"valid-one-revision":  one,
		"valid-two-revisions": two,
		"valid-dtypes":        writeDTypes(t),
		"torn-append":         two[:len(two)-100],
	}
	keep := map[string]bool{"future major version": true, "truncated index: cut in a string": true,
		"huge count: array32 of 2^32-1 tensors": true, "overlapping tensor data": true,
		"duplicate tensor names": true, "inherited tensor pointed at the wrong revision": true,
		"element count overflows": true, "misaligned data offset": true, "checksum mismatch": true}
	for _, c := range badCases {
		if keep[c.name] {
			b, _ := c.build(t, one, two)
			seeds["bad-"+slug(c.name)] = b
		}
	}
	return seeds
}

func slug(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			b[i] = '-'
		}
	}
	return string(b)
}

// TestFuzzCorpus keeps the committed seed corpus in step with the writer:
// -update rewrites it; otherwise every seed must be present and unchanged.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzOpen")
	seeds := fuzzSeeds(t)
	names := make([]string, 0, len(seeds))
	for n := range seeds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", seeds[n])
		path := filepath.Join(dir, n)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("seed corpus: %v (run go test ./format -run TestFuzzCorpus -update)", err)
		}
		if string(got) != want {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Fatalf("seed %s differs from what the writer makes now at byte %d (run with -update if the format change is intended)", path, i)
		}
	}
}
