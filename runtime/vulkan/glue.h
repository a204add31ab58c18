// The C side of the Vulkan backend: everything that touches Vulkan structs or
// calls a Vulkan entry point lives in glue.c, so that Go passes only integers,
// C-allocated memory and pointer-free Go arrays across the boundary.
#ifndef MMB_GLUE_H
#define MMB_GLUE_H

#include "vk.h"

// Errors that are not VkResults, reported through the same int channel.
#define MMB_ERR_NO_LOADER (-2000000001)    // libvulkan.so.1 could not be opened
#define MMB_ERR_NO_DEVICE (-2000000002)    // device index out of range
#define MMB_ERR_NO_QUEUE (-2000000003)     // no compute queue family
#define MMB_ERR_NO_MEMTYPE (-2000000004)   // no memory type with the wanted properties
#define MMB_ERR_OLD_VULKAN (-2000000005)   // instance or device older than Vulkan 1.1
#define MMB_ERR_MISSING_FN (-2000000006)   // an entry point could not be loaded
#define MMB_ERR_NO_STATS (-2000000007)     // pipeline statistics were not enabled (or the device lacks them)

#define MMB_NBIND 12  // storage buffer bindings in the one descriptor set layout (ssmo.comp binds 12; the Vulkan minimum per stage is 4, desktop devices offer far more)
#define MMB_PC_WORDS 32 // push constant words (128 bytes, the guaranteed minimum)

typedef struct mmb_devinfo {
	char name[256];
	uint32_t type, api, vendor, device_id, driver_version;
	uint64_t device_local_bytes;
	uint32_t subgroup_size, subgroup_stages, subgroup_ops;
	uint32_t storage16, float16, int8, storage8;
	uint32_t coopmat_nv; // 16×16×16 fp16·fp16+fp32 subgroup matrices, memory model (see glue.c)
	uint32_t atomic_add_f32; // VK_EXT_shader_atomic_float's shaderBufferFloat32AtomicAdd
	uint32_t mm_device_scope; // vulkanMemoryModelDeviceScope (enabled with the cooperative-matrix memory model)
	uint32_t max_wg_invocations, max_wg_size_x, max_shared, max_push;
	uint32_t max_wg_count[3];
	uint32_t max_storage_range;
	uint32_t max_alloc_count;
	uint32_t max_storage_buffers; // maxPerStageDescriptorStorageBuffers
	uint8_t cache_uuid[16];
	float timestamp_period;         // ns per timestamp tick
	uint32_t timestamp_valid_bits;  // of the compute queue family; 0: no timestamps
} mmb_devinfo;

typedef struct mmb_ctx mmb_ctx;

enum { MMB_CMD_DISPATCH = 0, MMB_CMD_COPY = 1, MMB_CMD_FILL = 2, MMB_CMD_BARRIER = 3, MMB_CMD_TIMESTAMP = 4, MMB_CMD_RESET_QUERIES = 5 };

// One recorded command. Dispatch: pipeline, set, groups, push constants.
// Copy: src buffer in a, dst buffer in b, offsets and size in c, d, e (bytes).
// Fill: buffer in a, offset c, size d (bytes), value e.
// Barrier: a = 1 when only dispatches stand on either side (compute to
// compute), else compute and transfer on both sides.
// Timestamp: query pool in a, query c (written when earlier commands are done).
// Reset queries: query pool in a, first query c, count d.
typedef struct mmb_cmd {
	uint32_t kind;
	uint32_t pc_bytes;
	uint64_t pipeline, set;
	uint64_t a, b, c, d, e;
	uint32_t gx, gy, gz, pad;
	uint32_t pc[MMB_PC_WORDS];
} mmb_cmd;

int mmb_init(void);
uint32_t mmb_instance_version(void);
int mmb_device_count(void);
int mmb_device_info(int index, mmb_devinfo *out);

int mmb_ctx_create(int index, int want16, int wantf16, int want8, int wantcm, int wantaf, int wantstats, const void *cache, size_t cache_len, mmb_ctx **out);
void mmb_ctx_destroy(mmb_ctx *c);
int mmb_cache_data(mmb_ctx *c, void *out, size_t *len);

// kind: 0 device-local, 1 host-visible for uploads (write-combined is fine),
// 2 host-visible and cached for reading back.
int mmb_buffer_create(mmb_ctx *c, uint64_t size, int kind, VkBuffer *buf, VkDeviceMemory *mem, void **mapped);
void mmb_buffer_destroy(mmb_ctx *c, VkBuffer buf, VkDeviceMemory mem);

int mmb_pipeline_create(mmb_ctx *c, const uint32_t *code, size_t code_bytes, const uint32_t *spec, uint32_t nspec, VkPipeline *out);
void mmb_pipeline_destroy(mmb_ctx *c, VkPipeline p);
// Writes "executable\tstatistic\tvalue\n" lines (NUL-terminated, truncated to n).
int mmb_pipeline_stats(mmb_ctx *c, VkPipeline p, char *out, size_t n);
int mmb_set_create(mmb_ctx *c, const VkBuffer *bufs, VkDescriptorSet *out);

#define MMB_RING 4 // command buffers mmb_submit cycles through

// Records cmds into the context's command buffer, submits once and waits
// (also for every earlier mmb_submit).
int mmb_run(mmb_ctx *c, const mmb_cmd *cmds, uint32_t n);
// Records cmds into the next of MMB_RING command buffers and submits them
// without waiting; host: end with a barrier for host reads; *slot: the ring
// slot used.
int mmb_submit(mmb_ctx *c, const mmb_cmd *cmds, uint32_t n, int host, uint32_t *slot);
// Waits for the submission in ring slot k unless that is done already.
int mmb_wait_slot(mmb_ctx *c, uint32_t k);
int mmb_wait_idle(mmb_ctx *c);

// Timestamp query pools (mmbbench --profile).
int mmb_query_pool_create(mmb_ctx *c, uint32_t n, VkQueryPool *out);
void mmb_query_pool_destroy(mmb_ctx *c, VkQueryPool p);
int mmb_query_results(mmb_ctx *c, VkQueryPool p, uint32_t first, uint32_t n, uint64_t *out);

#endif
