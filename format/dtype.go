package format

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
)

// DType is the element type of a tensor. The numeric values are part of the
// file format (SPEC.md §5) and never change meaning.
type DType uint8

const (
	F32  DType = 1
	F16  DType = 2
	BF16 DType = 3
	Q8_0 DType = 4 // blocks of 32 values: f16 scale, then 32 int8
	I32  DType = 5
	U8   DType = 6 // raw bytes (tokenizer files and other blobs)
)

// Q8Block is the number of values in one Q8_0 block; Q8BlockBytes its size.
const (
	Q8Block      = 32
	Q8BlockBytes = 2 + Q8Block
)

var dtypeNames = map[DType]string{F32: "F32", F16: "F16", BF16: "BF16", Q8_0: "Q8_0", I32: "I32", U8: "U8"}

func (d DType) String() string {
	if s, ok := dtypeNames[d]; ok {
		return s
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Valid reports whether d is a dtype this version of the format knows.
func (d DType) Valid() bool { _, ok := dtypeNames[d]; return ok }

// ParseDType accepts the names printed by String, case-insensitively.
func ParseDType(s string) (DType, error) {
	for d, n := range dtypeNames {
		if strings.EqualFold(n, s) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("unknown dtype %q (known: F32, F16, BF16, Q8_0, I32, U8)", s)
}

// ElemCount multiplies the dims of shape, reporting overflow past 2^62 and
// negative dims as errors instead of wrapping.
func ElemCount(shape []int64) (int64, error) {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d", d)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > 1<<62 {
			return 0, fmt.Errorf("shape %v: element count overflows", shape)
		}
		n = lo
	}
	return int64(n), nil
}

// NBytes is the exact byte size of a tensor of this dtype and shape. Q8_0 needs
// the last dimension to be a multiple of 32 so that blocks never straddle rows.
func (d DType) NBytes(shape []int64) (int64, error) {
	n, err := ElemCount(shape)
	if err != nil {
		return 0, err
	}
	switch d {
	case F32, I32:
		return n * 4, nil
	case F16, BF16:
		return n * 2, nil
	case U8:
		return n, nil
	case Q8_0:
		if len(shape) == 0 || shape[len(shape)-1]%Q8Block != 0 {
			return 0, fmt.Errorf("Q8_0 needs the last dimension to be a multiple of %d, shape %v", Q8Block, shape)
		}
		return n / Q8Block * Q8BlockBytes, nil
	}
	return 0, fmt.Errorf("unknown dtype %d", uint8(d))
}

// F16ToF32 converts IEEE half bits to float32 exactly.
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf/NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// subnormal: value = mant * 2^-24
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}

// F32ToF16 rounds to nearest-even, keeps NaN a NaN, overflows to Inf and
// produces subnormals where needed.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00 | uint16(mant>>13) // quiet NaN, keep payload top bits
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign // too small even for a subnormal: rounds to zero
		}
		m := mant | 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		r := m >> shift
		rem := m & ((1 << shift) - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++ // may carry into the exponent, which is the right rounding (up to Inf)
	}
	return sign | uint16(r)
}

// BF16ToF32 is exact: bf16 is the top half of a float32.
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// F32ToBF16 rounds to nearest-even and keeps NaN a NaN.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40 // quiet NaN
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
