// Package safetensors reads and writes the safetensors format of HF
// (https://github.com/huggingface/safetensors), single files and sharded
// checkpoints with a model.safetensors.index.json.
//
// Validation follows the reference implementation (the Rust crate's
// read_metadata and Metadata::validate): the header length is at most 100 MB
// and inside the file, the header is a JSON object, every dtype is known,
// every byte range is exactly shape × dtype size, the ranges, sorted, start at
// 0 and follow each other with no gap or overlap, and the data ends at the
// end of the file. Duplicate tensor names, which the reference silently
// collapses, are rejected.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/edsrzf/mmap-go"
)

// MaxHeaderSize is the reference implementation's limit on the JSON header.
const MaxHeaderSize = 100_000_000

// Sentinel errors, matched with errors.Is through a FormatError.
var (
	ErrHeaderTooSmall = errors.New("file shorter than the 8-byte header length")
	ErrHeaderTooLarge = errors.New("header length above 100 MB")
	ErrHeaderLength   = errors.New("header length past end of file")
	ErrHeaderJSON     = errors.New("header is not a JSON object")
	ErrDuplicate      = errors.New("duplicate tensor name")
	ErrUnknownDType   = errors.New("unknown dtype")
	ErrShape          = errors.New("byte range does not match shape and dtype")
	ErrOffsets        = errors.New("byte ranges have a gap or overlap")
	ErrIncomplete     = errors.New("data does not end at end of file")
	ErrTruncated      = errors.New("truncated")
	ErrIndex          = errors.New("shard index disagrees with the shards")
	ErrNoTensor       = errors.New("no such tensor")
)

// FormatError reports a problem at a byte offset of a file.
type FormatError struct {
	File   string // empty for NewFile readers
	Offset int64
	Field  string // the tensor or header field concerned
	Err    error  // one of the sentinels above
	Detail string
	data   bool // Offset is relative to the data section (ParseHeader)
}

func (e *FormatError) Error() string {
	s := ""
	if e.File != "" {
		s = e.File + ": "
	}
	s += fmt.Sprintf("offset %d: ", e.Offset)
	if e.Field != "" {
		s += e.Field + ": "
	}
	s += e.Err.Error()
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

func (e *FormatError) Unwrap() error { return e.Err }

// dtypeBits lists the dtypes of the reference implementation with their
// sizes. Sub-byte types (F4, F6) are left out: they are not byte-addressable
// per element and nothing here could convert them.
var dtypeBits = map[string]int{
	"BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8,
	"I16": 16, "U16": 16, "F16": 16, "BF16": 16,
	"I32": 32, "U32": 32, "F32": 32, "C64": 64,
	"F64": 64, "I64": 64, "U64": 64,
}

// DTypeSize is the byte size of one element, 0 for an unknown dtype.
func DTypeSize(dt string) int { return dtypeBits[dt] / 8 }

// TensorInfo describes one tensor. Begin and End are absolute offsets in the
// file (the header's data_offsets plus 8 plus the header length).
type TensorInfo struct {
	Name       string
	DType      string
	Shape      []int64
	Begin, End int64
}

// Size is the tensor's byte size.
func (t *TensorInfo) Size() int64 { return t.End - t.Begin }

// File is one opened safetensors file.
type File struct {
	name      string
	ra        io.ReaderAt
	size      int64
	mapped    mmap.MMap
	osf       *os.File
	dataStart int64
	tensors   []TensorInfo // in file order
	byName    map[string]int
	metadata  map[string]string
}

// Open maps path and validates its header.
func Open(path string) (*File, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := osf.Stat()
	if err != nil {
		osf.Close()
		return nil, err
	}
	f := &File{name: path, osf: osf, ra: osf, size: st.Size()}
	if st.Size() > 0 {
		m, err := mmap.Map(osf, mmap.RDONLY, 0)
		if err != nil {
			osf.Close()
			return nil, fmt.Errorf("map %s: %w", path, err)
		}
		f.mapped = m
		adviseSequential(m)
	}
	if err := f.load(); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// NewFile reads a safetensors file of size bytes from r.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	f := &File{ra: r, size: size}
	if err := f.load(); err != nil {
		return nil, err
	}
	return f, nil
}

// Close releases the mapping; slices returned by Data become invalid.
func (f *File) Close() error {
	var err error
	if f.mapped != nil {
		err = f.mapped.Unmap()
		f.mapped = nil
	}
	if f.osf != nil {
		if e := f.osf.Close(); err == nil {
			err = e
		}
		f.osf = nil
	}
	return err
}

// Name is the path given to Open.
func (f *File) Name() string { return f.name }

// Size is the file size in bytes.
func (f *File) Size() int64 { return f.size }

// Metadata is the header's __metadata__ map (nil when absent).
func (f *File) Metadata() map[string]string { return f.metadata }

// Tensors lists the tensors in file order.
func (f *File) Tensors() []TensorInfo { return f.tensors }

// Tensor finds a tensor by name.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.byName[name]
	if !ok {
		return nil, false
	}
	return &f.tensors[i], true
}

// Data returns a tensor's bytes: a view of the mapping for Open, a copy for
// NewFile.
func (f *File) Data(t *TensorInfo) ([]byte, error) {
	if t.Begin < f.dataStart || t.End < t.Begin || t.End > f.size {
		return nil, f.errf(t.Begin, t.Name, ErrTruncated, "range [%d, %d) outside the data of a %d-byte file", t.Begin, t.End, f.size)
	}
	if f.mapped != nil {
		return f.mapped[t.Begin:t.End:t.End], nil
	}
	b := make([]byte, t.Size())
	if len(b) == 0 {
		return b, nil
	}
	if _, err := f.ra.ReadAt(b, t.Begin); err != nil {
		return nil, f.errf(t.Begin, t.Name, ErrTruncated, "read: %v", err)
	}
	return b, nil
}

// Prefetch asks the kernel to map a tensor's pages ahead of reading them
// through Data, which saves a page fault per page.
func (f *File) Prefetch(t *TensorInfo) {
	if f.mapped != nil && t.Begin >= 0 && t.End <= int64(len(f.mapped)) && t.End > t.Begin {
		populate(f.mapped, t.Begin&^int64(os.Getpagesize()-1), t.End)
	}
}

// WriteTo writes the whole file to w (to hash it, say): from the mapping
// for Open, dropping each chunk's pages from the resident set behind it so
// that a pass over a large file does not grow the process; through ReadAt
// otherwise.
func (f *File) WriteTo(w io.Writer) (int64, error) {
	const chunk = 4 << 20
	var n int64
	if f.mapped == nil {
		return io.Copy(w, io.NewSectionReader(f.ra, 0, f.size))
	}
	for off := int64(0); off < int64(len(f.mapped)); off += chunk {
		end := min(off+chunk, int64(len(f.mapped)))
		k, err := w.Write(f.mapped[off:end])
		n += int64(k)
		dontNeed(f.mapped, off, end)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Release tells the kernel that a tensor's mapped pages are no longer
// needed, so that a pass over a large checkpoint keeps its resident set near
// one tensor rather than the whole file. The data can still be read again.
func (f *File) Release(t *TensorInfo) {
	if f.mapped != nil && t.Begin >= 0 && t.End <= int64(len(f.mapped)) && t.End > t.Begin {
		dontNeed(f.mapped, t.Begin, t.End)
	}
}

func (f *File) errf(off int64, field string, err error, format string, args ...any) error {
	return &FormatError{File: f.name, Offset: off, Field: field, Err: err, Detail: fmt.Sprintf(format, args...)}
}

func (f *File) load() error {
	if f.size < 8 {
		return f.errf(0, "header length", ErrHeaderTooSmall, "file is %d bytes", f.size)
	}
	var lb [8]byte
	if _, err := f.ra.ReadAt(lb[:], 0); err != nil {
		return f.errf(0, "header length", ErrTruncated, "read: %v", err)
	}
	n := binary.LittleEndian.Uint64(lb[:])
	if n > MaxHeaderSize {
		return f.errf(0, "header length", ErrHeaderTooLarge, "%d bytes", n)
	}
	if int64(n) > f.size-8 {
		return f.errf(0, "header length", ErrHeaderLength, "header of %d bytes, file is %d bytes", n, f.size)
	}
	hdr := make([]byte, n)
	if _, err := f.ra.ReadAt(hdr, 8); err != nil {
		return f.errf(8, "header", ErrTruncated, "read: %v", err)
	}
	f.dataStart = 8 + int64(n)
	ts, meta, err := ParseHeader(hdr, f.size-f.dataStart)
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.File = f.name
			if fe.data {
				fe.Offset += f.dataStart
			} else {
				fe.Offset += 8
			}
		}
		return err
	}
	f.metadata = meta
	f.byName = make(map[string]int, len(ts))
	for i := range ts {
		ts[i].Begin += f.dataStart
		ts[i].End += f.dataStart
		f.byName[ts[i].Name] = i
	}
	f.tensors = ts
	return nil
}

type rawEntry struct {
	DType       *string  `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// ParseHeader validates a header (the JSON after the length) for a data
// section of dataLen bytes. The TensorInfos it returns have offsets relative
// to the start of the data section, sorted by offset. Errors are
// FormatErrors whose offset is in the header for JSON problems and in the
// data section for range problems.
func ParseHeader(hdr []byte, dataLen int64) ([]TensorInfo, map[string]string, error) {
	herr := func(off int64, field string, err error, format string, args ...any) error {
		return &FormatError{Offset: off, Field: field, Err: err, Detail: fmt.Sprintf(format, args...)}
	}
	derr := func(off int64, field string, err error, format string, args ...any) error {
		return &FormatError{Offset: off, Field: field, Err: err, Detail: fmt.Sprintf(format, args...), data: true}
	}
	if !utf8.Valid(hdr) {
		return nil, nil, herr(0, "header", ErrHeaderJSON, "not UTF-8")
	}
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, nil, herr(0, "header", ErrHeaderJSON, "does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, nil, herr(dec.InputOffset(), "header", ErrHeaderJSON, "%v", err)
	}
	var ts []TensorInfo
	seen := map[string]bool{}
	var meta map[string]string
	for dec.More() {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, herr(off, "header", ErrHeaderJSON, "%v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, nil, herr(off, "header", ErrHeaderJSON, "key is not a string")
		}
		if seen[name] {
			return nil, nil, herr(off, strconv.Quote(name), ErrDuplicate, "")
		}
		seen[name] = true
		off = dec.InputOffset()
		if name == "__metadata__" {
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, herr(off, "__metadata__", ErrHeaderJSON, "must map strings to strings: %v", err)
			}
			continue
		}
		var e rawEntry
		if err := dec.Decode(&e); err != nil {
			return nil, nil, herr(off, strconv.Quote(name), ErrHeaderJSON, "%v", err)
		}
		if e.DType == nil || e.DataOffsets == nil || e.Shape == nil {
			return nil, nil, herr(off, strconv.Quote(name), ErrHeaderJSON, "needs dtype, shape and data_offsets")
		}
		if len(*e.DataOffsets) != 2 {
			return nil, nil, herr(off, strconv.Quote(name)+".data_offsets", ErrHeaderJSON, "%d values, want 2", len(*e.DataOffsets))
		}
		bitsz, ok := dtypeBits[*e.DType]
		if !ok {
			return nil, nil, herr(off, strconv.Quote(name)+".dtype", ErrUnknownDType, "%q", *e.DType)
		}
		t := TensorInfo{Name: name, DType: *e.DType, Shape: e.Shape, Begin: (*e.DataOffsets)[0], End: (*e.DataOffsets)[1]}
		n := uint64(bitsz / 8)
		for _, d := range e.Shape {
			if d < 0 {
				return nil, nil, herr(off, strconv.Quote(name)+".shape", ErrShape, "negative dimension in %v", e.Shape)
			}
			hi, lo := bits.Mul64(n, uint64(d))
			if hi != 0 || lo > 1<<62 {
				return nil, nil, herr(off, strconv.Quote(name)+".shape", ErrShape, "size of %v overflows", e.Shape)
			}
			n = lo
		}
		if t.Begin < 0 || t.End < t.Begin || uint64(t.End-t.Begin) != n {
			return nil, nil, derr(t.Begin, strconv.Quote(name), ErrShape, "data_offsets [%d, %d] but %s %v needs %d bytes", t.Begin, t.End, t.DType, t.Shape, n)
		}
		ts = append(ts, t)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, herr(dec.InputOffset(), "header", ErrHeaderJSON, "%v", err)
	}
	if tok, err := dec.Token(); err != io.EOF {
		return nil, nil, herr(dec.InputOffset(), "header", ErrHeaderJSON, "trailing data after the object (%v)", tok)
	}
	sort.Slice(ts, func(i, j int) bool {
		if ts[i].Begin != ts[j].Begin {
			return ts[i].Begin < ts[j].Begin
		}
		return ts[i].End < ts[j].End
	})
	var pos int64
	for _, t := range ts {
		if t.Begin != pos {
			what := "gap"
			if t.Begin < pos {
				what = "overlap"
			}
			return nil, nil, derr(t.Begin, strconv.Quote(t.Name), ErrOffsets, "%s: starts at %d, previous tensor ends at %d", what, t.Begin, pos)
		}
		pos = t.End
	}
	if pos != dataLen {
		if pos > dataLen {
			return nil, nil, derr(dataLen, "data", ErrTruncated, "tensors need %d bytes of data, the file has %d", pos, dataLen)
		}
		return nil, nil, derr(pos, "data", ErrIncomplete, "tensors end at %d, the data section is %d bytes", pos, dataLen)
	}
	return ts, meta, nil
}
