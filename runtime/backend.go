package runtime

import "github.com/mmbformat/mmb/format"

// Buffer is float32 storage owned by a backend (host memory on the CPU,
// device memory on a GPU). Len is in elements.
type Buffer interface{ Len() int }

// Weight is a read-only parameter uploaded once. Matrices are row-major
// [Rows, Cols] in their stored dtype; vectors have Rows == 1.
type Weight interface {
	Rows() int
	Cols() int
	DType() format.DType
}

// Backend is the set of operations the model needs; nothing more general.
// Operations are enqueued in call order. A backend may run them at once (CPU)
// or record them and run them at the next Sync or Read (GPU). All arithmetic
// accumulates in float32 whatever the weight dtype.
//
// Layouts: activations are [rows, width] row-major, starting at element 0 of
// their buffer (a buffer may be longer than an op needs). Offsets and counts
// are in elements. A Backend is used by one goroutine at a time.
type Backend interface {
	Name() string
	// Alloc returns a zeroed buffer of n float32.
	Alloc(n int) (Buffer, error)
	// Upload copies a weight from the mapped file. data holds rows·cols values in
	// dt (for Q8_0, cols is a multiple of 32). Accepted dtypes: F32, F16, BF16, Q8_0.
	Upload(name string, dt format.DType, rows, cols int, data []byte) (Weight, error)
	// Write copies host values into dst[off:].
	Write(dst Buffer, off int, src []float32) error
	// Read waits for pending work and copies src[off:off+len(dst)] to the host.
	Read(dst []float32, src Buffer, off int) error
	// Sync waits for all pending work.
	Sync() error
	Close() error

	Ops
}

// Ops are the model's operations. rows is the number of token positions.
type Ops interface {
	// Embed: dst[r, :] = table[ids[r], :] as float32.
	Embed(dst Buffer, table Weight, ids []int32) error
	// MatMul: dst[r, :w.Rows] = x[r, :w.Cols] · wᵀ.
	MatMul(dst Buffer, x Buffer, w Weight, rows int) error
	// RMSNorm: dst[r] = x[r] / sqrt(mean(x[r]²) + eps) · w, for rows of width dim.
	RMSNorm(dst, x Buffer, w Weight, rows, dim int, eps float32) error
	// Copy: dst[dstOff+i] = src[srcOff+i] for i < n (e.g. the last row of a
	// prefill into the lm_head input, so that only that row is projected).
	Copy(dst Buffer, dstOff int, src Buffer, srcOff, n int) error
	// Add: dst[i] += src[i] for i < n.
	Add(dst, src Buffer, n int) error
	// SwiGLU: dst[i] = silu(gate[i]) · up[i] for i < n.
	SwiGLU(dst, gate, up Buffer, n int) error
	// RoPE rotates x in place, rotate-half layout (pairs i and i+headDim/2),
	// for rows at positions pos0+r; x is [rows, heads·headDim]. invFreq holds
	// headDim/2 inverse frequencies (scaling already applied).
	RoPE(x Buffer, rows, heads, headDim, pos0 int, invFreq Buffer) error
	// Attention stores k and v ([rows, kvHeads·headDim]) at positions
	// pos0..pos0+rows-1 of the caches ([maxPos, kvHeads·headDim]), then writes
	// causal attention over the cache for q ([rows, heads·headDim]) into out.
	// Query head h uses kv head h / (heads/kvHeads). Scale is 1/sqrt(headDim).
	Attention(out, q, k, v, kCache, vCache Buffer, rows, pos0, heads, kvHeads, headDim int) error
	// Conv1D: a depthwise causal convolution of width 4 followed by SiLU over
	// the channels of x ([rows, ch]). state ([3, ch]) holds the previous three
	// inputs (oldest first) and is updated to the last three. w is [ch, 4]
	// (w[c,3] multiplies the current token), bias is [1, ch].
	Conv1D(dst, x, state Buffer, w, bias Weight, rows, ch int) error
	// SSMScan runs the Mamba-2 recurrence over rows tokens. xbc is the conv
	// output [rows, 2·dxb + heads·p]: x at column 0 (kvHeads·p), B at dxb
	// (kvHeads·n), C at 2·dxb (heads·n), with p = n = headDim here. dt is
	// [rows, heads] raw. state is [heads, p, n] fp32, updated. y is
	// [rows, heads·p]. Per head h (kv head g = h / (heads/kvHeads)):
	// d = softplus(dt+dtBias[h]); S = exp(d·A[h])·S + d·x_g⊗B_g; y = S·C_h + D[h]·x_g.
	// aNeg holds A = -exp(A_log) precomputed by the model.
	SSMScan(y, xbc, dt, state Buffer, aNeg, dtBias, dSkip Weight, rows, heads, kvHeads, headDim int) error
	// GatedRMSNorm: g = y ⊙ silu(z); each head's headDim channels are RMS
	// normalised (eps) and multiplied by w ([1, heads·headDim]). y and z are [rows, heads·headDim].
	GatedRMSNorm(dst, y, z Buffer, w Weight, rows, heads, headDim int, eps float32) error
	// Argmax writes, for each row of x ([rows, n]), the index of its largest
	// value (first on ties) into dst[r] as a float32-encoded integer.
	Argmax(dst, x Buffer, rows, n int) error
}
