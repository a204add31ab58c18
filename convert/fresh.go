package convert

import (
	"math"
	"math/rand/v2"
)

// Fresh Mamba-2 parameters (DESIGN.md §4). Every parameter of every layer
// draws from its own PCG stream, seeded with (seed, layer<<8 | param), so a
// layer's values depend only on the seed and the layer index, not on which
// other layers are converted or in what order. Values are computed in
// float64 from the raw 64-bit outputs (not through rand's float helpers, so
// that a change there cannot change the files) and rounded once to float32.
const (
	paramZ = 1 + iota
	paramDT
	paramConvW
	paramConvB
	paramDTBias
	paramALog
)

// Ranges of the fresh parameters.
const (
	convBound = 0.5  // PyTorch's default for a depthwise conv of width 4: 1/sqrt(fan_in 4)
	dtMin     = 1e-3 // dt0 log-uniform in [dtMin, dtMax]
	dtMax     = 1e-1
	dtFloor   = 1e-4 // dt0 clamp
	aMin      = 1.0  // A = -exp(A_log), A_log = log(U(aMin, aMax))
	aMax      = 16.0
)

type stream struct{ p *rand.PCG }

func newStream(seed uint64, layer, param int) stream {
	return stream{rand.NewPCG(seed, uint64(layer)<<8|uint64(param))}
}

// unit is uniform in [0, 1) with 53 random bits.
func (s stream) unit() float64 { return float64(s.p.Uint64()>>11) * 0x1p-53 }

// uniformGen returns a generator of values uniform in [-b, b).
func uniformGen(s stream, b float64) func([]float32) {
	return func(dst []float32) {
		for i := range dst {
			dst[i] = float32(b * (2*s.unit() - 1))
		}
	}
}

func fillUniform(s stream, b float64, n int) []float32 {
	v := make([]float32, n)
	uniformGen(s, b)(v)
	return v
}

// dtBias is the inverse softplus of dt0, dt0 log-uniform in [dtMin, dtMax]
// clamped at dtFloor, as Mamba-2's initialisation.
func dtBias(s stream, n int) []float32 {
	v := make([]float32, n)
	lo, hi := math.Log(dtMin), math.Log(dtMax)
	for i := range v {
		dt := math.Max(math.Exp(lo+s.unit()*(hi-lo)), dtFloor)
		v[i] = float32(dt + math.Log(-math.Expm1(-dt)))
	}
	return v
}

// aLog is log(U(aMin, aMax)).
func aLog(s stream, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(math.Log(aMin + s.unit()*(aMax-aMin)))
	}
	return v
}

func constant(x float32, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = x
	}
	return v
}
