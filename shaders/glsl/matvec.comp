#version 450
// y[r, n] = x[r, :] · w[n, :] for up to 8 token rows, each weight row read
// once for all token rows. WDT (the weight dtype) is fixed at compile time.
//
// SUBGROUP: each subgroup computes whole output rows (lanes stride over K,
// then subgroupAdd), RPW rows per workgroup, with no shared memory or
// barriers. Otherwise one workgroup per output row reduces through shared
// memory.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint RPW = 1; // output rows per workgroup (SUBGROUP)
// Token rows handled (1, 2, 4 or 8: the smallest that covers pc.rows). A
// constant, not a loop bound from the push constants, so that the
// accumulators stay in registers.
layout(constant_id = 2) const uint MAXR = 1;
layout(std430, binding = 0) readonly buffer WB { uint W[]; };
layout(std430, binding = 1) readonly buffer XB { float X[]; };
layout(std430, binding = 2) writeonly buffer YB { float Y[]; };
layout(push_constant) uniform PC { uint rows, K, N, so; } pc;

WFETCH_FN(wf, W)

#ifdef SUBGROUP
void main() {
	// Any subgroup size works: subgroups take the workgroup's rows in turn.
	for (uint i = gl_SubgroupID; i < RPW; i += gl_NumSubgroups) {
		uint n = group_id() * RPW + i;
		if (n >= pc.N) return; // subgroup-uniform
		float acc[MAXR];
		[[unroll]] for (uint r = 0u; r < MAXR; r++) acc[r] = 0.0;
		uint base = n * pc.K;
		for (uint k = gl_SubgroupInvocationID; k < pc.K; k += gl_SubgroupSize) {
			float w = wf(WDT, base + k, pc.so);
			[[unroll]] for (uint r = 0u; r < MAXR; r++)
				if (r < pc.rows) acc[r] += w * X[r * pc.K + k];
		}
		[[unroll]] for (uint r = 0u; r < MAXR; r++) {
			if (r < pc.rows) {
				float s = subgroupAdd(acc[r]);
				if (subgroupElect()) Y[r * pc.N + n] = s;
			}
		}
	}
}
#else
shared float part[MAXR][256];

void main() {
	uint n = group_id();
	if (n >= pc.N) return; // the whole workgroup leaves together
	uint t = gl_LocalInvocationID.x;
	float acc[MAXR];
	[[unroll]] for (uint r = 0u; r < MAXR; r++) acc[r] = 0.0;
	uint base = n * pc.K;
	for (uint k = t; k < pc.K; k += gl_WorkGroupSize.x) {
		float w = wf(WDT, base + k, pc.so);
		[[unroll]] for (uint r = 0u; r < MAXR; r++)
			if (r < pc.rows) acc[r] += w * X[r * pc.K + k];
	}
	[[unroll]] for (uint r = 0u; r < MAXR; r++) part[r][t] = acc[r];
	barrier();
	for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1) {
		if (t < s) {
			[[unroll]] for (uint r = 0u; r < MAXR; r++) part[r][t] += part[r][t + s];
		}
		barrier();
	}
	if (t < pc.rows) Y[t * pc.N + n] = part[t][0];
}
#endif
