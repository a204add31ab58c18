#version 450
// dst[i] += src[i]; with COPY, dst[i] = src[i] (a copy that keeps a
// compute-only stage free of transfer commands).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) buffer DB { float D[]; };
layout(std430, binding = 1) readonly buffer SB { float S[]; };
layout(push_constant) uniform PC { uint n; } pc;

void main() {
	uint i = group_id() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
#ifdef COPY
	if (i < pc.n) D[i] = S[i];
#else
	if (i < pc.n) D[i] += S[i];
#endif
}
