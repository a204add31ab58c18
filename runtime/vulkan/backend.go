//go:build cgo

package vulkan

/*
#include "glue.h"
*/
import "C"

import (
	"cmp"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"unsafe"

	"github.com/mmbformat/mmb/format"
	rt "github.com/mmbformat/mmb/runtime"
	"github.com/mmbformat/mmb/shaders"
)

const (
	nbind      = C.MMB_NBIND
	pcWords    = C.MMB_PC_WORDS
	stagingMax = 16 << 20 // upload chunk
	arenaMin   = 1 << 20
	maxHeadDim = 256 // attention and scan shaders keep a head in shared memory / 4 registers per invocation
	matvecRows = 8   // matvec.comp's MAXR: up to this many token rows read the weights once
)

// Backend runs the model's ops on one Vulkan device. Its methods may be
// called from several goroutines; they are serialised.
type Backend struct {
	mu       sync.Mutex
	ctx      *C.mmb_ctx
	dev      DeviceInfo
	subgroup bool
	// coopmat: prefill matmuls and attention on the cooperative-matrix
	// shaders (coopmat.go).
	coopmat     bool
	k16, v16    devBuf // attncm's f16 caches
	maxShared   int    // maxComputeSharedMemorySize
	maxWG       int    // the largest workgroup, up to 1024 invocations
	oldMatmul   bool   // tests, benchmarks: matmul.comp even where matmul2 fits
	untiledAttn bool   // no shared-memory room for attnprefill's tiles (or tests)
	scalarMV    bool   // tests: use the word-at-a-time matvec even where matvec4 fits
	noQ8Fold    bool   // tests, benchmarks: Q8_0 matvecs neither fold the norm nor pair gate and up
	noPair      bool   // tests, benchmarks: gate, up and SwiGLU as three dispatches, never paired
	// mvCap > 0 launches at most this many matvec4 workgroups, each looping
	// over row blocks, to measure whether the ramp of thousands of tiny
	// workgroups bounds mid-size matvecs; 0 launches one per block.
	mvCap int
	// mvRPW > 0 (benchmarks): matvec4 rows (blocks) per workgroup in place
	// of wgMatvec4's.
	mvRPW int
	// mvSplit: subgroups per matvec4 row; 0 picks split's choice, 1 never
	// splits.
	mvSplit int
	// mvRowPairs: 0 lets rowPairs choose which plain matvec4s take two rows
	// per subgroup, 1 makes all, -1 none.
	mvRowPairs int
	// mlpF: ffn features per workgroup of the one-dispatch MLP block
	// (mlp.go); 0: the block is not used. mlpSnap holds the copy of h it reads.
	mlpF    int
	mlpSnap devBuf
	// ssmCount holds the SSM block's per-head counters (ssmo.go), zeros
	// between its dispatches.
	ssmCount devBuf
	mlpU2    int // benchmarks: down words per lane per round (0: mlpRound)
	mlpUA    int // benchmarks: gate/up words per lane per round (0: the dtype's)
	mlpPhase int // benchmarks: 1 skips the MLP block's down, 2 its gate/up loads (wrong sums)
	mlpRot   int // rows of down by which the MLP block's workgroups rotate their walk
	// lastResid is the residual matvec recorded last (idx as mvCall's), which
	// an MLP block may turn into its SNAP form; lastBlock the attention or
	// SSM block.
	lastResid  mvCall
	lastBlock  blockCall
	noAttnO    bool // tests, benchmarks: no attention block
	noSSMO     bool // tests, benchmarks: no SSM block (ssmo.go)
	noNormFold bool // tests, benchmarks: no MatMulNormed (the session runs RMSNorm and MatMul)
	noConvFold bool // tests: the Mamba-2 conv as its own dispatch, not in the in_proj matvec
	attnORows  int  // benchmarks: o rows per attention-block workgroup (0: attnORows)
	oprojU     int  // benchmarks: words per lane in flight in the attention and SSM blocks' projection (0: oprojRound)
	attnKU     int  // benchmarks: key words in flight per position in the attention block (0: attnKeyRound)

	// attnChunk is the number of context positions per workgroup of the
	// decode attention; attnPart holds the chunks' partial results.
	// Contexts of at most attnOnePass positions run in one pass instead.
	attnChunk   int
	attnOnePass int
	attnPart    devBuf
	// noGroupedAttn (tests, benchmarks): the split path runs attndec per
	// query head even where attndecg could serve a kv head's group at once;
	// groupedAttns counts the attndecg dispatches (tests); groupedWarm
	// marks the group sizes whose attndecg pipeline exists.
	noGroupedAttn bool
	groupedAttns  int
	groupedWarm   [attnGroupMax + 1]bool
	// norms maps RMSNorm outputs to their inputs while both are unchanged,
	// for matvecs that normalise on the fly.
	norms map[C.VkBuffer]normOf
	glus  map[C.VkBuffer]gluOf // likewise SwiGLU outputs
	// fresh: matvec4 dispatches whose output nothing has read or written
	// since, so that a RoPE may rotate a norm-fed one in place and a SwiGLU
	// may pair the gate and up projections (a few at a time; a slice, as
	// map values this large would be allocated per insert).
	fresh []mvCall
	// lastMV is the matvec recorded last, whose output a residual Add may
	// fold into it.
	lastMV mvCall
	warmed map[warmKey]bool // dtypes and splits whose decode pipelines exist
	// argmaxSplit is the row width from which Argmax runs in two passes;
	// argPart holds the first pass's results.
	argmaxSplit int
	argPart     devBuf
	topPart     devBuf      // TopK's passes between the first and the last (feed.go)
	rpw         uint32      // matvec output rows per workgroup with subgroups
	specMV      [4][]uint32 // matvec specialisation constants for 1, 2, 4, 8 token rows
	maxRange    uint64      // maxStorageBufferRange
	maxGroup    uint32      // maxComputeWorkGroupCount[0]

	pipes map[pipeKey]C.VkPipeline
	sets  map[[nbind]C.VkBuffer]C.VkDescriptorSet

	cmds    []C.mmb_cmd
	submits int // early submissions (Submit, SubmitRead), for tests
	// slotGen counts the submissions into each ring slot; feed holds
	// SubmitRead's tickets and the host memory their values land in
	// (feed.go).
	slotGen  [C.MMB_RING]uint64
	slotOut  C.uint32_t // mmb_submit's slot (a local would escape per call)
	feed     feedState
	inFlight bool // early submissions not yet waited for (flush waits)
	// stageXfer: a copy or fill was recorded since the last barrier;
	// xferNext: the command being recorded is one (hazard's barrier choice).
	stageXfer, xferNext bool
	// barrierAt: index in cmds of the last barrier (-1: none there);
	// lastCompute: the last barrier recorded is compute-only.
	barrierAt   int
	lastCompute bool
	submitEach  bool                // tests: every op starts with a Submit (barriers across submissions)
	written     map[C.VkBuffer]bool // since the last barrier
	read        map[C.VkBuffer]bool

	arena    []*hostBuf // upload space for the pending step, reset at each flush
	arenaCur int
	arenaOff uint64
	readback *hostBuf
	staging  *hostBuf
	dummy    devBuf

	owned     []devBuf     // destroyed at Close
	stream    [2]rt.Buffer // the bandwidth probe's buffers, kept for reuse
	cachePath string
	err       error // sticky: set when a submission failed
	closed    bool
	prof      *profState // timestamps while profiling (capability.go)

	ssm ssmChunk // the chunked scan's settings and scratch (ssmchunk.go)
}

type devBuf struct {
	h     C.VkBuffer
	mem   C.VkDeviceMemory
	bytes uint64
}

type hostBuf struct {
	devBuf
	ptr unsafe.Pointer
}

func (h *hostBuf) bytes() []byte { return unsafe.Slice((*byte)(h.ptr), h.devBuf.bytes) }

// buffer is rt.Buffer on the device: n float32.
type buffer struct {
	b *Backend
	devBuf
	n int
}

func (x *buffer) Len() int { return x.n }

// weight is rt.Weight on the device, in its stored dtype (Q8_0 repacked:
// int8 quants, then f16 scales from word so).
type weight struct {
	b *Backend
	devBuf
	rows, cols int
	dt         format.DType
	so         uint32
}

func (w *weight) Rows() int           { return w.rows }
func (w *weight) Cols() int           { return w.cols }
func (w *weight) DType() format.DType { return w.dt }

var _ rt.Backend = (*Backend)(nil)

// New opens a device and prepares the backend.
func New(opts Options) (*Backend, error) {
	devs, err := ListDevices()
	if err != nil {
		return nil, err
	}
	if len(devs) == 0 {
		return nil, fmt.Errorf("%w: no Vulkan devices", ErrUnavailable)
	}
	idx := opts.Device
	if idx == AutoDevice {
		idx = best(devs)
	}
	if idx < 0 || idx >= len(devs) {
		return nil, fmt.Errorf("vulkan: device %d does not exist (%d devices)", opts.Device, len(devs))
	}
	d, ci, err := deviceInfo(idx)
	if err != nil {
		return nil, err
	}
	if ci.max_wg_invocations < 256 || ci.max_wg_size_x < 256 || ci.max_push < 4*pcWords {
		return nil, fmt.Errorf("vulkan: %s: needs 256-invocation workgroups and %d bytes of push constants", d.Name, 4*pcWords)
	}
	if ci.max_storage_buffers < nbind {
		return nil, fmt.Errorf("vulkan: %s: needs %d storage buffers per shader stage, the device offers %d", d.Name, nbind, ci.max_storage_buffers)
	}
	b := &Backend{
		dev:       d,
		subgroup:  d.SubgroupArithmetic && !opts.NoSubgroups,
		coopmat:   d.CoopMatrix && !opts.NoCoopMatrix,
		rpw:       uint32(max(1, wgMatvec/max(d.SubgroupSize, 1))),
		maxRange:  uint64(ci.max_storage_range),
		maxGroup:  uint32(ci.max_wg_count[0]),
		maxWG:     int(min(ci.max_wg_invocations, ci.max_wg_size_x, 1024)),
		pipes:     map[pipeKey]C.VkPipeline{},
		barrierAt: -1,
		sets:      map[[nbind]C.VkBuffer]C.VkDescriptorSet{},
		written:   map[C.VkBuffer]bool{},
		read:      map[C.VkBuffer]bool{},
	}
	if opts.CacheDir != "-" {
		dir := opts.CacheDir
		if dir == "" {
			if ucd, err := os.UserCacheDir(); err == nil {
				dir = filepath.Join(ucd, "mmb")
			}
		}
		if dir != "" {
			uuid := C.GoBytes(unsafe.Pointer(&ci.cache_uuid[0]), 16)
			b.cachePath = filepath.Join(dir, fmt.Sprintf("vulkan-pipelines-%04x-%04x-%s.bin", d.VendorID, d.DeviceID, hex.EncodeToString(uuid)))
		}
	}
	var cache []byte
	if b.cachePath != "" {
		cache, _ = os.ReadFile(b.cachePath) // a missing or stale cache only costs compile time
	}
	var cp unsafe.Pointer
	if len(cache) > 0 {
		cp = unsafe.Pointer(&cache[0])
	}
	// 16-bit storage, fp16 and int8 are enabled where present; the shaders
	// read every weight dtype through 32-bit words (so they also run where
	// these are absent) and accumulate in fp32 as the interface requires.
	if err := check("create device", C.mmb_ctx_create(C.int(idx), cbool(d.Storage16), cbool(d.Float16), cbool(d.Int8), cbool(b.coopmat), cbool(d.AtomicFloatAdd && opts.MLPFeatures >= 0), cbool(opts.PipelineStats), cp, C.size_t(len(cache)), &b.ctx)); err != nil {
		return nil, fmt.Errorf("%s: %w", d.Name, err)
	}
	for i := range b.specMV {
		rpw := uint32(1)
		if b.subgroup {
			rpw = b.rpw
		}
		b.specMV[i] = []uint32{wgMatvec, rpw, 1 << i}
	}
	if opts.MatvecSplit < 0 || opts.MatvecSplit > 4 {
		b.Close()
		return nil, fmt.Errorf("vulkan: MatvecSplit %d: want 0 to 4", opts.MatvecSplit)
	}
	b.mvSplit = opts.MatvecSplit
	if opts.MatvecRowPairs < -1 || opts.MatvecRowPairs > 1 {
		b.Close()
		return nil, fmt.Errorf("vulkan: MatvecRowPairs %d: want -1, 0 or 1", opts.MatvecRowPairs)
	}
	b.mvRowPairs = opts.MatvecRowPairs
	b.noAttnO = opts.NoAttentionBlock
	b.noSSMO = opts.NoSSMBlock
	switch opts.MLPFeatures {
	case 0, 16, 32, 64:
		if b.subgroup && d.AtomicFloatAdd && d.SubgroupShuffle && (!b.coopmat || d.mmDeviceScope) && opts.MLPFeatures >= 0 {
			b.mlpF = cmp.Or(opts.MLPFeatures, mlpFeatures)
			b.mlpRot = mlpRotate
		}
	case -1:
	default:
		b.Close()
		return nil, fmt.Errorf("vulkan: MLPFeatures %d: want 0, 16, 32, 64 or -1", opts.MLPFeatures)
	}
	b.attnChunk = attnChunkMin
	b.attnOnePass = attnOnePassMax
	b.untiledAttn = ci.max_shared < 40<<10
	b.maxShared = int(ci.max_shared)
	b.argmaxSplit = 8192
	b.norms = map[C.VkBuffer]normOf{}
	b.glus = map[C.VkBuffer]gluOf{}
	if b.dummy, err = b.newDevBuf(16); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func cbool(v bool) C.int {
	if v {
		return 1
	}
	return 0
}

// Device describes the device in use.
func (b *Backend) Device() DeviceInfo { return b.dev }

func (b *Backend) Name() string { return "vulkan" }

func (b *Backend) newDevBuf(size uint64) (devBuf, error) {
	size = (max(size, 4) + 3) &^ 3
	if size > b.maxRange {
		return devBuf{}, fmt.Errorf("vulkan: buffer of %d bytes exceeds the device's maxStorageBufferRange (%d)", size, b.maxRange)
	}
	var d devBuf
	var p unsafe.Pointer
	if err := check("allocate buffer", C.mmb_buffer_create(b.ctx, C.uint64_t(size), 0, &d.h, &d.mem, &p)); err != nil {
		return devBuf{}, fmt.Errorf("%w (%d bytes)", err, size)
	}
	d.bytes = size
	b.owned = append(b.owned, d)
	return d, nil
}

func (b *Backend) newHostBuf(size uint64, kind int) (*hostBuf, error) {
	h := &hostBuf{}
	if err := check("allocate host buffer", C.mmb_buffer_create(b.ctx, C.uint64_t(size), C.int(kind), &h.h, &h.mem, &h.ptr)); err != nil {
		return nil, fmt.Errorf("%w (%d bytes)", err, size)
	}
	h.devBuf.bytes = size
	return h, nil
}

func (b *Backend) destroy(d devBuf) { C.mmb_buffer_destroy(b.ctx, d.h, d.mem) }

// begin locks the backend and reports a closed or failed backend.
func (b *Backend) begin() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errors.New("vulkan: backend is closed")
	}
	if b.err != nil {
		err := b.err
		b.mu.Unlock()
		return err
	}
	if b.submitEach {
		if err := b.submit(); err != nil {
			b.mu.Unlock()
			return err
		}
	}
	return nil
}

func (b *Backend) Alloc(n int) (rt.Buffer, error) {
	if err := b.begin(); err != nil {
		return nil, err
	}
	defer b.mu.Unlock()
	if n < 0 {
		return nil, fmt.Errorf("vulkan: alloc of %d floats", n)
	}
	d, err := b.newDevBuf(uint64(n) * 4)
	if err != nil {
		return nil, err
	}
	b.fill(d.h, 0, d.bytes, 0)
	return &buffer{b: b, devBuf: d, n: n}, nil
}

// Upload copies a weight into device-local memory through the staging
// buffer, in chunks, and waits for the copies.
func (b *Backend) Upload(name string, dt format.DType, rows, cols int, data []byte) (rt.Weight, error) {
	if err := b.begin(); err != nil {
		return nil, err
	}
	defer b.mu.Unlock()
	if rows < 0 || cols < 0 {
		return nil, fmt.Errorf("vulkan: upload %s: shape [%d %d]", name, rows, cols)
	}
	want, err := dt.NBytes([]int64{int64(rows), int64(cols)})
	if err != nil {
		return nil, fmt.Errorf("vulkan: upload %s: %w", name, err)
	}
	if int64(len(data)) != want {
		return nil, fmt.Errorf("vulkan: upload %s: %d bytes of data for %v [%d %d], want %d", name, len(data), dt, rows, cols, want)
	}
	n := uint64(rows) * uint64(cols)
	w := &weight{b: b, rows: rows, cols: cols, dt: dt}
	var size uint64
	switch dt {
	case format.F32:
		size = 4 * n
	case format.F16, format.BF16:
		size = 2 * n
	case format.Q8_0:
		qwords := (n + 3) / 4
		w.so = uint32(qwords)
		size = qwords*4 + n/format.Q8Block*2
	default:
		return nil, fmt.Errorf("vulkan: upload %s: dtype %v not supported", name, dt)
	}
	if n > math.MaxUint32 {
		return nil, fmt.Errorf("vulkan: upload %s: %d elements exceed 32-bit shader indexing", name, n)
	}
	if w.devBuf, err = b.newDevBuf(size); err != nil {
		return nil, fmt.Errorf("upload %s: %w", name, err)
	}
	if err := b.flush(); err != nil {
		return nil, err
	}
	if n >= warmElems {
		b.warmDecode(dt, b.split(cols))
		if b.mlpF > 0 && b.subgroup && cols%4 == 0 && rows > cols {
			// The MLP block's pipeline depends on the hidden size: made for
			// the width of the tall matrices (gate, up, the embedding: the
			// hidden size), once per width.
			ms := b.mlpSpec(1, dt, cols)
			b.pipeline(mlpNames[dt], ms[:])
		}
	}
	if b.staging == nil {
		if b.staging, err = b.newHostBuf(stagingMax, 1); err != nil {
			return nil, err
		}
	}
	st := b.staging.bytes()
	if dt != format.Q8_0 {
		for off := 0; off < len(data); off += stagingMax {
			c := copy(st, data[off:])
			b.copyBuf(b.staging.h, w.h, 0, uint64(off), uint64(c))
			if err := b.flush(); err != nil {
				return nil, err
			}
		}
		return w, nil
	}
	// Q8_0: split each 34-byte block into its 32 quants and its f16 scale.
	const perChunk = stagingMax / format.Q8BlockBytes
	nblk := len(data) / format.Q8BlockBytes
	for b0 := 0; b0 < nblk; b0 += perChunk {
		b1 := min(b0+perChunk, nblk)
		k := b1 - b0
		q, s := st[:k*format.Q8Block], st[k*format.Q8Block:k*(format.Q8Block+2)]
		for i := 0; i < k; i++ {
			blk := data[(b0+i)*format.Q8BlockBytes:]
			s[2*i], s[2*i+1] = blk[0], blk[1]
			copy(q[i*format.Q8Block:(i+1)*format.Q8Block], blk[2:format.Q8BlockBytes])
		}
		b.copyBuf(b.staging.h, w.h, 0, uint64(b0*format.Q8Block), uint64(k*format.Q8Block))
		b.copyBuf(b.staging.h, w.h, uint64(k*format.Q8Block), uint64(w.so)*4+uint64(b0*2), uint64(2*k))
		if err := b.flush(); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// warmElems is the weight size (elements) from which an upload means a real
// model: the pipelines a decode step uses are then created at load time, not
// during the first tokens (NVIDIA's compiler takes tens of ms for each).
// Small weights (tests) skip it, so that test backends stay cheap.
const warmElems = 1 << 20

// warmDecode creates the pipelines of a one-token decode step for weights
// of dtype dt whose matvecs split rows split ways (once per pair), and the
// dtype-independent ones once. Failures are left to the first real use to
// report.
func (b *Backend) warmDecode(dt format.DType, split int) {
	if b.warmed == nil {
		b.warmed = map[warmKey]bool{}
	}
	if b.warmed[warmKey{dt, split}] {
		return
	}
	if len(b.warmed) == 0 {
		for _, p := range []struct {
			name string
			spec []uint32
		}{{"rmsnorm", specRow}, {"rmsnorm_sg", specNorm}, {"argmax", specRow}, {"argmaxpart", specRow}, {"argmaxmerge", specRow},
			{"add", specElem}, {"swiglu", specElem}, {"rope", specElem}, {"embed", specElem}, {"embedf", specElem},
			{"attndec", []uint32{wgAttnDec}}, {"attndec", specAttnOne}, {"attncomb", specHead}, {"conv1d", specHead}, {"ssmscan", specHead}, {"gatednorm", specHead}} {
			b.pipeline(p.name, p.spec)
		}
		if spec, err := b.topKSpec(41); err == nil { // mmbrun's top-k 40 (k+1 ranked)
			b.pipeline("topk", spec[:])
		}
	}
	b.warmed[warmKey{dt, split}] = true
	sfx := dtSuffix[dt]
	if b.subgroup {
		spec := b.mvSpec(1, split)
		for _, v := range []string{"matvec4", "matvec4n", "matvec4np", "matvec4s", "matvec4r", "matvec4sr"} {
			b.pipeline(v+"_"+sfx, spec[:])
		}
		if b.rowPairs(dt, maxFoldRows+1) {
			b.pipeline("matvec4w_"+sfx, spec[:]) // the lm_head's
		}
		b.pipeline("matvec4ng_"+sfx, spec[:])
		b.pipeline("matvec4g_"+sfx, spec[:])
		if b.mlpF > 0 {
			b.pipeline("matvec4rc_"+sfx, spec[:])
			ao, so := b.oprojSpec(wgAttnOne, true, dt), b.oprojSpec(wgSSMO, false, dt)
			b.pipeline(attnONames[dt], ao[:])
			b.pipeline(ssmoNames[dt], so[:])
			b.pipeline("matvec4nc_"+sfx, spec[:])
			b.pipeline("copyf", specElem)
		}
	}
}

type warmKey struct {
	dt    format.DType
	split int
}

func (b *Backend) buf(x rt.Buffer, what string, need int) (*buffer, error) {
	v, ok := x.(*buffer)
	if !ok || v == nil || v.b != b {
		return nil, fmt.Errorf("vulkan: %s is not a buffer of this backend", what)
	}
	if need > v.n || need < 0 {
		return nil, fmt.Errorf("vulkan: %s holds %d floats, the op needs %d", what, v.n, need)
	}
	return v, nil
}

func (b *Backend) wt(x rt.Weight, what string, need int) (*weight, error) {
	v, ok := x.(*weight)
	if !ok || v == nil || v.b != b {
		return nil, fmt.Errorf("vulkan: %s is not a weight of this backend", what)
	}
	if need > v.rows*v.cols {
		return nil, fmt.Errorf("vulkan: weight %s has %d values, the op needs %d", what, v.rows*v.cols, need)
	}
	return v, nil
}

// arenaPut copies host data into the step's upload arena.
func (b *Backend) arenaPut(data []byte) (C.VkBuffer, uint64, error) {
	need := uint64(len(data))
	for {
		if b.arenaCur < len(b.arena) {
			a := b.arena[b.arenaCur]
			if b.arenaOff+need <= a.devBuf.bytes {
				off := b.arenaOff
				copy(a.bytes()[off:], data)
				b.arenaOff = (off + need + 15) &^ 15
				return a.h, off, nil
			}
			b.arenaCur++
			b.arenaOff = 0
			continue
		}
		size := uint64(arenaMin)
		for size < need {
			size *= 2
		}
		h, err := b.newHostBuf(size, 1)
		if err != nil {
			return 0, 0, err
		}
		b.arena = append(b.arena, h)
	}
}

func f32bytes(s []float32) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*len(s))
}

func (b *Backend) Write(dst rt.Buffer, off int, src []float32) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	d, err := b.buf(dst, "Write dst", off+len(src))
	if err != nil {
		return err
	}
	if off < 0 {
		return fmt.Errorf("vulkan: Write at offset %d", off)
	}
	if len(src) == 0 {
		return nil
	}
	h, aoff, err := b.arenaPut(f32bytes(src))
	if err != nil {
		return err
	}
	b.copyBuf(h, d.h, aoff, uint64(off)*4, uint64(len(src))*4)
	return nil
}

func (b *Backend) Read(dst []float32, src rt.Buffer, off int) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	s, err := b.buf(src, "Read src", off+len(dst))
	if err != nil {
		return err
	}
	if off < 0 {
		return fmt.Errorf("vulkan: Read at offset %d", off)
	}
	if len(dst) == 0 {
		return b.flush()
	}
	size := uint64(len(dst)) * 4
	if b.readback == nil || b.readback.devBuf.bytes < size {
		// Safe to replace: a Read always flushes, so no pending command
		// refers to the old one.
		if b.readback != nil {
			b.destroy(b.readback.devBuf)
			b.readback = nil
		}
		if b.readback, err = b.newHostBuf(max(size, 1<<16), 2); err != nil {
			return err
		}
	}
	b.copyBuf(s.h, b.readback.h, uint64(off)*4, 0, size)
	if err := b.flush(); err != nil {
		return err
	}
	copy(f32bytes(dst), b.readback.bytes()[:size])
	return nil
}

func (b *Backend) Sync() error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	return b.flush()
}

// flush runs the recorded commands as one submission and waits.
func (b *Backend) flush() error {
	if len(b.cmds) == 0 && !b.inFlight {
		return nil
	}
	// With nothing left to record, mmb_run still submits an empty command
	// buffer and waits for it and for the early submissions.
	var first *C.mmb_cmd
	if len(b.cmds) > 0 {
		first = &b.cmds[0]
	}
	r := C.mmb_run(b.ctx, first, C.uint32_t(len(b.cmds)))
	b.inFlight, b.stageXfer, b.lastCompute, b.barrierAt = false, false, false, -1
	b.cmds = b.cmds[:0]
	clear(b.norms)
	clear(b.glus)
	b.fresh = b.fresh[:0]
	b.lastMV, b.lastResid, b.lastBlock = mvCall{}, mvCall{}, blockCall{}
	clear(b.written)
	clear(b.read)
	b.arenaCur, b.arenaOff = 0, 0
	if err := check("run commands", r); err != nil {
		// The command buffer's state is unknown after a failed submit or
		// wait (device lost, timeout): refuse further work.
		b.err = err
		return err
	}
	return nil
}

func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	if b.ctx == nil {
		return nil
	}
	var err error
	if b.err == nil {
		err = b.flush()
	}
	if b.cachePath != "" && b.err == nil {
		b.saveCache()
	}
	// After a failed submission early ones may still run: nothing below may
	// be freed under them.
	C.mmb_wait_idle(b.ctx)
	b.profRelease()
	for _, p := range b.pipes {
		C.mmb_pipeline_destroy(b.ctx, p)
	}
	for _, d := range b.owned {
		b.destroy(d)
	}
	for _, h := range append(b.arena, b.readback, b.staging, b.feed.back) {
		if h != nil {
			b.destroy(h.devBuf)
		}
	}
	C.mmb_ctx_destroy(b.ctx)
	b.ctx = nil
	return err
}

func (b *Backend) saveCache() {
	var n C.size_t
	if C.mmb_cache_data(b.ctx, nil, &n) != 0 || n == 0 {
		return
	}
	data := make([]byte, int(n))
	if C.mmb_cache_data(b.ctx, unsafe.Pointer(&data[0]), &n) != 0 {
		return
	}
	data = data[:int(n)]
	// Best effort: a cache that cannot be written costs only compile time.
	if os.MkdirAll(filepath.Dir(b.cachePath), 0o755) != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(b.cachePath), ".pipelines-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return
	}
	if os.Rename(tmp.Name(), b.cachePath) != nil {
		os.Remove(tmp.Name())
	}
}

// pipeKey names a pipeline: a shader variant and its specialisation
// constants (a comparable struct, so that looking one up per dispatch does
// not allocate).
type pipeKey struct {
	name string
	spec [10]uint32
	n    int
}

// pipeline returns the pipeline for a shader variant and workgroup size,
// creating it on first use.
func (b *Backend) pipeline(name string, spec []uint32) (C.VkPipeline, error) {
	if len(spec) > len(pipeKey{}.spec) {
		return 0, fmt.Errorf("vulkan: %s: %d specialisation constants", name, len(spec))
	}
	key := pipeKey{name: name, n: len(spec)}
	copy(key.spec[:], spec)
	if p, ok := b.pipes[key]; ok {
		return p, nil
	}
	code, err := shaders.SPIRV(name)
	if err != nil {
		return 0, err
	}
	words := make([]uint32, len(code)/4) // Vulkan wants the code 4-byte aligned
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(code)), code)
	var p C.VkPipeline
	var sp *C.uint32_t
	if len(spec) > 0 {
		sc := slices.Clone(spec) // spec itself must not escape: callers pass literals per dispatch
		sp = (*C.uint32_t)(unsafe.Pointer(&sc[0]))
	}
	if err := check("create pipeline "+name, C.mmb_pipeline_create(b.ctx, (*C.uint32_t)(unsafe.Pointer(&words[0])), C.size_t(len(code)),
		sp, C.uint32_t(len(spec)), &p)); err != nil {
		return 0, err
	}
	b.pipes[key] = p
	return p, nil
}

func (b *Backend) set(bufs [nbind]C.VkBuffer) (C.VkDescriptorSet, error) {
	if s, ok := b.sets[bufs]; ok {
		return s, nil
	}
	var s C.VkDescriptorSet
	k := new([nbind]C.VkBuffer) // C gets a copy: bufs itself stays on the stack on the hit path
	*k = bufs
	if err := check("allocate descriptor set", C.mmb_set_create(b.ctx, &k[0], &s)); err != nil {
		return 0, err
	}
	b.sets[bufs] = s
	return s, nil
}

// hazard adds a barrier before a command that reads or writes a buffer
// written since the last barrier, or writes one read since then.
func (b *Backend) hazard(reads, writes []C.VkBuffer) {
	need := false
	for _, r := range reads {
		need = need || b.written[r]
	}
	for _, w := range writes {
		need = need || b.written[w] || b.read[w]
	}
	if !need && b.xferNext && b.lastCompute {
		// A copy or fill in a stage opened by a compute-only barrier: that
		// barrier did not order earlier dispatches' writes before transfers.
		// Widen it (it covers every earlier command), or, if it has been
		// submitted already, record a full one.
		if b.barrierAt >= 0 && b.barrierAt < len(b.cmds) && b.cmds[b.barrierAt].kind == C.MMB_CMD_BARRIER {
			b.cmds[b.barrierAt].a = 0
			b.lastCompute = false
		} else {
			need = true
		}
	}
	if need {
		// Compute-to-compute when no copy or fill stands on either side: a
		// narrower dependency than one that also waits on transfers.
		var computeOnly C.uint64_t
		if !b.stageXfer && !b.xferNext {
			computeOnly = 1
		}
		b.barrierAt, b.lastCompute = len(b.cmds), computeOnly == 1
		b.cmds = append(b.cmds, C.mmb_cmd{kind: C.MMB_CMD_BARRIER, a: computeOnly})
		b.stageXfer = false
		clear(b.written)
		clear(b.read)
	}
	for _, r := range reads {
		b.read[r] = true
		b.stale(r)
	}
	for _, w := range writes {
		b.written[w] = true
		b.forget(w)
	}
}

// stale drops the fresh record of output y, if any.
func (b *Backend) stale(y C.VkBuffer) {
	for i := 0; i < len(b.fresh); i++ {
		if b.fresh[i].y == y {
			last := len(b.fresh) - 1
			b.fresh[i] = b.fresh[last]
			b.fresh = b.fresh[:last]
			i--
		}
	}
}

// forget drops what is known about buffers derived from w, which is being
// written.
func (b *Backend) forget(w C.VkBuffer) {
	b.stale(w)
	if len(b.norms) > 0 {
		delete(b.norms, w)
		for k, nm := range b.norms {
			if nm.src == w {
				delete(b.norms, k)
			}
		}
	}
	if len(b.glus) > 0 {
		delete(b.glus, w)
		for k, g := range b.glus {
			if g.gate == w || g.up == w {
				delete(b.glus, k)
			}
		}
	}
}

func (b *Backend) copyBuf(src, dst C.VkBuffer, srcOff, dstOff, size uint64) {
	b.xferNext = true
	b.hazard([]C.VkBuffer{src}, []C.VkBuffer{dst})
	b.xferNext, b.stageXfer = false, true
	b.cmds = append(b.cmds, C.mmb_cmd{kind: C.MMB_CMD_COPY, a: C.uint64_t(src), b: C.uint64_t(dst),
		c: C.uint64_t(srcOff), d: C.uint64_t(dstOff), e: C.uint64_t(size)})
}

func (b *Backend) fill(dst C.VkBuffer, off, size uint64, v uint32) {
	b.xferNext = true
	b.hazard(nil, []C.VkBuffer{dst})
	b.xferNext, b.stageXfer = false, true
	b.cmds = append(b.cmds, C.mmb_cmd{kind: C.MMB_CMD_FILL, a: C.uint64_t(dst), c: C.uint64_t(off), d: C.uint64_t(size), e: C.uint64_t(v)})
}

// dispatch records one shader run over groups workgroups, with spec as its
// specialisation constants (the first is the workgroup size), (spread over y
// past the per-dimension limit). bufs are bound in order; bit i of wmask says
// that the shader writes bufs[i].
func (b *Backend) dispatch(name string, spec []uint32, groups uint64, bufs []C.VkBuffer, wmask uint, pc ...uint32) error {
	if groups == 0 {
		return nil
	}
	if groups > 65535*uint64(min(b.maxGroup, 65535)) {
		return fmt.Errorf("vulkan: %s: %d workgroups is too many", name, groups)
	}
	gx, gy := b.groups(groups)
	return b.dispatch3(name, spec, gx, gy, bufs, wmask, pc...)
}

// groups spreads a workgroup count over x and y past the per-dimension limit.
func (b *Backend) groups(groups uint64) (uint32, uint32) {
	gx := uint64(min(b.maxGroup, 65535))
	gy := (groups + gx - 1) / gx
	if gy == 1 {
		gx = groups
	}
	return uint32(gx), uint32(gy)
}

func (b *Backend) dispatch3(name string, spec []uint32, gx, gy uint32, bufs []C.VkBuffer, wmask uint, pc ...uint32) error {
	c, err := b.command(name, spec, gx, gy, bufs, pc)
	if err != nil {
		return err
	}
	var writes [nbind]C.VkBuffer
	nw := 0
	for i, h := range bufs {
		if wmask&(1<<i) != 0 {
			writes[nw] = h
			nw++
		}
	}
	b.hazard(bufs, writes[:nw])
	b.cmds = append(b.cmds, c)
	return nil
}

// command builds a dispatch command (pipeline and descriptor set created on
// first use) without recording it.
func (b *Backend) command(name string, spec []uint32, gx, gy uint32, bufs []C.VkBuffer, pc []uint32) (C.mmb_cmd, error) {
	p, err := b.pipeline(name, spec)
	if err != nil {
		return C.mmb_cmd{}, err
	}
	var key [nbind]C.VkBuffer
	for i := range key {
		key[i] = b.dummy.h
	}
	copy(key[:], bufs)
	s, err := b.set(key)
	if err != nil {
		return C.mmb_cmd{}, err
	}
	c := C.mmb_cmd{kind: C.MMB_CMD_DISPATCH, pipeline: C.uint64_t(p), set: C.uint64_t(s),
		gx: C.uint32_t(gx), gy: C.uint32_t(gy), gz: 1, pc_bytes: C.uint32_t(4 * len(pc))}
	for i, v := range pc {
		c.pc[i] = C.uint32_t(v)
	}
	return c, nil
}

func ceilDiv(a, b int) uint64 { return uint64((a + b - 1) / b) }

func fbits(f float32) uint32 { return math.Float32bits(f) }

// checkDims rejects negative or 32-bit-overflowing sizes before they reach a shader.
func checkDims(op string, dims ...int) error {
	p := uint64(1)
	for _, d := range dims {
		if d < 0 {
			return fmt.Errorf("vulkan: %s: negative size %d", op, d)
		}
		p *= uint64(max(d, 1))
		if p > math.MaxUint32 {
			return fmt.Errorf("vulkan: %s: sizes %v overflow 32-bit shader indexing", op, slices.Clone(dims))
		}
	}
	return nil
}

var dtSuffix = map[format.DType]string{format.F32: "f32", format.F16: "f16", format.BF16: "bf16", format.Q8_0: "q8"}

func (b *Backend) Embed(dst rt.Buffer, table rt.Weight, ids []int32) error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	w, err := b.wt(table, "embedding table", 0)
	if err != nil {
		return err
	}
	rows := len(ids)
	if err := checkDims("Embed", rows, w.cols); err != nil {
		return err
	}
	d, err := b.buf(dst, "Embed dst", rows*w.cols)
	if err != nil {
		return err
	}
	if rows == 0 {
		return nil
	}
	for i, id := range ids {
		if id < 0 || int(id) >= w.rows {
			return fmt.Errorf("vulkan: Embed: id %d at %d outside the table's %d rows", id, i, w.rows)
		}
	}
	h, off, err := b.arenaPut(unsafe.Slice((*byte)(unsafe.Pointer(&ids[0])), 4*len(ids)))
	if err != nil {
		return err
	}
	total := rows * w.cols
	return b.dispatch("embed", specElem, ceilDiv(total, wgElem), []C.VkBuffer{w.h, h, d.h}, 1<<2,
		uint32(total), uint32(w.cols), uint32(w.dt), w.so, uint32(off/4), uint32(w.rows))
}

// Submit implements runtime.Submitter: the commands recorded so far start on
// the device now, without waiting, so that the device works while the host
// records the rest of the step (up to glue.h's MMB_RING submissions are in
// flight; the next Read or Sync waits for all). The barrier bookkeeping
// carries over, since pipeline barriers order work across submissions to one
// queue; the folds that rewrite recorded commands (a residual Add into its
// matvec, RoPE into q/k, SwiGLU pairing) cannot reach back past it. No-op
// while profiling, whose marks must share one submission.
func (b *Backend) Submit() error {
	if err := b.begin(); err != nil {
		return err
	}
	defer b.mu.Unlock()
	return b.submit()
}

func (b *Backend) submit() error {
	if len(b.cmds) == 0 || b.prof != nil {
		return nil
	}
	_, err := b.submitSlot(false)
	return err
}

// submitSlot submits the recorded commands into the next ring slot (host:
// ending with a barrier for host reads) and returns the slot.
func (b *Backend) submitSlot(host bool) (int, error) {
	r := C.mmb_submit(b.ctx, &b.cmds[0], C.uint32_t(len(b.cmds)), cbool(host), &b.slotOut)
	slot := b.slotOut
	b.cmds = b.cmds[:0]
	b.barrierAt = -1
	b.fresh = b.fresh[:0]
	b.lastMV, b.lastResid, b.lastBlock = mvCall{}, mvCall{}, blockCall{}
	b.submits++
	b.inFlight = true
	if err := check("submit commands", r); err != nil {
		b.err = err
		return 0, err
	}
	b.slotGen[slot]++
	return int(slot), nil
}
