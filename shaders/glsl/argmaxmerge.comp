#version 450
// Second pass of the wide argmax: dst[r] = the index of the best of row r's
// parts from argmaxpart.comp (largest value, lowest index on ties), as a float.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

#define NONE 0xffffffffu

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) writeonly buffer DB { float D[]; };
layout(std430, binding = 1) readonly buffer PB { float P[]; };
layout(push_constant) uniform PC { uint rows, parts; } pc;

shared float bv[256];
shared uint bi[256];

void main() {
	uint r = group_id();
	if (r >= pc.rows) return;
	uint t = gl_LocalInvocationID.x;
	float best = 0.0;
	uint idx = NONE;
	for (uint c = t; c < pc.parts; c += gl_WorkGroupSize.x) {
		uint g = r * pc.parts + c;
		float v = P[2u * g];
		uint i = floatBitsToUint(P[2u * g + 1u]);
		if (i != NONE && (idx == NONE || v > best || (v == best && i < idx))) { best = v; idx = i; }
	}
	bv[t] = best;
	bi[t] = idx;
	barrier();
	for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1) {
		if (t < s) {
			float ov = bv[t + s];
			uint oi = bi[t + s];
			if (oi != NONE && (bi[t] == NONE || ov > bv[t] || (ov == bv[t] && oi < bi[t]))) {
				bv[t] = ov;
				bi[t] = oi;
			}
		}
		barrier();
	}
	if (t == 0u) D[r] = float(bi[0]);
}
