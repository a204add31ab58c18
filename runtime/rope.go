package runtime

import (
	"fmt"
	"math"

	"github.com/mmbformat/mmb/format"
)

// RopeInvFreq returns the headDim/2 inverse frequencies HF transformers uses
// for r, computed in float32 step by step as torch does
// (_compute_default_rope_parameters, _compute_linear_scaling_rope_parameters,
// _compute_llama3_parameters), so that angles agree to the last bit or two.
func RopeInvFreq(r format.Rope, headDim int) ([]float32, error) {
	if headDim <= 0 || headDim%2 != 0 {
		return nil, fmt.Errorf("rope: head_dim %d must be even", headDim)
	}
	if !(r.Theta > 0) {
		return nil, fmt.Errorf("rope: theta %g must be positive", r.Theta)
	}
	inv := make([]float32, headDim/2)
	for i := range inv {
		// torch.arange(0, dim, 2).float() / dim, then base ** that, then 1.0 / that.
		e := float32(2*i) / float32(headDim)
		inv[i] = 1 / float32(math.Pow(r.Theta, float64(e)))
	}
	switch r.Type {
	case "", "default":
	case "linear":
		if !(r.Factor > 0) {
			return nil, fmt.Errorf("rope: linear scaling factor %g must be positive", r.Factor)
		}
		f := float32(r.Factor)
		for i := range inv {
			inv[i] /= f
		}
	case "llama3":
		if !(r.Factor > 0) || r.OriginalMaxPositions <= 0 || !(r.HighFreqFactor > r.LowFreqFactor) || !(r.LowFreqFactor > 0) {
			return nil, fmt.Errorf("rope: llama3 parameters factor %g, low %g, high %g, original_max_position_embeddings %d are not usable",
				r.Factor, r.LowFreqFactor, r.HighFreqFactor, r.OriginalMaxPositions)
		}
		factor := float32(r.Factor)
		old := float32(r.OriginalMaxPositions)
		low := float32(r.LowFreqFactor)
		// Python scalars (computed in float64) meet float32 tensors and are
		// rounded to float32 there.
		lowWavelen := float32(float64(r.OriginalMaxPositions) / r.LowFreqFactor)
		highWavelen := float32(float64(r.OriginalMaxPositions) / r.HighFreqFactor)
		span := float32(r.HighFreqFactor - r.LowFreqFactor)
		for i, f := range inv {
			wavelen := float32(2*math.Pi) / f
			llama := f
			if wavelen > lowWavelen {
				llama = f / factor
			}
			smooth := (old/wavelen - low) / span
			smoothed := (1-smooth)*llama/factor + smooth*llama
			medium := !(wavelen < highWavelen) && !(wavelen > lowWavelen)
			if medium {
				llama = smoothed
			}
			inv[i] = llama
		}
	default:
		return nil, fmt.Errorf("rope: type %q not supported (default, linear, llama3)", r.Type)
	}
	return inv, nil
}
