#version 450
// dst[i] = silu(gate[i]) · up[i].
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) writeonly buffer DB { float D[]; };
layout(std430, binding = 1) readonly buffer GB { float G[]; };
layout(std430, binding = 2) readonly buffer UB { float U[]; };
layout(push_constant) uniform PC { uint n; } pc;

void main() {
	uint i = group_id() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
	if (i < pc.n) D[i] = silu(G[i]) * U[i];
}
