#version 450
// Y[m, n] = X[m, :] · W[n, :] on the matrix units (VK_NV_cooperative_matrix):
// W is f16 [N, K], X its activations rounded to f16 by tof16.comp ([Mpad,
// K], rows beyond M zero), accumulation in fp32. Four 32-wide subgroups per
// workgroup in a 2×2 grid; each owns TM×TN 16×16 accumulators, so a
// workgroup's tile is (32·TM) × (32·TN). Fragments load straight from
// global memory (W as a column-major Kᵀ view with stride K); the L1 serves
// the fragments the subgroups share. Needs K % 16 == 0, N % (32·TN) == 0.
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_control_flow_attributes : enable
#extension GL_KHR_shader_subgroup_basic : require

#ifndef TM
#define TM 2
#endif
#ifndef TN
#define TN 4
#endif

layout(local_size_x = 128) in;
layout(std430, binding = 0) readonly buffer WB { float16_t W[]; };
layout(std430, binding = 1) readonly buffer XB { float16_t X[]; };
layout(std430, binding = 2) writeonly buffer YB { float Y[]; };
layout(push_constant) uniform PC { uint M, K, N, so; } pc;

// One 16×16 staging tile per subgroup for the last, partial row block.
shared float stage[4 * 256];

void main() {
	uint sg = gl_SubgroupID, lane = gl_SubgroupInvocationID;
	uint m0 = gl_WorkGroupID.y * (32u * TM) + (sg >> 1) * (16u * TM);
	uint n0 = gl_WorkGroupID.x * (32u * TN) + (sg & 1u) * (16u * TN);
	fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> acc[TM * TN];
	[[unroll]] for (uint i = 0u; i < TM * TN; i++) acc[i] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>(0.0);
	if (m0 >= pc.M) return; // subgroup-uniform; no barriers follow
	for (uint k = 0u; k < pc.K; k += 16u) {
		fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> a[TM], b[TN];
		[[unroll]] for (uint i = 0u; i < TM; i++) coopMatLoadNV(a[i], X, (m0 + 16u * i) * pc.K + k, pc.K, false);
		[[unroll]] for (uint j = 0u; j < TN; j++) coopMatLoadNV(b[j], W, (n0 + 16u * j) * pc.K + k, pc.K, true);
		[[unroll]] for (uint i = 0u; i < TM; i++)
			[[unroll]] for (uint j = 0u; j < TN; j++) acc[i * TN + j] = coopMatMulAddNV(a[i], b[j], acc[i * TN + j]);
	}
	[[unroll]] for (uint i = 0u; i < TM; i++) {
		uint r0 = m0 + 16u * i;
		if (r0 + 16u <= pc.M) {
			[[unroll]] for (uint j = 0u; j < TN; j++) coopMatStoreNV(acc[i * TN + j], Y, r0 * pc.N + n0 + 16u * j, pc.N, false);
		} else if (r0 < pc.M) {
			// Rows from M on do not exist in Y: through shared memory, row by row.
			[[unroll]] for (uint j = 0u; j < TN; j++) {
				coopMatStoreNV(acc[i * TN + j], stage, sg * 256u, 16u, false);
				subgroupMemoryBarrierShared();
				subgroupBarrier();
				for (uint e = lane; e < 256u; e += 32u) {
					uint r = r0 + e / 16u;
					if (r < pc.M) Y[r * pc.N + n0 + 16u * j + e % 16u] = stage[sg * 256u + e];
				}
				subgroupBarrier();
			}
		}
	}
}
