#version 450
// Add followed by RMSNorm of the sum, in one pass (the residual update and
// the next norm of every layer): x[r] += s[r]; dst[r] = x[r] /
// sqrt(mean(x[r]²) + eps) · w. One workgroup per row; each invocation reads
// back only the elements it wrote.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#include "common.glsl"

layout(local_size_x_id = 0) in;
#include "reduce.glsl" // after the layout: it reads gl_WorkGroupSize
layout(std430, binding = 0) readonly buffer WB { uint W[]; };
layout(std430, binding = 1) buffer XB { float X[]; };
layout(std430, binding = 2) writeonly buffer DB { float D[]; };
layout(std430, binding = 3) readonly buffer SB { float S[]; };
layout(push_constant) uniform PC { uint rows, dim, dt, so; float eps; } pc;

WFETCH_FN(wf, W)

void main() {
	uint r = group_id();
	if (r >= pc.rows) return;
	uint t = gl_LocalInvocationID.x;
	uint base = r * pc.dim;
	float ss = 0.0;
	for (uint c = t; c < pc.dim; c += gl_WorkGroupSize.x) {
		float v = X[base + c] + S[base + c];
		X[base + c] = v;
		ss += v * v;
	}
	float inv = inversesqrt(wg_sum(ss) / float(pc.dim) + pc.eps);
	for (uint c = t; c < pc.dim; c += gl_WorkGroupSize.x)
		D[base + c] = X[base + c] * inv * wf(pc.dt, c, pc.so);
}
