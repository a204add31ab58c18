// Package npy reads NumPy .npy arrays and .npz archives of them (the
// reference outputs the tests compare against) and writes float32 .npy files
// (mmbrun --logits-out). Only C-order arrays of little-endian numbers and
// booleans are read; every length in the header is checked against the bytes
// that exist before anything is allocated.
package npy

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"
)

// Array is one parsed array; Data holds the raw little-endian elements.
type Array struct {
	Descr string // NumPy dtype string, e.g. "<f4"
	Shape []int
	Data  []byte
}

// Sentinel errors, checked with errors.Is.
var (
	ErrMagic       = errors.New("not a .npy file")
	ErrTruncated   = errors.New("truncated")
	ErrHeader      = errors.New("malformed header")
	ErrUnsupported = errors.New("unsupported")
)

// FormatError locates a problem in a file.
type FormatError struct {
	File   string // may be empty
	Field  string
	Offset int64
	Err    error
	Detail string
}

func (e *FormatError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ": ")
	}
	fmt.Fprintf(&b, "npy: %s at byte %d: %v", e.Field, e.Offset, e.Err)
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	return b.String()
}

func (e *FormatError) Unwrap() error { return e.Err }

const maxHeader = 1 << 20

var magic = []byte("\x93NUMPY")

// itemSize of the dtypes this package reads.
var itemSize = map[string]int{
	"<f4": 4, "<f8": 8, "<f2": 2, "<i4": 4, "<i8": 8, "<u4": 4, "<u8": 8, "<i2": 2, "<u2": 2,
	"|i1": 1, "|u1": 1, "|b1": 1,
}

// Parse reads one .npy image from b. Data aliases b.
func Parse(b []byte) (*Array, error) {
	ferr := func(field string, off int64, err error, detail string, args ...any) error {
		return &FormatError{Field: field, Offset: off, Err: err, Detail: fmt.Sprintf(detail, args...)}
	}
	if len(b) < 10 {
		return nil, ferr("preamble", 0, ErrTruncated, "%d bytes, need 10", len(b))
	}
	if !bytes.Equal(b[:6], magic) {
		return nil, ferr("magic", 0, ErrMagic, "")
	}
	major := b[6]
	var hlen, hoff int
	switch major {
	case 1:
		hlen, hoff = int(binary.LittleEndian.Uint16(b[8:])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, ferr("header_len", 8, ErrTruncated, "")
		}
		n := binary.LittleEndian.Uint32(b[8:])
		if n > maxHeader {
			return nil, ferr("header_len", 8, ErrHeader, "%d bytes is more than %d", n, maxHeader)
		}
		hlen, hoff = int(n), 12
	default:
		return nil, ferr("version", 6, ErrUnsupported, "version %d.%d", major, b[7])
	}
	if hlen > len(b)-hoff {
		return nil, ferr("header", int64(hoff), ErrTruncated, "header of %d bytes, %d left", hlen, len(b)-hoff)
	}
	h, err := parseHeader(string(b[hoff : hoff+hlen]))
	if err != nil {
		return nil, ferr("header", int64(hoff), ErrHeader, "%v", err)
	}
	size, ok := itemSize[h.descr]
	if !ok {
		return nil, ferr("header.descr", int64(hoff), ErrUnsupported, "dtype %q", h.descr)
	}
	if h.fortran {
		return nil, ferr("header.fortran_order", int64(hoff), ErrUnsupported, "Fortran order")
	}
	n := uint64(1)
	for _, d := range h.shape {
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > 1<<50 {
			return nil, ferr("header.shape", int64(hoff), ErrHeader, "shape %v too large", h.shape)
		}
		n = lo
	}
	dataOff := hoff + hlen
	if n*uint64(size) != uint64(len(b)-dataOff) {
		return nil, ferr("data", int64(dataOff), ErrTruncated, "shape %v of %s needs %d bytes, file has %d", h.shape, h.descr, n*uint64(size), len(b)-dataOff)
	}
	return &Array{Descr: h.descr, Shape: h.shape, Data: b[dataOff:]}, nil
}

type header struct {
	descr   string
	fortran bool
	shape   []int
}

// parseHeader reads the Python dict literal NumPy writes:
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
func parseHeader(s string) (header, error) {
	var h header
	p := &lit{s: strings.TrimRight(s, " \n\x00")}
	seen := map[string]bool{}
	if !p.eat('{') {
		return h, errors.New("expected '{'")
	}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return h, err
		}
		p.space()
		if !p.eat(':') {
			return h, fmt.Errorf("expected ':' after %q", key)
		}
		p.space()
		if seen[key] {
			return h, fmt.Errorf("key %q repeated", key)
		}
		seen[key] = true
		switch key {
		case "descr":
			if h.descr, err = p.str(); err != nil {
				return h, err
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
			default:
				return h, errors.New("fortran_order is not True or False")
			}
		case "shape":
			if h.shape, err = p.tuple(); err != nil {
				return h, err
			}
		default:
			return h, fmt.Errorf("unknown key %q", key)
		}
		p.space()
		if p.eat('}') {
			break
		}
		if !p.eat(',') {
			return h, errors.New("expected ',' or '}'")
		}
	}
	if p.i != len(p.s) {
		return h, fmt.Errorf("trailing text at %d", p.i)
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("key %q missing", k)
		}
	}
	return h, nil
}

type lit struct {
	s string
	i int
}

func (p *lit) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *lit) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *lit) word(w string) bool {
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

func (p *lit) str() (string, error) {
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", fmt.Errorf("expected a string at %d", p.i)
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", errors.New("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, nil
}

func (p *lit) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, errors.New("shape is not a tuple")
	}
	shape := []int{}
	for {
		p.space()
		if p.eat(')') {
			return shape, nil
		}
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		v, err := strconv.ParseInt(p.s[p.i:j], 10, 64)
		if err != nil || v > 1<<40 {
			return nil, fmt.Errorf("bad dimension at %d", p.i)
		}
		if len(shape) >= 32 {
			return nil, errors.New("more than 32 dimensions")
		}
		shape = append(shape, int(v))
		p.i = j
		p.space()
		if p.eat(')') {
			return shape, nil
		}
		if !p.eat(',') {
			return nil, errors.New("expected ',' in shape")
		}
	}
}

// ReadFile reads a .npy file.
func ReadFile(path string) (*Array, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("open npy: %w", err)
	}
	a, err := Parse(b)
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.File = path
		}
		return nil, err
	}
	return a, nil
}

// maxEntry bounds one uncompressed .npz member (1 GiB) so that a small
// archive cannot make the reader allocate without limit.
const maxEntry = 1 << 30

// ReadNPZ reads every array of a .npz archive, keyed by name without ".npy".
func ReadNPZ(path string) (map[string]*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open npz: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open npz: %w", err)
	}
	return parseNPZ(path, f, st.Size())
}

// ParseNPZ reads a .npz archive of size bytes from r.
func ParseNPZ(r io.ReaderAt, size int64) (map[string]*Array, error) {
	return parseNPZ("", r, size)
}

func parseNPZ(name string, r io.ReaderAt, size int64) (map[string]*Array, error) {
	prefix := "npz: "
	if name != "" {
		prefix = name + ": npz: "
	}
	z, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%s%w", prefix, err)
	}
	out := map[string]*Array{}
	for _, f := range z.File {
		if f.UncompressedSize64 > maxEntry {
			return nil, fmt.Errorf("%smember %q: %d bytes is too large", prefix, f.Name, f.UncompressedSize64)
		}
		key := strings.TrimSuffix(f.Name, ".npy")
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("%smember %q appears twice", prefix, f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%smember %q: %w", prefix, f.Name, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%smember %q: %w", prefix, f.Name, err)
		}
		a, err := Parse(b)
		if err != nil {
			var fe *FormatError
			if errors.As(err, &fe) {
				fe.File = strings.TrimSuffix(name+":"+f.Name, ":")
				if name == "" {
					fe.File = f.Name
				}
			}
			return nil, err
		}
		out[key] = a
	}
	return out, nil
}

// Len is the element count.
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// Float32 converts numeric elements to float32 (integers exactly up to 2^24).
func (a *Array) Float32() ([]float32, error) {
	n := a.Len()
	out := make([]float32, n)
	le := binary.LittleEndian
	d := a.Data
	switch a.Descr {
	case "<f4":
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(d[4*i:]))
		}
	case "<f8":
		for i := range out {
			out[i] = float32(math.Float64frombits(le.Uint64(d[8*i:])))
		}
	case "<f2":
		for i := range out {
			out[i] = f16(le.Uint16(d[2*i:]))
		}
	default:
		ints, err := a.Int64()
		if err != nil {
			return nil, fmt.Errorf("npy: dtype %s is not numeric", a.Descr)
		}
		for i, v := range ints {
			out[i] = float32(v)
		}
	}
	return out, nil
}

// Int64 converts integer (and boolean) elements.
func (a *Array) Int64() ([]int64, error) {
	n := a.Len()
	out := make([]int64, n)
	le := binary.LittleEndian
	d := a.Data
	switch a.Descr {
	case "<i8", "<u8":
		for i := range out {
			out[i] = int64(le.Uint64(d[8*i:]))
		}
	case "<i4":
		for i := range out {
			out[i] = int64(int32(le.Uint32(d[4*i:])))
		}
	case "<u4":
		for i := range out {
			out[i] = int64(le.Uint32(d[4*i:]))
		}
	case "<i2":
		for i := range out {
			out[i] = int64(int16(le.Uint16(d[2*i:])))
		}
	case "<u2":
		for i := range out {
			out[i] = int64(le.Uint16(d[2*i:]))
		}
	case "|i1":
		for i := range out {
			out[i] = int64(int8(d[i]))
		}
	case "|u1", "|b1":
		for i := range out {
			out[i] = int64(d[i])
		}
	default:
		return nil, fmt.Errorf("npy: dtype %s is not an integer type", a.Descr)
	}
	return out, nil
}

// Ints is Int64 as []int.
func (a *Array) Ints() ([]int, error) {
	v, err := a.Int64()
	if err != nil {
		return nil, err
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out, nil
}

func f16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// WriteFloat32 writes data with the given shape as a version 1.0 .npy ('<f4').
func WriteFloat32(w io.Writer, shape []int, data []float32) error {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("npy: negative dimension in shape %v", shape)
		}
		n *= d
	}
	if n != len(data) {
		return fmt.Errorf("npy: shape %v holds %d values, got %d", shape, n, len(data))
	}
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	sh := strings.Join(dims, ", ")
	if len(shape) == 1 {
		sh += ","
	}
	h := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", sh)
	// Pad with spaces so that the data starts at a multiple of 64, ending in '\n'.
	total := 10 + len(h) + 1
	h += strings.Repeat(" ", (64-total%64)%64) + "\n"
	if len(h) > math.MaxUint16 {
		return fmt.Errorf("npy: header too long")
	}
	buf := make([]byte, 10, 10+len(h)+4*len(data))
	copy(buf, magic)
	buf[6], buf[7] = 1, 0
	binary.LittleEndian.PutUint16(buf[8:], uint16(len(h)))
	buf = append(buf, h...)
	for _, v := range data {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	_, err := w.Write(buf)
	return err
}
