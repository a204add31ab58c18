package format

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// testIndex mirrors indexV1 with full-width tensor fields, so tests can
// write values the real encoder's types cannot hold (dtype 257, crc 2^33).
type testIndex struct {
	Revision   int                `msgpack:"revision"`
	Parent     int                `msgpack:"parent"`
	Stage      string             `msgpack:"stage"`
	TimeUnixNs int64              `msgpack:"time_unix_ns"`
	Config     *Config            `msgpack:"config"`
	Metadata   map[string]string  `msgpack:"metadata"`
	Metrics    map[string]float64 `msgpack:"metrics"`
	Provenance *Provenance        `msgpack:"provenance"`
	Tensors    []indexTensorIn    `msgpack:"tensors"`
}

// layout locates the newest revision of a clean file.
type layout struct {
	size  int64
	trOff int64
	tr    trailer
}

func lastLayout(t testing.TB, b []byte) layout {
	t.Helper()
	trOff := int64(len(b)) - TrailerSize
	tr, ok := decodeTrailer(b[trOff:])
	if !ok {
		t.Fatal("base file does not end in a trailer")
	}
	return layout{size: int64(len(b)), trOff: trOff, tr: tr}
}

// rewriteLast replaces the newest revision's index by idx (arbitrary bytes)
// and writes a trailer with valid checksums, after fix has edited it. This is
// how the bad-file cases corrupt what lies behind the checksums.
func rewriteLast(t testing.TB, b, idx []byte, fix func(*trailer)) []byte {
	t.Helper()
	l := lastLayout(t, b)
	out := append([]byte(nil), b[:l.tr.indexOff]...)
	out = append(out, idx...)
	trOff := alignUp(int64(len(out))+TrailerSize) - TrailerSize
	out = append(out, make([]byte, trOff-int64(len(out)))...)
	tr := l.tr
	tr.indexLen = int64(len(idx))
	tr.indexCRC = crc32c(idx)
	if fix != nil {
		fix(&tr)
	}
	return append(out, tr.encode()...)
}

// rawIndex returns the newest revision's index bytes.
func rawIndex(t testing.TB, b []byte) []byte {
	l := lastLayout(t, b)
	return append([]byte(nil), b[l.tr.indexOff:l.tr.indexOff+l.tr.indexLen]...)
}

// mutateIndex decodes the newest index, lets mut change it and writes it back
// with valid checksums.
func mutateIndex(t testing.TB, b []byte, mut func(ix *testIndex)) []byte {
	t.Helper()
	var ix testIndex
	if err := msgpack.Unmarshal(rawIndex(t, b), &ix); err != nil {
		t.Fatal(err)
	}
	mut(&ix)
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	enc.UseCompactInts(true)
	if err := enc.Encode(&ix); err != nil {
		t.Fatal(err)
	}
	return rewriteLast(t, b, buf.Bytes(), nil)
}

// mutateTrailer rewrites the newest trailer (with a valid trailer checksum).
func mutateTrailer(t testing.TB, b []byte, fix func(*trailer)) []byte {
	t.Helper()
	l := lastLayout(t, b)
	tr := l.tr
	fix(&tr)
	out := append([]byte(nil), b[:l.trOff]...)
	return append(out, tr.encode()...)
}

// withPreamble edits the preamble and recomputes its checksum, so the case
// tests the edited field, not the checksum.
func withPreamble(b []byte, edit func(p []byte)) []byte {
	out := append([]byte(nil), b...)
	edit(out[:PreambleSize])
	le.PutUint32(out[60:], crc32c(out[:60]))
	return out
}

// writeOneRevision makes a one-revision file: a F32[2,2] at 4096, b F32[3] at 8192.
func writeOneRevision(t testing.TB) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "one.mmb")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddTensorBytes("a", F32, []int64{2, 2}, f32bytes(1, 2, 3, 4)); err != nil {
		t.Fatal(err)
	}
	if err := w.AddTensorBytes("b", F32, []int64{3}, f32bytes(5, 6, 7)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(Meta{Stage: "convert", Time: time.Unix(100, 0), Config: testConfig()}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readTwoRevisions(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(writeTwoRevisions(t.(*testing.T)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func tensorByName(ix *testIndex, name string) *indexTensorIn {
	for i := range ix.Tensors {
		if ix.Tensors[i].Name == name {
			return &ix.Tensors[i]
		}
	}
	panic("no tensor " + name)
}

type badCase struct {
	name string
	// build returns the file and the byte offset the error must name.
	build  func(t *testing.T, one, two []byte) ([]byte, int64)
	err    error
	field  string
	detail string // a substring of the detail
	verify bool   // the error comes from Verify, not from opening
}

var badCases = []badCase{
	{name: "bad magic", err: ErrBadMagic, field: "magic",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			b := append([]byte(nil), one...)
			copy(b, "GGUF\x03\x00\x00\x00")
			return b, 0
		}},
	{name: "short file with bad magic", err: ErrBadMagic, field: "magic",
		build: func(t *testing.T, _, _ []byte) ([]byte, int64) { return []byte("hello world, not a model"), 0 }},
	{name: "future major version", err: ErrVersion, field: "major_version", detail: "version 2.0",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return withPreamble(one, func(p []byte) { le.PutUint16(p[8:], MajorVersion+1) }), 8
		}},
	{name: "byte order mark", err: ErrByteOrder, field: "byte_order_mark",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return withPreamble(one, func(p []byte) { copy(p[12:], []byte{0x0a, 0x0b, 0x0c, 0x0d}) }), 12
		}},
	{name: "alignment", err: ErrVersion, field: "alignment",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return withPreamble(one, func(p []byte) { le.PutUint32(p[16:], 512) }), 16
		}},
	{name: "preamble checksum", err: ErrChecksum, field: "preamble_crc32c",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			b := append([]byte(nil), one...)
			b[30] = 1 // a reserved byte, outside any checked field
			return b, 60
		}},
	{name: "truncated preamble", err: ErrTruncated, field: "preamble", detail: "file is 40 bytes",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) { return append([]byte(nil), one[:40]...), 0 }},
	{name: "no revision", err: ErrNoCompleteRev, field: "trailer",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return append([]byte(nil), one[:2*Alignment]...), 2 * Alignment
		}},
	{name: "truncated index: map header only", err: ErrBadIndex, field: "index", detail: "count 9 exceeds the 0 bytes",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			l := lastLayout(t, one)
			return rewriteLast(t, one, rawIndex(t, one)[:1], nil), l.tr.indexOff + 1
		}},
	{name: "truncated index: cut in a string", err: ErrBadIndex, field: "index", detail: "length 8 runs past",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			// the index ends with the last tensor's key "revision" (a8 + 8 bytes) and its value 0x01..;
			// cut 5 bytes: the fixstr header claims 8 bytes, 4 are left
			l := lastLayout(t, one)
			ix := rawIndex(t, one)
			n := len(ix)
			if string(ix[n-10:n-1]) != "\xa8revision" {
				t.Fatalf("index ends %q", ix[n-10:])
			}
			return rewriteLast(t, one, ix[:n-5], nil), l.tr.indexOff + int64(n) - 9
		}},
	{name: "index length past EOF", err: ErrTruncated, field: "index_length", detail: "runs past its trailer",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			l := lastLayout(t, one)
			return mutateTrailer(t, one, func(tr *trailer) { tr.indexLen = l.size - tr.indexOff + Alignment }), l.trOff + 32
		}},
	{name: "index length huge", err: ErrBadIndex, field: "index_length",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			l := lastLayout(t, one)
			return mutateTrailer(t, one, func(tr *trailer) { tr.indexLen = 1 << 62 }), l.trOff + 32
		}},
	{name: "index offset outside region", err: ErrBadIndex, field: "index_offset",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			l := lastLayout(t, one)
			return mutateTrailer(t, one, func(tr *trailer) { tr.indexOff = Alignment - 8 }), l.trOff + 24
		}},
	{name: "region start misaligned", err: ErrBadIndex, field: "region_start",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			l := lastLayout(t, one)
			return mutateTrailer(t, one, func(tr *trailer) { tr.regionStart = Alignment + 1 }), l.trOff + 16
		}},
	{name: "first revision not at A", err: ErrBadIndex, field: "region_start",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			l := lastLayout(t, one)
			return mutateTrailer(t, one, func(tr *trailer) { tr.regionStart = 2 * Alignment }), l.trOff + 16
		}},
	{name: "index checksum", err: ErrChecksum, field: "index_crc32c",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			l := lastLayout(t, one)
			b := append([]byte(nil), one...)
			b[l.tr.indexOff+3] ^= 1
			return b, l.tr.indexOff
		}},
	{name: "prev_trailer does not meet region", err: ErrBadIndex, field: "prev_trailer",
		build: func(t *testing.T, _, two []byte) ([]byte, int64) {
			l := lastLayout(t, two)
			return mutateTrailer(t, two, func(tr *trailer) { tr.prevTrailer -= Alignment }), l.trOff + 40
		}},
	{name: "trailing bytes after index", err: ErrBadIndex, field: "index", detail: "1 trailing bytes",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			l := lastLayout(t, one)
			ix := rawIndex(t, one)
			return rewriteLast(t, one, append(ix, 0xc0), nil), l.tr.indexOff + int64(len(ix))
		}},
	{name: "nesting too deep", err: ErrBadIndex, field: "index", detail: "nesting deeper than 32",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			l := lastLayout(t, one)
			deep := bytes.Repeat([]byte{0x91}, 40) // [[[[…
			return rewriteLast(t, one, append(deep, 0xc0), nil), l.tr.indexOff + 33
		}},
	{name: "invalid msgpack type byte", err: ErrBadIndex, field: "index", detail: "0xc1",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			l := lastLayout(t, one)
			return rewriteLast(t, one, []byte{0xc1}, nil), l.tr.indexOff
		}},
	{name: "huge count: array32 of 2^32-1 tensors", err: ErrBadIndex, field: "index", detail: "count 4294967295",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			l := lastLayout(t, one)
			idx := append([]byte{0x81, 0xa7}, "tensors"...)
			idx = append(idx, 0xdd, 0xff, 0xff, 0xff, 0xff)
			return rewriteLast(t, one, idx, nil), l.tr.indexOff + int64(len(idx))
		}},
	{name: "huge count: map32 metadata", err: ErrBadIndex, field: "index", detail: "count 4294967295",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			l := lastLayout(t, one)
			idx := append([]byte{0x81, 0xa8}, "metadata"...)
			idx = append(idx, 0xdf, 0xff, 0xff, 0xff, 0xff)
			idx = append(idx, bytes.Repeat([]byte{0xc0}, 100)...)
			return rewriteLast(t, one, idx, nil), l.tr.indexOff + 15
		}},
	{name: "tensor count larger than its bytes allow", err: ErrBadIndex, field: "index", detail: "200 entries cannot fit",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			// 200 nils pass the structural walk (1 byte each) but not the 56-byte entry bound
			l := lastLayout(t, one)
			idx := append([]byte{0x82, 0xa8}, "revision"...)
			idx = append(idx, 0x00, 0xa7)
			idx = append(idx, "tensors"...)
			idx = append(idx, 0xdc, 0x00, 200)
			idx = append(idx, bytes.Repeat([]byte{0xc0}, 200)...)
			return rewriteLast(t, one, idx, nil), l.tr.indexOff
		}},
	{name: "index revision differs from trailer", err: ErrBadIndex, field: "index.revision",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return mutateIndex(t, one, func(ix *testIndex) { ix.Revision = 5 }), lastLayout(t, one).tr.indexOff
		}},
	{name: "parent not earlier", err: ErrBadIndex, field: "parent",
		build: func(t *testing.T, _, two []byte) ([]byte, int64) {
			return mutateIndex(t, two, func(ix *testIndex) { ix.Parent = 1 }), lastLayout(t, two).tr.indexOff
		}},
	{name: "tensor data past EOF", err: ErrTruncated, field: "tensors[b].offset", detail: "past the end of the file",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return mutateIndex(t, one, func(ix *testIndex) { tensorByName(ix, "b").Offset = int64(len(one)) }), lastLayout(t, one).tr.indexOff
		}},
	{name: "tensor data outside its revision's region", err: ErrBadTensor, field: "tensors[b].offset", detail: "outside revision 0's data region",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			// inside the file, aligned, but the preamble
			return mutateIndex(t, one, func(ix *testIndex) { tensorByName(ix, "b").Offset = 0 }), lastLayout(t, one).tr.indexOff
		}},
	{name: "tensor claims a later revision's data", err: ErrBadTensor, field: "tensors[a].revision",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return mutateIndex(t, one, func(ix *testIndex) { tensorByName(ix, "a").Revision = 1 }), lastLayout(t, one).tr.indexOff
		}},
	{name: "inherited tensor pointed at the wrong revision", err: ErrBadTensor, field: "tensors[a].offset", detail: "outside revision 1's data region",
		build: func(t *testing.T, _, two []byte) ([]byte, int64) {
			return mutateIndex(t, two, func(ix *testIndex) { tensorByName(ix, "a").Revision = 1 }), lastLayout(t, two).tr.indexOff
		}},
	{name: "overlapping tensor data", err: ErrBadTensor, field: "tensors[b].offset", detail: "overlaps a",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return mutateIndex(t, one, func(ix *testIndex) { tensorByName(ix, "b").Offset = tensorByName(ix, "a").Offset }), lastLayout(t, one).tr.indexOff
		}},
	{name: "duplicate tensor names", err: ErrBadTensor, field: "tensors[a].name", detail: "duplicate",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return mutateIndex(t, one, func(ix *testIndex) { tensorByName(ix, "b").Name = "a" }), lastLayout(t, one).tr.indexOff
		}},
	{name: "empty tensor name", err: ErrBadTensor, field: "tensors[0].name",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return mutateIndex(t, one, func(ix *testIndex) { ix.Tensors[0].Name = "" }), lastLayout(t, one).tr.indexOff
		}},
	{name: "names not sorted", err: ErrBadIndex, field: "tensors", detail: "not sorted",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return mutateIndex(t, one, func(ix *testIndex) { ix.Tensors[0], ix.Tensors[1] = ix.Tensors[1], ix.Tensors[0] }), lastLayout(t, one).tr.indexOff
		}},
	{name: "control characters in a name are escaped", err: ErrBadTensor, field: `tensors["\x1b[31ma"].dtype`,
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return mutateIndex(t, one, func(ix *testIndex) {
				a := tensorByName(ix, "a")
				a.Name, a.DType = "\x1b[31ma", 99
			}), lastLayout(t, one).tr.indexOff
		}},
	{name: "unknown dtype", err: ErrBadTensor, field: "tensors[a].dtype", detail: "unknown dtype 99",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return mutateIndex(t, one, func(ix *testIndex) { tensorByName(ix, "a").DType = 99 }), lastLayout(t, one).tr.indexOff
		}},
	{name: "dtype that truncates to F32", err: ErrBadTensor, field: "tensors[a].dtype", detail: "unknown dtype 257",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return mutateIndex(t, one, func(ix *testIndex) { tensorByName(ix, "a").DType = 257 }), lastLayout(t, one).tr.indexOff
		}},
	{name: "checksum wider than 32 bits", err: ErrBadTensor, field: "tensors[a].crc32c",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return mutateIndex(t, one, func(ix *testIndex) { tensorByName(ix, "a").CRC32C |= 1 << 33 }), lastLayout(t, one).tr.indexOff
		}},
	{name: "element count overflows", err: ErrBadTensor, field: "tensors[a].shape", detail: "overflows",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return mutateIndex(t, one, func(ix *testIndex) {
				a := tensorByName(ix, "a")
				a.Shape = []int64{1 << 40, 1 << 40}
				a.NBytes = 0 // (1<<80)*4 wraps to 0 in 64 bits
			}), lastLayout(t, one).tr.indexOff
		}},
	{name: "negative dimension", err: ErrBadTensor, field: "tensors[a].shape", detail: "negative",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return mutateIndex(t, one, func(ix *testIndex) { tensorByName(ix, "a").Shape = []int64{-2, -2} }), lastLayout(t, one).tr.indexOff
		}},
	{name: "too many dimensions", err: ErrBadTensor, field: "tensors[a].shape", detail: "9 dimensions",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return mutateIndex(t, one, func(ix *testIndex) { tensorByName(ix, "a").Shape = []int64{1, 1, 1, 1, 1, 2, 2, 1, 1} }), lastLayout(t, one).tr.indexOff
		}},
	{name: "size does not match shape and dtype", err: ErrBadTensor, field: "tensors[a].nbytes", detail: "20 bytes, F32 [2 2] needs 16",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return mutateIndex(t, one, func(ix *testIndex) { tensorByName(ix, "a").NBytes = 20 }), lastLayout(t, one).tr.indexOff
		}},
	{name: "Q8_0 last dimension not a multiple of 32", err: ErrBadTensor, field: "tensors[a].shape", detail: "multiple of 32",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return mutateIndex(t, one, func(ix *testIndex) { tensorByName(ix, "a").DType = uint64(Q8_0) }), lastLayout(t, one).tr.indexOff
		}},
	{name: "misaligned data offset", err: ErrBadTensor, field: "tensors[a].offset", detail: "not a multiple of 4096",
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			return mutateIndex(t, one, func(ix *testIndex) { tensorByName(ix, "a").Offset += 8 }), lastLayout(t, one).tr.indexOff
		}},
	{name: "checksum mismatch", err: ErrChecksum, field: "tensors[b].crc32c", detail: "stored 0x", verify: true,
		build: func(t *testing.T, one, _ []byte) ([]byte, int64) {
			b := append([]byte(nil), one...)
			off := int64(2 * Alignment) // b's data
			b[off+5] ^= 0x10
			return b, off
		}},
}

// TestBadFiles opens each handcrafted bad file and checks the sentinel, the
// field and the byte offset that the error names.
func TestBadFiles(t *testing.T) {
	one := writeOneRevision(t)
	two := readTwoRevisions(t)
	// the cases rely on this layout of the one-revision file
	if g, err := NewFile(bytes.NewReader(one), int64(len(one))); err != nil {
		t.Fatal(err)
	} else if b, _ := g.Latest().Tensor("b"); b.Offset != 2*Alignment {
		t.Fatalf("b at %d", b.Offset)
	}
	for _, c := range badCases {
		t.Run(c.name, func(t *testing.T) {
			b, wantOff := c.build(t, one, two)
			f, err := NewFile(bytes.NewReader(b), int64(len(b)))
			if c.verify {
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				err = f.Verify(f.Latest())
			} else if err == nil {
				t.Fatalf("opened; want %v", c.err)
			}
			checkFormatError(t, err, c.err, c.field, wantOff, c.detail)
		})
	}
}

func checkFormatError(t *testing.T, err, sentinel error, field string, off int64, detail string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v; want %v", err, sentinel)
	}
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a FormatError", err)
	}
	if fe.Field != field || fe.Offset != off {
		t.Fatalf("error names field %q at offset %d; want %q at %d (%v)", fe.Field, fe.Offset, field, off, err)
	}
	if !strings.Contains(fe.Detail, detail) {
		t.Fatalf("detail %q does not contain %q", fe.Detail, detail)
	}
	if strings.ContainsAny(err.Error(), "\x1b\x00\n") {
		t.Fatalf("error text carries control characters: %q", err.Error())
	}
}

// TestBadFileErrorNamesFile checks that Open puts the path in the message.
func TestBadFileErrorNamesFile(t *testing.T) {
	b := writeOneRevision(t)
	b[0] = 'X'
	path := filepath.Join(t.TempDir(), "bad.mmb")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.File != path || !strings.HasPrefix(err.Error(), path+": offset 0: magic: ") {
		t.Fatalf("error %q does not start with the path, offset and field", err)
	}
}

// TestTornTrailer: a trailer that is cut short, or fully written but with
// torn sectors (bad checksum), is skipped and the previous revision opens.
func TestTornTrailer(t *testing.T) {
	two := readTwoRevisions(t)
	f, err := NewFile(bytes.NewReader(two), int64(len(two)))
	if err != nil {
		t.Fatal(err)
	}
	r0end := f.Revisions()[0].End()
	cut := two[:len(two)-30]
	sector := append([]byte(nil), two...)
	sector[len(sector)-TrailerSize+20] ^= 0xff // region_start garbled: the trailer CRC fails
	zeroed := append([]byte(nil), two...)
	copy(zeroed[len(zeroed)-TrailerSize:], make([]byte, TrailerSize)) // size extended, trailer never written
	for name, b := range map[string][]byte{"cut": cut, "bad sector": sector, "zeros": zeroed} {
		g, err := NewFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if g.Latest().Number != 0 || len(g.Revisions()) != 1 {
			t.Fatalf("%s: opened revision %d", name, g.Latest().Number)
		}
		if want := int64(len(b)) - r0end; g.SkippedBytes() != want {
			t.Fatalf("%s: skipped %d bytes, want %d", name, g.SkippedBytes(), want)
		}
	}
	// A trailer whose checksum holds but whose revision is corrupt is an
	// error, not a torn append: it was committed.
	bad := mutateTrailer(t, two, func(tr *trailer) { tr.indexCRC ^= 1 })
	if _, err := NewFile(bytes.NewReader(bad), int64(len(bad))); !errors.Is(err, ErrChecksum) {
		t.Fatalf("corrupt committed revision: %v", err)
	}
}

// TestHugeCountDoesNotAllocate: an index claiming 2^32-1 tensors is rejected
// before anything proportional to the claim is allocated.
func TestHugeCountDoesNotAllocate(t *testing.T) {
	one := writeOneRevision(t)
	for _, hdr := range [][]byte{
		{0xdd, 0xff, 0xff, 0xff, 0xff},       // array32 of 2^32-1
		{0xdc, 0xff, 0xff},                   // array16 of 65535
		{0xc6, 0xff, 0xff, 0xff, 0xf0, 0x00}, // bin32 of ~4 GiB
	} {
		idx := append([]byte{0x81, 0xa7}, "tensors"...)
		idx = append(idx, hdr...)
		idx = append(idx, bytes.Repeat([]byte{0xc0}, 1000)...)
		b := rewriteLast(t, one, idx, nil)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := NewFile(bytes.NewReader(b), int64(len(b)))
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrBadIndex) {
			t.Fatalf("% x: %v", hdr, err)
		}
		// The file is 12 KiB; opening copies the preamble, trailers and the
		// 1 KiB index. 256 KiB leaves room for the runtime, far below even a
		// 65535-entry allocation (65535 × 96 B ≈ 6 MiB).
		if got := after.TotalAlloc - before.TotalAlloc; got > 256<<10 {
			t.Fatalf("% x: opening allocated %d bytes", hdr, got)
		}
	}
}

// TestDataAfterClose: views are invalid after Close; Data must fail, not fault.
func TestDataAfterClose(t *testing.T) {
	f, err := Open(writeTwoRevisions(t))
	if err != nil {
		t.Fatal(err)
	}
	ti, _ := f.Latest().Tensor("a")
	f.Close()
	if _, err := f.Data(ti); err == nil {
		t.Fatal("Data after Close succeeded")
	}
	if _, err := f.Float32(ti); err == nil {
		t.Fatal("Float32 after Close succeeded")
	}
}
