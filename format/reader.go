package format

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"time"

	"github.com/edsrzf/mmap-go"
)

// File is an opened .mmb file. Opening reads the preamble, the trailers and
// the indexes; tensor data is only touched through Data and Float32.
type File struct {
	name      string
	ra        io.ReaderAt
	size      int64
	mapped    mmap.MMap // nil when built by NewFile
	osf       *os.File
	revisions []*Revision // oldest first
	major     uint16
	minor     uint16
	// skipped is the number of bytes after the last complete revision: a
	// torn append that the reader ignored.
	skipped int64
}

// Open maps a file and reads its revisions.
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
	f := &File{name: path, osf: osf, size: st.Size(), ra: osf}
	if st.Size() > 0 {
		m, err := mmap.Map(osf, mmap.RDONLY, 0)
		if err != nil {
			osf.Close()
			return nil, fmt.Errorf("map %s: %w", path, err)
		}
		f.mapped = m
		f.ra = bytesReaderAt(m)
	}
	if err := f.load(); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// NewFile reads revisions from r, which holds size bytes. Data copies.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	f := &File{ra: r, size: size}
	if err := f.load(); err != nil {
		return nil, err
	}
	return f, nil
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

type closedReaderAt struct{}

func (closedReaderAt) ReadAt([]byte, int64) (int, error) { return 0, os.ErrClosed }

// Close releases the mapping. Slices returned by Data become invalid.
func (f *File) Close() error {
	var err error
	if f.mapped != nil {
		err = f.mapped.Unmap()
		f.mapped = nil
	}
	// Data after Close must fail, not read unmapped memory.
	f.ra = closedReaderAt{}
	if f.osf != nil {
		if e := f.osf.Close(); err == nil {
			err = e
		}
		f.osf = nil
	}
	return err
}

// Name is the path the file was opened from.
func (f *File) Name() string { return f.name }

// Size is the file's size in bytes.
func (f *File) Size() int64 { return f.size }

// Version is the format version written in the preamble.
func (f *File) Version() (major, minor int) { return int(f.major), int(f.minor) }

// Revisions lists the complete revisions, oldest first.
func (f *File) Revisions() []*Revision { return f.revisions }

// Latest is the newest complete revision.
func (f *File) Latest() *Revision { return f.revisions[len(f.revisions)-1] }

// SkippedBytes is the size of a torn append after the last complete revision
// (0 for a clean file).
func (f *File) SkippedBytes() int64 { return f.skipped }

// Revision returns revision n.
func (f *File) Revision(n int) (*Revision, error) {
	if n < 0 || n >= len(f.revisions) {
		return nil, fmt.Errorf("%s: revision %d: %w (the file has revisions 0..%d)", f.name, n, ErrNoRevision, len(f.revisions)-1)
	}
	return f.revisions[n], nil
}

func (f *File) errf(off int64, field string, err error, format string, args ...any) error {
	return &FormatError{File: f.name, Offset: off, Field: field, Err: err, Detail: fmt.Sprintf(format, args...)}
}

func (f *File) read(off, n int64, field string) ([]byte, error) {
	if off < 0 || n < 0 || off > f.size || n > f.size-off {
		return nil, f.errf(off, field, ErrTruncated, "%d bytes needed, file is %d bytes", n, f.size)
	}
	if m, ok := f.ra.(bytesReaderAt); ok {
		return m[off : off+n : off+n], nil
	}
	b := make([]byte, n)
	if _, err := f.ra.ReadAt(b, off); err != nil {
		return nil, f.errf(off, field, ErrTruncated, "read: %v", err)
	}
	return b, nil
}

func (f *File) load() error {
	if f.size < PreambleSize {
		if f.size >= int64(len(Magic)) {
			if b, err := f.read(0, int64(len(Magic)), "magic"); err == nil && string(b) != Magic {
				return f.errf(0, "magic", ErrBadMagic, "found %q", b)
			}
		}
		return f.errf(0, "preamble", ErrTruncated, "file is %d bytes, the preamble needs %d", f.size, PreambleSize)
	}
	p, err := f.read(0, PreambleSize, "preamble")
	if err != nil {
		return err
	}
	if string(p[:8]) != Magic {
		return f.errf(0, "magic", ErrBadMagic, "found %q", p[:8])
	}
	f.major, f.minor = le.Uint16(p[8:]), le.Uint16(p[10:])
	if f.major != MajorVersion {
		return f.errf(8, "major_version", ErrVersion, "file is version %d.%d, this reader reads %d.x", f.major, f.minor, MajorVersion)
	}
	if bom := le.Uint32(p[12:]); bom != byteOrderMark {
		return f.errf(12, "byte_order_mark", ErrByteOrder, "found 0x%08x", bom)
	}
	if got, want := le.Uint32(p[60:]), crc32c(p[:60]); got != want {
		return f.errf(60, "preamble_crc32c", ErrChecksum, "stored 0x%08x, computed 0x%08x", got, want)
	}
	if a := le.Uint32(p[16:]); a != Alignment {
		return f.errf(16, "alignment", ErrVersion, "alignment %d, expected %d", a, Alignment)
	}

	// The newest trailer ends at the end of a clean file. Otherwise the tail is
	// a torn append: probe the aligned trailer positions backwards for the last
	// trailer whose checksum holds. A trailer is written last, after the data
	// and index were synced, so a valid trailer means a committed revision and
	// anything wrong behind it is corruption, reported, not skipped.
	for end := f.size &^ (Alignment - 1); end >= 2*Alignment; end -= Alignment {
		b, err := f.read(end-TrailerSize, TrailerSize, "trailer")
		if err != nil {
			return err
		}
		if _, ok := decodeTrailer(b); !ok {
			continue
		}
		revs, err := f.loadChain(end - TrailerSize)
		if err != nil {
			return err
		}
		f.revisions = revs
		f.skipped = f.size - end
		return nil
	}
	return f.errf(f.size, "trailer", ErrNoCompleteRev, "no valid trailer found in %d bytes", f.size)
}

// loadChain reads the trailer at off and the chain of trailers before it.
func (f *File) loadChain(off int64) ([]*Revision, error) {
	var chain []*Revision
	for {
		b, err := f.read(off, TrailerSize, "trailer")
		if err != nil {
			return nil, err
		}
		tr, ok := decodeTrailer(b)
		if !ok {
			if string(b[:8]) == TrailerMagic {
				return nil, f.errf(off+60, "trailer_crc32c", ErrChecksum, "trailer checksum does not match")
			}
			return nil, f.errf(off, "trailer", ErrNoCompleteRev, "no trailer magic at offset %d", off)
		}
		if (off+TrailerSize)%Alignment != 0 {
			return nil, f.errf(off, "trailer", ErrBadIndex, "trailer does not end on a %d-byte boundary", Alignment)
		}
		r, err := f.loadRevision(tr, off)
		if err != nil {
			return nil, err
		}
		chain = append(chain, r)
		if tr.prevTrailer == 0 {
			if tr.revision != 0 {
				return nil, f.errf(off+8, "revision", ErrBadIndex, "revision %d has no previous trailer", tr.revision)
			}
			break
		}
		if tr.revision == 0 || tr.prevTrailer >= tr.regionStart || tr.prevTrailer+TrailerSize != tr.regionStart {
			return nil, f.errf(off+40, "prev_trailer", ErrBadIndex, "previous trailer at %d does not end where revision %d starts (%d)", tr.prevTrailer, tr.revision, tr.regionStart)
		}
		off = tr.prevTrailer
	}
	// oldest first; numbers must count up from 0 in file order
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	for i, r := range chain {
		if r.Number != i {
			return nil, f.errf(r.trOffset+8, "revision", ErrBadIndex, "revision number %d where %d was expected", r.Number, i)
		}
		if r.Parent >= r.Number || r.Parent < -1 || (r.Number > 0 && r.Parent < 0) {
			return nil, f.errf(r.tr.indexOff, "parent", ErrBadIndex, "revision %d names parent %d", r.Number, r.Parent)
		}
	}
	// tensors referencing older data must lie inside that revision's data region
	for _, r := range chain {
		for i := range r.Tensors {
			t := &r.Tensors[i]
			if t.Revision > r.Number || t.Revision < 0 {
				return nil, f.errf(r.tr.indexOff, "tensors["+quote(t.Name)+"].revision", ErrBadTensor, "revision %d from revision %d", t.Revision, r.Number)
			}
			owner := chain[t.Revision]
			if t.NBytes > 0 && (t.Offset < owner.tr.regionStart || t.Offset+t.NBytes > owner.tr.indexOff) {
				return nil, f.errf(r.tr.indexOff, "tensors["+quote(t.Name)+"].offset", ErrBadTensor, "data [%d, %d) outside revision %d's data region [%d, %d)", t.Offset, t.Offset+t.NBytes, t.Revision, owner.tr.regionStart, owner.tr.indexOff)
			}
		}
	}
	return chain, nil
}

func (f *File) loadRevision(tr trailer, trOff int64) (*Revision, error) {
	minStart := int64(Alignment)
	if tr.regionStart < minStart || tr.regionStart%Alignment != 0 || tr.regionStart > trOff {
		return nil, f.errf(trOff+16, "region_start", ErrBadIndex, "region start %d", tr.regionStart)
	}
	if tr.prevTrailer == 0 && tr.regionStart != Alignment {
		return nil, f.errf(trOff+16, "region_start", ErrBadIndex, "the first revision starts at %d, not %d", tr.regionStart, Alignment)
	}
	if tr.indexLen <= 0 || tr.indexLen > maxIndexSize {
		return nil, f.errf(trOff+32, "index_length", ErrBadIndex, "index length %d", tr.indexLen)
	}
	if tr.indexOff < tr.regionStart || tr.indexOff >= trOff {
		return nil, f.errf(trOff+24, "index_offset", ErrBadIndex, "index offset %d not inside [%d, %d)", tr.indexOff, tr.regionStart, trOff)
	}
	if tr.indexLen > trOff-tr.indexOff {
		return nil, f.errf(trOff+32, "index_length", ErrTruncated, "index [%d, +%d) runs past its trailer at %d", tr.indexOff, tr.indexLen, trOff)
	}
	b, err := f.read(tr.indexOff, tr.indexLen, "index")
	if err != nil {
		return nil, err
	}
	if got := crc32c(b); got != tr.indexCRC {
		return nil, f.errf(tr.indexOff, "index_crc32c", ErrChecksum, "index of revision %d: stored 0x%08x, computed 0x%08x", tr.revision, tr.indexCRC, got)
	}
	ix, ents, err := decodeIndex(b)
	if err != nil {
		var me *mpError
		if errors.As(err, &me) {
			return nil, f.errf(tr.indexOff+int64(me.Pos), "index", ErrBadIndex, "%s", me.Msg)
		}
		return nil, f.errf(tr.indexOff, "index", ErrBadIndex, "%v", err)
	}
	if ix.Revision != int(tr.revision) {
		return nil, f.errf(tr.indexOff, "index.revision", ErrBadIndex, "index says revision %d, trailer %d", ix.Revision, tr.revision)
	}
	r := &Revision{
		Number: ix.Revision, Parent: ix.Parent, Stage: ix.Stage, Time: time.Unix(0, ix.TimeUnixNs).UTC(),
		Config: ix.Config, Metadata: ix.Metadata, Metrics: ix.Metrics, Provenance: ix.Provenance,
		tr: tr, trOffset: trOff, byName: make(map[string]int, len(ents)),
	}
	if r.Metadata == nil {
		r.Metadata = map[string]string{}
	}
	r.Tensors = make([]TensorInfo, len(ents))
	for i, e := range ents {
		field := fmt.Sprintf("tensors[%d]", i)
		if e.Name == "" {
			return nil, f.errf(tr.indexOff, field+".name", ErrBadTensor, "empty name")
		}
		field = "tensors[" + quote(e.Name) + "]"
		if _, dup := r.byName[e.Name]; dup {
			return nil, f.errf(tr.indexOff, field+".name", ErrBadTensor, "duplicate tensor name")
		}
		if e.DType > math.MaxUint8 || !DType(e.DType).Valid() {
			return nil, f.errf(tr.indexOff, field+".dtype", ErrBadTensor, "unknown dtype %d", e.DType)
		}
		dt := DType(e.DType)
		if len(e.Shape) > 8 {
			return nil, f.errf(tr.indexOff, field+".shape", ErrBadTensor, "%d dimensions, at most 8", len(e.Shape))
		}
		want, err := dt.NBytes(e.Shape)
		if err != nil {
			return nil, f.errf(tr.indexOff, field+".shape", ErrBadTensor, "%v", err)
		}
		if e.NBytes != want {
			return nil, f.errf(tr.indexOff, field+".nbytes", ErrBadTensor, "%d bytes, %s %v needs %d", e.NBytes, dt, e.Shape, want)
		}
		if e.Offset < 0 || e.Offset%Alignment != 0 {
			return nil, f.errf(tr.indexOff, field+".offset", ErrBadTensor, "offset %d is not a multiple of %d", e.Offset, Alignment)
		}
		if e.NBytes > math.MaxInt64-e.Offset || e.Offset+e.NBytes > f.size {
			return nil, f.errf(tr.indexOff, field+".offset", ErrTruncated, "data [%d, +%d) past the end of the file (%d bytes)", e.Offset, e.NBytes, f.size)
		}
		if e.CRC32C > math.MaxUint32 {
			return nil, f.errf(tr.indexOff, field+".crc32c", ErrBadTensor, "checksum %d does not fit in 32 bits", e.CRC32C)
		}
		if e.Revision < 0 || e.Revision > int64(tr.revision) {
			return nil, f.errf(tr.indexOff, field+".revision", ErrBadTensor, "data of revision %d referenced from revision %d", e.Revision, tr.revision)
		}
		r.Tensors[i] = TensorInfo{Name: e.Name, DType: dt, Shape: e.Shape, Offset: e.Offset, NBytes: e.NBytes, CRC32C: uint32(e.CRC32C), Revision: int(e.Revision)}
		r.byName[e.Name] = i
	}
	if !sort.SliceIsSorted(r.Tensors, func(i, j int) bool { return r.Tensors[i].Name < r.Tensors[j].Name }) {
		return nil, f.errf(tr.indexOff, "tensors", ErrBadIndex, "tensors are not sorted by name")
	}
	// no two tensors may share bytes
	byOff := make([]*TensorInfo, 0, len(r.Tensors))
	for i := range r.Tensors {
		if r.Tensors[i].NBytes > 0 {
			byOff = append(byOff, &r.Tensors[i])
		}
	}
	sort.Slice(byOff, func(i, j int) bool { // by name on ties, so the error is deterministic
		if byOff[i].Offset != byOff[j].Offset {
			return byOff[i].Offset < byOff[j].Offset
		}
		return byOff[i].Name < byOff[j].Name
	})
	for i := 1; i < len(byOff); i++ {
		a, b := byOff[i-1], byOff[i]
		if a.Offset+a.NBytes > b.Offset {
			return nil, f.errf(tr.indexOff, "tensors["+quote(b.Name)+"].offset", ErrBadTensor, "data [%d, %d) overlaps %s [%d, %d)", b.Offset, b.Offset+b.NBytes, quote(a.Name), a.Offset, a.Offset+a.NBytes)
		}
	}
	return r, nil
}

// Data returns a tensor's bytes: a view of the mapping for files from Open
// (valid until Close), a fresh copy for files from NewFile.
func (f *File) Data(t *TensorInfo) ([]byte, error) {
	return f.read(t.Offset, t.NBytes, "tensors["+quote(t.Name)+"].data")
}

// Verify checks the CRC32C of every tensor of r. The error joins one error
// per bad tensor.
func (f *File) Verify(r *Revision) error {
	var errs []error
	for i := range r.Tensors {
		t := &r.Tensors[i]
		b, err := f.Data(t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if got := crc32c(b); got != t.CRC32C {
			errs = append(errs, f.errf(t.Offset, "tensors["+quote(t.Name)+"].crc32c", ErrChecksum, "stored 0x%08x, computed 0x%08x", t.CRC32C, got))
		}
	}
	return errors.Join(errs...)
}

// Float32 converts a numeric tensor to float32.
func (f *File) Float32(t *TensorInfo) ([]float32, error) {
	b, err := f.Data(t)
	if err != nil {
		return nil, err
	}
	n, _ := ElemCount(t.Shape)
	out := make([]float32, n)
	if err := DecodeFloat32(out, t.DType, b); err != nil {
		return nil, fmt.Errorf("tensor %s: %w", quote(t.Name), err)
	}
	return out, nil
}

// DecodeFloat32 converts len(dst) values stored as dt in src.
func DecodeFloat32(dst []float32, dt DType, src []byte) error {
	n := len(dst)
	switch dt {
	case F32:
		if len(src) < 4*n {
			return ErrTruncated
		}
		for i := range dst {
			dst[i] = math.Float32frombits(le.Uint32(src[4*i:]))
		}
	case I32:
		if len(src) < 4*n {
			return ErrTruncated
		}
		for i := range dst {
			dst[i] = float32(int32(le.Uint32(src[4*i:])))
		}
	case F16:
		if len(src) < 2*n {
			return ErrTruncated
		}
		for i := range dst {
			dst[i] = F16ToF32(le.Uint16(src[2*i:]))
		}
	case BF16:
		if len(src) < 2*n {
			return ErrTruncated
		}
		for i := range dst {
			dst[i] = BF16ToF32(le.Uint16(src[2*i:]))
		}
	case Q8_0:
		if n%Q8Block != 0 || len(src) < n/Q8Block*Q8BlockBytes {
			return ErrTruncated
		}
		for blk := 0; blk < n/Q8Block; blk++ {
			p := src[blk*Q8BlockBytes:]
			d := F16ToF32(le.Uint16(p))
			for j := 0; j < Q8Block; j++ {
				dst[blk*Q8Block+j] = d * float32(int8(p[2+j]))
			}
		}
	default:
		return fmt.Errorf("dtype %s is not numeric", dt)
	}
	return nil
}

// quote escapes a name read from a file so it cannot carry terminal control
// sequences into messages.
func quote(s string) string {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffd || r == '"' || r == '\\' {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}

// Quote is the escaping used for names in messages; tools use it for output.
func Quote(s string) string { return quote(s) }
