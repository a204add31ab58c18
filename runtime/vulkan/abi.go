//go:build cgo

package vulkan

/*
#include "vk.h"
#include <stdio.h>

#define ABI_STRUCTS(X) X(VkApplicationInfo) X(VkInstanceCreateInfo) X(VkExtensionProperties) X(VkLayerProperties) \
	X(VkPhysicalDeviceLimits) X(VkPhysicalDeviceProperties) X(VkPhysicalDeviceProperties2) \
	X(VkPhysicalDeviceSubgroupProperties) X(VkPhysicalDeviceFeatures2) X(VkPhysicalDevice16BitStorageFeatures) \
	X(VkPhysicalDeviceVulkan11Features) X(VkPhysicalDeviceVulkan12Features) X(VkPhysicalDeviceMemoryProperties) \
	X(VkQueueFamilyProperties) X(VkDeviceQueueCreateInfo) X(VkDeviceCreateInfo) X(VkBufferCreateInfo) \
	X(VkMemoryRequirements) X(VkMemoryAllocateInfo) X(VkShaderModuleCreateInfo) X(VkDescriptorSetLayoutBinding) \
	X(VkDescriptorSetLayoutCreateInfo) X(VkPushConstantRange) X(VkPipelineLayoutCreateInfo) \
	X(VkSpecializationMapEntry) X(VkSpecializationInfo) X(VkPipelineShaderStageCreateInfo) \
	X(VkComputePipelineCreateInfo) X(VkPipelineCacheCreateInfo) X(VkDescriptorPoolSize) \
	X(VkDescriptorPoolCreateInfo) X(VkDescriptorSetAllocateInfo) X(VkDescriptorBufferInfo) \
	X(VkWriteDescriptorSet) X(VkCommandPoolCreateInfo) X(VkCommandBufferAllocateInfo) \
	X(VkCommandBufferBeginInfo) X(VkBufferCopy) X(VkMemoryBarrier) X(VkSubmitInfo) X(VkFenceCreateInfo) X(VkQueryPoolCreateInfo) \
	X(VkPhysicalDeviceCooperativeMatrixFeaturesNV) X(VkCooperativeMatrixPropertiesNV) \
	X(VkPhysicalDeviceShaderAtomicFloatFeaturesEXT) X(VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR) X(VkPipelineInfoKHR) \
	X(VkPipelineExecutablePropertiesKHR) X(VkPipelineExecutableInfoKHR) X(VkPipelineExecutableStatisticKHR)

#define ABI_FIELDS(X) X(VkPhysicalDeviceProperties, limits) X(VkPhysicalDeviceProperties, pipelineCacheUUID) \
	X(VkPhysicalDeviceLimits, maxStorageBufferRange) X(VkPhysicalDeviceLimits, maxComputeSharedMemorySize) \
	X(VkPhysicalDeviceLimits, maxComputeWorkGroupCount) X(VkPhysicalDeviceLimits, maxComputeWorkGroupInvocations) \
	X(VkPhysicalDeviceLimits, maxPushConstantsSize) X(VkPhysicalDeviceLimits, nonCoherentAtomSize) \
	X(VkPhysicalDeviceVulkan12Features, shaderFloat16) X(VkPhysicalDeviceVulkan12Features, shaderInt8) \
	X(VkPhysicalDeviceVulkan12Features, subgroupBroadcastDynamicId) X(VkPhysicalDeviceVulkan12Features, vulkanMemoryModel) \
	X(VkCooperativeMatrixPropertiesNV, AType) X(VkCooperativeMatrixPropertiesNV, scope) X(VkComputePipelineCreateInfo, layout) \
	X(VkWriteDescriptorSet, pBufferInfo) X(VkSubmitInfo, pCommandBuffers) \
	X(VkPhysicalDeviceShaderAtomicFloatFeaturesEXT, shaderBufferFloat32AtomicAdd) X(VkPipelineExecutableStatisticKHR, format) \
	X(VkPipelineExecutableStatisticKHR, value) X(VkPipelineExecutablePropertiesKHR, subgroupSize)

// The same text is printed by a program built against the system
// vulkan_core.h in abi_test.go.
static size_t mmb_abi(char *out, size_t n) {
	size_t k = 0;
#define S(T) k += snprintf(out + k, k < n ? n - k : 0, "sizeof %s %zu\n", #T, sizeof(T));
#define F(T, f) k += snprintf(out + k, k < n ? n - k : 0, "offsetof %s.%s %zu\n", #T, #f, offsetof(T, f));
	ABI_STRUCTS(S)
	ABI_FIELDS(F)
#undef S
#undef F
	return k;
}
*/
import "C"

import "unsafe"

// abiLayout lists sizes and offsets of vk.h's structs (see abi_test.go).
func abiLayout() string {
	buf := make([]byte, 1<<14)
	n := C.mmb_abi((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	return string(buf[:min(int(n), len(buf))])
}
