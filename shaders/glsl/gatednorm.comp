#version 450
// g = y ⊙ silu(z), RMS-normalised per head of headDim channels, times w;
// one workgroup per (row, head).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#include "common.glsl"

layout(local_size_x_id = 0) in;
#include "reduce.glsl" // after the layout: it reads gl_WorkGroupSize
layout(std430, binding = 0) writeonly buffer DB { float D[]; };
layout(std430, binding = 1) readonly buffer YB { float Yv[]; };
layout(std430, binding = 2) readonly buffer ZB { float Z[]; };
layout(std430, binding = 3) readonly buffer WB { uint W[]; };
layout(push_constant) uniform PC { uint rows, heads, hd, dt, so; float eps; } pc;

WFETCH_FN(wf, W)

void main() {
	uint g = group_id();
	if (g >= pc.rows * pc.heads) return;
	uint t = gl_LocalInvocationID.x;
	uint h = g % pc.heads;
	uint base = g * pc.hd;
	float ss = 0.0;
	for (uint c = t; c < pc.hd; c += gl_WorkGroupSize.x) {
		float v = Yv[base + c] * silu(Z[base + c]);
		ss += v * v;
	}
	float inv = inversesqrt(wg_sum(ss) / float(pc.hd) + pc.eps);
	for (uint c = t; c < pc.hd; c += gl_WorkGroupSize.x) {
		float v = Yv[base + c] * silu(Z[base + c]);
		D[base + c] = v * inv * wf(pc.dt, h * pc.hd + c, pc.so);
	}
}
