package format

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sort"
	"time"
)

// Writer appends one revision to a file: tensors stream in one at a time,
// Commit writes the index and the trailer. Memory does not grow with the
// model: a tensor's bytes pass through a fixed buffer and are checksummed on
// the way.
type Writer struct {
	f           *os.File
	path        string
	created     bool
	base        *Revision
	startSize   int64 // file size before this revision (Append), to roll back
	regionStart int64
	pos         int64
	tensors     map[string]TensorInfo
	removed     map[string]bool
	buf         []byte
	done        bool
	number      int
	prevTrailer int64
}

// Create starts a new file at path (truncating it) with its first revision.
func Create(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	head := make([]byte, Alignment)
	copy(head, encodePreamble())
	if _, err := f.Write(head); err != nil {
		f.Close()
		return nil, fmt.Errorf("write preamble: %w", err)
	}
	return &Writer{f: f, path: path, created: true, regionStart: Alignment, pos: Alignment,
		tensors: map[string]TensorInfo{}, removed: map[string]bool{}, number: 0}, nil
}

// Append starts a new revision on top of the newest complete one. A torn
// append left by a crash is cut off first.
func Append(path string) (*Writer, error) {
	rf, err := Open(path)
	if err != nil {
		return nil, err
	}
	base := rf.Latest()
	end := base.End()
	rf.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.Size() != end {
		if err := f.Truncate(end); err != nil {
			f.Close()
			return nil, fmt.Errorf("cut torn append: %w", err)
		}
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	w := &Writer{f: f, path: path, base: base, startSize: end, regionStart: end, pos: end,
		tensors: map[string]TensorInfo{}, removed: map[string]bool{}, number: base.Number + 1, prevTrailer: base.trOffset}
	return w, nil
}

// Base is the revision this one builds on (nil for a new file).
func (w *Writer) Base() *Revision { return w.base }

func (w *Writer) pad(to int64) error {
	if to == w.pos {
		return nil
	}
	z := make([]byte, to-w.pos)
	if _, err := w.f.Write(z); err != nil {
		return err
	}
	w.pos = to
	return nil
}

func (w *Writer) check(name string, dt DType, shape []int64) (int64, error) {
	if w.done {
		return 0, errors.New("writer already committed or aborted")
	}
	if name == "" {
		return 0, errors.New("add tensor: empty name")
	}
	if _, dup := w.tensors[name]; dup {
		return 0, fmt.Errorf("add tensor %s: already added to this revision", quote(name))
	}
	if len(shape) > 8 {
		return 0, fmt.Errorf("add tensor %s: %d dimensions, at most 8", quote(name), len(shape))
	}
	n, err := dt.NBytes(shape)
	if err != nil {
		return 0, fmt.Errorf("add tensor %s: %w", quote(name), err)
	}
	return n, nil
}

// AddTensor streams exactly dt.NBytes(shape) bytes from r as a new tensor.
func (w *Writer) AddTensor(name string, dt DType, shape []int64, r io.Reader) error {
	n, err := w.check(name, dt, shape)
	if err != nil {
		return err
	}
	if err := w.pad(alignUp(w.pos)); err != nil {
		return fmt.Errorf("add tensor %s: %w", quote(name), err)
	}
	if w.buf == nil {
		w.buf = make([]byte, 1<<20)
	}
	h := crc32.New(castagnoli)
	off := w.pos
	var done int64
	for done < n {
		chunk := w.buf
		if rem := n - done; rem < int64(len(chunk)) {
			chunk = chunk[:rem]
		}
		k, err := io.ReadFull(r, chunk)
		if k > 0 {
			h.Write(chunk[:k])
			if _, werr := w.f.Write(chunk[:k]); werr != nil {
				return fmt.Errorf("add tensor %s: %w", quote(name), werr)
			}
			done += int64(k)
			w.pos += int64(k)
		}
		if err != nil {
			return fmt.Errorf("add tensor %s: %d of %d bytes read: %w", quote(name), done, n, err)
		}
	}
	w.tensors[name] = TensorInfo{Name: name, DType: dt, Shape: append([]int64(nil), shape...), Offset: off, NBytes: n, CRC32C: h.Sum32(), Revision: w.number}
	return nil
}

// AddTensorBytes adds a tensor whose bytes are in memory.
func (w *Writer) AddTensorBytes(name string, dt DType, shape []int64, b []byte) error {
	n, err := w.check(name, dt, shape)
	if err != nil {
		return err
	}
	if int64(len(b)) != n {
		return fmt.Errorf("add tensor %s: %d bytes given, %s %v needs %d", quote(name), len(b), dt, shape, n)
	}
	if err := w.pad(alignUp(w.pos)); err != nil {
		return err
	}
	off := w.pos
	if _, err := w.f.Write(b); err != nil {
		return fmt.Errorf("add tensor %s: %w", quote(name), err)
	}
	w.pos += n
	w.tensors[name] = TensorInfo{Name: name, DType: dt, Shape: append([]int64(nil), shape...), Offset: off, NBytes: n, CRC32C: crc32c(b), Revision: w.number}
	return nil
}

// Remove drops an inherited tensor (or one added to this revision) from the
// new revision's index. Its bytes stay in the file for older revisions.
func (w *Writer) Remove(name string) error {
	if _, ok := w.tensors[name]; ok {
		delete(w.tensors, name)
		return nil
	}
	if w.base != nil {
		if _, ok := w.base.Tensor(name); ok {
			w.removed[name] = true
			return nil
		}
	}
	return fmt.Errorf("remove %s: %w", quote(name), ErrNoTensor)
}

// Meta is what a revision records besides its tensors. Nil fields are
// inherited from the base revision.
type Meta struct {
	Stage      string
	Time       time.Time
	Parent     *int // default: the base revision
	Config     *Config
	Metadata   map[string]string
	Metrics    map[string]float64
	Provenance *Provenance
}

// Commit writes the index and the trailer, syncing data and index before the
// trailer that makes the revision visible. It returns the revision number.
func (w *Writer) Commit(m Meta) (int, error) {
	if w.done {
		return 0, errors.New("commit: writer already committed or aborted")
	}
	if m.Stage == "" {
		return 0, errors.New("commit: stage is required")
	}
	ix := &indexV1{Revision: w.number, Parent: w.number - 1, Stage: m.Stage, TimeUnixNs: m.Time.UnixNano(),
		Config: m.Config, Metadata: m.Metadata, Metrics: m.Metrics, Provenance: m.Provenance}
	if m.Parent != nil {
		if *m.Parent < -1 || *m.Parent >= w.number || (w.number > 0 && *m.Parent < 0) {
			return 0, fmt.Errorf("commit: parent %d is not an earlier revision", *m.Parent)
		}
		ix.Parent = *m.Parent
	}
	if b := w.base; b != nil {
		if ix.Config == nil {
			ix.Config = b.Config
		}
		if ix.Metadata == nil {
			ix.Metadata = b.Metadata
		}
		if ix.Provenance == nil {
			ix.Provenance = b.Provenance
		}
		for _, t := range b.Tensors {
			if _, replaced := w.tensors[t.Name]; !replaced && !w.removed[t.Name] {
				w.tensors[t.Name] = t
			}
		}
	}
	if ix.Config != nil {
		if err := ix.Config.Validate(); err != nil {
			return 0, fmt.Errorf("commit: %w", err)
		}
	}
	names := make([]string, 0, len(w.tensors))
	for n := range w.tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := w.tensors[n]
		ix.Tensors = append(ix.Tensors, indexTensor{Name: t.Name, DType: uint8(t.DType), Shape: t.Shape,
			Offset: t.Offset, NBytes: t.NBytes, CRC32C: t.CRC32C, Revision: t.Revision})
	}
	body, err := encodeIndex(ix)
	if err != nil {
		return 0, err
	}
	if len(body) > maxIndexSize {
		return 0, fmt.Errorf("commit: index of %d bytes exceeds %d", len(body), maxIndexSize)
	}
	indexOff := w.pos
	if _, err := w.f.Write(body); err != nil {
		return 0, fmt.Errorf("write index: %w", err)
	}
	w.pos += int64(len(body))
	trOff := alignUp(w.pos+TrailerSize) - TrailerSize
	if err := w.pad(trOff); err != nil {
		return 0, fmt.Errorf("write index: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return 0, fmt.Errorf("sync data: %w", err)
	}
	tr := trailer{revision: uint32(w.number), regionStart: w.regionStart, indexOff: indexOff,
		indexLen: int64(len(body)), prevTrailer: w.prevTrailer, indexCRC: crc32c(body)}
	if w.number == 0 {
		tr.prevTrailer = 0
	}
	if _, err := w.f.Write(tr.encode()); err != nil {
		return 0, fmt.Errorf("write trailer: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return 0, fmt.Errorf("sync trailer: %w", err)
	}
	w.done = true
	if err := w.f.Close(); err != nil {
		return 0, err
	}
	return w.number, nil
}

// Abort discards the revision: a new file is removed, an append is cut back.
func (w *Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	var err error
	if w.created {
		w.f.Close()
		err = os.Remove(w.path)
	} else {
		err = w.f.Truncate(w.startSize)
		if e := w.f.Close(); err == nil {
			err = e
		}
	}
	return err
}
