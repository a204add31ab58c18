package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixtures = "../../testdata/fixtures"

// file builds a safetensors file from a header string and n data bytes.
func file(hdr string, n int) []byte {
	b := make([]byte, 8, 8+len(hdr)+n)
	binary.LittleEndian.PutUint64(b, uint64(len(hdr)))
	b = append(b, hdr...)
	for i := 0; i < n; i++ {
		b = append(b, byte(i))
	}
	return b
}

func TestFixtures(t *testing.T) {
	for _, d := range []string{"llama-tiny-f32", "llama-tiny-bf16-tied-sharded", "mistral-tiny-f16-spm", "mamba2-hybrid-tiny"} {
		c, err := OpenCheckpoint(filepath.Join(fixtures, d))
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		f, ti, ok := c.Tensor("model.embed_tokens.weight")
		if !ok {
			t.Fatalf("%s: no embeddings", d)
		}
		b, err := f.Data(ti)
		if err != nil || int64(len(b)) != ti.Size() || ti.Size() != ti.Shape[0]*ti.Shape[1]*int64(DTypeSize(ti.DType)) {
			t.Fatalf("%s: data %d bytes, %v", d, len(b), err)
		}
		// Data from the mapping and through NewFile (ReadAt) agree.
		raw, _ := os.ReadFile(f.Name())
		g, err := NewFile(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			t.Fatal(err)
		}
		gt, _ := g.Tensor(ti.Name)
		gb, _ := g.Data(gt)
		if !bytes.Equal(gb, b) {
			t.Fatalf("%s: mapped and read data differ", d)
		}
		if f.Metadata()["format"] != "pt" {
			t.Fatalf("%s: metadata %v", d, f.Metadata())
		}
		c.Close()
	}
}

// TestBadFiles: every violation of the reference implementation's rules is
// an error with the right sentinel and offset, never a panic.
func TestBadFiles(t *testing.T) {
	ok := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2,1],"data_offsets":[8,12]}}`
	if _, err := NewFile(bytes.NewReader(file(ok, 12)), int64(8+len(ok)+12)); err != nil {
		t.Fatalf("valid file rejected: %v", err)
	}
	long := make([]byte, 8)
	binary.LittleEndian.PutUint64(long, 1000)
	huge := make([]byte, 16)
	binary.LittleEndian.PutUint64(huge, MaxHeaderSize+1)
	for _, c := range []struct {
		name string
		data []byte
		want error
		off  int64
	}{
		{"empty", nil, ErrHeaderTooSmall, 0},
		{"short", []byte{1, 2, 3}, ErrHeaderTooSmall, 0},
		{"header past EOF", append(long, '{', '}'), ErrHeaderLength, 0},
		{"header too large", huge, ErrHeaderTooLarge, 0},
		{"not JSON", file(`{"a":`, 0), ErrHeaderJSON, -1},
		{"not an object", file(`[1,2]`, 0), ErrHeaderJSON, 8},
		{"trailing", file(`{} {}`, 0), ErrHeaderJSON, -1},
		{"bad utf8", file("{\"\xff\":1}", 0), ErrHeaderJSON, 8},
		{"unknown dtype", file(`{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}`, 4), ErrUnknownDType, -1},
		{"missing field", file(`{"a":{"dtype":"F32","shape":[1]}}`, 4), ErrHeaderJSON, -1},
		{"negative dim", file(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), ErrShape, -1},
		{"shape mismatch", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 4), ErrShape, -1},
		{"overflow", file(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, 4), ErrShape, -1},
		{"overlap", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), ErrOffsets, -1},
		{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), ErrOffsets, -1},
		{"data past EOF", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4), ErrTruncated, -1},
		{"data short of EOF", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 8), ErrIncomplete, -1},
		{"duplicate", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), ErrDuplicate, -1},
		{"metadata not strings", file(`{"__metadata__":{"x":1}}`, 0), ErrHeaderJSON, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewFile(bytes.NewReader(c.data), int64(len(c.data)))
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("%v is not a FormatError", err)
			}
			if c.off >= 0 && fe.Offset != c.off {
				t.Fatalf("offset %d, want %d (%v)", fe.Offset, c.off, err)
			}
			if fe.Offset < 0 || fe.Offset > int64(len(c.data)) {
				t.Fatalf("offset %d outside the %d-byte file", fe.Offset, len(c.data))
			}
		})
	}
	// The offset of a range error points into the data section.
	hdr := `{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`
	_, err := NewFile(bytes.NewReader(file(hdr, 8)), int64(8+len(hdr)+8))
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Offset != int64(8+len(hdr)+4) || !strings.Contains(err.Error(), `"a"`) {
		t.Fatalf("gap error %v: want offset %d naming the tensor", err, 8+len(hdr)+4)
	}
}

func TestWriteRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	data := map[string][]byte{"x": {1, 2, 3, 4, 5, 6, 7, 8}, "y.z": {9, 10}}
	ts := []WriteTensor{
		{Name: "y.z", DType: "BF16", Shape: []int64{1, 1}, Write: func(w io.Writer) error { _, err := w.Write(data["y.z"]); return err }},
		{Name: "x", DType: "F32", Shape: []int64{2}, Write: func(w io.Writer) error { _, err := w.Write(data["x"]); return err }},
	}
	if err := Write(&buf, ts, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint64(buf.Bytes()); n%8 != 0 {
		t.Fatalf("header length %d not padded to 8", n)
	}
	f, err := NewFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range data {
		ti, ok := f.Tensor(name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		got, _ := f.Data(ti)
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: %v, want %v", name, got, want)
		}
	}
	if f.Metadata()["format"] != "pt" {
		t.Fatal("metadata lost")
	}
	bad := []WriteTensor{{Name: "x", DType: "F32", Shape: []int64{3}, Write: func(w io.Writer) error { _, err := w.Write(data["x"]); return err }}}
	if err := Write(io.Discard, bad, nil); err == nil {
		t.Fatal("short tensor write accepted")
	}
}

// copyDir copies a fixture folder so that tests can damage it.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	es, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestShardIndexCrossCheck(t *testing.T) {
	src := filepath.Join(fixtures, "llama-tiny-bf16-tied-sharded")
	edit := func(t *testing.T, f func(s string) string) string {
		d := copyDir(t, src)
		p := filepath.Join(d, IndexName)
		b, _ := os.ReadFile(p)
		os.WriteFile(p, []byte(f(string(b))), 0o644)
		return d
	}
	for _, c := range []struct {
		name, contains string
		want           error
		mod            func(string) string
	}{
		{"missing shard", "open shard", os.ErrNotExist, func(s string) string {
			return strings.Replace(s, `"model.norm.weight": "model-00005-of-00005.safetensors"`, `"model.norm.weight": "model-00009-of-00009.safetensors"`, 1)
		}},
		{"wrong shard", "found in", ErrIndex, func(s string) string {
			return strings.Replace(s, `"model.norm.weight": "model-00005-of-00005.safetensors"`, `"model.norm.weight": "model-00001-of-00005.safetensors"`, 1)
		}},
		{"not indexed", "not in the index", ErrIndex, func(s string) string {
			return strings.Replace(s, `"model.layers.0.input_layernorm.weight": "model-00002-of-00005.safetensors",`, ``, 1)
		}},
		{"indexed but absent", "does not hold it", ErrIndex, func(s string) string {
			return strings.Replace(s, `"weight_map": {`, `"weight_map": {"extra.weight": "model-00001-of-00005.safetensors",`, 1)
		}},
		{"duplicate entry", "listed twice", ErrDuplicate, func(s string) string {
			return strings.Replace(s, `"weight_map": {`, `"weight_map": {"model.norm.weight": "model-00005-of-00005.safetensors",`, 1)
		}},
		{"path in shard name", "not a file name", ErrIndex, func(s string) string {
			return strings.Replace(s, `"model.norm.weight": "model-00005-of-00005.safetensors"`, `"model.norm.weight": "../model-00005-of-00005.safetensors"`, 1)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := edit(t, c.mod)
			if !strings.Contains(mustRead(t, filepath.Join(d, IndexName)), "model.norm.weight") && c.name != "not indexed" {
				t.Fatal("edit failed")
			}
			_, err := OpenCheckpoint(d)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.contains) {
				t.Fatalf("got %v, want %v containing %q", err, c.want, c.contains)
			}
		})
	}
	// A truncated shard is caught when its header is validated.
	d := copyDir(t, src)
	p := filepath.Join(d, "model-00003-of-00005.safetensors")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, b[:len(b)-100], 0o644)
	if _, err := OpenCheckpoint(d); !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "model-00003-of-00005") {
		t.Fatalf("truncated shard: %v", err)
	}
}

func mustRead(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzHeader: any bytes either parse into tensors whose ranges lie inside
// the file and tile the data section, or give a FormatError; never a panic.
func FuzzHeader(f *testing.F) {
	f.Add(file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 8))
	f.Add(file(`{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[1,2],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[],"data_offsets":[4,5]}}`, 5))
	f.Add(file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}`, 0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := NewFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a FormatError", err)
			}
			return
		}
		pos := sf.dataStart
		for i := range sf.Tensors() {
			ti := &sf.Tensors()[i]
			if ti.Begin != pos || ti.End < ti.Begin || ti.End > int64(len(data)) {
				t.Fatalf("%s: range [%d,%d) in a %d-byte file", ti.Name, ti.Begin, ti.End, len(data))
			}
			if _, err := sf.Data(ti); err != nil {
				t.Fatal(err)
			}
			pos = ti.End
		}
		if pos != int64(len(data)) {
			t.Fatalf("data ends at %d of %d", pos, len(data))
		}
	})
}

// FuzzIndex: ParseIndex never panics, and what it accepts names only plain
// file names.
func FuzzIndex(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(fixtures, "llama-tiny-bf16-tied-sharded", IndexName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"weight_map":{"a":"../x","b":"y"}}`))
	f.Add([]byte(`{"metadata":null,"weight_map":{"a":"s","a":"s"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ix, err := ParseIndex(b)
		if err != nil {
			return
		}
		for name, s := range ix.WeightMap {
			if s == "" || s != filepath.Base(s) || strings.ContainsAny(s, `/\`) || s == ".." {
				t.Fatalf("%s: accepted shard name %q", name, s)
			}
		}
	})
}
