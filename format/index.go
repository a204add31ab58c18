package format

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// Provenance says where a revision's content came from.
type Provenance struct {
	Tool    string   `msgpack:"tool" json:"tool"`
	Command string   `msgpack:"command" json:"command"`
	Sources []Source `msgpack:"sources" json:"sources"`
}

// Source is one input file of a conversion.
type Source struct {
	Name   string `msgpack:"name" json:"name"`
	Size   int64  `msgpack:"size" json:"size"`
	SHA256 string `msgpack:"sha256" json:"sha256"`
}

// TensorInfo describes one tensor of a revision.
type TensorInfo struct {
	Name   string  `json:"name"`
	DType  DType   `json:"-"`
	Shape  []int64 `json:"shape"`
	Offset int64   `json:"offset"`
	NBytes int64   `json:"nbytes"`
	CRC32C uint32  `json:"crc32c"`
	// Revision is the revision whose data region holds the bytes.
	Revision int `json:"revision"`
}

// indexV1 is the msgpack body of an index (SPEC.md §4).
type indexV1 struct {
	Revision   int                `msgpack:"revision"`
	Parent     int                `msgpack:"parent"`
	Stage      string             `msgpack:"stage"`
	TimeUnixNs int64              `msgpack:"time_unix_ns"`
	Config     *Config            `msgpack:"config"`
	Metadata   map[string]string  `msgpack:"metadata"`
	Metrics    map[string]float64 `msgpack:"metrics"`
	Provenance *Provenance        `msgpack:"provenance"`
	Tensors    []indexTensor      `msgpack:"tensors"`
}

type indexTensor struct {
	Name     string  `msgpack:"name"`
	DType    uint8   `msgpack:"dtype"`
	Shape    []int64 `msgpack:"shape"`
	Offset   int64   `msgpack:"offset"`
	NBytes   int64   `msgpack:"nbytes"`
	CRC32C   uint32  `msgpack:"crc32c"`
	Revision int     `msgpack:"revision"`
}

func encodeIndex(ix *indexV1) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true) // byte-identical output for the same content
	if err := enc.Encode(ix); err != nil {
		return nil, fmt.Errorf("encode index: %w", err)
	}
	return buf.Bytes(), nil
}

// indexIn is what the reader decodes: indexV1 with the tensor entries left
// raw, so that their count is checked against the bytes before any of them is
// allocated.
type indexIn struct {
	Revision   int                `msgpack:"revision"`
	Parent     int                `msgpack:"parent"`
	Stage      string             `msgpack:"stage"`
	TimeUnixNs int64              `msgpack:"time_unix_ns"`
	Config     *Config            `msgpack:"config"`
	Metadata   map[string]string  `msgpack:"metadata"`
	Metrics    map[string]float64 `msgpack:"metrics"`
	Provenance *Provenance        `msgpack:"provenance"`
	Tensors    msgpack.RawMessage `msgpack:"tensors"`
}

// indexTensorIn decodes integers at full width: the decoder silently
// truncates into narrower fields (dtype 257 would read as F32), so ranges are
// checked by the reader instead.
type indexTensorIn struct {
	Name     string  `msgpack:"name"`
	DType    uint64  `msgpack:"dtype"`
	Shape    []int64 `msgpack:"shape"`
	Offset   int64   `msgpack:"offset"`
	NBytes   int64   `msgpack:"nbytes"`
	CRC32C   uint64  `msgpack:"crc32c"`
	Revision int64   `msgpack:"revision"`
}

// minTensorEntry is the fewest bytes a tensor entry can take (56): a fixmap
// header, the seven required keys of SPEC.md §4.2 as fixstr (1+len each), a
// non-empty name (2) and six one-byte values. It bounds the entry count by the
// index size before the entries are allocated.
const minTensorEntry = 1 + (1 + len("name")) + (1 + len("dtype")) + (1 + len("shape")) + (1 + len("offset")) +
	(1 + len("nbytes")) + (1 + len("crc32c")) + (1 + len("revision")) + 2 + 6

// mpError is a structural problem at byte Pos of an index.
type mpError struct {
	Pos int
	Msg string
}

func (e *mpError) Error() string { return fmt.Sprintf("%s at index byte %d", e.Msg, e.Pos) }

// decodeIndex first walks the raw msgpack checking every declared length
// against the bytes that remain, so that the decoder can never be asked to
// allocate more than the index holds; then it decodes.
func decodeIndex(b []byte) (*indexIn, []indexTensorIn, error) {
	w := mpWalker{b: b}
	if err := w.value(0); err != nil {
		return nil, nil, err
	}
	if w.p != len(b) {
		return nil, nil, &mpError{w.p, fmt.Sprintf("%d trailing bytes after the index", len(b)-w.p)}
	}
	var ix indexIn
	dec := msgpack.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&ix); err != nil {
		return nil, nil, err
	}
	if len(ix.Tensors) == 0 {
		return &ix, nil, nil
	}
	dec = msgpack.NewDecoder(bytes.NewReader(ix.Tensors))
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return nil, nil, fmt.Errorf("tensors: %w", err)
	}
	if n <= 0 {
		return &ix, nil, nil
	}
	if n > len(ix.Tensors)/minTensorEntry {
		return nil, nil, fmt.Errorf("tensors: %d entries cannot fit in %d bytes (an entry takes at least %d)", n, len(ix.Tensors), minTensorEntry)
	}
	ts := make([]indexTensorIn, n)
	for i := range ts {
		if err := dec.Decode(&ts[i]); err != nil {
			return nil, nil, fmt.Errorf("tensors[%d]: %w", i, err)
		}
	}
	return &ix, ts, nil
}

// mpWalker validates msgpack structure without allocating.
type mpWalker struct {
	b []byte
	p int
}

const mpMaxDepth = 32

func (w *mpWalker) need(n uint64) error {
	if n > uint64(len(w.b)-w.p) {
		return &mpError{w.p, fmt.Sprintf("length %d runs past the %d bytes of the index", n, len(w.b))}
	}
	return nil
}

func (w *mpWalker) uint(n int) (uint64, error) {
	if err := w.need(uint64(n)); err != nil {
		return 0, err
	}
	var v uint64
	for i := 0; i < n; i++ {
		v = v<<8 | uint64(w.b[w.p+i])
	}
	w.p += n
	return v, nil
}

func (w *mpWalker) skip(n uint64) error {
	if err := w.need(n); err != nil {
		return err
	}
	w.p += int(n)
	return nil
}

// items checks that n items (each at least min bytes) can fit, then walks them.
func (w *mpWalker) items(n uint64, per uint64, depth int) error {
	if n > math.MaxUint32 || w.need(n*per) != nil {
		return &mpError{w.p, fmt.Sprintf("count %d exceeds the %d bytes left in the index", n, len(w.b)-w.p)}
	}
	for i := uint64(0); i < n*per; i++ {
		if err := w.value(depth + 1); err != nil {
			return err
		}
	}
	return nil
}

func (w *mpWalker) value(depth int) error {
	if depth > mpMaxDepth {
		return &mpError{w.p, fmt.Sprintf("nesting deeper than %d", mpMaxDepth)}
	}
	if err := w.need(1); err != nil {
		return err
	}
	c := w.b[w.p]
	w.p++
	switch {
	case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3:
		return nil
	case c >= 0x80 && c <= 0x8f:
		return w.items(uint64(c&0x0f), 2, depth)
	case c >= 0x90 && c <= 0x9f:
		return w.items(uint64(c&0x0f), 1, depth)
	case c >= 0xa0 && c <= 0xbf:
		return w.skip(uint64(c & 0x1f))
	}
	var n uint64
	var err error
	switch c {
	case 0xc4, 0xd9: // bin8, str8
		n, err = w.uint(1)
	case 0xc5, 0xda:
		n, err = w.uint(2)
	case 0xc6, 0xdb:
		n, err = w.uint(4)
	case 0xcc, 0xd0:
		return w.skip(1)
	case 0xcd, 0xd1:
		return w.skip(2)
	case 0xca, 0xce, 0xd2:
		return w.skip(4)
	case 0xcb, 0xcf, 0xd3:
		return w.skip(8)
	case 0xd4:
		return w.skip(2)
	case 0xd5:
		return w.skip(3)
	case 0xd6:
		return w.skip(5)
	case 0xd7:
		return w.skip(9)
	case 0xd8:
		return w.skip(17)
	case 0xc7, 0xc8, 0xc9: // ext: length then type byte
		n, err = w.uint(1 << (c - 0xc7))
		if err == nil {
			n++
		}
	case 0xdc, 0xdd:
		n, err = w.uint(2 << (c - 0xdc))
		if err != nil {
			return err
		}
		return w.items(n, 1, depth)
	case 0xde, 0xdf:
		n, err = w.uint(2 << (c - 0xde))
		if err != nil {
			return err
		}
		return w.items(n, 2, depth)
	default:
		return &mpError{w.p - 1, fmt.Sprintf("invalid type byte 0x%02x", c)}
	}
	if err != nil {
		return err
	}
	return w.skip(n)
}

// Revision is one complete revision of a file: its metadata and the full
// list of tensors it consists of (its own and those it references).
type Revision struct {
	Number     int
	Parent     int // -1 for the first revision
	Stage      string
	Time       time.Time
	Config     *Config
	Metadata   map[string]string
	Metrics    map[string]float64
	Provenance *Provenance
	Tensors    []TensorInfo // sorted by name

	tr       trailer
	trOffset int64
	byName   map[string]int
}

// Tensor looks a tensor up by name.
func (r *Revision) Tensor(name string) (*TensorInfo, bool) {
	i, ok := r.byName[name]
	if !ok {
		return nil, false
	}
	return &r.Tensors[i], true
}

// IndexOffset and IndexSize locate the revision's index; DataStart is the
// first byte of its appended region and End one past its trailer.
func (r *Revision) IndexOffset() int64 { return r.tr.indexOff }
func (r *Revision) IndexSize() int64   { return r.tr.indexLen }
func (r *Revision) DataStart() int64   { return r.tr.regionStart }
func (r *Revision) End() int64         { return r.trOffset + TrailerSize }

var le = binary.LittleEndian
