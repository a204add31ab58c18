#version 450
// Causal attention over the KV cache, one workgroup per (query row, head):
// keys are visited in blocks of the workgroup size with an online softmax
// (running max and sum), so any context length fits in fixed shared memory.
// Row r sits at position pos0 + r and sees positions 0..pos0+r.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#include "common.glsl"

#define MAXHD 256u

layout(local_size_x_id = 0) in;
#include "reduce.glsl" // after the layout: it reads gl_WorkGroupSize
layout(std430, binding = 0) writeonly buffer OB { float O[]; };
layout(std430, binding = 1) readonly buffer QB { float Q[]; };
layout(std430, binding = 2) readonly buffer KB { float KC[]; };
layout(std430, binding = 3) readonly buffer VB { float VC[]; };
layout(push_constant) uniform PC { uint rows, pos0, heads, kvHeads, hd; float scale; } pc;

shared float qs[MAXHD];
shared float acc[MAXHD];
shared float pw[256];

void main() {
	uint g = group_id();
	if (g >= pc.rows * pc.heads) return;
	uint t = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
	uint r = g / pc.heads, h = g % pc.heads;
	uint kvh = h / (pc.heads / pc.kvHeads);
	uint qbase = (r * pc.heads + h) * pc.hd;
	uint kd = pc.kvHeads * pc.hd, koff = kvh * pc.hd;
	for (uint d = t; d < pc.hd; d += wg) {
		qs[d] = Q[qbase + d];
		acc[d] = 0.0;
	}
	barrier();
	uint L = pc.pos0 + r + 1u;
	float m = -3.0e38, l = 0.0;
	for (uint p0 = 0u; p0 < L; p0 += wg) {
		uint p = p0 + t;
		float s = -3.0e38;
		if (p < L) {
			float dot_ = 0.0;
			uint kb = p * kd + koff;
			for (uint d = 0u; d < pc.hd; d++) dot_ += qs[d] * KC[kb + d];
			s = dot_ * pc.scale;
		}
		float mn = max(m, wg_max(s));
		float corr = exp(m - mn);
		float e = p < L ? exp(s - mn) : 0.0;
		pw[t] = e;
		l = l * corr + wg_sum(e); // its barriers also publish pw
		uint nb = min(wg, L - p0);
		for (uint d = t; d < pc.hd; d += wg) {
			float a = acc[d] * corr;
			uint vb = p0 * kd + koff + d;
			for (uint j = 0u; j < nb; j++) a += pw[j] * VC[vb + j * kd];
			acc[d] = a;
		}
		m = mn;
		barrier();
	}
	for (uint d = t; d < pc.hd; d += wg) O[qbase + d] = acc[d] / l;
}
