package convert

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"

	"github.com/mmbformat/mmb/format"
)

// stDType maps a safetensors dtype name to a format dtype the converter can
// read; ok is false for everything else.
func stDType(s string) (format.DType, bool) {
	switch s {
	case "F32":
		return format.F32, true
	case "F16":
		return format.F16, true
	case "BF16":
		return format.BF16, true
	}
	return 0, false
}

// elemSize is the byte size of one element of a float dtype (not Q8_0).
func elemSize(d format.DType) int {
	switch d {
	case format.F32:
		return 4
	case format.F16, format.BF16:
		return 2
	}
	return 0
}

var f16Tab = sync.OnceValue(func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = format.F16ToF32(uint16(i))
	}
	return &t
})

// f16Table maps every f16 bit pattern to its float32 value (256 kB, built
// once): a lookup is several times faster than the branchy conversion.
func f16Table() *[1 << 16]float32 { return f16Tab() }

// decode widens n elements of src (dtype dt) into dst. Widening F16 and BF16
// is exact.
func decode(dst []float32, dt format.DType, src []byte) {
	switch dt {
	case format.F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	case format.F16:
		tab := f16Table()
		src = src[:2*len(dst)]
		for i := range dst {
			dst[i] = tab[uint16(src[2*i])|uint16(src[2*i+1])<<8]
		}
	case format.BF16:
		for i := range dst {
			dst[i] = format.BF16ToF32(binary.LittleEndian.Uint16(src[2*i:]))
		}
	default:
		panic("decode: unsupported dtype " + dt.String()) // callers check dtypes first
	}
}

// encode writes src in dtype dt to dst and returns the bytes written. F16 and
// BF16 round to nearest-even (format's conversions); Q8_0 needs len(src) to be
// a multiple of 32.
func encode(dst []byte, dt format.DType, src []float32) int {
	switch dt {
	case format.F32:
		for i, v := range src {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
		}
		return 4 * len(src)
	case format.F16:
		for i, v := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], format.F32ToF16(v))
		}
		return 2 * len(src)
	case format.BF16:
		for i, v := range src {
			binary.LittleEndian.PutUint16(dst[2*i:], format.F32ToBF16(v))
		}
		return 2 * len(src)
	case format.Q8_0:
		n := 0
		for b := 0; b < len(src); b += format.Q8Block {
			quantQ8(dst[n:n+format.Q8BlockBytes], src[b:b+format.Q8Block])
			n += format.Q8BlockBytes
		}
		return n
	}
	panic("encode: unsupported dtype " + dt.String())
}

// quantQ8 quantises one block of 32 values to Q8_0: the scale is
// max|x|/127 stored as f16 (round-to-nearest-even), and each value is
// round(x / s) with s the f16-rounded scale read back, so that dequantising
// q·s reproduces the quantiser's own grid. round is half away from zero
// (math.Round, as ggml's roundf); results are clamped to ±127 because the
// f16 rounding of the scale can make |x/s| exceed 127 slightly. NaN maps to 0.
func quantQ8(dst []byte, x []float32) {
	x, dst = x[:format.Q8Block], dst[:format.Q8BlockBytes]
	// max |x| on the bit patterns: non-negative floats order like their
	// bits, and an integer max compiles to a conditional move where a float
	// compare would branch unpredictably. NaN counts as 0.
	var m uint32
	for _, v := range x {
		a := math.Float32bits(v) &^ (1 << 31)
		if a > 0x7f800000 {
			a = 0
		}
		m = max(m, a)
	}
	amax := math.Float32frombits(m)
	h := format.F32ToF16(amax / 127)
	binary.LittleEndian.PutUint16(dst, h)
	s := float64(format.F16ToF32(h))
	if s == 0 || math.IsInf(s, 0) {
		clear(dst[2:])
		return
	}
	for i, v := range x {
		f := float64(v) / s
		var q int32
		switch {
		case f >= 127:
			q = 127
		case f <= -127:
			q = -127
		case f == f:
			q = int32(math.Round(f)) // half away from zero; branch-light, unlike a test on the fraction
		}
		dst[2+i] = byte(int8(q))
	}
}

// segment is a run of elements of an output tensor: either source bytes in
// a float dtype or values from a generator.
type segment struct {
	src   []byte
	srcDT format.DType
	gen   func(dst []float32) // fills dst with the next values
	n     int64               // elements
}

// tensorReader streams the concatenation of segments encoded in dtype out,
// converting a chunk at a time so that memory stays at one chunk whatever the
// tensor size. Same-dtype source segments are copied without conversion.
type tensorReader struct {
	segs    []segment
	out     format.DType
	cur     int
	pos     int64 // elements of segs[cur] consumed
	pending []byte
	scratch []float32
	unitEl  int // elements per output unit (32 for Q8_0)
	unitB   int // bytes per output unit
	check   func() error

	// Large converted segments go through convJobs encoded on other
	// goroutines: queue holds the jobs in flight in output order, head the
	// one being read out, free finished buffers for reuse.
	disp    int64 // elements of segs[cur] handed to jobs
	queue   []*convJob
	head    *convJob
	headOff int
	free    []*convJob
}

const chunkElems = 1 << 15

func newTensorReader(out format.DType, segs []segment, check func() error) *tensorReader {
	r := &tensorReader{segs: segs, out: out, unitEl: 1, unitB: elemSize(out), check: check}
	if out == format.Q8_0 {
		r.unitEl, r.unitB = format.Q8Block, format.Q8BlockBytes
	}
	return r
}

func (r *tensorReader) Read(p []byte) (int, error) {
	if len(r.pending) > 0 {
		n := copy(p, r.pending)
		r.pending = r.pending[n:]
		return n, nil
	}
	if r.head != nil {
		return r.readHead(p), nil
	}
	for r.cur < len(r.segs) && r.pos == r.segs[r.cur].n {
		r.cur++
		r.pos, r.disp = 0, 0
	}
	if r.cur == len(r.segs) {
		return 0, io.EOF
	}
	if r.check != nil {
		if err := r.check(); err != nil {
			return 0, err
		}
	}
	s := &r.segs[r.cur]
	if s.src != nil && s.srcDT == format.BF16 && r.out == format.F16 && len(p) >= 2 {
		k := min(int64(len(p)/2), s.n-r.pos)
		bf16ToF16(p[:2*k], s.src[2*r.pos:2*(r.pos+k)])
		r.pos += k
		return int(2 * k), nil
	}
	if s.src != nil && s.srcDT == r.out {
		es := int64(elemSize(r.out))
		n := copy(p, s.src[r.pos*es:s.n*es])
		if n%int(es) != 0 { // keep element alignment for the next call
			n -= n % int(es)
			if n == 0 {
				r.pending = append(r.pending[:0], s.src[r.pos*es:(r.pos+1)*es]...)
				r.pos++
				return r.Read(p)
			}
		}
		r.pos += int64(n) / es
		return n, nil
	}
	if s.n >= parallelMin {
		return r.readParallel(p, s)
	}
	units := int64(len(p) / r.unitB)
	if rem := (s.n - r.pos) / int64(r.unitEl); units > rem {
		units = rem
	}
	if units > chunkElems/int64(r.unitEl) {
		units = chunkElems / int64(r.unitEl)
	}
	if units == 0 {
		if (s.n-r.pos)%int64(r.unitEl) != 0 {
			return 0, fmt.Errorf("segment of %d elements is not a multiple of %d", s.n, r.unitEl)
		}
		// p is smaller than one unit: encode one into pending.
		buf := make([]byte, r.unitB)
		r.fill(1)
		encode(buf, r.out, r.scratch[:r.unitEl])
		r.pending = buf
		return r.Read(p)
	}
	r.fill(units)
	n := encode(p, r.out, r.scratch[:units*int64(r.unitEl)])
	return n, nil
}

// fill converts the next units·unitEl elements of the current segment into
// scratch and advances.
func (r *tensorReader) fill(units int64) {
	k := units * int64(r.unitEl)
	if cap(r.scratch) < int(k) {
		r.scratch = make([]float32, chunkElems)
	}
	d := r.scratch[:k]
	s := &r.segs[r.cur]
	if s.gen != nil {
		s.gen(d)
	} else {
		es := int64(elemSize(s.srcDT))
		decode(d, s.srcDT, s.src[r.pos*es:(r.pos+k)*es])
	}
	r.pos += k
}

// Quantising to Q8_0 or rounding f32 to f16 costs several times a copy, so
// segments of at least parallelMin elements are converted in jobs of
// jobElems on as many goroutines as there are CPUs. Each job is a pure
// function of its own elements and jobs are read out in order, so the bytes
// are those of the serial path; at most maxInFlight jobs exist at a time,
// which bounds memory at maxInFlight·jobElems·(4 + output bytes).
const (
	jobElems    = 1 << 16 // a multiple of format.Q8Block
	parallelMin = 2 * jobElems
)

func maxInFlight() int { return 2 * max(runtime.GOMAXPROCS(0), 1) }

type convJob struct {
	vals []float32
	out  []byte
	n    int   // bytes of out filled
	k    int64 // elements
	done chan struct{}
}

// readParallel keeps the job queue full, then reads from the oldest job.
func (r *tensorReader) readParallel(p []byte, s *segment) (int, error) {
	for len(r.queue) < maxInFlight() && r.disp < s.n {
		k := min(jobElems, s.n-r.disp)
		k -= k % int64(r.unitEl)
		if k == 0 {
			break // a tail shorter than one unit: reported once the queue is read
		}
		j := r.job()
		j.k = k
		vals := j.vals[:k]
		var src []byte
		if s.gen != nil {
			s.gen(vals) // generators are sequential streams: fill in order here
		} else {
			es := int64(elemSize(s.srcDT))
			src = s.src[r.disp*es : (r.disp+k)*es]
		}
		go func(srcDT, out format.DType) {
			if src != nil {
				decode(vals, srcDT, src)
			}
			j.n = encode(j.out, out, vals)
			close(j.done)
		}(s.srcDT, r.out)
		r.disp += k
		r.queue = append(r.queue, j)
	}
	if len(r.queue) == 0 {
		return 0, fmt.Errorf("segment of %d elements is not a multiple of %d", s.n, r.unitEl)
	}
	j := r.queue[0]
	r.queue = append(r.queue[:0], r.queue[1:]...)
	<-j.done
	r.pos += j.k
	r.head, r.headOff = j, 0
	return r.readHead(p), nil
}

// job returns a finished job's buffers or new ones.
func (r *tensorReader) job() *convJob {
	if n := len(r.free); n > 0 {
		j := r.free[n-1]
		r.free = r.free[:n-1]
		j.done = make(chan struct{})
		return j
	}
	return &convJob{vals: make([]float32, jobElems), out: make([]byte, jobElems/r.unitEl*r.unitB), done: make(chan struct{})}
}

func (r *tensorReader) readHead(p []byte) int {
	j := r.head
	n := copy(p, j.out[r.headOff:j.n])
	r.headOff += n
	if r.headOff == j.n {
		r.head = nil
		r.free = append(r.free, j)
	}
	return n
}

// bf16ToF16 converts bf16 to f16 with round-to-nearest-even. bf16 has 7
// mantissa bits and f16 10, so every bf16 whose exponent is in f16's normal
// range converts exactly by moving bits; the rest (zero, subnormal results,
// overflow, Inf, NaN) go through the general path.
func bf16ToF16(dst, src []byte) {
	n := len(src) / 2
	src, dst = src[:2*n], dst[:2*n] // one bounds check for the loop
	for i := 0; i < len(src); i += 2 {
		h := uint16(src[i]) | uint16(src[i+1])<<8
		e := (h >> 7) & 0xff
		o := h&0x8000 | (e-112)<<10 | (h&0x7f)<<3
		if e-113 > 142-113 { // outside f16's normal range (unsigned wrap covers e < 113)
			o = format.F32ToF16(format.BF16ToF32(h))
		}
		dst[i], dst[i+1] = byte(o), byte(o>>8)
	}
}
