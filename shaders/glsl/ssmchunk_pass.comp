#version 450
// Chunked Mamba-2 scan, step 2 of 3: carries the state across chunks. One
// invocation per state element (h, i, j) walks the chunks in order,
//   S_c = exp(Λ_end,c)·S_{c−1} + SL_c,
// replacing SL_c by S_{c−1} (the state entering chunk c, which
// ssmchunk_out.comp applies) and leaving the last S in the state buffer.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) buffer SB { float S[]; };
layout(std430, binding = 1) buffer SLB { float SL[]; };
layout(std430, binding = 2) readonly buffer DECB { float DEC[]; };
layout(push_constant) uniform PC { uint rows, heads, hd, q; } pc;

void main() {
	uint e = group_id() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
	uint per = pc.hd * pc.hd, n = pc.heads * per;
	if (e >= n) return;
	uint h = e / per;
	uint nc = (pc.rows + pc.q - 1u) / pc.q;
	float s = S[e];
	for (uint c = 0u; c < nc; c++) {
		uint last = min(c * pc.q + pc.q, pc.rows) - 1u;
		float loc = SL[c * n + e];
		SL[c * n + e] = s;
		s = DEC[last * pc.heads + h] * s + loc;
	}
	S[e] = s;
}
