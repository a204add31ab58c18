#version 450
// dst[r, c] = table[ids[r], c]. ids sit in the per-step upload arena; with
// FED (embedf) there is one row, and its id is the float a device Argmax
// wrote (the previous decode step's greedy token), clamped to the table.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer WB { uint W[]; };
layout(std430, binding = 1) readonly buffer IB { uint ids[]; };
layout(std430, binding = 2) writeonly buffer DB { float D[]; };
layout(push_constant) uniform PC { uint total, cols, dt, so, idoff, nrows; } pc;

WFETCH_FN(wf, W)

void main() {
	uint i = group_id() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
	if (i >= pc.total) return;
	uint r = i / pc.cols, c = i % pc.cols;
#ifdef FED
	// A device result cannot report an error: an id outside the table (which
	// Argmax never writes) reads a row of it rather than past its end.
	uint id = min(uint(max(uintBitsToFloat(ids[pc.idoff]), 0.0)), pc.nrows - 1u);
#else
	uint id = ids[pc.idoff + r];
#endif
	D[i] = wf(pc.dt, id * pc.cols + c, pc.so);
}
