//go:build cgo

#include "glue.h"

#include <dlfcn.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

// Process-wide: the loader and one instance, created on first use.
static void *lib;
static VkInstance inst;
static uint32_t inst_version;
static int init_result = 1; // 1: not yet tried
static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;

static PFN_vkGetInstanceProcAddr gipa;
#define IFN(name) static PFN_##name p_##name;
IFN(vkEnumerateInstanceVersion)
IFN(vkEnumerateInstanceExtensionProperties)
IFN(vkEnumerateInstanceLayerProperties)
IFN(vkCreateInstance)
IFN(vkEnumeratePhysicalDevices)
IFN(vkGetPhysicalDeviceProperties2)
IFN(vkGetPhysicalDeviceFeatures2)
IFN(vkGetPhysicalDeviceMemoryProperties)
IFN(vkGetPhysicalDeviceQueueFamilyProperties)
IFN(vkEnumerateDeviceExtensionProperties)
IFN(vkCreateDevice)
IFN(vkGetDeviceProcAddr)
#undef IFN

static VkPhysicalDevice *pdevs;
static uint32_t npdev;

static int has_ext(const VkExtensionProperties *e, uint32_t n, const char *name) {
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(e[i].extensionName, name) == 0) return 1;
	return 0;
}

static int do_init(void) {
	lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!lib) lib = dlopen("libvulkan.so", RTLD_NOW | RTLD_LOCAL);
	if (!lib) return MMB_ERR_NO_LOADER;
	gipa = (PFN_vkGetInstanceProcAddr)dlsym(lib, "vkGetInstanceProcAddr");
	if (!gipa) return MMB_ERR_NO_LOADER;
#define GLOBAL(name) p_##name = (PFN_##name)gipa(NULL, #name);
	GLOBAL(vkEnumerateInstanceVersion)
	GLOBAL(vkEnumerateInstanceExtensionProperties)
	GLOBAL(vkEnumerateInstanceLayerProperties)
	GLOBAL(vkCreateInstance)
#undef GLOBAL
	if (!p_vkCreateInstance || !p_vkEnumerateInstanceExtensionProperties) return MMB_ERR_MISSING_FN;
	// A 1.0 loader has no vkEnumerateInstanceVersion, and we need 1.1
	// (Features2, subgroup properties).
	if (!p_vkEnumerateInstanceVersion) return MMB_ERR_OLD_VULKAN;
	if (p_vkEnumerateInstanceVersion(&inst_version) != VK_SUCCESS || inst_version < VK_API_VERSION_1_1)
		return MMB_ERR_OLD_VULKAN;

	const char *exts[2];
	uint32_t next = 0;
	uint32_t n = 0;
	VkFlags flags = 0;
	if (p_vkEnumerateInstanceExtensionProperties(NULL, &n, NULL) == VK_SUCCESS && n > 0) {
		VkExtensionProperties *e = calloc(n, sizeof *e);
		if (e && p_vkEnumerateInstanceExtensionProperties(NULL, &n, e) >= 0 &&
		    has_ext(e, n, "VK_KHR_portability_enumeration")) {
			// MoltenVK devices are listed only when the application opts in.
			exts[next++] = "VK_KHR_portability_enumeration";
			flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
		}
		free(e);
	}
	const char *layers[1];
	uint32_t nlayer = 0;
	const char *val = getenv("MMB_VK_VALIDATION");
	if (val && val[0] == '1' && p_vkEnumerateInstanceLayerProperties) {
		uint32_t nl = 0;
		if (p_vkEnumerateInstanceLayerProperties(&nl, NULL) == VK_SUCCESS && nl > 0) {
			VkLayerProperties *l = calloc(nl, sizeof *l);
			if (l && p_vkEnumerateInstanceLayerProperties(&nl, l) >= 0)
				for (uint32_t i = 0; i < nl; i++)
					if (strcmp(l[i].layerName, "VK_LAYER_KHRONOS_validation") == 0)
						layers[nlayer++] = "VK_LAYER_KHRONOS_validation";
			free(l);
		}
	}

	VkApplicationInfo app = {0};
	app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
	app.pApplicationName = "mmb";
	app.pEngineName = "mmb";
	// The highest version we use; asking for 1.2+ lets us chain the
	// Vulkan11/12 feature structs on devices that have them.
	app.apiVersion = inst_version >= VK_API_VERSION_1_3 ? VK_API_VERSION_1_3 : inst_version;
	VkInstanceCreateInfo ci = {0};
	ci.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
	ci.flags = flags;
	ci.pApplicationInfo = &app;
	ci.enabledExtensionCount = next;
	ci.ppEnabledExtensionNames = exts;
	ci.enabledLayerCount = nlayer;
	ci.ppEnabledLayerNames = layers;
	VkResult r = p_vkCreateInstance(&ci, NULL, &inst);
	if (r != VK_SUCCESS) return r;

#define INST(name) p_##name = (PFN_##name)gipa(inst, #name); if (!p_##name) return MMB_ERR_MISSING_FN;
	INST(vkEnumeratePhysicalDevices)
	INST(vkGetPhysicalDeviceProperties2)
	INST(vkGetPhysicalDeviceFeatures2)
	INST(vkGetPhysicalDeviceMemoryProperties)
	INST(vkGetPhysicalDeviceQueueFamilyProperties)
	INST(vkEnumerateDeviceExtensionProperties)
	INST(vkCreateDevice)
	INST(vkGetDeviceProcAddr)
#undef INST
	r = p_vkEnumeratePhysicalDevices(inst, &npdev, NULL);
	if (r != VK_SUCCESS) return r;
	pdevs = calloc(npdev ? npdev : 1, sizeof *pdevs);
	if (!pdevs) return VK_ERROR_OUT_OF_HOST_MEMORY;
	r = p_vkEnumeratePhysicalDevices(inst, &npdev, pdevs);
	if (r < 0) return r;
	return VK_SUCCESS;
}

int mmb_init(void) {
	pthread_mutex_lock(&init_mu);
	if (init_result == 1) init_result = do_init();
	int r = init_result;
	pthread_mutex_unlock(&init_mu);
	return r;
}

uint32_t mmb_instance_version(void) { return inst_version; }

int mmb_device_count(void) { return (int)npdev; }

typedef struct features {
	VkPhysicalDeviceFeatures2 f2;
	VkPhysicalDeviceVulkan11Features f11;
	VkPhysicalDeviceVulkan12Features f12;
	VkPhysicalDevice16BitStorageFeatures s16; // used on 1.1 devices only
	VkPhysicalDeviceCooperativeMatrixFeaturesNV cm; // chained when the extension exists
	VkPhysicalDeviceShaderAtomicFloatFeaturesEXT af; // likewise
	int v12, cm_ext, af_ext;
} features;

static int device_has_ext(VkPhysicalDevice pd, const char *name) {
	uint32_t n = 0;
	if (p_vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || n == 0) return 0;
	VkExtensionProperties *e = calloc(n, sizeof *e);
	int ok = e && p_vkEnumerateDeviceExtensionProperties(pd, NULL, &n, e) >= 0 && has_ext(e, n, name);
	free(e);
	return ok;
}

static void query_features(VkPhysicalDevice pd, uint32_t api, features *f) {
	memset(f, 0, sizeof *f);
	f->f2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
	f->v12 = api >= VK_API_VERSION_1_2 && inst_version >= VK_API_VERSION_1_2;
	if (f->v12) {
		f->f11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
		f->f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
		f->f2.pNext = &f->f11;
		f->f11.pNext = &f->f12;
		void **tail = &f->f12.pNext;
		if ((f->cm_ext = device_has_ext(pd, "VK_NV_cooperative_matrix"))) {
			f->cm.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV;
			*tail = &f->cm;
			tail = &f->cm.pNext;
		}
		if ((f->af_ext = device_has_ext(pd, "VK_EXT_shader_atomic_float"))) {
			f->af.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_ATOMIC_FLOAT_FEATURES_EXT;
			*tail = &f->af;
		}
	} else {
		f->s16.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES;
		f->f2.pNext = &f->s16;
	}
	p_vkGetPhysicalDeviceFeatures2(pd, &f->f2);
}

// coopmat_ok: the device can run the cooperative-matrix shaders, which use
// 16×16×16 fp16 × fp16 + fp32 subgroup matrices (SPV_NV_cooperative_matrix,
// which also needs the Vulkan memory model, fp16 and 16-bit storage).
static int coopmat_ok(VkPhysicalDevice pd, const features *f) {
	if (!f->cm_ext || !f->cm.cooperativeMatrix || !f->f12.vulkanMemoryModel || !f->f12.shaderFloat16 || !f->f11.storageBuffer16BitAccess) return 0;
	PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV props =
		(PFN_vkGetPhysicalDeviceCooperativeMatrixPropertiesNV)gipa(inst, "vkGetPhysicalDeviceCooperativeMatrixPropertiesNV");
	uint32_t n = 0;
	if (!props || props(pd, &n, NULL) != VK_SUCCESS || n == 0) return 0;
	VkCooperativeMatrixPropertiesNV *p = calloc(n, sizeof *p);
	if (!p) return 0;
	for (uint32_t i = 0; i < n; i++) p[i].sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV;
	int ok = 0;
	if (props(pd, &n, p) >= 0)
		for (uint32_t i = 0; i < n; i++)
			if (p[i].MSize == 16 && p[i].NSize == 16 && p[i].KSize == 16 && p[i].AType == VK_COMPONENT_TYPE_FLOAT16_NV &&
			    p[i].BType == VK_COMPONENT_TYPE_FLOAT16_NV && p[i].CType == VK_COMPONENT_TYPE_FLOAT32_NV &&
			    p[i].DType == VK_COMPONENT_TYPE_FLOAT32_NV && p[i].scope == VK_SCOPE_SUBGROUP_NV) ok = 1;
	free(p);
	return ok;
}

int mmb_device_info(int index, mmb_devinfo *out) {
	if (index < 0 || (uint32_t)index >= npdev) return MMB_ERR_NO_DEVICE;
	VkPhysicalDevice pd = pdevs[index];
	VkPhysicalDeviceSubgroupProperties sg = {0};
	sg.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
	VkPhysicalDeviceProperties2 p = {0};
	p.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
	p.pNext = &sg;
	p_vkGetPhysicalDeviceProperties2(pd, &p);
	memset(out, 0, sizeof *out);
	memcpy(out->name, p.properties.deviceName, sizeof out->name);
	out->name[sizeof out->name - 1] = 0;
	out->type = (uint32_t)p.properties.deviceType;
	out->api = p.properties.apiVersion;
	out->vendor = p.properties.vendorID;
	out->device_id = p.properties.deviceID;
	out->driver_version = p.properties.driverVersion;
	out->subgroup_size = sg.subgroupSize;
	out->subgroup_stages = sg.supportedStages;
	out->subgroup_ops = sg.supportedOperations;
	const VkPhysicalDeviceLimits *l = &p.properties.limits;
	out->max_wg_invocations = l->maxComputeWorkGroupInvocations;
	out->max_wg_size_x = l->maxComputeWorkGroupSize[0];
	out->max_shared = l->maxComputeSharedMemorySize;
	out->max_push = l->maxPushConstantsSize;
	memcpy(out->max_wg_count, l->maxComputeWorkGroupCount, sizeof out->max_wg_count);
	out->max_storage_range = l->maxStorageBufferRange;
	out->max_alloc_count = l->maxMemoryAllocationCount;
	out->max_storage_buffers = l->maxPerStageDescriptorStorageBuffers;
	memcpy(out->cache_uuid, p.properties.pipelineCacheUUID, 16);
	out->timestamp_period = l->timestampPeriod;
	uint32_t nq = 0;
	p_vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, NULL);
	VkQueueFamilyProperties qf[16];
	if (nq > 16) nq = 16;
	p_vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, qf);
	for (uint32_t i = 0; i < nq; i++) // the family mmb_ctx_create picks
		if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && qf[i].queueCount > 0) { out->timestamp_valid_bits = qf[i].timestampValidBits; break; }

	VkPhysicalDeviceMemoryProperties mp;
	p_vkGetPhysicalDeviceMemoryProperties(pd, &mp);
	for (uint32_t i = 0; i < mp.memoryHeapCount && i < VK_MAX_MEMORY_HEAPS; i++)
		if (mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) out->device_local_bytes += mp.memoryHeaps[i].size;

	features f;
	query_features(pd, out->api, &f);
	if (f.v12) {
		out->storage16 = f.f11.storageBuffer16BitAccess;
		out->float16 = f.f12.shaderFloat16;
		out->int8 = f.f12.shaderInt8;
		out->storage8 = f.f12.storageBuffer8BitAccess;
		out->coopmat_nv = coopmat_ok(pd, &f);
		out->atomic_add_f32 = f.af_ext && f.af.shaderBufferFloat32AtomicAdd;
		out->mm_device_scope = f.f12.vulkanMemoryModelDeviceScope;
	} else {
		out->storage16 = f.s16.storageBuffer16BitAccess;
	}
	return VK_SUCCESS;
}

// The device-level entry points, listed once: the context holds a pointer
// for each, and load_device_fns fills them.
#define MMB_DEVICE_FNS(X) \
	X(vkDestroyDevice) \
	X(vkGetDeviceQueue) \
	X(vkDeviceWaitIdle) \
	X(vkCreateBuffer) \
	X(vkDestroyBuffer) \
	X(vkGetBufferMemoryRequirements) \
	X(vkAllocateMemory) \
	X(vkFreeMemory) \
	X(vkBindBufferMemory) \
	X(vkMapMemory) \
	X(vkUnmapMemory) \
	X(vkCreateShaderModule) \
	X(vkDestroyShaderModule) \
	X(vkCreateDescriptorSetLayout) \
	X(vkDestroyDescriptorSetLayout) \
	X(vkCreatePipelineLayout) \
	X(vkDestroyPipelineLayout) \
	X(vkCreatePipelineCache) \
	X(vkDestroyPipelineCache) \
	X(vkGetPipelineCacheData) \
	X(vkCreateComputePipelines) \
	X(vkDestroyPipeline) \
	X(vkCreateDescriptorPool) \
	X(vkDestroyDescriptorPool) \
	X(vkAllocateDescriptorSets) \
	X(vkUpdateDescriptorSets) \
	X(vkCreateCommandPool) \
	X(vkDestroyCommandPool) \
	X(vkAllocateCommandBuffers) \
	X(vkBeginCommandBuffer) \
	X(vkEndCommandBuffer) \
	X(vkResetCommandBuffer) \
	X(vkCmdBindPipeline) \
	X(vkCmdBindDescriptorSets) \
	X(vkCmdPushConstants) \
	X(vkCmdDispatch) \
	X(vkCmdPipelineBarrier) \
	X(vkCmdCopyBuffer) \
	X(vkCmdFillBuffer) \
	X(vkQueueSubmit) \
	X(vkCreateFence) \
	X(vkDestroyFence) \
	X(vkWaitForFences) \
	X(vkResetFences) \
	X(vkCreateQueryPool) \
	X(vkDestroyQueryPool) \
	X(vkGetQueryPoolResults) \
	X(vkCmdResetQueryPool) \
	X(vkCmdWriteTimestamp)

struct mmb_ctx {
	VkPhysicalDevice pd;
	VkDevice dev;
	VkQueue queue;
	uint32_t qfam;
	VkPhysicalDeviceMemoryProperties mem;
	VkCommandPool pool;
	VkCommandBuffer cb;
	VkFence fence;
	// Early submissions (mmb_submit): a ring of command buffers whose work
	// runs while the host records the rest of a step; mmb_run waits for all.
	VkCommandBuffer ring_cb[MMB_RING];
	VkFence ring_fence[MMB_RING];
	int ring_busy[MMB_RING];
	uint32_t ring_next;
	VkDescriptorSetLayout dsl;
	VkPipelineLayout layout;
	VkPipelineCache cache;
	VkDescriptorPool *dpools;
	uint32_t ndpool, dpool_left;
	// Pipeline statistics (VK_KHR_pipeline_executable_properties), when
	// asked for and present: every pipeline is created capturing them.
	PFN_vkGetPipelineExecutablePropertiesKHR getExecProps;
	PFN_vkGetPipelineExecutableStatisticsKHR getExecStats;
#define DFN(name) PFN_##name name;
	MMB_DEVICE_FNS(DFN)
#undef DFN
};

static int load_device_fns(mmb_ctx *c) {
#define DFN(name) c->name = (PFN_##name)p_vkGetDeviceProcAddr(c->dev, #name); if (!c->name) return MMB_ERR_MISSING_FN;
	MMB_DEVICE_FNS(DFN)
#undef DFN
	return VK_SUCCESS;
}

int mmb_ctx_create(int index, int want16, int wantf16, int want8, int wantcm, int wantaf, int wantstats, const void *cache, size_t cache_len, mmb_ctx **out) {
	*out = NULL;
	if (index < 0 || (uint32_t)index >= npdev) return MMB_ERR_NO_DEVICE;
	mmb_ctx *c = calloc(1, sizeof *c);
	if (!c) return VK_ERROR_OUT_OF_HOST_MEMORY;
	c->pd = pdevs[index];
	int r;

	VkPhysicalDeviceProperties2 p = {0};
	p.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
	p_vkGetPhysicalDeviceProperties2(c->pd, &p);
	if (p.properties.apiVersion < VK_API_VERSION_1_1) { free(c); return MMB_ERR_OLD_VULKAN; }

	uint32_t nq = 0;
	p_vkGetPhysicalDeviceQueueFamilyProperties(c->pd, &nq, NULL);
	VkQueueFamilyProperties *qf = calloc(nq ? nq : 1, sizeof *qf);
	if (!qf) { free(c); return VK_ERROR_OUT_OF_HOST_MEMORY; }
	p_vkGetPhysicalDeviceQueueFamilyProperties(c->pd, &nq, qf);
	uint32_t fam = UINT32_MAX;
	for (uint32_t i = 0; i < nq; i++)
		if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && qf[i].queueCount > 0) { fam = i; break; }
	free(qf);
	if (fam == UINT32_MAX) { free(c); return MMB_ERR_NO_QUEUE; }
	c->qfam = fam;
	p_vkGetPhysicalDeviceMemoryProperties(c->pd, &c->mem);

	// Enable exactly the wanted features the device has (the caller asks
	// only for what mmb_device_info reported).
	features have, en;
	query_features(c->pd, p.properties.apiVersion, &have);
	memset(&en, 0, sizeof en);
	en.f2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
	if (have.v12) {
		en.f11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
		en.f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
		en.f2.pNext = &en.f11;
		en.f11.pNext = &en.f12;
		en.f11.storageBuffer16BitAccess = want16 && have.f11.storageBuffer16BitAccess;
		en.f12.shaderFloat16 = wantf16 && have.f12.shaderFloat16;
		en.f12.shaderInt8 = want8 && have.f12.shaderInt8;
		en.f12.storageBuffer8BitAccess = want8 && have.f12.storageBuffer8BitAccess;
	} else {
		en.s16.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES;
		en.f2.pNext = &en.s16;
		en.s16.storageBuffer16BitAccess = want16 && have.s16.storageBuffer16BitAccess;
	}
	en.f2.features.shaderInt16 = have.f2.features.shaderInt16;

	const char *dexts[4];
	uint32_t ndext = 0;
	void **tail = &en.f12.pNext;
	if (wantcm && have.v12 && coopmat_ok(c->pd, &have)) {
		dexts[ndext++] = "VK_NV_cooperative_matrix";
		en.cm.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV;
		en.cm.cooperativeMatrix = 1;
		*tail = &en.cm;
		tail = &en.cm.pNext;
		en.f12.vulkanMemoryModel = 1;
		// With the memory model on, device-scope atomics (the MLP block's
		// float adds) need this too.
		en.f12.vulkanMemoryModelDeviceScope = have.f12.vulkanMemoryModelDeviceScope;
		en.f12.shaderFloat16 = 1;
		en.f11.storageBuffer16BitAccess = 1;
	}
	if (wantaf && have.v12 && have.af_ext && have.af.shaderBufferFloat32AtomicAdd) {
		dexts[ndext++] = "VK_EXT_shader_atomic_float";
		en.af.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_ATOMIC_FLOAT_FEATURES_EXT;
		en.af.shaderBufferFloat32AtomicAdd = 1;
		*tail = &en.af;
		tail = &en.af.pNext;
	}
	VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR pe = {0};
	int stats = 0;
	if (wantstats && have.v12 && device_has_ext(c->pd, "VK_KHR_pipeline_executable_properties")) {
		VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR q = {0};
		q.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR;
		VkPhysicalDeviceFeatures2 f2 = {0};
		f2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
		f2.pNext = &q;
		p_vkGetPhysicalDeviceFeatures2(c->pd, &f2);
		if (q.pipelineExecutableInfo) {
			dexts[ndext++] = "VK_KHR_pipeline_executable_properties";
			pe.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR;
			pe.pipelineExecutableInfo = 1;
			*tail = &pe;
			stats = 1;
		}
	}
	uint32_t ne = 0;
	if (p_vkEnumerateDeviceExtensionProperties(c->pd, NULL, &ne, NULL) == VK_SUCCESS && ne > 0) {
		VkExtensionProperties *e = calloc(ne, sizeof *e);
		// The portability subset must be enabled where it exists (MoltenVK).
		if (e && p_vkEnumerateDeviceExtensionProperties(c->pd, NULL, &ne, e) >= 0 && has_ext(e, ne, "VK_KHR_portability_subset"))
			dexts[ndext++] = "VK_KHR_portability_subset";
		free(e);
	}

	float prio = 1.0f;
	VkDeviceQueueCreateInfo qci = {0};
	qci.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
	qci.queueFamilyIndex = fam;
	qci.queueCount = 1;
	qci.pQueuePriorities = &prio;
	VkDeviceCreateInfo dci = {0};
	dci.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
	dci.pNext = &en.f2;
	dci.queueCreateInfoCount = 1;
	dci.pQueueCreateInfos = &qci;
	dci.enabledExtensionCount = ndext;
	dci.ppEnabledExtensionNames = dexts;
	r = p_vkCreateDevice(c->pd, &dci, NULL, &c->dev);
	if (r != VK_SUCCESS) { free(c); return r; }
	if ((r = load_device_fns(c)) != VK_SUCCESS) goto fail;
	if (stats) {
		c->getExecProps = (PFN_vkGetPipelineExecutablePropertiesKHR)p_vkGetDeviceProcAddr(c->dev, "vkGetPipelineExecutablePropertiesKHR");
		c->getExecStats = (PFN_vkGetPipelineExecutableStatisticsKHR)p_vkGetDeviceProcAddr(c->dev, "vkGetPipelineExecutableStatisticsKHR");
		if (!c->getExecProps || !c->getExecStats) c->getExecProps = NULL, c->getExecStats = NULL;
	}
	c->vkGetDeviceQueue(c->dev, fam, 0, &c->queue);

	VkCommandPoolCreateInfo pci = {0};
	pci.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
	pci.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
	pci.queueFamilyIndex = fam;
	if ((r = c->vkCreateCommandPool(c->dev, &pci, NULL, &c->pool)) != VK_SUCCESS) goto fail;
	VkCommandBufferAllocateInfo cai = {0};
	cai.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
	cai.commandPool = c->pool;
	cai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
	cai.commandBufferCount = 1;
	if ((r = c->vkAllocateCommandBuffers(c->dev, &cai, &c->cb)) != VK_SUCCESS) goto fail;
	VkFenceCreateInfo fci = {0};
	fci.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
	if ((r = c->vkCreateFence(c->dev, &fci, NULL, &c->fence)) != VK_SUCCESS) goto fail;
	cai.commandBufferCount = MMB_RING;
	if ((r = c->vkAllocateCommandBuffers(c->dev, &cai, c->ring_cb)) != VK_SUCCESS) goto fail;
	for (int i = 0; i < MMB_RING; i++)
		if ((r = c->vkCreateFence(c->dev, &fci, NULL, &c->ring_fence[i])) != VK_SUCCESS) goto fail;

	VkDescriptorSetLayoutBinding b[MMB_NBIND];
	memset(b, 0, sizeof b);
	for (int i = 0; i < MMB_NBIND; i++) {
		b[i].binding = (uint32_t)i;
		b[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
		b[i].descriptorCount = 1;
		b[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
	}
	VkDescriptorSetLayoutCreateInfo dli = {0};
	dli.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
	dli.bindingCount = MMB_NBIND;
	dli.pBindings = b;
	if ((r = c->vkCreateDescriptorSetLayout(c->dev, &dli, NULL, &c->dsl)) != VK_SUCCESS) goto fail;
	VkPushConstantRange pcr = {VK_SHADER_STAGE_COMPUTE_BIT, 0, MMB_PC_WORDS * 4};
	VkPipelineLayoutCreateInfo pli = {0};
	pli.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
	pli.setLayoutCount = 1;
	pli.pSetLayouts = &c->dsl;
	pli.pushConstantRangeCount = 1;
	pli.pPushConstantRanges = &pcr;
	if ((r = c->vkCreatePipelineLayout(c->dev, &pli, NULL, &c->layout)) != VK_SUCCESS) goto fail;

	// The driver validates the cache header (vendor, device, cache UUID) and
	// ignores data from another device or driver version.
	VkPipelineCacheCreateInfo cci = {0};
	cci.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO;
	cci.initialDataSize = cache_len;
	cci.pInitialData = cache_len ? cache : NULL;
	r = c->vkCreatePipelineCache(c->dev, &cci, NULL, &c->cache);
	if (r != VK_SUCCESS && cache_len) {
		cci.initialDataSize = 0;
		cci.pInitialData = NULL;
		r = c->vkCreatePipelineCache(c->dev, &cci, NULL, &c->cache);
	}
	if (r != VK_SUCCESS) goto fail;
	*out = c;
	return VK_SUCCESS;
fail:
	mmb_ctx_destroy(c);
	return r;
}

void mmb_ctx_destroy(mmb_ctx *c) {
	if (!c) return;
	if (c->dev) {
		if (c->vkDeviceWaitIdle) c->vkDeviceWaitIdle(c->dev);
		for (uint32_t i = 0; i < c->ndpool; i++) c->vkDestroyDescriptorPool(c->dev, c->dpools[i], NULL);
		if (c->cache) c->vkDestroyPipelineCache(c->dev, c->cache, NULL);
		if (c->layout) c->vkDestroyPipelineLayout(c->dev, c->layout, NULL);
		if (c->dsl) c->vkDestroyDescriptorSetLayout(c->dev, c->dsl, NULL);
		if (c->fence) c->vkDestroyFence(c->dev, c->fence, NULL);
		for (int i = 0; i < MMB_RING; i++)
			if (c->ring_fence[i]) c->vkDestroyFence(c->dev, c->ring_fence[i], NULL);
		if (c->pool) c->vkDestroyCommandPool(c->dev, c->pool, NULL);
		if (c->vkDestroyDevice) c->vkDestroyDevice(c->dev, NULL);
	}
	free(c->dpools);
	free(c);
}

int mmb_cache_data(mmb_ctx *c, void *out, size_t *len) {
	return c->vkGetPipelineCacheData(c->dev, c->cache, len, out);
}

static int find_memtype(mmb_ctx *c, uint32_t bits, VkFlags want) {
	for (uint32_t i = 0; i < c->mem.memoryTypeCount; i++)
		if ((bits & (1u << i)) && (c->mem.memoryTypes[i].propertyFlags & want) == want) return (int)i;
	return -1;
}

int mmb_buffer_create(mmb_ctx *c, uint64_t size, int kind, VkBuffer *buf, VkDeviceMemory *mem, void **mapped) {
	*buf = 0;
	*mem = 0;
	*mapped = NULL;
	VkBufferCreateInfo bi = {0};
	bi.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
	bi.size = size;
	bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
	bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
	int r = c->vkCreateBuffer(c->dev, &bi, NULL, buf);
	if (r != VK_SUCCESS) return r;
	VkMemoryRequirements req;
	c->vkGetBufferMemoryRequirements(c->dev, *buf, &req);
	int t = -1;
	const VkFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
	switch (kind) {
	case 0:
		t = find_memtype(c, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
		if (t < 0) t = find_memtype(c, req.memoryTypeBits, 0);
		break;
	case 1:
		t = find_memtype(c, req.memoryTypeBits, hv);
		break;
	default:
		t = find_memtype(c, req.memoryTypeBits, hv | VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
		if (t < 0) t = find_memtype(c, req.memoryTypeBits, hv);
	}
	if (t < 0) {
		c->vkDestroyBuffer(c->dev, *buf, NULL);
		*buf = 0;
		return MMB_ERR_NO_MEMTYPE;
	}
	VkMemoryAllocateInfo ai = {0};
	ai.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
	ai.allocationSize = req.size;
	ai.memoryTypeIndex = (uint32_t)t;
	r = c->vkAllocateMemory(c->dev, &ai, NULL, mem);
	if (r == VK_SUCCESS) r = c->vkBindBufferMemory(c->dev, *buf, *mem, 0);
	if (r == VK_SUCCESS && kind != 0) r = c->vkMapMemory(c->dev, *mem, 0, VK_WHOLE_SIZE, 0, mapped);
	if (r != VK_SUCCESS) {
		mmb_buffer_destroy(c, *buf, *mem);
		*buf = 0;
		*mem = 0;
		*mapped = NULL;
	}
	return r;
}

void mmb_buffer_destroy(mmb_ctx *c, VkBuffer buf, VkDeviceMemory mem) {
	if (buf) c->vkDestroyBuffer(c->dev, buf, NULL);
	if (mem) c->vkFreeMemory(c->dev, mem, NULL); // unmaps implicitly
}

int mmb_pipeline_create(mmb_ctx *c, const uint32_t *code, size_t code_bytes, const uint32_t *spec, uint32_t nspec, VkPipeline *out) {
	*out = 0;
	VkShaderModuleCreateInfo si = {0};
	si.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
	si.codeSize = code_bytes;
	si.pCode = code;
	VkShaderModule mod;
	int r = c->vkCreateShaderModule(c->dev, &si, NULL, &mod);
	if (r != VK_SUCCESS) return r;
	VkSpecializationMapEntry me[16];
	if (nspec > 16) nspec = 16;
	for (uint32_t i = 0; i < nspec; i++) {
		me[i].constantID = i;
		me[i].offset = i * 4;
		me[i].size = 4;
	}
	VkSpecializationInfo spi = {nspec, me, nspec * 4, spec};
	VkComputePipelineCreateInfo ci = {0};
	ci.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
	ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
	ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
	ci.stage.module = mod;
	ci.stage.pName = "main";
	ci.stage.pSpecializationInfo = nspec ? &spi : NULL;
	ci.layout = c->layout;
	ci.basePipelineIndex = -1;
	if (c->getExecStats) ci.flags |= VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR;
	r = c->vkCreateComputePipelines(c->dev, c->cache, 1, &ci, NULL, out);
	c->vkDestroyShaderModule(c->dev, mod, NULL);
	return r;
}

void mmb_pipeline_destroy(mmb_ctx *c, VkPipeline p) { c->vkDestroyPipeline(c->dev, p, NULL); }

int mmb_pipeline_stats(mmb_ctx *c, VkPipeline p, char *out, size_t n) {
	if (!c->getExecStats) return MMB_ERR_NO_STATS;
	VkPipelineInfoKHR pi = {VK_STRUCTURE_TYPE_PIPELINE_INFO_KHR, NULL, p};
	uint32_t ne = 0;
	int r = c->getExecProps(c->dev, &pi, &ne, NULL);
	if (r != VK_SUCCESS) return r;
	size_t k = 0;
	if (n) out[0] = 0;
	for (uint32_t e = 0; e < ne; e++) {
		VkPipelineExecutableInfoKHR ei = {VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INFO_KHR, NULL, p, e};
		uint32_t ns = 0;
		if ((r = c->getExecStats(c->dev, &ei, &ns, NULL)) != VK_SUCCESS) return r;
		VkPipelineExecutableStatisticKHR *st = calloc(ns ? ns : 1, sizeof *st);
		if (!st) return VK_ERROR_OUT_OF_HOST_MEMORY;
		for (uint32_t i = 0; i < ns; i++) st[i].sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_STATISTIC_KHR;
		r = c->getExecStats(c->dev, &ei, &ns, st);
		for (uint32_t i = 0; r >= 0 && i < ns && k < n; i++) {
			char v[64];
			switch (st[i].format) {
			case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR: snprintf(v, sizeof v, "%s", st[i].value.b32 ? "true" : "false"); break;
			case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_INT64_KHR: snprintf(v, sizeof v, "%lld", (long long)st[i].value.i64); break;
			case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_UINT64_KHR: snprintf(v, sizeof v, "%llu", (unsigned long long)st[i].value.u64); break;
			default: snprintf(v, sizeof v, "%g", st[i].value.f64);
			}
			st[i].name[VK_MAX_DESCRIPTION_SIZE - 1] = 0;
			k += snprintf(out + k, n - k, "%u\t%s\t%s\n", e, st[i].name, v);
		}
		free(st);
		if (r < 0) return r;
	}
	return VK_SUCCESS;
}

#define SETS_PER_POOL 256

int mmb_set_create(mmb_ctx *c, const VkBuffer *bufs, VkDescriptorSet *out) {
	*out = 0;
	int r;
	if (c->dpool_left == 0) {
		VkDescriptorPoolSize ps = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, SETS_PER_POOL * MMB_NBIND};
		VkDescriptorPoolCreateInfo pi = {0};
		pi.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
		pi.maxSets = SETS_PER_POOL;
		pi.poolSizeCount = 1;
		pi.pPoolSizes = &ps;
		VkDescriptorPool *np = realloc(c->dpools, (c->ndpool + 1) * sizeof *np);
		if (!np) return VK_ERROR_OUT_OF_HOST_MEMORY;
		c->dpools = np;
		if ((r = c->vkCreateDescriptorPool(c->dev, &pi, NULL, &c->dpools[c->ndpool])) != VK_SUCCESS) return r;
		c->ndpool++;
		c->dpool_left = SETS_PER_POOL;
	}
	VkDescriptorSetAllocateInfo ai = {0};
	ai.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
	ai.descriptorPool = c->dpools[c->ndpool - 1];
	ai.descriptorSetCount = 1;
	ai.pSetLayouts = &c->dsl;
	if ((r = c->vkAllocateDescriptorSets(c->dev, &ai, out)) != VK_SUCCESS) return r;
	c->dpool_left--;
	VkDescriptorBufferInfo bi[MMB_NBIND];
	VkWriteDescriptorSet w[MMB_NBIND];
	memset(w, 0, sizeof w);
	for (int i = 0; i < MMB_NBIND; i++) {
		bi[i].buffer = bufs[i];
		bi[i].offset = 0;
		bi[i].range = VK_WHOLE_SIZE;
		w[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
		w[i].dstSet = *out;
		w[i].dstBinding = (uint32_t)i;
		w[i].descriptorCount = 1;
		w[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
		w[i].pBufferInfo = &bi[i];
	}
	c->vkUpdateDescriptorSets(c->dev, MMB_NBIND, w, 0, NULL);
	return VK_SUCCESS;
}

static void barrier(mmb_ctx *c, VkCommandBuffer cb, VkFlags dst_stage, VkFlags dst_access) {
	VkMemoryBarrier mb = {0};
	mb.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
	mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
	mb.dstAccessMask = dst_access;
	c->vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, dst_stage, 0, 1, &mb, 0, NULL, 0, NULL);
}

int mmb_query_pool_create(mmb_ctx *c, uint32_t n, VkQueryPool *out) {
	VkQueryPoolCreateInfo ci = {0};
	ci.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO;
	ci.queryType = VK_QUERY_TYPE_TIMESTAMP;
	ci.queryCount = n;
	return c->vkCreateQueryPool(c->dev, &ci, NULL, out);
}

void mmb_query_pool_destroy(mmb_ctx *c, VkQueryPool p) {
	if (p) c->vkDestroyQueryPool(c->dev, p, NULL);
}

// Results of queries whose commands have completed (mmb_run waits).
int mmb_query_results(mmb_ctx *c, VkQueryPool p, uint32_t first, uint32_t n, uint64_t *out) {
	if (n == 0) return VK_SUCCESS;
	return c->vkGetQueryPoolResults(c->dev, p, first, n, (size_t)n * 8, out, 8, VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
}

// record writes cmds into cb (reset first). A final recording ends with a
// barrier that makes device writes visible to the host.
static int record(mmb_ctx *c, VkCommandBuffer cb, const mmb_cmd *cmds, uint32_t n, int final) {
	int r;
	if ((r = c->vkResetCommandBuffer(cb, 0)) != VK_SUCCESS) return r;
	VkCommandBufferBeginInfo bi = {0};
	bi.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
	bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
	if ((r = c->vkBeginCommandBuffer(cb, &bi)) != VK_SUCCESS) return r;
	VkPipeline bound = 0;
	VkDescriptorSet bset = 0;
	for (uint32_t i = 0; i < n; i++) {
		const mmb_cmd *m = &cmds[i];
		switch (m->kind) {
		case MMB_CMD_DISPATCH:
			if (m->pipeline != bound) {
				c->vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, m->pipeline);
				bound = m->pipeline;
			}
			if (m->set != bset) {
				c->vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, c->layout, 0, 1, &m->set, 0, NULL);
				bset = m->set;
			}
			if (m->pc_bytes) c->vkCmdPushConstants(cb, c->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, m->pc_bytes, m->pc);
			c->vkCmdDispatch(cb, m->gx, m->gy, m->gz);
			break;
		case MMB_CMD_COPY: {
			VkBufferCopy bc = {m->c, m->d, m->e};
			c->vkCmdCopyBuffer(cb, m->a, m->b, 1, &bc);
			break;
		}
		case MMB_CMD_FILL:
			c->vkCmdFillBuffer(cb, m->a, m->c, m->d, (uint32_t)m->e);
			break;
		case MMB_CMD_TIMESTAMP:
			c->vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, m->a, (uint32_t)m->c);
			break;
		case MMB_CMD_RESET_QUERIES:
			c->vkCmdResetQueryPool(cb, m->a, (uint32_t)m->c, (uint32_t)m->d);
			break;
		case MMB_CMD_BARRIER:
			if (m->a) { // dispatches on both sides: compute to compute only
				VkMemoryBarrier mb = {0};
				mb.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
				mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
				mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
				c->vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
				break;
			}
			barrier(c, cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
			        VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT);
			break;
		}
	}
	// Make every device write visible to the host reads that follow the wait.
	if (final) barrier(c, cb, VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
	return c->vkEndCommandBuffer(cb);
}

static int submit(mmb_ctx *c, VkCommandBuffer cb, VkFence f) {
	VkSubmitInfo s = {0};
	s.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
	s.commandBufferCount = 1;
	s.pCommandBuffers = &cb;
	return c->vkQueueSubmit(c->queue, 1, &s, f);
}

// Wait in slices so that a hung device shows up as an error, not a hang
// forever: after 10 minutes of no progress we give up.
static int wait_fence(mmb_ctx *c, VkFence f) {
	int r = VK_TIMEOUT;
	for (int i = 0; i < 600; i++) {
		r = c->vkWaitForFences(c->dev, 1, &f, 1, 1000000000ull);
		if (r != VK_TIMEOUT) break;
	}
	if (r == VK_SUCCESS) r = c->vkResetFences(c->dev, 1, &f);
	return r;
}

// mmb_submit records cmds into the next ring slot and submits them without
// waiting (after waiting for that slot's previous use). Pipeline barriers
// order work across submissions to the one queue, so the caller records the
// barriers it needs as if it were one command stream. With host set, the
// submission ends with a barrier that makes its writes visible to host reads
// after mmb_wait_slot. *slot (if not NULL) receives the ring slot used.
int mmb_submit(mmb_ctx *c, const mmb_cmd *cmds, uint32_t n, int host, uint32_t *slot) {
	uint32_t k = c->ring_next;
	int r;
	if (c->ring_busy[k]) {
		c->ring_busy[k] = 0;
		if ((r = wait_fence(c, c->ring_fence[k])) != VK_SUCCESS) return r;
	}
	if ((r = record(c, c->ring_cb[k], cmds, n, host)) != VK_SUCCESS) return r;
	if ((r = submit(c, c->ring_cb[k], c->ring_fence[k])) != VK_SUCCESS) return r;
	c->ring_busy[k] = 1;
	c->ring_next = (k + 1) % MMB_RING;
	if (slot) *slot = k;
	return VK_SUCCESS;
}

// mmb_wait_slot waits for the submission in ring slot k, if it has not been
// waited for yet (by this, by mmb_run or by the slot's reuse).
int mmb_wait_slot(mmb_ctx *c, uint32_t k) {
	if (k >= MMB_RING || !c->ring_busy[k]) return VK_SUCCESS;
	c->ring_busy[k] = 0;
	return wait_fence(c, c->ring_fence[k]);
}

// mmb_wait_idle waits until the device has finished all submitted work
// (before freeing what it may still use).
int mmb_wait_idle(mmb_ctx *c) { return c->vkDeviceWaitIdle(c->dev); }

// mmb_run records cmds, submits them once and waits for them and for every
// earlier mmb_submit.
int mmb_run(mmb_ctx *c, const mmb_cmd *cmds, uint32_t n) {
	int r;
	if ((r = record(c, c->cb, cmds, n, 1)) != VK_SUCCESS) return r;
	if ((r = submit(c, c->cb, c->fence)) != VK_SUCCESS) return r;
	r = wait_fence(c, c->fence);
	for (int k = 0; k < MMB_RING; k++) {
		if (!c->ring_busy[k]) continue;
		c->ring_busy[k] = 0;
		int rk = wait_fence(c, c->ring_fence[k]);
		if (r == VK_SUCCESS) r = rk;
	}
	return r;
}
