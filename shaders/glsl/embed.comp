#version 450
// dst[r, c] = table[ids[r], c]; ids sit in the per-step upload arena.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer WB { uint W[]; };
layout(std430, binding = 1) readonly buffer IB { uint ids[]; };
layout(std430, binding = 2) writeonly buffer DB { float D[]; };
layout(push_constant) uniform PC { uint total, cols, dt, so, idoff; } pc;

WFETCH_FN(wf, W)

void main() {
	uint i = group_id() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
	if (i >= pc.total) return;
	uint r = i / pc.cols, c = i % pc.cols;
	D[i] = wf(pc.dt, ids[pc.idoff + r] * pc.cols + c, pc.so);
}
