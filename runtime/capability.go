package runtime

// Optional capabilities a Backend may implement besides the Backend
// interface. Tools find them with a type assertion; a backend that lacks
// one is still a complete backend.

// BandwidthProber measures the memory bandwidth the backend's ops can use,
// the reference for how close decode comes to its limit (one decode step
// reads every weight once).
type BandwidthProber interface {
	// CopyBandwidth moves a buffer of about bytes bytes (a backend may use
	// less where it cannot allocate that much) several times and returns the
	// best rate in bytes per second, with Method saying what was timed.
	CopyBandwidth(bytes int) (Bandwidth, error)
}

// Bandwidth is a measured memory bandwidth.
type Bandwidth struct {
	BytesPerSec float64
	// Bytes is the buffer size actually used.
	Bytes int64
	// Method says what was timed and what counts as a byte moved, e.g.
	// "device-local vkCmdCopyBuffer, read+write bytes".
	Method string
}

// PrefillChunker is implemented by backends whose prefill is faster in
// longer passes than the runtime's default (a GPU whose matrix units need
// many rows per matmul to be busy). Options.PrefillChunk, when set, wins.
type PrefillChunker interface {
	// PrefillChunk returns the preferred rows per forward pass (0: default).
	PrefillChunk() int
}

// Submitter is implemented by backends that queue ops (GPUs): Submit starts
// the ops queued so far without waiting for them, so that the device runs
// while the caller queues the rest of a forward pass. The runtime calls it
// every few layers; the next Read or Sync still waits for everything.
type Submitter interface {
	Submit() error
}

// Profiler is implemented by backends that queue ops and can time them on
// the device (GPU timestamp queries). A caller brackets each op it enqueues
// with ProfileMark("") before and ProfileMark(label) after; the device time
// between the two is charged to label. Marks must not straddle a Read or
// Sync (the bracketed op must be recorded into one submission).
type Profiler interface {
	// ProfileStart begins a profile, discarding any earlier marks.
	ProfileStart() error
	// ProfileMark records a device timestamp at this point of the op stream.
	ProfileMark(label string) error
	// ProfileStop waits for pending work and returns the device time per
	// label since ProfileStart.
	ProfileStop() ([]OpTime, error)
}

// OpTime is the time spent in one kind of op.
type OpTime struct {
	Op      string
	Count   int
	Seconds float64
}

// MLPBlock is implemented by backends that can run a decode row's whole
// SwiGLU MLP block as one op (a GPU, where each op boundary is a pipeline
// stage that drains before the next starts).
type MLPBlock interface {
	// MLP adds down · (silu(gate·n) ⊙ (up·n)) to each row of h ([rows,
	// dim], dim = norm.Cols()), where n = RMSNorm(h row, norm, eps). It
	// reports false, having queued nothing, when it has no fused form for
	// these rows or weights; the caller then runs the ops one by one.
	// Unlike those ops it leaves no gate, up or activation buffers.
	MLP(h Buffer, norm, gate, up, down Weight, rows int, eps float32) (bool, error)
}

// AttentionBlock is implemented by backends that can run a decode row's
// attention together with its output projection and residual add as one
// op (a GPU: one pipeline stage fewer per attention layer).
type AttentionBlock interface {
	// AttentionOut does what Attention does (the new keys and values
	// stored in the caches, attention over them) and then h += out · oᵀ,
	// where out is the attention output ([rows, heads·headDim]) and o the
	// output projection ([dim, heads·headDim]). It reports false, having
	// queued nothing, when it has no fused form for these arguments; the
	// caller then runs Attention, MatMul and Add. It leaves no attention
	// output buffer.
	AttentionOut(h, q, k, v, kCache, vCache Buffer, o Weight, rows, pos0, heads, kvHeads, headDim int) (bool, error)
}

// SSMBlock is implemented by backends that can run the tail of a decode
// row's Mamba-2 mixer (the scan step, the gated norm, the output projection
// and the residual add) as one op (a GPU: two pipeline stages fewer per
// Mamba layer).
type SSMBlock interface {
	// SSMOut does what SSMScan(y, xbc, dt, state, aNeg, dtBias, dSkip,
	// rows, heads, kvHeads, headDim), GatedRMSNorm(g, y, z, gnorm, rows,
	// heads, headDim, eps) and MatMul(tmp, g, out, rows) do, then h += tmp.
	// It reports false, having queued nothing, when it has no fused form
	// for these arguments; the caller then runs the ops. It leaves no y, g
	// or projection buffer.
	SSMOut(h, xbc, dt, z, state Buffer, aNeg, dtBias, dSkip, gnorm, out Weight, rows, heads, kvHeads, headDim int, eps float32) (bool, error)
}

// NormedMatMul is implemented by backends that can fold an RMSNorm into the
// projections that read it (a GPU decode matvec, where the norm would be a
// dispatch of its own).
type NormedMatMul interface {
	// MatMulNormed does MatMul(dst, RMSNorm(x, norm, eps), w, rows) without
	// writing the normalised rows anywhere (norm: [1, w.Cols()]). It
	// reports false, having queued nothing, when it has no such form for
	// these arguments; the caller then runs RMSNorm and MatMul.
	MatMulNormed(dst, x Buffer, norm Weight, eps float32, w Weight, rows int) (bool, error)
}

// TokenFeeder is implemented by backends that queue ops (GPUs) and can hand
// a decode step's greedy token to the next step on the device. Greedy
// decoding then records step n+1 while the device runs step n and reads
// each token once its step is done, so the device does not wait for the host
// between steps (on the H200 the host takes ~150 µs to record a 16-layer
// step).
type TokenFeeder interface {
	// EmbedFed does Embed for one row whose id is the float-encoded integer
	// that Argmax wrote at ids[off].
	EmbedFed(dst Buffer, table Weight, ids Buffer, off int) error
	// SubmitRead starts the ops queued so far, followed by a copy of
	// src[off], without waiting for them, and returns a ticket for the
	// copied value.
	SubmitRead(src Buffer, off int) (Ticket, error)
	// Await waits for a ticket's submission and returns its value. A ticket
	// stays valid for at least two later SubmitReads.
	Await(t Ticket) (float32, error)
}

// Ticket names a value SubmitRead will copy back.
type Ticket uint64

// TopKer is implemented by backends that can rank a row's largest values
// on the device, so that a sampler with top-k reads k candidates instead of
// the whole vocabulary (128k logits on Llama 3) and ranks only those.
type TopKer interface {
	// TopK writes the k largest of x[:n] in rank order (the larger value
	// first, the lower index on ties) into dst[:k] and their indices, as
	// float-encoded integers, into dst[k:2k]. It may refuse a k past what
	// it supports (at least 256).
	TopK(dst, x Buffer, n, k int) error
}
