// Package cpu is the pure-Go backend: the reference every other backend is
// checked against and the fallback where no GPU is present. Weights stay in
// the bytes they were uploaded from (normally the mapped file) and are
// converted to float32 as they are read; all arithmetic accumulates in
// float32. Matrix products and attention are split over a fixed set of worker
// goroutines; nothing is allocated per op once scratch space has grown to the
// largest shape seen.
package cpu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"github.com/mmbformat/mmb/format"
	mrt "github.com/mmbformat/mmb/runtime"
)

// Options configure a Backend.
type Options struct {
	// Threads is the number of goroutines that share matrix products and
	// attention; 0 means runtime.GOMAXPROCS(0).
	Threads int
	// ChunkRows is the row count from which SSMScan uses the chunked scan
	// (DESIGN.md §4) instead of the sequential one; 0 means 32, negative
	// means never.
	ChunkRows int
	// Chunk is the chunk length of the chunked scan; 0 means 32.
	Chunk int
}

// Backend implements runtime.Backend on the host. Like every Backend it is
// used by one goroutine at a time (the model's sessions run in turn).
type Backend struct {
	pool      *pool
	chunkRows int
	chunk     int
	scratch   [][]float32 // per worker
	closed    bool

	mm   matmulJob
	att  attentionJob
	scan scanJob
}

var _ mrt.Backend = (*Backend)(nil)

// New returns a backend with its worker goroutines started.
func New(o Options) *Backend {
	n := o.Threads
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	b := &Backend{pool: newPool(n), chunkRows: o.ChunkRows, chunk: o.Chunk}
	if b.chunkRows == 0 {
		b.chunkRows = 32
	}
	if b.chunk <= 0 {
		b.chunk = 32
	}
	b.scratch = make([][]float32, n)
	return b
}

// Threads is the number of workers.
func (b *Backend) Threads() int { return b.pool.n }

func (b *Backend) Name() string {
	return fmt.Sprintf("cpu (%d threads, %s kernels)", b.pool.n, kernelName)
}

// Close stops the workers. The backend must not be used afterwards.
func (b *Backend) Close() error {
	if !b.closed {
		b.closed = true
		b.pool.close()
	}
	return nil
}

func (b *Backend) Sync() error { return nil }

// workerScratch returns worker w's scratch slice of at least n floats.
func (b *Backend) workerScratch(w, n int) []float32 {
	if cap(b.scratch[w]) < n {
		b.scratch[w] = make([]float32, n)
	}
	return b.scratch[w][:n]
}

// Buffer is host float32 storage.
type Buffer struct{ d []float32 }

func (x *Buffer) Len() int { return len(x.d) }

// Data exposes the storage (tests, and callers that want to avoid a copy).
func (x *Buffer) Data() []float32 { return x.d }

// maxAlloc bounds a single buffer (16 GiB of float32) so that a bad size
// is an error instead of an out-of-memory crash.
const maxAlloc = 1 << 32

func (b *Backend) Alloc(n int) (mrt.Buffer, error) {
	if n < 0 || n > maxAlloc {
		return nil, fmt.Errorf("cpu: alloc %d floats out of range", n)
	}
	return &Buffer{d: make([]float32, n)}, nil
}

var errForeign = errors.New("cpu: buffer or weight from another backend")

func buf(x mrt.Buffer) ([]float32, error) {
	c, ok := x.(*Buffer)
	if !ok || c == nil {
		return nil, errForeign
	}
	return c.d, nil
}

// span checks that d[off:off+n] exists and returns it.
func span(op, what string, d []float32, off, n int) ([]float32, error) {
	if off < 0 || n < 0 || off > len(d) || n > len(d)-off {
		return nil, fmt.Errorf("cpu: %s: %s needs elements [%d, %d+%d) of a buffer of %d", op, what, off, off, n, len(d))
	}
	return d[off : off+n], nil
}

func (b *Backend) Write(dst mrt.Buffer, off int, src []float32) error {
	d, err := buf(dst)
	if err != nil {
		return err
	}
	s, err := span("Write", "dst", d, off, len(src))
	if err != nil {
		return err
	}
	copy(s, src)
	return nil
}

func (b *Backend) Read(dst []float32, src mrt.Buffer, off int) error {
	d, err := buf(src)
	if err != nil {
		return err
	}
	s, err := span("Read", "src", d, off, len(dst))
	if err != nil {
		return err
	}
	copy(dst, s)
	return nil
}

// Weight is a parameter read in place from the uploaded bytes.
type Weight struct {
	name       string
	rows, cols int
	dt         format.DType
	f32        []float32 // F32
	u16        []uint16  // F16, BF16
	q8         []byte    // Q8_0: rows·cols/32 blocks of 34 bytes
	// small is a float32 copy of vectors and narrow matrices (norm weights,
	// conv taps, biases): they are read for every row of every op and are a
	// negligible fraction of the model, so converting them once is cheaper.
	small []float32
}

func (w *Weight) Rows() int           { return w.rows }
func (w *Weight) Cols() int           { return w.cols }
func (w *Weight) DType() format.DType { return w.dt }

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// Upload keeps a view of data: the caller must keep it alive and unchanged
// (a mapped file stays mapped for the model's life). Misaligned data (or a
// big-endian host) gets one converted copy, which a file with 4096-byte
// aligned tensors never needs.
func (b *Backend) Upload(name string, dt format.DType, rows, cols int, data []byte) (mrt.Weight, error) {
	if rows <= 0 || cols <= 0 || rows > 1<<31 || cols > 1<<31 {
		return nil, fmt.Errorf("cpu: upload %s: shape [%d, %d] out of range", name, rows, cols)
	}
	want, err := dt.NBytes([]int64{int64(rows), int64(cols)})
	if err != nil {
		return nil, fmt.Errorf("cpu: upload %s: %w", name, err)
	}
	if int64(len(data)) != want {
		return nil, fmt.Errorf("cpu: upload %s: %s [%d, %d] needs %d bytes, got %d", name, dt, rows, cols, want, len(data))
	}
	w := &Weight{name: name, rows: rows, cols: cols, dt: dt}
	n := rows * cols
	p := unsafe.Pointer(unsafe.SliceData(data))
	switch dt {
	case format.F32:
		if littleEndian && uintptr(p)%4 == 0 {
			w.f32 = unsafe.Slice((*float32)(p), n)
		} else {
			w.f32 = make([]float32, n)
			for i := range w.f32 {
				w.f32[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
			}
		}
	case format.F16, format.BF16:
		if littleEndian && uintptr(p)%2 == 0 {
			w.u16 = unsafe.Slice((*uint16)(p), n)
		} else {
			w.u16 = make([]uint16, n)
			for i := range w.u16 {
				w.u16[i] = binary.LittleEndian.Uint16(data[2*i:])
			}
		}
	case format.Q8_0:
		if !littleEndian {
			return nil, fmt.Errorf("cpu: upload %s: Q8_0 needs a little-endian host", name)
		}
		w.q8 = data
	default:
		return nil, fmt.Errorf("cpu: upload %s: dtype %s not supported (F32, F16, BF16, Q8_0)", name, dt)
	}
	if rows == 1 || cols < format.Q8Block {
		w.small = make([]float32, n)
		for r := 0; r < rows; r++ {
			copy(w.small[r*cols:], w.row(w.small[r*cols:], r))
		}
	}
	return w, nil
}

func wt(x mrt.Weight) (*Weight, error) {
	w, ok := x.(*Weight)
	if !ok || w == nil {
		return nil, errForeign
	}
	return w, nil
}

// row converts weight row r to float32 into dst (len cols). For F32 it
// returns the stored row itself.
func (w *Weight) row(dst []float32, r int) []float32 {
	c := w.cols
	switch w.dt {
	case format.F32:
		return w.f32[r*c : r*c+c]
	case format.F16:
		cvtF16(dst[:c], w.u16[r*c:r*c+c])
	case format.BF16:
		cvtBF16(dst[:c], w.u16[r*c:r*c+c])
	case format.Q8_0:
		rb := c / format.Q8Block * format.Q8BlockBytes
		cvtQ8(dst[:c], w.q8[r*rb:r*rb+rb])
	}
	return dst[:c]
}

// dot is weight row r · x (len cols), converting on the fly.
func (w *Weight) dot(r int, x []float32) float32 {
	c := w.cols
	switch w.dt {
	case format.F32:
		return dotF32(w.f32[r*c:r*c+c], x)
	case format.F16:
		return dotF16(w.u16[r*c:r*c+c], x)
	case format.BF16:
		return dotBF16(w.u16[r*c:r*c+c], x)
	default:
		rb := c / format.Q8Block * format.Q8BlockBytes
		return dotQ8(w.q8[r*rb:r*rb+rb], x)
	}
}

// dot4 sets out[i] = row r+i · x for i < 4, reading the four rows as four
// concurrent streams.
func (w *Weight) dot4(r int, x []float32, out *[4]float32) {
	c := w.cols
	switch w.dt {
	case format.F32:
		dot4F32(x, w.f32[r*c:], c, out)
	case format.F16:
		dot4F16(x, w.u16[r*c:], c, out)
	case format.BF16:
		dot4BF16(x, w.u16[r*c:], c, out)
	default:
		rb := c / format.Q8Block * format.Q8BlockBytes
		dot4Q8(x, w.q8[r*rb:], rb, out)
	}
}
