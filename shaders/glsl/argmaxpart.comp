#version 450
// First pass of a wide argmax (the 128k-entry vocabulary in one workgroup
// took ~100 µs on an H200): workgroup c of row r scans the slice
// [c·S, (c+1)·S) and writes its (largest value, first index) to P as two
// floats (the index as its bits); argmaxmerge.comp picks among them.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

#define NONE 0xffffffffu

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) writeonly buffer PB { float P[]; };
layout(std430, binding = 1) readonly buffer XB { float X[]; };
layout(push_constant) uniform PC { uint rows, n, parts, slice; } pc;

shared float bv[256];
shared uint bi[256];

void main() {
	uint g = group_id();
	if (g >= pc.rows * pc.parts) return;
	uint r = g / pc.parts, c = g % pc.parts;
	uint t = gl_LocalInvocationID.x;
	uint c0 = c * pc.slice, c1 = min(pc.n, c0 + pc.slice);
	float best = 0.0;
	uint idx = NONE;
	for (uint i = c0 + t; i < c1; i += gl_WorkGroupSize.x) {
		float v = X[r * pc.n + i];
		if (idx == NONE || v > best) { best = v; idx = i; }
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
	if (t == 0u) {
		P[2u * g] = bv[0];
		P[2u * g + 1u] = uintBitsToFloat(bi[0]);
	}
}
