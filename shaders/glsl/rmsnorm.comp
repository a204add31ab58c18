#version 450
// dst[r] = x[r] / sqrt(mean(x[r]²) + eps) · w; one workgroup per row.
// SUBGROUP: the sum goes through subgroupAdd and one shared exchange (one
// barrier instead of log2(workgroup) of them), and rows of up to 8 values
// per invocation stay in registers between the two passes: in a decode
// step this single-workgroup dispatch sits beside the matvecs that read it.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#include "common.glsl"

layout(local_size_x_id = 0) in;
#include "reduce.glsl" // after the layout: it reads gl_WorkGroupSize
layout(std430, binding = 0) readonly buffer WB { uint W[]; };
layout(std430, binding = 1) readonly buffer XB { float X[]; };
layout(std430, binding = 2) writeonly buffer DB { float D[]; };
layout(push_constant) uniform PC { uint rows, dim, dt, so; float eps; } pc;

WFETCH_FN(wf, W)

#ifdef SUBGROUP
shared float sgsum[64];

float sum_all(float v) {
	float s = subgroupAdd(v);
	if (subgroupElect()) sgsum[gl_SubgroupID] = s;
	barrier();
	float t = 0.0;
	for (uint i = 0u; i < gl_NumSubgroups; i++) t += sgsum[i];
	return t;
}

void main() {
	uint r = group_id();
	if (r >= pc.rows) return;
	uint t = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
	uint base = r * pc.dim;
	float v[8];
	float ss = 0.0;
	[[unroll]] for (uint k = 0u; k < 8u; k++) {
		uint c = t + k * wg;
		v[k] = c < pc.dim ? X[base + c] : 0.0;
		ss += v[k] * v[k];
	}
	for (uint c = t + 8u * wg; c < pc.dim; c += wg) {
		float x = X[base + c];
		ss += x * x;
	}
	float inv = inversesqrt(sum_all(ss) / float(pc.dim) + pc.eps);
	[[unroll]] for (uint k = 0u; k < 8u; k++) {
		uint c = t + k * wg;
		if (c < pc.dim) D[base + c] = v[k] * inv * wf(pc.dt, c, pc.so);
	}
	for (uint c = t + 8u * wg; c < pc.dim; c += wg) D[base + c] = X[base + c] * inv * wf(pc.dt, c, pc.so);
}
#else
void main() {
	uint r = group_id();
	if (r >= pc.rows) return;
	uint t = gl_LocalInvocationID.x;
	uint base = r * pc.dim;
	float ss = 0.0;
	for (uint c = t; c < pc.dim; c += gl_WorkGroupSize.x) {
		float v = X[base + c];
		ss += v * v;
	}
	float inv = inversesqrt(wg_sum(ss) / float(pc.dim) + pc.eps);
	for (uint c = t; c < pc.dim; c += gl_WorkGroupSize.x)
		D[base + c] = X[base + c] * inv * wf(pc.dt, c, pc.so);
}
#endif
