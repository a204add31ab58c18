package inspect

import (
	"fmt"
	"math"

	"github.com/mmbformat/mmb/format"
)

// Stats summarises a tensor's values. Min, Max, Mean and Std are over the
// finite values and nil when there are none.
type Stats struct {
	Name   string   `json:"name"`
	DType  string   `json:"dtype"`
	Shape  []int64  `json:"shape"`
	Count  int64    `json:"count"`
	Min    *float64 `json:"min"`
	Max    *float64 `json:"max"`
	Mean   *float64 `json:"mean"`
	Std    *float64 `json:"std"` // population standard deviation
	NaN    int64    `json:"nan"`
	Inf    int64    `json:"inf"`
	Finite int64    `json:"finite"`
}

// statsChunk is how many values are converted at a time, so that a tensor
// of any size is summarised in bounded memory (a multiple of the Q8_0 block).
const statsChunk = 1 << 16

// TensorStats streams a tensor's values through float32 conversion.
// U8 tensors are summarised as their byte values.
func TensorStats(f *format.File, t *format.TensorInfo) (*Stats, error) {
	b, err := f.Data(t)
	if err != nil {
		return nil, err
	}
	n, err := format.ElemCount(t.Shape)
	if err != nil {
		return nil, err
	}
	s := &Stats{Name: t.Name, DType: t.DType.String(), Shape: t.Shape, Count: n}
	var mean, m2 float64 // Welford: stable for long tensors
	lo, hi := math.Inf(1), math.Inf(-1)
	add := func(x float64) {
		switch {
		case math.IsNaN(x):
			s.NaN++
			return
		case math.IsInf(x, 0):
			s.Inf++
			return
		}
		s.Finite++
		d := x - mean
		mean += d / float64(s.Finite)
		m2 += d * (x - mean)
		lo, hi = min(lo, x), max(hi, x)
	}
	if t.DType == format.U8 {
		for _, c := range b {
			add(float64(c))
		}
	} else {
		buf := make([]float32, statsChunk)
		var perChunk int64
		switch t.DType {
		case format.F32, format.I32:
			perChunk = 4 * statsChunk
		case format.F16, format.BF16:
			perChunk = 2 * statsChunk
		case format.Q8_0:
			perChunk = statsChunk / format.Q8Block * format.Q8BlockBytes
		default:
			return nil, fmt.Errorf("tensor %s: dtype %s has no values", format.Quote(t.Name), t.DType)
		}
		for done := int64(0); done < n; {
			k := min(n-done, statsChunk)
			src := b[done/statsChunk*perChunk:]
			if err := format.DecodeFloat32(buf[:k], t.DType, src); err != nil {
				return nil, fmt.Errorf("tensor %s: %w", format.Quote(t.Name), err)
			}
			for _, v := range buf[:k] {
				add(float64(v))
			}
			done += k
		}
	}
	if s.Finite > 0 {
		std := math.Sqrt(m2 / float64(s.Finite))
		s.Min, s.Max, s.Mean, s.Std = &lo, &hi, &mean, &std
	}
	return s, nil
}
