// Package vulkan is mmb's GPU backend: runtime.Backend over Vulkan compute.
//
// It is the only cgo in mmb. The Vulkan loader (libvulkan.so.1) is opened
// with dlopen at run time and every entry point is fetched through
// vkGetInstanceProcAddr, so building needs neither the Vulkan SDK nor
// libvulkan-dev, and a binary starts (and reports ErrUnavailable) on a
// machine without Vulkan. With CGO_ENABLED=0 the package still builds and
// always reports ErrUnavailable.
//
// Ops are recorded into a command list and run as one command buffer,
// submitted once at the next Read or Sync; pipelines, descriptor sets and the
// command buffer are created once and reused.
package vulkan

import (
	"errors"
	"fmt"
	"strings"
)

// AutoDevice as Options.Device picks the best device: discrete GPUs first,
// then integrated, virtual and CPU devices; more memory first within a kind.
const AutoDevice = -1

// Options configure New.
type Options struct {
	// Device is an index into ListDevices, or AutoDevice.
	Device int
	// NoSubgroups forces the shared-memory reduction shaders even where the
	// device has subgroup arithmetic (to test the fallback path).
	NoSubgroups bool
	// NoCoopMatrix keeps prefill matmuls on the fp32 SIMT shaders even where
	// the device has cooperative matrices (whose fp16 inputs round the
	// activations to 11 significant bits).
	NoCoopMatrix bool
	// MatvecSplit is the number of subgroups that share each row of a
	// decode matvec (at most 4): 0 picks 2 for rows of 8192 values or more
	// and 1 for shorter ones, 1 never splits. For benchmarks.
	MatvecSplit int
	// MatvecRowPairs: 1 makes every plain decode matvec compute two rows
	// per subgroup, -1 none, 0 only Q8_0 ones past 16384 rows (the lm_head).
	// For benchmarks.
	MatvecRowPairs int
	// MLPFeatures is the number of ffn features per workgroup of the
	// one-dispatch decode MLP block (Backend.MLP; 16, 32 or 64): 0 picks 32, -1
	// turns the block off (gate/up and down as two stages). For benchmarks.
	MLPFeatures int
	// NoAttentionBlock keeps decode attention, its output projection and
	// residual add as separate stages where the one-dispatch attention
	// block (Backend.AttentionOut) would serve. For benchmarks.
	NoAttentionBlock bool
	// PipelineStats creates every pipeline capturing the driver's compiler
	// statistics (VK_KHR_pipeline_executable_properties, where present: on
	// NVIDIA, register counts and the like), for diagnostics. It may slow
	// pipeline creation.
	PipelineStats bool
	// NoSSMBlock keeps a decode row's Mamba-2 scan, gated norm and output
	// projection as three stages where the one-dispatch SSM block
	// (Backend.SSMOut) would serve. For tests and benchmarks.
	NoSSMBlock bool
	// CacheDir holds the on-disk pipeline cache; "" means
	// os.UserCacheDir()/mmb, "-" disables the cache.
	CacheDir string
}

// DeviceInfo describes one Vulkan device.
type DeviceInfo struct {
	Index       int
	Name        string
	Type        string // "discrete GPU", "integrated GPU", "virtual GPU", "CPU", "other"
	APIVersion  string // e.g. "1.3.230"
	VendorID    uint32
	DeviceID    uint32
	MemoryBytes uint64 // total of the device-local heaps
	// SubgroupSize is the default subgroup width; SubgroupArithmetic says
	// whether compute shaders may use subgroup reductions.
	SubgroupSize       int
	SubgroupArithmetic bool
	Float16            bool // shaderFloat16
	Int8               bool // shaderInt8
	Storage16          bool // storageBuffer16BitAccess
	Storage8           bool // storageBuffer8BitAccess
	// CoopMatrix: VK_NV_cooperative_matrix with 16×16×16 fp16 matrices
	// accumulating in fp32 (tensor cores), used for prefill matmuls.
	CoopMatrix bool
	// AtomicFloatAdd: VK_EXT_shader_atomic_float's float32 atomic add on
	// storage buffers, which the one-dispatch MLP block needs.
	AtomicFloatAdd bool
	// SubgroupShuffle: subgroupShuffleXor, likewise.
	SubgroupShuffle bool

	typeRank int
	// mmDeviceScope: vulkanMemoryModelDeviceScope, which device-scope
	// atomics need where the memory model is enabled (with CoopMatrix).
	mmDeviceScope bool
}

func (d DeviceInfo) String() string {
	var f []string
	if d.Float16 {
		f = append(f, "fp16")
	}
	if d.Int8 {
		f = append(f, "int8")
	}
	if d.Storage16 {
		f = append(f, "16-bit storage")
	}
	if d.SubgroupArithmetic {
		f = append(f, "subgroup arithmetic")
	}
	if d.CoopMatrix {
		f = append(f, "cooperative matrix")
	}
	if d.AtomicFloatAdd {
		f = append(f, "float atomic add")
	}
	feat := "none"
	if len(f) > 0 {
		feat = strings.Join(f, ", ")
	}
	return fmt.Sprintf("%d: %s (%s, Vulkan %s, %.1f GiB, subgroup %d; %s)",
		d.Index, d.Name, d.Type, d.APIVersion, float64(d.MemoryBytes)/(1<<30), d.SubgroupSize, feat)
}

// ErrUnavailable is returned when Vulkan cannot be used at all: no loader, no
// device, a Vulkan older than 1.1, or a build without cgo.
var ErrUnavailable = errors.New("vulkan: not available")

// Sentinels for VkResult errors worth telling apart (errors.Is).
var (
	ErrDeviceLost        = errors.New("vulkan: device lost")
	ErrOutOfDeviceMemory = errors.New("vulkan: out of device memory")
	ErrOutOfHostMemory   = errors.New("vulkan: out of host memory")
	ErrFeatureMissing    = errors.New("vulkan: feature not present")
)

// Error is a failed Vulkan call.
type Error struct {
	Op     string // what was being done, e.g. "create device"
	Result int32  // the VkResult (or an mmb code below -2e9)
}

var resultNames = map[int32]string{
	2: "VK_TIMEOUT", -1: "VK_ERROR_OUT_OF_HOST_MEMORY", -2: "VK_ERROR_OUT_OF_DEVICE_MEMORY",
	-3: "VK_ERROR_INITIALIZATION_FAILED", -4: "VK_ERROR_DEVICE_LOST", -5: "VK_ERROR_MEMORY_MAP_FAILED",
	-6: "VK_ERROR_LAYER_NOT_PRESENT", -7: "VK_ERROR_EXTENSION_NOT_PRESENT", -8: "VK_ERROR_FEATURE_NOT_PRESENT",
	-9: "VK_ERROR_INCOMPATIBLE_DRIVER", -10: "VK_ERROR_TOO_MANY_OBJECTS", -11: "VK_ERROR_FORMAT_NOT_SUPPORTED",
	-12: "VK_ERROR_FRAGMENTED_POOL", -13: "VK_ERROR_UNKNOWN", -1000069000: "VK_ERROR_OUT_OF_POOL_MEMORY",
	-1000161000: "VK_ERROR_FRAGMENTATION", -1000012000: "VK_ERROR_INVALID_SHADER_NV",
	-2000000001: "libvulkan.so.1 not found", -2000000002: "no such device",
	-2000000003: "no compute queue", -2000000004: "no suitable memory type",
	-2000000005: "Vulkan 1.1 or later needed", -2000000006: "entry point missing",
}

func (e *Error) Error() string {
	name, ok := resultNames[e.Result]
	if !ok {
		name = fmt.Sprintf("VkResult %d", e.Result)
	}
	return "vulkan: " + e.Op + ": " + name
}

func (e *Error) Is(target error) bool {
	switch target {
	case ErrDeviceLost:
		return e.Result == -4
	case ErrOutOfDeviceMemory:
		return e.Result == -2
	case ErrOutOfHostMemory:
		return e.Result == -1
	case ErrFeatureMissing:
		return e.Result == -8
	case ErrUnavailable:
		return e.Result == -2000000001 || e.Result == -2000000005 || e.Result == -9
	}
	return false
}

func typeName(t uint32) (string, int) {
	switch t {
	case 2:
		return "discrete GPU", 0
	case 1:
		return "integrated GPU", 1
	case 3:
		return "virtual GPU", 2
	case 4:
		return "CPU", 3
	}
	return "other", 4
}

// best returns the index of the device AutoDevice picks.
func best(devs []DeviceInfo) int {
	b := 0
	for i, d := range devs {
		if d.typeRank < devs[b].typeRank || (d.typeRank == devs[b].typeRank && d.MemoryBytes > devs[b].MemoryBytes) {
			b = i
		}
	}
	return b
}
