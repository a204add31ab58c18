#version 450
// y[r, n] = x[r, :] · w[n, :] for up to MAXR token rows: one workgroup per
// output row n reads that weight row once for all token rows.
// WDT (the weight dtype) is fixed at compile time; SUBGROUP selects subgroup
// reductions where the device supports subgroup arithmetic.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer WB { uint W[]; };
layout(std430, binding = 1) readonly buffer XB { float X[]; };
layout(std430, binding = 2) writeonly buffer YB { float Y[]; };
layout(push_constant) uniform PC { uint rows, K, N, so; } pc;

WFETCH_FN(wf, W)

#define MAXR 8
#ifdef SUBGROUP
shared float part[MAXR][64];
#else
shared float part[MAXR][256];
#endif

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
#ifdef SUBGROUP
	[[unroll]] for (uint r = 0u; r < MAXR; r++) {
		if (r < pc.rows) {
			float s = subgroupAdd(acc[r]);
			if (subgroupElect()) part[r][gl_SubgroupID] = s;
		}
	}
	barrier();
	if (t < pc.rows) {
		float s = 0.0;
		for (uint i = 0u; i < gl_NumSubgroups; i++) s += part[t][i];
		Y[t * pc.N + n] = s;
	}
#else
	[[unroll]] for (uint r = 0u; r < MAXR; r++) part[r][t] = acc[r];
	barrier();
	for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1) {
		if (t < s) {
			[[unroll]] for (uint r = 0u; r < MAXR; r++) part[r][t] += part[r][t + s];
		}
		barrier();
	}
	if (t < pc.rows) Y[t * pc.N + n] = part[t][0];
#endif
}
