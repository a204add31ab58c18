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
