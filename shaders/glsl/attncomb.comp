#version 450
// Merges attndec.comp's per-chunk partial softmaxes: one workgroup per
// (row, head); O = Σ_c acc_c·e^(m_c−M) / Σ_c l_c·e^(m_c−M), M = max_c m_c.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) writeonly buffer OB { float O[]; };
layout(std430, binding = 1) readonly buffer PB { float P[]; };
layout(push_constant) uniform PC { uint rows, pos0, heads, hd, chunk, nsplit; } pc;

void main() {
	uint rh = group_id();
	if (rh >= pc.rows * pc.heads) return;
	uint t = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
	uint r = rh / pc.heads;
	uint L = pc.pos0 + r + 1u;
	uint ns = (L + pc.chunk - 1u) / pc.chunk; // chunks this row wrote
	uint st = pc.hd + 2u, base = rh * pc.nsplit * st;
	float M = -3.0e38;
	for (uint c = 0u; c < ns; c++) M = max(M, P[base + c * st]);
	float l = 0.0;
	for (uint c = 0u; c < ns; c++) l += P[base + c * st + 1u] * exp(P[base + c * st] - M);
	for (uint d = t; d < pc.hd; d += wg) {
		float a = 0.0;
		for (uint c = 0u; c < ns; c++) a += P[base + c * st + 2u + d] * exp(P[base + c * st] - M);
		O[rh * pc.hd + d] = a / l;
	}
}
